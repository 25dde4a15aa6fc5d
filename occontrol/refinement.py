"""Refinement studies: solve on a ladder of grids, warm-starting each from the
previous minimiser, and measure how the minimisers converge.

Distances between consecutive minimisers treat the controls as functions of
t (piecewise constant: one value per interval; piecewise linear through the
anchors: the H1 view) and are computed exactly on the union of both grids.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, ParamSpec, TypeVar

import numpy as np

from ._checks import as_choice, as_positive_int
from .fingerprint import array_digest, combine, problem_fingerprint, solver_fingerprint
from .grid import Grid, as_grid, interval_function_distance, piecewise_linear_distance, prolong
from .guess import initial_guess
from .io import json_safe, read_json, write_json, write_npz
from .records import SCHEMAS, KeyedRecord, Record, markdown_table, provenance, solve_outcome
from .problem import OCP
from .solution import Solution
from .solver import CasadiSolver, Ipopt, discretize, solve
from .transcription.discrete import Transcription

__all__ = ["Level", "Distance", "ConvergenceStudy", "refine", "StartPolicy", "Reporter", "doubling", "SCHEMA",
           "prolonged_guess", "control_distance", "Distances", "LevelStore", "StoreMismatch"]

SCHEMA = SCHEMAS["study"]
METRICS = ("l2", "sup", "h1", "objective_gap")
ROUNDING = 1e-9  # objective gaps (relative) and distances below this are rounding, not convergence
MIN_ORDER, MAX_ORDER = 0.25, 8.0  # observed orders outside are not used for extrapolation


@dataclass
class Level(Record):
    """One solve of the ladder. A failed level keeps its numbers but ``success`` is False.

    ``h`` is the longest step; with a free final time it is a fraction of the
    horizon (each level has its own tf; orders use the grid's refinement ratio).
    In JSON the ``metrics`` are flattened into the level, beside ``outcome``
    (:func:`occontrol.records.solve_outcome`) and ``detail`` (IPOPT's status).
    """

    N: int
    h: float
    objective: float
    loss: float
    reg_l2: float
    reg_h1: float
    status: str
    success: bool
    iterations: int
    build_seconds: float
    solve_seconds: float
    reused: bool = False
    metrics: dict = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        """'converged' or 'failed' (:data:`occontrol.records.OUTCOMES`)."""
        return solve_outcome(self.success, self.status)

    def to_dict(self) -> dict:
        """The level as study.json has it: the fields, the metrics flattened, outcome and detail."""
        out = self.as_dict()
        out.update(out.pop("metrics"))
        out.update(outcome=self.outcome, detail=self.status)
        return json_safe(out)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Level":
        """The level of a study.json entry: unknown keys are its metrics (outcome and detail are derived)."""
        names = {f for f in cls.__dataclass_fields__ if f != "metrics"}
        return cls(**{k: v for k, v in data.items() if k in names},
                   metrics={k: v for k, v in data.items() if k not in names and k not in _DERIVED})


_DERIVED = ("outcome", "detail")  # written by Level.to_dict from status and success


@dataclass
class Distance(Record):
    """Distances between the minimisers on grids N and N_next."""

    N: int
    N_next: int
    l2: float
    sup: float
    h1: float
    objective_gap: float
    branch_jump: bool = False


def _control_function(sol: Solution, names: list[str] | None) -> tuple[np.ndarray, np.ndarray, bool]:
    """(nodes, values stacked over the chosen controls, nodal?) of a solution's controls.

    With a free final time every level has its own tf, so the controls are
    compared as functions of the normalised time (t - t0) / (tf - t0) in [0, 1].
    """
    ocp = sol.problem.ocp
    controls = [v for v in ocp.controls if names is None or v.name in names]
    values = np.hstack([np.reshape(sol.value(v.symbol), (-1, v.size)) for v in controls])
    nodes = sol.problem.grid.tau if ocp.free_time is not None else sol.t
    return nodes, values, sol.problem.transcription.controls == "linear"


@dataclass(frozen=True)
class Distances(KeyedRecord):
    """The distance between two controls (or two networks' weights) as functions of time;
    read by attribute, or by key as the dict it was (``d["l2"]``).

    Attributes
    ----------
    l2, sup : float
        L2 and sup norms of the difference (piecewise-constant view; piecewise-linear for nodal controls).
    h1 : float
        H1 seminorm of the difference of the piecewise-linear interpolants.
    """

    l2: float
    sup: float
    h1: float


def control_distance(a: Solution, b: Solution, names: list[str] | None = None) -> Distances:
    """L2 and sup distance (piecewise-constant view) and H1 seminorm of the difference of the
    piecewise-linear interpolants (through interval midpoints, or nodes for linear controls)."""
    ta, va, nodal = _control_function(a, names)
    tb, vb, _ = _control_function(b, names)
    if nodal:
        out = piecewise_linear_distance(ta, va, tb, vb, ta[0], ta[-1])
    else:
        out = interval_function_distance(ta, va, tb, vb)
    return Distances(out["l2"], out["sup"], out["h1"])


def _order(d_a: float, d_b: float, h_a: float, h_b: float) -> float | None:
    if not (d_a > 0 and d_b > 0 and h_a > h_b):
        return None
    return math.log(d_a / d_b) / math.log(h_a / h_b)


class ConvergenceStudy:
    """The ladder's levels, the distances between consecutive minimisers, observed
    orders and a Richardson estimate of the limit objective.

    Attributes
    ----------
    levels : list of Level
    distances : list of Distance
        Between consecutive *successful* levels only.
    solutions : list of Solution or None
        In memory only (not part of the JSON).
    problem : dict
        Every setting, for the record.
    label : str
        A name for the study, shown in its table and progress lines.
    shown : list of str or None
        The metric names shown in tables and progress lines (None: all).

    ``oc.refine`` makes a study; ``ConvergenceStudy.load`` reads one back from its JSON.
    """

    def __init__(self, problem: dict | None = None, label: str = "", shown: list[str] | None = None) -> None:
        self.problem = dict(problem or {})
        self.label = label
        self.shown = shown  # metric names shown in tables and progress lines (None: all)
        self.levels: list[Level] = []
        self.distances: list[Distance] = []
        self.solutions: list[Solution | None] = []
        # failed solves outside the ladder that the study depends on: they make the study fail like a failed level
        self.other_failures: list[str] = []
        # failed starts the ladder was not followed from: reported (table, JSON), not fatal
        self.failed_starts: list[str] = []
        # what produced the study (versions, machine, settings); None: read from a file written without it
        self.provenance: dict | None = provenance(self.problem)

    # --------------------------------------------------------------- build
    def add(self, level: Level, solution: Solution | None, controls: list[str] | None = None) -> None:
        """Append a level; if it and the previous successful level succeeded, measure their distance."""
        previous = next(((lv, s) for lv, s in zip(reversed(self.levels), reversed(self.solutions))
                         if lv.success and s is not None), None)
        self.levels.append(level)
        self.solutions.append(solution)
        if not level.success or solution is None or previous is None:
            return
        prev_level, prev_sol = previous
        d = control_distance(prev_sol, solution, controls)
        dist = Distance(prev_level.N, level.N, d.l2, d.sup, d.h1,
                        abs(level.objective - prev_level.objective))
        # A branch jump: the minimisers moved apart instead of contracting.
        if self.distances and dist.l2 > self.distances[-1].l2:
            dist.branch_jump = True
        self.distances.append(dist)

    # ------------------------------------------------------------- summary
    @property
    def success(self) -> bool:
        """Every level succeeded, and so did every other solve the study depends on (``other_failures``)."""
        return bool(self.levels) and all(lv.success for lv in self.levels) and not self.other_failures

    def _h(self, N: int) -> float:
        return next(lv.h for lv in self.levels if lv.N == N)

    def orders(self) -> dict[str, list[float | None]]:
        """Observed orders log(d_k / d_{k+1}) / log(h_k / h_{k+1}) per metric.

        None where the two distances come from different refinement ratios (a
        failed level between them): their ratio then estimates no order.
        """
        out: dict[str, list[float | None]] = {m: [] for m in METRICS}
        for a, b in zip(self.distances, self.distances[1:]):
            same_ratio = math.isclose(self._h(a.N) / self._h(a.N_next), self._h(b.N) / self._h(b.N_next))
            for m in METRICS:
                out[m].append(_order(getattr(a, m), getattr(b, m), self._h(a.N), self._h(b.N))
                              if same_ratio else None)
        return out

    def verdict(self) -> tuple[bool | None, str]:
        """(converging, reason): whether the successful levels show a converging ladder.

        False when the distance between consecutive minimisers grows at the
        finest step (the minimisers do not converge), when the objective gap
        grows at the two finest steps (the objective runs away with N), or
        when the last two observed orders of the objective gap differ by more
        than half the larger (the orders do not settle). None when it cannot
        be told: fewer than three successful levels, no order observed at the
        finest levels, or a gap that grew once while the minimisers contract
        (not yet asymptotic). Objective gaps below 1e-9 relative count as
        converged to rounding.
        """
        if len(self.distances) < 2:
            return None, "fewer than three successful levels: no order observed"
        ok = [lv for lv in self.levels if lv.success]
        scale = max(1.0, abs(ok[-1].objective)) if math.isfinite(ok[-1].objective) else 1.0
        gaps = [d.objective_gap for d in self.distances]
        if not all(math.isfinite(g) for g in gaps[-2:]):
            return False, "the objective is not finite at the finest levels"
        if gaps[-1] <= ROUNDING * scale:
            return True, "the objective no longer changes (gap at rounding level)"
        l2 = [d.l2 for d in self.distances]
        if l2[-1] > l2[-2] and l2[-1] > ROUNDING:
            return False, (f"the minimisers do not converge: their L2 distance grew from {_fmt(l2[-2])} to "
                           f"{_fmt(l2[-1])} at the finest step")
        if gaps[-1] >= gaps[-2]:
            if len(gaps) >= 3 and gaps[-2] >= gaps[-3]:
                return False, ("the objective gap does not contract: |dE| "
                               + ", ".join(_fmt(g) for g in gaps[-3:]) + " (the objective runs away with N)")
            # once, while the minimisers contract: a turn of the objective before the asymptotic regime
            return None, (f"the objective gap grew at the finest step (|dE| {_fmt(gaps[-2])} then {_fmt(gaps[-1])}) "
                          "while the minimisers contract: no order observed yet, refine further")
        orders = self.orders()["objective_gap"]
        p = orders[-1]
        if p is None:
            return None, "no order observed at the finest levels (different refinement ratios)"
        if len(orders) >= 2 and orders[-2] is not None:
            q = orders[-2]
            if abs(p - q) > 0.5 * max(abs(p), abs(q)):
                return False, f"the observed orders of the objective gap do not settle ({_fmt(q)}, then {_fmt(p)})"
        return True, f"objective gap order {_fmt(p)}"

    @property
    def converging(self) -> bool | None:
        """True, False (not converging), or None (cannot be told); see :meth:`verdict`."""
        return self.verdict()[0]

    def _limit(self) -> tuple[float | None, str]:
        ok = [lv for lv in self.levels if lv.success]
        converging, reason = self.verdict()
        if converging is None:
            return None, f"no order observed ({reason})"
        if converging is False:
            return None, f"NOT CONVERGING ({reason})"
        b = ok[-1]
        if self.distances[-1].objective_gap <= ROUNDING * max(1.0, abs(b.objective)):
            return b.objective, "the finest objective (gaps at rounding level)"
        a = next(lv for lv in ok if lv.N == self.distances[-1].N)
        p = self.orders()["objective_gap"][-1]
        if p is None or not MIN_ORDER <= p <= MAX_ORDER:  # None: not reached, a converging verdict has an order
            return None, f"observed order {_fmt(p)} outside [{MIN_ORDER}, {MAX_ORDER}]: no extrapolation"
        return b.objective + (b.objective - a.objective) / ((a.h / b.h) ** p - 1), f"order {_fmt(p)}"

    def limit_objective(self) -> float | None:
        """Richardson extrapolation from the two finest successful levels, at the last
        observed order of the objective gap.

        None whenever no reliable order exists: fewer than three successful
        levels, no order observed at the finest levels, an order outside
        [0.25, 8], or a study that is not converging (:meth:`verdict`). No
        order is ever assumed. :meth:`limit_note` says which.
        """
        return self._limit()[0]

    def limit_note(self) -> str:
        """How :meth:`limit_objective` was obtained, or why there is none."""
        return self._limit()[1]

    def branch_jumps(self) -> list[int]:
        """Grid sizes N_next of the distances that broke the contraction trend."""
        return [d.N_next for d in self.distances if d.branch_jump]

    def table(self) -> str:
        """A markdown table: one row per level, with its distance to the previous level."""
        metric_names = self.shown if self.shown is not None else sorted({k for lv in self.levels for k in lv.metrics})
        head = ["N", "status", "objective", "iter", "build s", "solve s", "L2 dist", "sup dist", "H1 dist",
                "|dE|"] + metric_names
        rows = []
        by_next = {d.N_next: d for d in self.distances}
        for lv in self.levels:
            d = by_next.get(lv.N)
            status = lv.status if lv.success else f"FAILED: {lv.status}"
            if lv.reused:
                status += " (reused)"
            dist = [_fmt(v) for v in (d.l2, d.sup, d.h1, d.objective_gap)] if d else ["", "", "", ""]
            if d is not None and d.branch_jump:
                dist[0] += " (jump)"
            cells = [str(lv.N), status, _fmt(lv.objective, 10), str(lv.iterations), f"{lv.build_seconds:.2f}",
                     f"{lv.solve_seconds:.2f}"] + dist + [_fmt(lv.metrics.get(k)) for k in metric_names]
            rows.append(cells)
        orders = self.orders()
        lines = ["", "Observed orders: " + "; ".join(
            f"{m} " + ", ".join(_fmt(o) for o in orders[m]) for m in METRICS if orders[m])]
        limit, note = self._limit()
        lines.append(f"Richardson limit objective: {_fmt(limit, 10)} ({note})" if limit is not None
                     else f"Richardson limit objective: none, {note}")
        failed = [lv.N for lv in self.levels if not lv.success]
        if failed:
            lines.append(f"FAILED levels (left out of distances and orders): {failed}")
        if self.other_failures:
            lines.append("FAILED other solves: " + "; ".join(self.other_failures))
        if self.failed_starts:
            lines.append("Failed starts, not followed (reported, not fatal): " + "; ".join(self.failed_starts))
        converging, reason = self.verdict()
        if converging is False:
            lines.append(f"NOT CONVERGING: {reason}")
        if self.branch_jumps():
            lines.append(f"Branch jumps at N = {self.branch_jumps()}")
        return "\n".join([markdown_table(head, rows)] + lines)

    # ------------------------------------------------------------------ io
    def to_dict(self) -> dict:
        return {"schema": SCHEMA, "label": self.label, "problem": self.problem,
                "success": self.success,
                "levels": [lv.to_dict() for lv in self.levels],
                "distances": [d.to_dict() for d in self.distances],
                "orders": self.orders(), "limit_objective": self.limit_objective(),
                "limit_note": self.limit_note(), "converging": self.converging,
                "converging_reason": self.verdict()[1],
                "branch_jumps": self.branch_jumps(), "other_failures": list(self.other_failures),
                "failed_starts": list(self.failed_starts), "provenance": self.provenance}

    @classmethod
    def from_dict(cls, data: dict) -> "ConvergenceStudy":
        if data.get("schema") != SCHEMA:
            raise ValueError(f"study: expected schema {SCHEMA}, got {data.get('schema')!r}")
        study = cls(data.get("problem", {}), data.get("label", ""))
        study.levels = [Level.from_dict(d) for d in data["levels"]]
        study.solutions = [None] * len(study.levels)
        study.distances = [Distance.from_dict(d) for d in data["distances"]]
        study.other_failures = list(data.get("other_failures", []))
        study.failed_starts = list(data.get("failed_starts", []))
        study.provenance = data.get("provenance")
        return study

    def save(self, path: str | os.PathLike) -> Path:
        """Write :meth:`to_dict` (with its schema and the provenance of the run that made the study)."""
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ConvergenceStudy":
        return cls.from_dict(read_json(path))

    def __repr__(self) -> str:
        return f"ConvergenceStudy({self.label!r}, N={[lv.N for lv in self.levels]}, success={self.success})"


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def doubling(start: int = 4, stop: int = 256) -> list[int]:
    """N = start, 2 start, ..., up to stop.

    Parameters
    ----------
    start : int
        The first number of intervals, >= 1.
    stop : int
        The largest allowed (included when it is start times a power of two).

    Returns
    -------
    list of int
        The ladder, e.g. ``doubling(8, 64) == [8, 16, 32, 64]``.

    Raises
    ------
    TypeError
        ``start`` or ``stop`` is not an integer (bools and floats are refused).
    ValueError
        ``start`` < 1, or ``stop`` < ``start``.
    """
    start = as_positive_int(start, "start")
    stop = as_positive_int(stop, "stop")
    if stop < start:
        raise ValueError(f"stop: expected an interval count >= start = {start}, got {stop}")
    out = [start]
    while out[-1] * 2 <= stop:
        out.append(out[-1] * 2)
    return out


def prolonged_guess(sol: Solution, grid: Grid, kind: str) -> dict:
    """A guess on ``grid`` from a solution: controls prolonged by ``kind``, states and
    parameters read from the solution (consistent with its transcription)."""
    ocp = sol.problem.ocp
    tf = sol.tf
    new_nodes = grid.times(ocp.t0, tf)
    nodal = sol.problem.transcription.controls == "linear"
    guess: dict = {}
    for var in ocp.declarations:
        if var.kind == "control":
            guess[var.symbol] = prolong(sol.t, np.asarray(sol.value(var.symbol)), new_nodes, kind, at_nodes=nodal)
        else:
            guess[var.symbol] = sol
    if ocp.free_time is not None:
        guess[ocp.tf_symbol] = tf
    return guess


def _step(sol: Solution) -> float:
    """The longest step; with a free final time as a fraction of the horizon, since every
    level has its own tf and the refinement ratio is the grid's, not the tf's."""
    if sol.problem.ocp.free_time is not None:
        return float(np.diff(sol.problem.grid.tau).max())
    return float(np.diff(sol.t).max())


def _level(sol: Solution, reused: bool, metrics: dict) -> Level:
    reg = sol.regularization_parts
    parts = sol.objective_parts
    level = Level(N=sol.N, h=_step(sol), objective=sol.objective,
                  loss=parts["running"] + parts["terminal"], reg_l2=reg["l2"], reg_h1=reg["h1"],
                  status=sol.status, success=sol.success, iterations=sol.iterations,
                  build_seconds=sol.build_seconds, solve_seconds=sol.solve_seconds, reused=reused)
    for key, value in metrics.items():
        if key in ("objective", "loss", "reg_l2", "reg_h1"):
            setattr(level, key, float(value))
        else:
            level.metrics[key] = value
    return level


class StoreMismatch(ValueError):
    """A stored level was solved for another problem, data, grid, transcription, solver options or start."""


class LevelStore:
    """One .npz per solved level (decision vector, multipliers, status, fingerprint), for resuming.

    A stored level is reused only when it converged and its fingerprint (see
    :mod:`occontrol.fingerprint`) equals the one of the level about to be
    solved. A stored failure is solved again. A level stored for another
    problem or solver settings, or from another start, is refused
    (:class:`StoreMismatch`), or solved again and overwritten with
    ``recompute=True``.
    """

    def __init__(self, folder: str | os.PathLike, recompute: bool = False) -> None:
        if not isinstance(recompute, bool):
            raise TypeError(f"recompute: expected True or False, got {recompute!r}")
        self.folder = Path(folder)
        self.recompute = recompute

    def path(self, N: int) -> Path:
        return self.folder / f"level_N{N}.npz"

    def save(self, sol: Solution, fingerprint: dict | None = None) -> None:
        meta = {"status": sol.status, "success": sol.success, "iterations": sol.iterations,
                "build_seconds": sol.build_seconds, "solve_seconds": sol.solve_seconds, "solver": sol.solver,
                "fingerprint": fingerprint, "outcome": solve_outcome(sol.success, sol.status),
                "provenance": provenance()}
        write_npz(self.path(sol.N), w=sol.w, lam_x=sol.lam_x if sol.lam_x is not None else np.zeros(0),
                  lam_g=sol.lam_g if sol.lam_g is not None else np.zeros(0), meta=np.str_(json.dumps(meta)))

    def load(self, problem, fingerprint: dict | None = None, start_changed: bool = False) -> Solution | None:
        """The stored converged level for ``problem``, or None to solve it (none stored, or a failure).

        ``fingerprint`` is ``{"problem": ..., "start": ...}`` (:func:`level_fingerprint`).
        A level stored for another problem (or with no fingerprint) is refused
        with :class:`StoreMismatch`, or ignored when ``recompute``. A level
        stored from another start is refused too, unless ``start_changed``
        says that an earlier level was solved again in this run: then its
        start legitimately moved and the level is solved again.
        """
        path = self.path(problem.N)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            w, lam_x, lam_g = data["w"], data["lam_x"], data["lam_g"]
            meta = json.loads(str(data["meta"]))
        stored = meta.get("fingerprint") or {}
        why = None
        if w.size != problem.lbx.size:
            why = f"a decision vector of size {w.size}, expected {problem.lbx.size}"
        elif fingerprint is not None and stored.get("problem") != fingerprint["problem"]:
            why = ("no fingerprint (written by an older occontrol)" if not stored else
                   "another problem, data, grid, transcription or solver options")
        elif fingerprint is not None and stored.get("start") != fingerprint["start"]:
            if start_changed:
                return None
            why = "another start (guess, prolongation or first level)"
        if why is not None:
            if self.recompute:
                return None
            raise StoreMismatch(f"store: {self.folder} holds level N={problem.N} solved with other settings "
                                f"({why}); choose another folder, remove it, or recompute "
                                "(LevelStore(folder, recompute=True))")
        if not meta["success"]:
            return None  # a failure is retried, never reused (it may depend on limits or load)
        sol = Solution(problem, w, status=meta["status"], success=meta["success"],
                       iterations=meta["iterations"], build_seconds=meta["build_seconds"],
                       solve_seconds=meta["solve_seconds"], solver=meta["solver"],
                       lam_x=lam_x if lam_x.size else None, lam_g=lam_g if lam_g.size else None)
        sol.reused = True
        return sol


def level_fingerprint(problem, solver, hess_lag, start: dict) -> dict:
    """Fingerprint of one level: ``{"problem": the discrete problem and the solver settings that
    change the answer (limits excluded), "start": the start's description}``."""
    solver = Ipopt() if solver is None else solver
    return {"problem": combine({"problem": problem_fingerprint(problem),
                                "solver": solver_fingerprint(solver, hess_lag, bool(start.get("multipliers")))}),
            "start": combine(start)}


def start_record(problem, kind: str, start: Any = None, prolongation: str | None = None,
                 previous: dict | None = None) -> dict:
    """What determines a level's start, for its fingerprint.

    kind 'cold': the guess ``start``, as the decision vector it gives on ``problem``;
    'given': the given Solution ``start`` itself; 'warm' / 'multipliers': the
    ``previous`` level's fingerprint and the ``prolongation``.
    """
    if kind == "given":
        return {"kind": "given", "w": array_digest(start.w)}
    if kind in ("warm", "multipliers"):
        return {"kind": "warm", "previous": combine(previous), "multipliers": kind == "multipliers",
                "prolongation": prolongation}
    return {"kind": "cold", "w": array_digest(initial_guess(problem, start))}


@dataclass(frozen=True)
class StartPolicy:
    """How each level of a ladder starts.

    Parameters
    ----------
    guess : dict, Solution, or callable N -> guess
        The start of the first level (and of every level when ``warm`` is False).
    warm : bool
        Start each level from the previous successful minimiser, prolonged
        onto the new grid. False: every level starts cold from ``guess``.
    prolongation : {'linear', 'constant'}
        How controls are carried to the finer grid (see :func:`occontrol.grid.prolong`).
    multipliers : bool
        Warm-start IPOPT's multipliers too (``warm_start_multipliers`` of
        :func:`occontrol.solve`), when warm.
    first : Solution, optional
        A solution already computed on the first grid (for example the best of
        several starts), taken as the first level instead of solving it again.
    """

    guess: Any = None
    warm: bool = True
    prolongation: str = "linear"
    multipliers: bool = False
    first: Solution | None = None

    def __post_init__(self) -> None:
        as_choice(self.prolongation, "prolongation", ("linear", "constant"))
        for name, flag in (("warm", self.warm), ("warm_start_multipliers", self.multipliers)):
            if not isinstance(flag, bool):
                raise TypeError(f"{name}: expected True or False, got {flag!r}")


@dataclass(frozen=True)
class Reporter:
    """What a study records and says as it goes.

    Parameters
    ----------
    progress : callable, optional
        Receives one line per level as it finishes.
    metrics : callable, optional
        Solution -> dict of extra per-level numbers (may override
        'objective', 'loss', 'reg_l2', 'reg_h1').
    shown : list of str, optional
        The metrics shown in the table and progress lines (default all).
    controls : list of str, optional
        Names of the controls whose distances are measured (default all).
    label, problem_record
        A name and settings kept with the study (JSON).
    """

    progress: Callable[[str], None] | None = None
    metrics: Callable[[Solution], dict] | None = None
    shown: list[str] | None = None
    controls: list[str] | None = None
    label: str = ""
    problem_record: dict | None = None


_P = ParamSpec("_P")
_R = TypeVar("_R")

# Where refine()'s former keyword arguments went, for the error that refuses them.
_MOVED = {**{name: f"start=oc.StartPolicy({field_name}=...)" for name, field_name in (
              ("guess", "guess"), ("warm", "warm"), ("prolongation", "prolongation"),
              ("warm_start_multipliers", "multipliers"), ("first", "first"))},
          **{name: f"reporter=oc.Reporter({name}=...)"
             for name in ("progress", "metrics", "shown", "controls", "label", "problem_record")},
          "grids": "the ladder argument", "recompute": "store=LevelStore(folder, recompute=True)"}


def _refusing_unknown_keywords(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """``func`` refusing keyword arguments it does not take with a TypeError that names them and,
    for refine()'s former keywords, says where each one went (StartPolicy, Reporter, ladder, LevelStore)."""
    accepted = set(inspect.signature(func).parameters)

    @functools.wraps(func)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            moved = [f"{name}= is now {_MOVED[name]}" for name in unknown if name in _MOVED]
            raise TypeError(f"{func.__name__}: unexpected keyword arguments {unknown}"
                            + (f" ({'; '.join(moved)})" if moved else ""))
        return func(*args, **kwargs)
    return checked


def _groups(start: StartPolicy | None, store: Any, reporter: Reporter | None
            ) -> tuple[StartPolicy, LevelStore | None, Reporter]:
    """The groups of :func:`refine`, checked, with their defaults filled in."""
    start = StartPolicy() if start is None else start
    reporter = Reporter() if reporter is None else reporter
    if not isinstance(start, StartPolicy):
        raise TypeError(f"start: expected an oc.StartPolicy, got {start!r}")
    if not isinstance(reporter, Reporter):
        raise TypeError(f"reporter: expected an oc.Reporter, got {reporter!r}")
    if store is not None and not isinstance(store, LevelStore):
        store = LevelStore(store)
    return start, store, reporter


@_refusing_unknown_keywords
def refine(ocp: OCP, transcription: Transcription | None = None, ladder: Any = (8, 16, 32, 64), *,
           start: StartPolicy | None = None, store: str | os.PathLike | LevelStore | None = None,
           solver: Ipopt | CasadiSolver | None = None, hess_lag: Any = None,
           reporter: Reporter | None = None) -> ConvergenceStudy:
    """Solve ``ocp`` on each grid in turn and return the :class:`ConvergenceStudy`.

    Parameters
    ----------
    ocp, transcription, solver, hess_lag
        As for :func:`occontrol.solve`.
    ladder : sequence of int or Grid
        The grids, coarse to fine (default: doubling from 8 to 64).
    start : StartPolicy, optional
        The first guess, warm or cold levels, prolongation, multipliers, and a
        first level already solved (default: warm, linear prolongation).
    store : path or LevelStore, optional
        Folder for one file per solved level, so an interrupted study resumes
        where it stopped. A stored level is reused only if it converged and
        its fingerprint matches: the discrete problem (objective, constraints,
        bounds, data), transcription, grid, the solver options that change the
        answer, and the start (the previous level's fingerprint when warm).
        Solver limits (``max_iter``, ``max_wall_time``) are not part of it: they
        may change between runs without invalidating converged levels, and a
        stored failure is always solved again. A level stored for anything
        else raises :class:`StoreMismatch` naming the folder;
        ``LevelStore(folder, recompute=True)`` solves it again instead.
    reporter : Reporter, optional
        Progress lines, extra metrics, the metrics shown, the controls
        measured, and the label and settings kept with the study.

    Raises
    ------
    TypeError
        For a keyword argument refine does not take; the former keywords
        (``warm=``, ``guess=``, ``label=``, ``recompute=``, ...) are named with
        the group they moved to (StartPolicy, Reporter, the ladder, LevelStore).

    Notes
    -----
    A study is only as good as the discrete problems: every level may be
    solved to IPOPT's tolerance while the ladder does not converge to the
    continuous problem. :meth:`ConvergenceStudy.verdict` flags such studies
    (objective gap not contracting, minimisers moving apart, orders not
    settling) and :meth:`ConvergenceStudy.limit_objective` then gives None.
    The COPS hanging chain (min int x sqrt(1 + u^2), x' = u, s' = sqrt(1 + u^2))
    is an example where the discrete problems themselves are at fault, not the
    transcription (the hand-written Euler NLP has the same optima): with
    piecewise-constant controls RK4, Heun and collocation integrate each
    interval exactly (the N-link polygon chain, converging at order 2 to the
    catenary), while explicit Euler weights each link by its left end, so the
    minimisers end in a near-vertical link counted at its foot and the
    objectives approach the value of that relaxed problem (about 1.446, not
    5.068). With piecewise-linear controls Heun's second stage evaluates the
    cost at a predicted state paired with the next control, which zig-zag
    controls exploit. Runge-Kutta discretisations of control problems need
    conditions on their coefficients and controls (Hager 2000).
    """
    start, level_store, reporter = _groups(start, store, reporter)
    grids = [as_grid(g) for g in ladder]
    if not grids:
        raise ValueError("grids: expected at least one grid")
    sizes = [g.N for g in grids]
    if sizes != sorted(set(sizes)):
        raise ValueError(f"grids: expected strictly increasing sizes, got {sizes}")
    guess, warm, prolongation, first = start.guess, start.warm, start.prolongation, start.first
    multipliers = start.multipliers
    metrics, progress = reporter.metrics, reporter.progress
    study = ConvergenceStudy(reporter.problem_record, reporter.label, reporter.shown)
    previous: Solution | None = None
    previous_fp: dict | None = None
    resolved = False  # a level was solved in this run: the starts of the later levels moved
    if first is not None and first.problem.grid != grids[0]:
        raise ValueError(f"first: expected a solution on the first grid (N={grids[0].N}), got N={first.N}")
    for index, grid in enumerate(grids):
        sol = first if index == 0 else None
        with_multipliers = multipliers and warm and previous is not None
        level_start: Any  # the guess of this level
        if sol is not None:
            level_start, kind = sol, "given"
            resolved = resolved or not sol.reused
        elif with_multipliers:  # the Solution itself is the guess (read through Solution.at)
            level_start, kind = previous, "multipliers"
        elif warm and previous is not None:
            level_start, kind = prolonged_guess(previous, grid, prolongation), "warm"
        else:
            level_start = guess(grid.N) if callable(guess) and not isinstance(guess, Solution) else guess
            kind = "cold"
        fingerprint: dict | None = None
        if level_store is not None:
            problem = sol.problem if sol is not None else discretize(ocp, transcription, grid=grid)
            record = start_record(problem, kind, level_start, prolongation, previous_fp)
            fingerprint = level_fingerprint(problem, solver, hess_lag, record)
            if sol is None:
                # a reused level reports the build and solve times of the run that solved it
                sol = level_store.load(problem, fingerprint, start_changed=resolved)
            elif not sol.reused:
                level_store.save(sol, fingerprint)
        reused = sol is not None and sol.reused
        if sol is None:
            sol = solve(ocp, transcription, grid=grid, guess=level_start, solver=solver, hess_lag=hess_lag,
                        warm_start_multipliers=with_multipliers)
            resolved = True
            if level_store is not None:
                level_store.save(sol, fingerprint)
        level = _level(sol, reused, metrics(sol) if metrics else {})
        study.add(level, sol, reporter.controls)
        if progress is not None:
            progress(_progress_line(study, level))
        if sol.success:
            previous, previous_fp = sol, fingerprint
    return study


def _progress_line(study: ConvergenceStudy, level: Level) -> str:
    d = study.distances[-1] if study.distances and study.distances[-1].N_next == level.N else None
    state = ("ok" if level.success else "FAILED") + (" reused" if level.reused else "")
    extra = f"  L2 dist {d.l2:.3g}" if d else ""
    extra += "".join(f"  {k} {_fmt(v)}" for k, v in level.metrics.items()
                     if study.shown is None or k in study.shown)
    return (f"N={level.N:<5d} {state:<10s} {level.status:<28s} objective {_fmt(level.objective, 10)}  "
            f"iter {level.iterations:<4d} build {level.build_seconds:6.2f}s  solve {level.solve_seconds:7.2f}s"
            + extra)


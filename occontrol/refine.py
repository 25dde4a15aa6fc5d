"""Refinement studies: solve on a ladder of grids, warm-starting each from the
previous minimiser, and measure how the minimisers converge.

Distances between consecutive minimisers treat the controls as functions of
t (piecewise constant: the ResNet view; piecewise linear through the
anchors: the H1 view) and are computed exactly on the union of both grids.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ._checks import as_choice, as_positive_int
from .grid import Grid, as_grid, interval_function_distance, piecewise_linear_distance, prolong
from .io import json_safe, read_json, write_json, write_npz
from .problem import OCP
from .solution import Solution
from .solver import CasadiSolver, Ipopt, discretize, solve
from .transcription.discrete import Transcription

__all__ = ["Level", "Distance", "ConvergenceStudy", "refine", "doubling", "SCHEMA", "prolonged_guess",
           "control_distance", "LevelStore"]

SCHEMA = 1
METRICS = ("l2", "sup", "h1", "objective_gap")


@dataclass
class Level:
    """One solve of the ladder. A failed level keeps its numbers but ``success`` is False."""

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

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(out.pop("metrics"))
        return json_safe(out)

    @classmethod
    def from_dict(cls, data: dict) -> "Level":
        names = {f for f in cls.__dataclass_fields__ if f != "metrics"}
        return cls(**{k: v for k, v in data.items() if k in names},
                   metrics={k: v for k, v in data.items() if k not in names})


@dataclass
class Distance:
    """Distances between the minimisers on grids N and N_next."""

    N: int
    N_next: int
    l2: float
    sup: float
    h1: float
    objective_gap: float
    branch_jump: bool = False

    def to_dict(self) -> dict:
        return json_safe(asdict(self))


def _control_function(sol: Solution, names: list[str] | None) -> tuple[np.ndarray, np.ndarray, bool]:
    """(nodes, values stacked over the chosen controls, nodal?) of a solution's controls."""
    ocp = sol.problem.ocp
    controls = [v for v in ocp.controls if names is None or v.name in names]
    values = np.hstack([np.reshape(sol.value(v.symbol), (-1, v.size)) for v in controls])
    return sol.t, values, sol.problem.transcription.controls == "linear"


def control_distance(a: Solution, b: Solution, names: list[str] | None = None) -> dict[str, float]:
    """L2 and sup distance (piecewise-constant view) and H1 seminorm of the difference of the
    piecewise-linear interpolants (through interval midpoints, or nodes for linear controls)."""
    ta, va, nodal = _control_function(a, names)
    tb, vb, _ = _control_function(b, names)
    if nodal:
        out = piecewise_linear_distance(ta, va, tb, vb, ta[0], ta[-1])
        return {"l2": out["l2"], "sup": out["sup"], "h1": out["h1"]}
    return interval_function_distance(ta, va, tb, vb)


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
    """

    def __init__(self, problem: dict | None = None, label: str = "", shown: list[str] | None = None) -> None:
        self.problem = dict(problem or {})
        self.label = label
        self.shown = shown  # metric names shown in tables and progress lines (None: all)
        self.levels: list[Level] = []
        self.distances: list[Distance] = []
        self.solutions: list[Solution | None] = []

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
        dist = Distance(prev_level.N, level.N, d["l2"], d["sup"], d["h1"],
                        abs(level.objective - prev_level.objective))
        # A branch jump: the minimisers moved apart instead of contracting.
        if self.distances and dist.l2 > self.distances[-1].l2:
            dist.branch_jump = True
        self.distances.append(dist)

    # ------------------------------------------------------------- summary
    @property
    def success(self) -> bool:
        return bool(self.levels) and all(lv.success for lv in self.levels)

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

    def limit_objective(self) -> float | None:
        """Richardson extrapolation from the two finest successful levels.

        The order is the last observed order of the objective gap (1 if none is
        available, as for a first-order scheme).
        """
        ok = [lv for lv in self.levels if lv.success]
        if len(ok) < 2:
            return ok[0].objective if ok else None
        a, b = ok[-2], ok[-1]
        observed = [o for o in self.orders()["objective_gap"] if o is not None]
        p = observed[-1] if observed and 0.25 <= observed[-1] <= 8 else 1.0
        return b.objective + (b.objective - a.objective) / ((a.h / b.h) ** p - 1)

    def branch_jumps(self) -> list[int]:
        """Grid sizes N_next of the distances that broke the contraction trend."""
        return [d.N_next for d in self.distances if d.branch_jump]

    def table(self) -> str:
        """A markdown table: one row per level, with its distance to the previous level."""
        metric_names = self.shown if self.shown is not None else sorted({k for lv in self.levels for k in lv.metrics})
        head = ["N", "status", "objective", "iter", "build s", "solve s", "L2 dist", "sup dist", "H1 dist",
                "|dE|"] + metric_names
        rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
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
            rows.append("| " + " | ".join(cells) + " |")
        orders = self.orders()
        lines = ["", "Observed orders: " + "; ".join(
            f"{m} " + ", ".join(_fmt(o) for o in orders[m]) for m in METRICS if orders[m])]
        limit = self.limit_objective()
        lines.append(f"Richardson limit objective: {_fmt(limit, 10)}")
        failed = [lv.N for lv in self.levels if not lv.success]
        if failed:
            lines.append(f"FAILED levels (left out of distances and orders): {failed}")
        if self.branch_jumps():
            lines.append(f"Branch jumps at N = {self.branch_jumps()}")
        return "\n".join(rows + lines)

    # ------------------------------------------------------------------ io
    def to_dict(self) -> dict:
        return {"schema": SCHEMA, "label": self.label, "problem": self.problem,
                "success": self.success,
                "levels": [lv.to_dict() for lv in self.levels],
                "distances": [d.to_dict() for d in self.distances],
                "orders": self.orders(), "limit_objective": self.limit_objective(),
                "branch_jumps": self.branch_jumps()}

    @classmethod
    def from_dict(cls, data: dict) -> "ConvergenceStudy":
        if data.get("schema") != SCHEMA:
            raise ValueError(f"study: expected schema {SCHEMA}, got {data.get('schema')!r}")
        study = cls(data.get("problem", {}), data.get("label", ""))
        study.levels = [Level.from_dict(d) for d in data["levels"]]
        study.solutions = [None] * len(study.levels)
        study.distances = [Distance(**d) for d in data["distances"]]
        return study

    def save(self, path: str | os.PathLike) -> Path:
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
        raise ValueError(f"stop: expected a layer count >= start = {start}, got {stop}")
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
    for var in ocp.variables:
        if var.kind == "control":
            guess[var.symbol] = prolong(sol.t, sol.value(var.symbol), new_nodes, kind, at_nodes=nodal)
        else:
            guess[var.symbol] = sol
    if ocp.free_time is not None:
        guess[ocp.tf_symbol] = tf
    return guess


def _level(sol: Solution, reused: bool, metrics: dict) -> Level:
    reg = sol.regularization_parts
    parts = sol.objective_parts
    level = Level(N=sol.N, h=float(np.diff(sol.t).max()), objective=sol.objective,
                  loss=parts["running"] + parts["terminal"], reg_l2=reg["l2"], reg_h1=reg["h1"],
                  status=sol.status, success=sol.success, iterations=sol.iterations,
                  build_seconds=sol.build_seconds, solve_seconds=sol.solve_seconds, reused=reused)
    for key, value in metrics.items():
        if key in ("objective", "loss", "reg_l2", "reg_h1"):
            setattr(level, key, float(value))
        else:
            level.metrics[key] = value
    return level


class LevelStore:
    """One .npz per solved level (decision vector, multipliers, status), for resuming."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def path(self, N: int) -> Path:
        return self.folder / f"level_N{N}.npz"

    def save(self, sol: Solution) -> None:
        meta = {"status": sol.status, "success": sol.success, "iterations": sol.iterations,
                "build_seconds": sol.build_seconds, "solve_seconds": sol.solve_seconds, "solver": sol.solver}
        write_npz(self.path(sol.N), w=sol.w, lam_x=sol.lam_x if sol.lam_x is not None else np.zeros(0),
                  lam_g=sol.lam_g if sol.lam_g is not None else np.zeros(0), meta=np.str_(json.dumps(meta)))

    def load(self, problem) -> Solution | None:
        path = self.path(problem.N)
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as data:
            w, lam_x, lam_g = data["w"], data["lam_x"], data["lam_g"]
            meta = json.loads(str(data["meta"]))
        if w.size != problem.lbx.size:
            raise ValueError(f"store: {path} holds a decision vector of size {w.size}, expected "
                             f"{problem.lbx.size}: it belongs to other settings")
        sol = Solution(problem, w, status=meta["status"], success=meta["success"],
                       iterations=meta["iterations"], build_seconds=meta["build_seconds"],
                       solve_seconds=meta["solve_seconds"], solver=meta["solver"],
                       lam_x=lam_x if lam_x.size else None, lam_g=lam_g if lam_g.size else None)
        sol.reused = True
        return sol


def refine(ocp: OCP, transcription: Transcription | None = None, grids: Any = (8, 16, 32, 64), *,
           guess: Any = None, solver: Ipopt | CasadiSolver | None = None, hess_lag: Any = None,
           warm: bool = True, prolongation: str = "linear", warm_start_multipliers: bool = False,
           controls: list[str] | None = None, metrics: Callable[[Solution], dict] | None = None,
           progress: Callable[[str], None] | None = None, store: str | os.PathLike | None = None,
           problem_record: dict | None = None, label: str = "",
           first: Solution | None = None, shown: list[str] | None = None) -> ConvergenceStudy:
    """Solve ``ocp`` on each grid in turn and return the :class:`ConvergenceStudy`.

    Parameters
    ----------
    ocp, transcription, solver, hess_lag
        As for :func:`occontrol.solve`.
    grids : sequence of int or Grid
        The ladder, coarse to fine (default: doubling from 8 to 64).
    guess : dict, Solution, or callable N -> guess
        The start of the first level (and of every level when ``warm`` is False).
    warm : bool
        Start each level from the previous successful minimiser, prolonged
        onto the new grid. False: every level starts cold from ``guess``.
    prolongation : {'linear', 'constant'}
        How controls are carried to the finer grid (see :func:`occontrol.grid.prolong`).
    controls : list of str, optional
        Names of the controls whose distances are measured (default all).
    metrics : callable, optional
        Solution -> dict of extra per-level numbers (may override
        'objective', 'loss', 'reg_l2', 'reg_h1').
    progress : callable, optional
        Receives one line per level as it finishes.
    store : path, optional
        Folder for one file per solved level; levels found there are reused,
        so an interrupted study resumes where it stopped.
    problem_record, label
        Settings and a name kept with the study (JSON).
    first : Solution, optional
        A solution already computed on ``grids[0]`` (for example the best of
        several starts), taken as the first level instead of solving it again.
    shown : list of str, optional
        The metrics shown in the table and progress lines (default all).
    """
    grids = [as_grid(g) for g in grids]
    if not grids:
        raise ValueError("grids: expected at least one grid")
    prolongation = as_choice(prolongation, "prolongation", ("linear", "constant"))
    if not isinstance(warm, bool):
        raise TypeError(f"warm: expected True or False, got {warm!r}")
    sizes = [g.N for g in grids]
    if sizes != sorted(set(sizes)):
        raise ValueError(f"grids: expected strictly increasing sizes, got {sizes}")
    level_store = LevelStore(store) if store is not None else None
    study = ConvergenceStudy(problem_record, label, shown)
    previous: Solution | None = None
    if first is not None and first.problem.grid != grids[0]:
        raise ValueError(f"first: expected a solution on the first grid (N={grids[0].N}), got N={first.N}")
    for index, grid in enumerate(grids):
        sol = first if index == 0 else None
        if sol is None and level_store is not None:
            # a reused level reports the build and solve times of the run that solved it
            sol = level_store.load(discretize(ocp, transcription, grid=grid))
        reused = sol is not None and sol.reused
        if sol is not None and sol is first and level_store is not None and not sol.reused:
            level_store.save(sol)
        if sol is None:
            with_multipliers = warm_start_multipliers and warm and previous is not None
            if with_multipliers:  # the Solution itself is the guess (read through Solution.at)
                start = previous
            elif warm and previous is not None:
                start = prolonged_guess(previous, grid, prolongation)
            else:
                start = guess(grid.N) if callable(guess) and not isinstance(guess, Solution) else guess
            sol = solve(ocp, transcription, grid=grid, guess=start, solver=solver, hess_lag=hess_lag,
                        warm_start_multipliers=with_multipliers)
            if level_store is not None:
                level_store.save(sol)
        level = _level(sol, reused, metrics(sol) if metrics else {})
        study.add(level, sol, controls)
        if progress is not None:
            progress(_progress_line(study, level))
        if sol.success:
            previous = sol
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


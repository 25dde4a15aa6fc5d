"""The deep-limit ladder with adaptive layer placement, beside the uniform one.

Each placed ladder has the same numbers of layers N as the uniform ladder.
Its first level is the uniform one (there is no previous level to place
by); each next level places its N layers on the previous level of the same
ladder and starts from that network's theta(t) sampled on the new layers
(:meth:`ResNet.resample`). Two placements:

- ``adaptive``: by the error indicators of the previous level,
  :func:`occontrol.estimate_error` (a solve on its bisected grid, with the
  study's solver and Hessian) and
  :func:`~occontrol.resnet.placement.indicator_equidistributed_grid`. When
  that estimate fails (its bisected solve fails), the ladder stops there
  with the next level recorded as FAILED and the estimate's status: it does
  not fall back to another placement;
- ``variation``: by the variation of the previous level's theta(t),
  :func:`~occontrol.resnet.placement.variation_equidistributed_grid`.

All ladders are measured against one reference, the uniform ladder's
Richardson limit objective E_limit: per N, |E_N - E_limit| and the
accuracies.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from ..datasets import Dataset
from ..error_estimate import estimate_error
from ..grid import Grid
from ..records import KeyedRecord, markdown_table
from ..refinement import ConvergenceStudy
from ..solution import Solution
from ..solver import solve
from .network import ResNet
from .placement import indicator_equidistributed_grid, variation_equidistributed_grid
from .problem import DeepLimitProblem
from .train import guess_from_network, network_from_solution, training_labels

__all__ = ["PlacementLevel", "PlacementStudy", "adaptive_ladder", "PLACEMENTS", "LADDERS"]

PLACEMENTS = ("uniform", "adaptive", "variation", "all")
LADDERS = ("adaptive", "variation")  # the placed ladders; 'all' runs both
FLOORS = {"adaptive": 0.25, "variation": 1.0}  # default floor weight of each placement
INDICATORS = {
    "adaptive": ("equidistribution of int (eta_k / h_k^(p+1))^(1/(p+1)) dt + floor * mean over the layers, eta_k "
                 "the error indicators of oc.estimate_error on the previous adaptive level (bisected solve, the "
                 "study's solver and Hessian), p the estimate's order"),
    "variation": ("equidistribution of int |theta'(t)| dt + floor * V / T over the layers, measured on the "
                  "previous variation level (occontrol.resnet.placement)"),
}


def ladders_of(placement: str) -> tuple[str, ...]:
    """The placed ladders a ``placement`` choice runs (none for 'uniform')."""
    return LADDERS if placement == "all" else tuple(k for k in LADDERS if k == placement)


@dataclass
class PlacementLevel(KeyedRecord):
    """One level of a ladder, as study.json's ``placement`` sections have it.

    Attributes
    ----------
    N : int
    objective : float
        The NLP's objective E_N at the level's minimiser (NaN when the level was not solved).
    error : float or None
        |E_N - E_limit| (None without a limit, or for a failed level).
    status : str
        IPOPT's status, or why the level could not be placed (a failed error estimate).
    success : bool
    iterations : int
    train_accuracy, test_accuracy : float
    min_step, max_step : float
        Smallest and largest layer step h_k.
    nodes : list of float
        The layer boundaries on [0, T].
    seconds : float
        Build and solve wall time of the level.
    estimated_error : float or None
        ``oc.estimate_error``'s |E_N - E*| of this level, when the adaptive
        ladder estimated it to place the next level.
    estimate_seconds : float
        Wall time of that estimate (its bisected solve and indicators).
    indicators : list of float
        That estimate's per-layer indicators eta_k (empty when not estimated).
    order : float or None
        That estimate's order p (the placement's exponent 1 / (p + 1)).
    """

    N: int
    objective: float
    error: float | None
    status: str
    success: bool
    iterations: int
    train_accuracy: float
    test_accuracy: float
    min_step: float
    max_step: float
    nodes: list[float] = field(default_factory=list)
    seconds: float = 0.0
    estimated_error: float | None = None
    estimate_seconds: float = 0.0
    indicators: list[float] = field(default_factory=list)
    order: float | None = None


@dataclass
class PlacementStudy(KeyedRecord):
    """The uniform ladder and the placed ladders side by side (study.json's ``placement``).

    Attributes
    ----------
    limit_objective : float or None
        The uniform ladder's Richardson limit, against which every placement is measured.
    limit_note : str
        How the limit was obtained, or why there is none.
    floor : float
        The adaptive placement's floor weight (:func:`indicator_equidistributed_grid`).
    uniform, adaptive, variation : list of PlacementLevel
        One record per N of each ladder; ``adaptive`` and ``variation`` are
        empty when that placement was not run.
    indicator, variation_indicator : str
        What the adaptive and the variation layers equidistribute.
    variation_floor : float
        The floor of the variation placement (:func:`variation_equidistributed_grid`).
    networks : dict
        The placed levels' networks by ladder and N (in memory only).
    """

    limit_objective: float | None
    limit_note: str
    floor: float
    uniform: list[PlacementLevel]
    adaptive: list[PlacementLevel]
    indicator: str = INDICATORS["adaptive"]
    variation: list[PlacementLevel] = field(default_factory=list)
    variation_floor: float = FLOORS["variation"]
    variation_indicator: str = INDICATORS["variation"]
    # the placed levels' networks by ladder and N (in memory only; the study writes weights_<ladder>_N*.npz)
    networks: dict[str, dict[int, ResNet]] = field(default_factory=dict, compare=False, repr=False)

    def ladder(self, kind: str) -> list[PlacementLevel]:
        """The levels of ``kind`` ('uniform', 'adaptive' or 'variation')."""
        return {"uniform": self.uniform, "adaptive": self.adaptive, "variation": self.variation}[kind]

    @property
    def ladders(self) -> list[str]:
        """The placed ladders that were run."""
        return [k for k in LADDERS if self.ladder(k)]

    @property
    def failed(self) -> list[str]:
        """Every failed level of the placed ladders, described (the uniform ones are the study's own)."""
        return [f"{k} placement N={lv.N}: {lv.status}" for k in LADDERS for lv in self.ladder(k) if not lv.success]

    def as_dict(self) -> dict[str, Any]:
        out = super().as_dict()
        del out["networks"]
        for kind in ("uniform", *LADDERS):
            out[kind] = [lv.as_dict() for lv in self.ladder(kind)]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PlacementStudy":
        def levels(key: str) -> list[PlacementLevel]:
            return [PlacementLevel.from_dict(lv) for lv in data.get(key) or []]
        return cls(data["limit_objective"], data["limit_note"], data["floor"], levels("uniform"), levels("adaptive"),
                   data.get("indicator", INDICATORS["adaptive"]), levels("variation"),
                   data.get("variation_floor", FLOORS["variation"]),
                   data.get("variation_indicator", INDICATORS["variation"]))

    def table(self) -> str:
        """Markdown: per N, every ladder's |E_N - E_limit| and accuracies (and the placed ones' steps)."""
        kinds = ["uniform", *self.ladders]
        by_n = {k: {lv.N: lv for lv in self.ladder(k)} for k in kinds}
        head = ["N"]
        for k in kinds:
            head += [f"{k} E", f"{k} abs(E - E_limit)", f"{k} train acc", f"{k} test acc"]
            if k != "uniform":
                head.append(f"{k} min / max h")
        rows = []
        for u in self.uniform:
            row: list[Any] = [u.N]
            for k in kinds:
                lv = by_n[k].get(u.N)
                row += _cells(lv) if lv is not None else ["not run", "", "", ""]
                if k != "uniform":
                    row.append("" if lv is None or not lv.success else f"{lv.min_step:.3g} / {lv.max_step:.3g}")
            rows.append(row)
        limit = "none" if self.limit_objective is None else f"{self.limit_objective:.10g}"
        title = ", ".join(kinds)
        return (f"Layer placement, {title} (E_limit = {limit}: {self.limit_note}):\n\n" + markdown_table(head, rows))


def _cells(lv: PlacementLevel) -> list[str]:
    if not lv.success:
        return [f"FAILED ({lv.status})", "", "", ""]
    error = "" if lv.error is None else f"{lv.error:.3g}"
    return [f"{lv.objective:.10g}", error, f"{lv.train_accuracy:.4g}", f"{lv.test_accuracy:.4g}"]


def _level(net: ResNet, objective: float, status: str, success: bool, iterations: int, limit: float | None,
           deep: DeepLimitProblem, data: Dataset, seconds: float = 0.0) -> PlacementLevel:
    error = None if limit is None or not success else abs(objective - limit)
    return PlacementLevel(net.N, objective, error, status, success, iterations,
                          net.score(data.X_train, training_labels(deep)), net.score(data.X_test, data.y_test),
                          float(net.steps.min()), float(net.steps.max()), [float(t) for t in net.nodes],
                          float(seconds))


def _unplaced(N: int, status: str) -> PlacementLevel:
    """A level that could not be placed: FAILED, with why, and no numbers."""
    nan = math.nan
    return PlacementLevel(N, nan, None, status, False, 0, nan, nan, nan, nan, [])


@dataclass
class _Ladder:
    """What one placed ladder needs of the study: the problem, the data, the solves' settings."""

    deep: DeepLimitProblem
    data: Dataset
    transcription: Any
    solver: Any
    hess_lag: Any
    limit: float | None
    scheme: str | None
    say: Callable[[str], None]


def _place(kind: str, net: ResNet, sol: Solution, level: PlacementLevel, N: int, floor: float,
           run: _Ladder) -> Grid | str:
    """The next level's grid, or why it could not be placed (the adaptive placement's failed estimate).

    The adaptive placement writes its estimate of the previous level into ``level``.
    """
    if kind == "variation":
        return variation_equidistributed_grid(net, N, floor)
    start = time.perf_counter()
    est = estimate_error(sol, solver=run.solver, hess_lag=run.hess_lag)
    level.estimate_seconds = time.perf_counter() - start
    if not est.success:
        return (f"error estimate of N={sol.N} FAILED (bisected solve: {est.fine_status}); no placement, "
                f"no fallback")
    level.estimated_error = float(est.objective_error)
    level.indicators, level.order = [float(e) for e in est.indicators], float(est.order)
    return indicator_equidistributed_grid(net.nodes, est.indicators, N, est.order, floor)


def _placed_ladder(kind: str, grids: list[int], first: PlacementLevel, net: ResNet, sol: Solution, floor: float,
                   run: _Ladder) -> tuple[list[PlacementLevel], dict[int, ResNet]]:
    """One placed ladder from the uniform first level; stops at its first failed level."""
    levels, nets = [first], {grids[0]: net}
    for N in grids[1:]:
        grid = _place(kind, net, sol, levels[-1], N, floor, run)
        if isinstance(grid, str):
            levels.append(_unplaced(N, grid))
            run.say(f"{kind} N={N:<4d} FAILED {grid}")
            break
        start = net.resample(grid)
        sol = solve(run.deep.ocp, run.transcription, grid=grid, guess=guess_from_network(run.deep, start),
                    solver=run.solver, hess_lag=run.hess_lag)
        net = nets[N] = network_from_solution(run.deep, sol, scheme=run.scheme)
        lv = _level(net, sol.objective, sol.status, sol.success, sol.iterations, run.limit, run.deep, run.data,
                    sol.build_seconds + sol.solve_seconds)
        levels.append(lv)
        run.say(f"{kind} N={N:<4d} {'ok' if sol.success else 'FAILED':<6s} {sol.status:<28s} objective "
                f"{sol.objective:.10g}  iter {sol.iterations:<4d} h {lv.min_step:.3g}..{lv.max_step:.3g}  "
                f"test_accuracy {lv.test_accuracy:.4g}  {lv.seconds:.2f}s")
        if not sol.success:
            break
    return levels, nets


def adaptive_ladder(grids: list[int], deep: DeepLimitProblem, data: Dataset, study: ConvergenceStudy,
                    networks: Mapping[int, ResNet], transcription: Any, solver: Any, hess_lag: Any,
                    floor: float | None = None, scheme: str | None = None,
                    progress: Callable[[str], None] | None = None,
                    kinds: tuple[str, ...] = ("adaptive",)) -> PlacementStudy:
    """The placed ladders ``kinds`` beside the uniform ``study`` (whose converged networks are ``networks``).

    ``floor`` is the adaptive placement's floor weight (default
    ``FLOORS['adaptive']``); the variation placement uses ``FLOORS['variation']``.
    A placed ladder stops at its first failed level (a failed solve is no
    network to place the next layers by; a failed error estimate no
    indicators); the uniform ladder's first level is every placed ladder's
    first, so nothing runs when it failed.
    """
    unknown = [k for k in kinds if k not in LADDERS]
    if unknown:
        raise ValueError(f"kinds: expected some of {LADDERS}, got {list(kinds)}")
    floors = {**FLOORS, **({} if floor is None else {"adaptive": float(floor)})}
    run = _Ladder(deep, data, transcription, solver, hess_lag, study.limit_objective(), scheme,
                  progress or (lambda line: None))
    solutions = {lv.N: s for lv, s in zip(study.levels, study.solutions)}
    uniform = [_level(networks[lv.N], lv.objective, lv.status, lv.success, lv.iterations, run.limit, deep, data,
                      lv.build_seconds + lv.solve_seconds)
               for lv in study.levels if lv.N in networks]
    ladders: dict[str, list[PlacementLevel]] = {k: [] for k in LADDERS}
    nets: dict[str, dict[int, ResNet]] = {}
    first = next((lv for lv in uniform if lv.N == grids[0]), None)
    first_sol = solutions.get(grids[0])
    if first is None or not first.success or first_sol is None:
        run.say(f"placed ladders not run: the uniform level N={grids[0]} did not converge (no network and no "
                "solve to place the next layers by)")
    else:
        for kind in kinds:
            start = PlacementLevel.from_dict(first.as_dict())  # its own copy: the estimate is written into it
            ladders[kind], nets[kind] = _placed_ladder(kind, grids, start, networks[grids[0]], first_sol,
                                                       floors[kind], run)
    return PlacementStudy(run.limit, study.limit_note(), floors["adaptive"], uniform, ladders["adaptive"],
                          variation=ladders["variation"], variation_floor=floors["variation"], networks=nets)


def placement_nodes(placement: PlacementStudy, kind: str = "adaptive") -> dict[int, np.ndarray]:
    """The layer boundaries on [0, T] of a placed ladder's levels, by N."""
    return {lv.N: np.asarray(lv.nodes) for lv in placement.ladder(kind)}

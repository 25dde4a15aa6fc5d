"""Adaptive grids: solve, estimate the error, refine where it is, repeat (:func:`adapt`).

Each round solves on the current grid (warm-started by prolongation of the
previous round's bisected solve), estimates |J_h - J*| and the per-interval
indicators with :func:`occontrol.error_estimate.estimate_error`, and stops
when the estimate is below ``tol``. Otherwise it marks the intervals with the
largest indicators (the fewest whose indicators make up 70% of their sum,
Doerfler's bulk criterion), splits each marked interval into 2 to 4 parts
(more where its indicator is further above the equidistributed share
tol / N, at the scheme's order), merges neighbouring equal-length pairs whose
indicators are far below that share (undoing earlier splits that are no
longer needed), and goes on. Reaching ``max_rounds`` or ``max_intervals``
without meeting ``tol`` is reported as not converged; a failed IPOPT solve
stops the loop and is reported with its status.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ._checks import as_finite_float, as_positive_int
from .error_estimate import ErrorEstimate, estimate_error
from .grid import Grid, as_grid
from .io import json_safe, write_json
from .problem import OCP
from .records import Record, markdown_table, provenance, solve_outcome
from .solution import Solution

__all__ = ["AdaptLevel", "AdaptResult", "adapt", "refined_grid"]

# marked intervals make up this fraction of the indicators' sum; 0.5 took more rounds, 0.9 more intervals on the
# boundary layer (benchmarks/adapt.py)
BULK = 0.7
MAX_SPLIT = 4  # an interval is split into at most this many parts per round
MERGE_BELOW = 1e-3  # pairs whose indicators sum below this fraction of tol / N are merged


@dataclass
class AdaptLevel(Record):
    """One round of :func:`adapt`.

    Attributes
    ----------
    round : int
    N : int
        Intervals of the round's grid.
    h_min, h_max : float
        Shortest and longest interval, as fractions of the horizon.
    objective : float
        J_h of the round's solve.
    estimate : float
        The estimated |J_h - J*| (NaN when it could not be estimated).
    iterations : int
        IPOPT iterations of the solve and of the bisected solve of the estimate.
    seconds : float
        Wall time of the round (build, solve, estimate).
    status : str
        IPOPT's status of the round's solve (of the bisected solve when that failed).
    success : bool
    """

    round: int
    N: int
    h_min: float
    h_max: float
    objective: float
    estimate: float
    iterations: int
    seconds: float
    status: str
    success: bool

    @property
    def outcome(self) -> str:
        """'converged' or 'failed' (of the solves, not of the adaptation)."""
        return solve_outcome(self.success, self.status)


@dataclass
class AdaptResult(Record):
    """What :func:`adapt` returns.

    Attributes
    ----------
    solution : Solution
        The last round's solve (on a non-uniform oc.Grid in general).
    error_estimate : float
        Estimated |J - J*| of ``solution`` (NaN when the last round failed).
    estimate : ErrorEstimate or None
        The last round's full estimate (indicators, bisected solve).
    levels : list of AdaptLevel
        One record per round.
    converged : bool
        Whether ``error_estimate <= tol``. Reaching a limit first, or a failed
        solve, is not converged.
    reason : str
        Why the loop stopped.
    tol : float
    settings : dict
        The settings of the run, for the record.
    """

    solution: Solution | None
    error_estimate: float
    estimate: ErrorEstimate | None
    levels: list[AdaptLevel]
    converged: bool
    reason: str
    tol: float
    settings: dict = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """Wall time of all rounds."""
        return float(sum(lv.seconds for lv in self.levels))

    @property
    def grid(self) -> Grid | None:
        """The final grid."""
        return None if self.solution is None else self.solution.problem.grid

    def as_dict(self) -> dict[str, Any]:
        return {"converged": self.converged, "reason": self.reason, "tol": self.tol,
                "error_estimate": self.error_estimate,
                "objective": None if self.solution is None else self.solution.objective,
                "N": None if self.solution is None else self.solution.N,
                "nodes": None if self.solution is None else self.solution.problem.grid.tau,
                "seconds": self.seconds, "settings": self.settings,
                "levels": [lv.as_dict() for lv in self.levels]}

    def to_dict(self) -> dict[str, Any]:
        return json_safe({**self.as_dict(), "provenance": provenance(self.settings)})

    def save(self, path: Any) -> Path:
        """Write :meth:`to_dict` as JSON (atomically)."""
        return write_json(path, self.to_dict())

    def table(self) -> str:
        """A markdown table, one row per round, and the verdict."""
        head = ["round", "N", "h min", "h max", "status", "objective", "estimate", "iter", "seconds"]
        rows = [[lv.round, lv.N, _fmt(lv.h_min), _fmt(lv.h_max),
                 lv.status if lv.success else f"FAILED: {lv.status}", _fmt(lv.objective, 10),
                 _fmt(lv.estimate), lv.iterations, f"{lv.seconds:.2f}"] for lv in self.levels]
        verdict = (f"CONVERGED: estimate {_fmt(self.error_estimate)} <= tol {_fmt(self.tol)}" if self.converged
                   else f"NOT CONVERGED: {self.reason}")
        return markdown_table(head, rows) + "\n\n" + verdict

    def __repr__(self) -> str:
        N = None if self.solution is None else self.solution.N
        return (f"AdaptResult(converged={self.converged}, N={N}, error_estimate={self.error_estimate:.3g}, "
                f"rounds={len(self.levels)})")


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def refined_grid(grid: Grid, indicators: np.ndarray, tol: float, order: float = 2.0,
                 max_intervals: int | None = None) -> Grid:
    """The next grid: split the intervals with the largest indicators, merge the negligible pairs.

    Parameters
    ----------
    grid : Grid
        The current grid.
    indicators : ndarray, shape (N,)
        Per-interval error indicators (objective units, non-negative).
    tol : float
        The target of the summed error.
    order : float
        The scheme's order: an interval whose indicator is r times the share
        tol / N is split into about r^(1/order) parts (2 to 4).
    max_intervals : int, optional
        The new grid has at most this many intervals (the marked intervals
        with the largest indicators are split first).
    """
    eta = np.asarray(indicators, dtype=float)
    N = grid.N
    if eta.shape != (N,):
        raise ValueError(f"indicators: expected shape ({N},), got {eta.shape}")
    if not np.all(np.isfinite(eta)) or np.any(eta < 0):
        raise ValueError("indicators: expected finite non-negative values")
    tol = as_finite_float(tol, "tol")
    if tol <= 0:
        raise ValueError(f"tol: expected a positive tolerance, got {tol}")
    splits = _splits(eta, tol, order)
    if max_intervals is not None:
        splits = _capped(splits, eta, max_intervals)
    merge = _merges(grid, eta, tol, splits)
    tau = grid.tau
    nodes: list[float] = []
    k = 0
    while k < N:
        if k in merge:
            nodes.append(tau[k])
            k += 2
            continue
        nodes.extend(tau[k] + (tau[k + 1] - tau[k]) * np.arange(splits[k]) / splits[k])
        k += 1
    nodes.append(1.0)
    return Grid(np.array(nodes))


def _splits(eta: np.ndarray, tol: float, order: float) -> np.ndarray:
    """Parts per interval (1: kept): Doerfler marking, 2 to MAX_SPLIT parts by the excess over tol / N."""
    N = eta.size
    splits = np.ones(N, dtype=int)
    total = eta.sum()
    if total <= 0:
        return splits + 1  # no local information: bisect everything
    ranked = np.argsort(-eta, kind="stable")
    marked = ranked[:int(np.searchsorted(np.cumsum(eta[ranked]), BULK * total)) + 1]
    share = tol / N
    for k in marked:
        parts = math.ceil((eta[k] / share) ** (1.0 / order)) if eta[k] > share else 2
        splits[k] = int(min(MAX_SPLIT, max(2, parts)))
    return splits


def _capped(splits: np.ndarray, eta: np.ndarray, max_intervals: int) -> np.ndarray:
    """Splits reduced, smallest indicators first, until the grid has at most ``max_intervals`` intervals."""
    splits = splits.copy()
    for k in np.argsort(eta, kind="stable"):
        if splits.sum() <= max_intervals:
            break
        if splits[k] > 1:
            splits[k] = max(1, splits[k] - (splits.sum() - max_intervals))
    return splits


def _merges(grid: Grid, eta: np.ndarray, tol: float, splits: np.ndarray) -> set[int]:
    """Left indices k of pairs (k, k + 1) to merge: both kept, equal lengths, negligible indicators."""
    N = eta.size
    dtau = np.diff(grid.tau)
    out: set[int] = set()
    k = 0
    limit = MERGE_BELOW * tol / N
    while k < N - 1:
        if (splits[k] == 1 and splits[k + 1] == 1 and math.isclose(dtau[k], dtau[k + 1], rel_tol=1e-9)
                and eta[k] + eta[k + 1] < limit):
            out.add(k)
            k += 2
        else:
            k += 1
    return out


def adapt(ocp: OCP, transcription: Any = None, grid: Any = 8, tol: float = 1e-6, guess: Any = None,
          solver: Any = None, max_intervals: int = 1024, max_rounds: int = 12, *,
          progress: Callable[[str], None] | None = None) -> AdaptResult:
    """Solve ``ocp`` on adaptively refined grids until the estimated objective error is below ``tol``.

    Parameters
    ----------
    ocp : OCP
    transcription : Transcription, optional
        Default ``oc.RK4()``.
    grid : int or Grid
        The first grid (N0 uniform intervals or given nodes).
    tol : float
        Target of the estimated |J - J*| (:func:`occontrol.estimate_error`).
    guess : optional
        The first round's guess, as for :func:`occontrol.solve`.
    solver : Ipopt or CasadiSolver, optional
    max_intervals : int
        No grid gets more intervals than this.
    max_rounds : int
        At most this many solve-estimate rounds.
    progress : callable, optional
        Receives one line per round.

    Returns
    -------
    AdaptResult
        ``converged`` only when the estimate met ``tol``; a limit reached or
        a failed solve is reported as not converged, with the reason.
    """
    from .refinement import prolonged_guess
    from .solver import checked_ocp_and_transcription, solve
    transcription = checked_ocp_and_transcription(ocp, transcription)
    current = as_grid(grid)
    tol = as_finite_float(tol, "tol")
    if tol <= 0:
        raise ValueError(f"tol: expected a positive tolerance, got {tol}")
    max_intervals = as_positive_int(max_intervals, "max_intervals")
    max_rounds = as_positive_int(max_rounds, "max_rounds")
    if current.N > max_intervals:
        raise ValueError(f"max_intervals: expected at least the first grid's N = {current.N}, got {max_intervals}")
    ocp.check()
    settings = {"transcription": transcription.describe(), "N0": current.N, "tol": tol,
                "max_intervals": max_intervals, "max_rounds": max_rounds}
    levels: list[AdaptLevel] = []
    start_guess = guess
    sol: Solution | None = None
    est: ErrorEstimate | None = None
    reason = ""
    for index in range(max_rounds):
        began = time.perf_counter()
        sol = solve(ocp, transcription, grid=current, guess=start_guess, solver=solver)
        est = estimate_error(sol, solver=solver) if sol.success else None
        seconds = time.perf_counter() - began
        levels.append(_level(index, sol, est, seconds))
        if progress is not None:
            progress(_line(levels[-1]))
        if not sol.success:
            reason = f"the solve on N={sol.N} FAILED: {sol.status}"
            break
        assert est is not None
        if not est.success:
            reason = f"the bisected solve of the estimate on N={2 * sol.N} FAILED: {est.fine_status}"
            break
        if est.objective_error <= tol:
            reason = f"estimate {est.objective_error:.3g} <= tol {tol:.3g}"
            break
        if index == max_rounds - 1:
            reason = f"max_rounds={max_rounds} reached with estimate {est.objective_error:.3g} > tol {tol:.3g}"
            break
        if current.N >= max_intervals:
            reason = (f"max_intervals={max_intervals} reached with estimate {est.objective_error:.3g} "
                      f"> tol {tol:.3g}")
            break
        current = refined_grid(current, est.indicators, tol, est.order, max_intervals)
        start_guess = prolonged_guess(est.fine_solution, current, "constant")
    error = est.objective_error if est is not None else math.nan
    converged = bool(sol is not None and sol.success and est is not None and est.success and error <= tol)
    return AdaptResult(sol, error, est, levels, converged, reason, tol, settings)


def _level(index: int, sol: Solution, est: ErrorEstimate | None, seconds: float) -> AdaptLevel:
    dtau = np.diff(sol.problem.grid.tau)
    iterations = sol.iterations + (est.fine_iterations if est is not None else 0)
    status, success = sol.status, sol.success
    if est is not None and not est.success:
        status, success = f"bisected solve: {est.fine_status}", False
    return AdaptLevel(round=index, N=sol.N, h_min=float(dtau.min()), h_max=float(dtau.max()),
                      objective=sol.objective, estimate=est.objective_error if est is not None else math.nan,
                      iterations=iterations, seconds=seconds, status=status, success=success)


def _line(level: AdaptLevel) -> str:
    state = "ok" if level.success else "FAILED"
    return (f"round {level.round:<3d} N={level.N:<5d} {state:<7s} objective {level.objective:.10g}  "
            f"estimate {_fmt(level.estimate)}  iter {level.iterations:<4d} {level.seconds:6.2f}s")

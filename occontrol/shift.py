"""The shifted warm start of a receding horizon: a Solution moved forward by whole intervals.

In model predictive control the next problem starts one control interval
later; the previous optimum, moved forward by that interval with its last
values repeated, is a close start for it. Every decision block that lives on
the grid moves by ``steps`` of its per-interval columns; static variables and
a free tf are kept; free initial states take the states at node ``steps``.
Multipliers move the same way where the constraints are per interval (the
continuity, collocation and path rows), terminal and boundary ones are kept,
and the others (free initial states, path rows at t0) start at 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._checks import as_positive_int
from .transcription.discrete import DiscreteProblem
from .transcription.layout import BlockKind

if TYPE_CHECKING:
    from .solution import Solution

__all__ = ["shifted"]

# Constraint blocks laid out interval by interval (equal chunks per interval, in order).
PER_INTERVAL = ("dynamics", "collocation", "path", "path_inner", "state_bounds")
# Constraint blocks imposed once at the end or on both ends: the same after a shift.
KEPT = ("terminal", "boundary")


def _moved(values: np.ndarray, columns: int) -> np.ndarray:
    """``values`` (rows, cols) moved left by ``columns``, the last column repeated into the gap."""
    if columns == 0 or values.shape[1] == 0:
        return values.copy()
    tail = np.repeat(values[:, -1:], columns, axis=1)
    return np.concatenate([values[:, columns:], tail], axis=1)


def _shift_w(problem: DiscreteProblem, w: np.ndarray, steps: int, states_at: np.ndarray | None) -> np.ndarray:
    """A decision-ordered vector (w or lam_x) shifted by ``steps`` intervals.

    ``states_at`` are the packed states at node ``steps`` (for free initial
    states in w), or None for multipliers (which then start at 0 there).
    """
    out = np.array(w, dtype=float)
    for b in problem.layout:
        if b.kind is BlockKind.INITIAL_STATE:
            rows = b.rows if b.rows is not None else np.arange(b.shape[0])
            out[b.positions] = 0.0 if states_at is None else states_at[rows]
        elif b.per_interval > 0:
            block = np.reshape(out[b.positions], b.shape, order="F")
            out[b.positions] = np.ravel(_moved(block, steps * b.per_interval), order="F")
    return out


def _shift_lam_g(problem: DiscreteProblem, lam_g: np.ndarray, steps: int) -> np.ndarray:
    out = np.zeros_like(lam_g, dtype=float)
    for name, sl in problem.constraint_slices.items():
        part = lam_g[sl]
        if name in KEPT:
            out[sl] = part
        elif name in PER_INTERVAL and part.size % problem.N == 0:
            chunks = np.reshape(part, (part.size // problem.N, problem.N), order="F")
            out[sl] = np.ravel(_moved(chunks, steps), order="F")
    return out


@dataclass(frozen=True)
class _Plan:
    """A shift by ``steps`` of one layout as gathers: ``w[source]`` moves every per-interval block
    (exactly what :func:`_shift_w` does), then the free initial states are set; ``lam_g[source_g]``
    where ``keep_g``, else 0 (what :func:`_shift_lam_g` does)."""

    source: np.ndarray
    initial: np.ndarray  # positions of the free initial states in w
    initial_rows: np.ndarray  # their rows of the packed states
    source_g: np.ndarray
    keep_g: np.ndarray


# Plans by (layout, constraint slices, steps); a compiled problem's solves share their layout, so an
# MPC loop makes one plan. Each entry pins its layout (ids stay unique); a few are kept.
_PLANS: dict[tuple[int, int, int], tuple[object, object, _Plan]] = {}
_MAX_PLANS = 16


def _plan(problem: DiscreteProblem, steps: int) -> _Plan:
    key = (id(problem.layout), id(problem.constraint_slices), steps)
    entry = _PLANS.get(key)
    if entry is not None and entry[0] is problem.layout and entry[1] is problem.constraint_slices:
        return entry[2]
    # the shifts of the positions themselves are the gathers (0 where a value is dropped)
    source = _shift_w(problem, np.arange(problem.lbx.size, dtype=float), steps, None).astype(int)
    initial = [b for b in problem.layout if b.kind is BlockKind.INITIAL_STATE]
    positions = np.concatenate([b.positions for b in initial] or [np.zeros(0, dtype=int)]).astype(int)
    rows = np.concatenate([b.rows if b.rows is not None else np.arange(b.shape[0]) for b in initial]
                          or [np.zeros(0, dtype=int)]).astype(int)
    moved_g = _shift_lam_g(problem, np.arange(1, problem.lbg.size + 1, dtype=float), steps).astype(int)
    plan = _Plan(source, positions, rows, np.maximum(moved_g - 1, 0), moved_g > 0)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[key] = (problem.layout, problem.constraint_slices, plan)
    return plan


def shifted(solution: "Solution", steps: int = 1) -> "Solution":
    """``solution`` moved forward by ``steps`` grid intervals, for use as ``guess=``.

    Parameters
    ----------
    solution : Solution
        A solution on a uniform grid.
    steps : int
        Whole intervals to move by, 1 to N - 1.

    Returns
    -------
    Solution
        On the same problem, marked as not solved (``success`` False, status
        ``'Shifted_Guess'``): a start point, never a result.

    Raises
    ------
    ValueError
        The grid is not uniform (a shift by whole intervals would move the
        nodes in time), or ``steps`` is not in 1..N - 1.
    """
    from .solution import Solution  # solution.py calls this module

    problem = solution.problem
    steps = as_positive_int(steps, "steps", minimum=1)
    if steps >= problem.N:
        raise ValueError(f"steps: expected 1 to N - 1 = {problem.N - 1} intervals, got {steps}")
    dtau = problem.grid.dtau
    if not problem.grid.uniform and not np.allclose(dtau, dtau[0], rtol=1e-12, atol=0.0):
        raise ValueError("shifted: the solution's grid is not uniform; shifting by whole intervals would "
                         "move its nodes in time (solve on a uniform grid, e.g. grid=N)")
    plan = _plan(problem, steps)
    w = solution.w[plan.source]
    w[plan.initial] = solution.node_states()[plan.initial_rows, steps]
    w = np.clip(w, problem.lbx, problem.ubx)
    lam_x = lam_g = None
    if solution.lam_x is not None and solution.lam_g is not None:
        lam_x = np.asarray(solution.lam_x, dtype=float)[plan.source]
        lam_x[plan.initial] = 0.0
        lam_g = np.where(plan.keep_g, np.asarray(solution.lam_g, dtype=float)[plan.source_g], 0.0)
    return Solution(problem, w, status="Shifted_Guess", success=False, iterations=0, build_seconds=0.0,
                    solve_seconds=0.0, solver=solution.solver, lam_x=lam_x, lam_g=lam_g)

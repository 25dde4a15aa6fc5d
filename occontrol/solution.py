"""The result of one solve: status, objective and its parts, timings, and the
discrete trajectories as functions of time."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._checks import holds_bool
from .io import json_safe
from .problem import Variable
from .records import solve_outcome
from .transcription.discrete import DiscreteProblem

__all__ = ["Solution"]


def _as_times(t: Any) -> np.ndarray:
    """Times as floats; strings and booleans are refused rather than converted."""
    arr = np.asarray(t)
    numeric = not holds_bool(t) and arr.dtype.kind in "iuf" or (arr.dtype.kind == "O" and all(
        isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in arr.ravel()))
    if not numeric:  # strings, booleans, complex, mixtures
        raise TypeError(f"at t: expected a time or an array of times, got {t!r}")
    try:
        return arr.astype(float)
    except OverflowError as exc:  # a Python int beyond float range
        raise ValueError("at t: a time is too large for a float") from exc


class Solution:
    """A solved (or failed) discrete problem.

    Attributes
    ----------
    success : bool
        Whether the NLP solver reported success. A failed solve keeps its
        values (the last iterate) but must never be presented as a result.
    status : str
        The solver's return status, e.g. IPOPT's ``'Solve_Succeeded'``.
    objective : float
        The NLP objective at the returned point.
    objective_parts : dict
        ``{'running', 'terminal', 'regularization'}``, summing to ``objective``.
    regularization_parts : dict
        ``{'l2', 'h1'}``: the two terms of the control regularisation.
    iterations : int
    build_seconds, solve_seconds : float
        Wall time to build the NLP and solver, and to solve.
    t : ndarray, shape (N + 1,)
        The node times.
    tf : float
        The final time (the optimised one when free).
    nodes : NodeValues
        The packed discrete trajectories (states, controls, static variables).
    """

    def __init__(self, problem: DiscreteProblem, w: np.ndarray, *, status: str, success: bool,
                 iterations: int, build_seconds: float, solve_seconds: float, solver: str,
                 lam_x: np.ndarray | None = None, lam_g: np.ndarray | None = None) -> None:
        self.problem = problem
        self.w = np.asarray(w, dtype=float).ravel()
        self.lam_x, self.lam_g = lam_x, lam_g
        self.status, self.success = status, bool(success)
        self.iterations = int(iterations)
        self.build_seconds, self.solve_seconds = float(build_seconds), float(solve_seconds)
        self.solver = solver
        self.reused = False  # True when read back from disk rather than solved in this run
        out = problem.readout(self.w, problem.parameters)
        running, terminal, reg, reg_l2, reg_h1 = (np.asarray(o, dtype=float) for o in out[4:])
        self.nodes = problem.node_values(self.w)
        self.tf = self.nodes.tf
        self.t = self.nodes.t
        self.objective_parts = {"running": running.item(), "terminal": terminal.item(),
                                "regularization": reg.item()}
        self.regularization_parts = {"l2": reg_l2.item(), "h1": reg_h1.item()}
        self.objective = float(sum(self.objective_parts.values()))

    # ---------------------------------------------------------------- values
    @property
    def N(self) -> int:
        return self.problem.N

    def _rows(self, var: Variable):
        blocks = {"state": self.problem.model.state_blocks, "control": self.problem.model.control_blocks,
                  "parameter": self.problem.model.parameter_blocks}[var.kind]
        block = next(b for b in blocks if b.var is var)
        return slice(block.offset, block.stop)

    @staticmethod
    def _shape_series(var: Variable, packed: np.ndarray) -> np.ndarray:
        """(size, m) packed columns -> (m, *value_shape)."""
        m = packed.shape[1]
        return packed.T.reshape((m,) + var.shape[::-1]).transpose((0, 2, 1)).reshape((m,) + var.value_shape)

    def value(self, symbol: Any) -> np.ndarray | float:
        """Discrete values of a symbol.

        States: shape (N + 1, *shape) over the nodes. Controls: (N, *shape) over
        the intervals when piecewise constant, (N + 1, *shape) over the nodes
        when piecewise linear. Parameters: a float, or an array of their shape.
        Vector symbols give (.., k), matrix states (.., rows, cols).
        """
        var = self.problem.ocp.variable(symbol, "value symbol")
        rows = self._rows(var)
        if var.kind == "parameter":
            val = self._shape_series(var, self.nodes.statics[rows, None])[0]
            return float(val) if val.ndim == 0 else val
        packed = self.nodes.states if var.kind == "state" else self.nodes.controls
        return self._shape_series(var, packed[rows, :])

    def at(self, symbol: Any, t: Any) -> np.ndarray | float:
        """Values at arbitrary times in [t0, tf], consistent with the transcription.

        States follow the scheme itself between nodes (a partial Runge-Kutta
        step, or the collocation polynomial); controls are piecewise constant
        (right-continuous) or piecewise linear. Returns shape (len(t), *shape),
        or one value for a scalar ``t``.
        """
        var = self.problem.ocp.variable(symbol, "at symbol")
        scalar = np.ndim(t) == 0
        times = np.atleast_1d(_as_times(t))
        if np.isnan(times).any():
            raise ValueError("at t: contains NaN")
        span = self.t[-1] - self.t[0]
        if times.size and (times.min() < self.t[0] - 1e-12 * span or times.max() > self.t[-1] + 1e-12 * span):
            raise ValueError(f"at t: expected times in [{self.t[0]}, {self.t[-1]}]")
        times = np.clip(times, self.t[0], self.t[-1])
        if times.size == 0:  # CasADi cannot map a function over zero points
            return np.zeros((0,) + var.value_shape)
        k = np.clip(np.searchsorted(self.t, times, side="right") - 1, 0, self.N - 1)
        s = times - self.t[k]
        if var.kind == "parameter":
            out = np.broadcast_to(self.value(symbol), (times.size,) + var.value_shape)
        elif var.kind == "control":
            U = self.nodes.controls[self._rows(var), :]
            if self.problem.transcription.controls == "constant":
                packed = U[:, k]
            else:
                frac = s / (self.t[k + 1] - self.t[k])
                packed = U[:, k] + frac * (U[:, k + 1] - U[:, k])
            out = self._shape_series(var, packed)
        else:
            z = self.problem.dense_output.states(self.nodes, k, s)
            out = self._shape_series(var, z[self._rows(var), :])
        return out[0] if scalar else np.array(out)

    def simulate(self, integrator: str = "cvodes", **options: Any) -> Any:
        """Re-integrate the continuous dynamics under this solution's controls from its x(t0).

        Returns an :class:`occontrol.simulation.Trajectory` on the nodes whose ``gap``
        (max |x_sim(t_k) - x_k| over nodes and states) and ``gap_by_state`` say how far
        the discrete optimum is from a continuous one. ``options`` go to ``oc.simulate``.
        """
        from .simulation import simulate  # simulation.py reads Solutions
        traj = simulate(self.problem.ocp, self, self.t, integrator=integrator, **options)
        ocp = self.problem.ocp
        by_state = {v.name: float(np.max(np.abs(np.asarray(traj.value(v.symbol)) - self.value(v.symbol)),
                                         initial=0.0)) for v in ocp.states}
        traj.gap_by_state = by_state
        traj.gap = max(by_state.values(), default=0.0)
        return traj

    @property
    def outcome(self) -> str:
        """'converged' or 'failed': the solve's word of :data:`occontrol.records.OUTCOMES` (``status`` is IPOPT's)."""
        return solve_outcome(self.success, self.status)

    # ------------------------------------------------------------------- io
    def to_dict(self) -> dict:
        """JSON-safe summary: status (and outcome), objective, timings, grid and all values."""
        ocp = self.problem.ocp
        values = {v.name: self.value(v.symbol) for v in ocp.variables}
        return json_safe({
            "success": self.success, "status": self.status, "outcome": self.outcome, "solver": self.solver,
            "objective": self.objective, "objective_parts": self.objective_parts,
            "regularization_parts": self.regularization_parts,
            "iterations": self.iterations, "build_seconds": self.build_seconds,
            "solve_seconds": self.solve_seconds, "N": self.N, "tf": self.tf, "t": self.t,
            "transcription": self.problem.transcription.describe(),
            "values": values,
        })

    def __repr__(self) -> str:
        flag = "ok" if self.success else "FAILED"
        return (f"Solution({flag}, status={self.status!r}, objective={self.objective:.10g}, "
                f"N={self.N}, iterations={self.iterations})")

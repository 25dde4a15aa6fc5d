"""The result of one solve: status, objective and its parts, timings, and the
discrete trajectories as functions of time."""

from __future__ import annotations

import json
import numbers
import os
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping

import casadi as cs
import numpy as np

from ._checks import holds_bool
from .io import DamagedFile, check_npz, json_safe, write_npz
from .problem import OCP, Variable
from .records import document, solve_outcome
from .transcription.discrete import DiscreteProblem
from .transcription.layout import NodeValues

__all__ = ["Solution", "IterationHistory"]

# IPOPT's per-iteration statistics (CasADi's stats()['iterations']) kept in a history
HISTORY_FIELDS = ("obj", "inf_pr", "inf_du", "alpha_pr", "alpha_du")


@dataclass(frozen=True)
class IterationHistory:
    """IPOPT's record of one solve, one entry per iteration (iteration 0 is the start point).

    Attributes
    ----------
    obj : ndarray
        The objective.
    inf_pr, inf_du : ndarray
        Primal and dual infeasibility.
    alpha_pr, alpha_du : ndarray
        Step sizes of the primal and dual variables (0 at iteration 0).
    """

    obj: np.ndarray
    inf_pr: np.ndarray
    inf_du: np.ndarray
    alpha_pr: np.ndarray
    alpha_du: np.ndarray

    @classmethod
    def from_stats(cls, iterations: Mapping[str, Any] | None) -> "IterationHistory":
        """From CasADi's ``stats()['iterations']`` (empty when the solver kept none)."""
        iterations = iterations or {}
        return cls(**{f: np.asarray(iterations.get(f, ()), dtype=float).ravel() for f in HISTORY_FIELDS})

    def __len__(self) -> int:
        return int(self.obj.size)

    def to_dict(self) -> dict:
        """JSON-safe lists (non-finite numbers as None)."""
        return json_safe({f: getattr(self, f) for f in HISTORY_FIELDS})


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
    history : IterationHistory
        IPOPT's per-iteration objective, infeasibilities and step sizes
        (empty for other solvers).
    build_seconds, solve_seconds : float
        Wall time to build the NLP and solver, and to solve.
    t : ndarray, shape (N + 1,)
        The node times.
    tf : float
        The final time (the optimised one when free).
    nodes : NodeValues
        The packed discrete trajectories (states, controls, static variables).
    problem : DiscreteProblem
        The NLP that was solved (OCP, grid, transcription).
    w : ndarray
        The decision vector returned by the solver.
    solver : str
        The solver's name, e.g. ``'ipopt'``.
    lam_x, lam_g : ndarray or None
        The multipliers of the variable bounds and of the constraints.

    ``oc.solve`` makes Solutions and ``Solution.load`` reads one back; there is no need to call the
    constructor yourself.
    """

    def __init__(self, problem: DiscreteProblem, w: np.ndarray, *, status: str, success: bool,
                 iterations: int, build_seconds: float, solve_seconds: float, solver: str,
                 lam_x: np.ndarray | None = None, lam_g: np.ndarray | None = None,
                 history: IterationHistory | Mapping[str, Any] | None = None) -> None:
        self.problem = problem
        self.w = np.asarray(w, dtype=float).ravel()
        # a solver's multipliers may come as casadi.DM: converted when first read (a re-solve
        # that never reads them does not pay for the conversion)
        self._lam: dict[str, Any] = {"lam_x": lam_x, "lam_g": lam_g}
        self.status, self.success = status, bool(success)
        self.iterations = int(iterations)
        self.build_seconds, self.solve_seconds = float(build_seconds), float(solve_seconds)
        self.solver = solver
        self.reused = False  # True when read back from disk rather than solved in this run
        self.loaded = False  # True when made by Solution.load
        self.provenance: dict | None = None  # a loaded solution's record of what produced it
        # CasADi's stats()['iterations'] is kept as it is and converted when first read
        self._history: IterationHistory | Mapping[str, Any] | None = history

    def _multipliers(self, name: str) -> np.ndarray | None:
        value = self._lam[name]
        if value is not None and not isinstance(value, np.ndarray):
            value = self._lam[name] = flat_vector(value)
        return value

    @property
    def lam_x(self) -> np.ndarray | None:
        """Multipliers of the bounds on w (None for a solution without them)."""
        return self._multipliers("lam_x")

    @lam_x.setter
    def lam_x(self, value: np.ndarray | None) -> None:
        self._lam["lam_x"] = value

    @property
    def lam_g(self) -> np.ndarray | None:
        """Multipliers of the constraints (None for a solution without them)."""
        return self._multipliers("lam_g")

    @lam_g.setter
    def lam_g(self, value: np.ndarray | None) -> None:
        self._lam["lam_g"] = value

    @property
    def history(self) -> IterationHistory:
        if not isinstance(self._history, IterationHistory):
            self._history = IterationHistory.from_stats(self._history)
        return self._history

    @history.setter
    def history(self, value: IterationHistory) -> None:
        self._history = value

    # The readout of w (trajectories and objective parts) is one evaluation made on first use: a
    # closed-loop re-solve that only reads its first control, or a shifted guess whose w is copied,
    # does not pay for what it never reads.
    @cached_property
    def _readout(self) -> tuple[NodeValues, dict[str, float]]:
        return self.problem.evaluate(self.w)

    @property
    def nodes(self) -> NodeValues:
        return self._readout[0]

    @property
    def tf(self) -> float:
        return self.nodes.tf

    @property
    def t(self) -> np.ndarray:
        return self.nodes.t

    @cached_property
    def objective_parts(self) -> dict[str, float]:
        return {k: self._readout[1][k] for k in ("running", "terminal", "regularization")}

    @cached_property
    def regularization_parts(self) -> dict[str, float]:
        return {"l2": self._readout[1]["reg_l2"], "h1": self._readout[1]["reg_h1"]}

    @property
    def objective(self) -> float:
        return float(sum(self.objective_parts.values()))

    # ---------------------------------------------------------------- values
    @property
    def N(self) -> int:
        return self.problem.N

    def _rows(self, var: Variable):
        blocks = self.problem.model.blocks(var.kind)
        block = next(b for b in blocks if b.var is var)
        return slice(block.offset, block.stop)

    @staticmethod
    def _shape_series(var: Variable, packed: np.ndarray) -> np.ndarray:
        """(size, m) packed columns -> (m, *value_shape)."""
        m = packed.shape[1]
        return packed.T.reshape((m,) + var.shape[::-1]).transpose((0, 2, 1)).reshape((m,) + var.value_shape)

    def value(self, symbol: Any) -> np.ndarray | float:
        """Discrete values of a symbol or of an expression of the OCP's symbols.

        States: shape (N + 1, *shape) over the nodes. Controls: (N, *shape) over
        the intervals when piecewise constant, (N + 1, *shape) over the nodes
        when piecewise linear. Static variables and parameters (the values this
        solve used): a float, or an array of their shape.
        Vector symbols give (.., k), matrix states (.., rows, cols).

        An expression (``x[0] + 2 * u``, ``ocp.t * x``, ``ocp.tf``, ...) is
        sampled where its parts live: over the nodes if it involves a state or
        the time ``t`` (piecewise-constant controls then take their interval's
        value at the interval's first node, and the last interval's value at
        the last node), over the intervals if it involves only
        piecewise-constant controls (and static symbols), over the nodes for
        piecewise-linear controls, and once if it involves only static
        symbols and ``tf``.
        """
        ocp = self.problem.ocp
        if isinstance(symbol, cs.MX) and hash(symbol) not in ocp._by_hash:
            return self._expression_value(symbol)
        var = ocp.declared(symbol, "value symbol", ("state", "control", "variable", "parameter"))
        rows = self._rows(var)
        if var.kind in ("variable", "parameter"):  # both sit in the packed p (statics)
            val = self._shape_series(var, self.nodes.statics[rows, None])[0]
            return float(val) if val.ndim == 0 else val
        if "_readout" not in self.__dict__:  # read from w by the layout, without the full readout
            packed = direct_states(self.problem, self.w) if var.kind == "state" else \
                direct_controls(self.problem, self.w)
            if packed is not None:
                return self._shape_series(var, packed[rows, :])
        packed = self.nodes.states if var.kind == "state" else self.nodes.controls
        return self._shape_series(var, packed[rows, :])

    def node_states(self) -> np.ndarray:
        """The packed states at the nodes, shape (nz, N + 1): read from w by the layout where the
        transcription keeps them there (multiple shooting, collocation), else from the readout."""
        if "_readout" not in self.__dict__:
            packed = direct_states(self.problem, self.w)
            if packed is not None:
                return packed
        return self.nodes.states

    def _expression_parts(self, expr: cs.MX) -> list[tuple[cs.MX, Variable | str]]:
        """The symbols of ``expr``, each with its Variable (or 't' / 'tf'); ValueError for foreign ones."""
        ocp = self.problem.ocp
        parts: list[tuple[cs.MX, Variable | str]] = []
        for sym in cs.symvar(expr):
            h = hash(sym)
            if h == hash(ocp.t):
                parts.append((sym, "t"))
            elif h == hash(ocp.tf_symbol):
                parts.append((sym, "tf"))
            elif h in ocp._by_hash:
                parts.append((sym, ocp._by_hash[h]))
            else:
                raise ValueError(f"value symbol: expected a symbol declared by this OCP or an expression of "
                                 f"its states, controls, static variables, parameters, t and tf; "
                                 f"{sym.name()!r} is none of them")
        return parts

    def _samples(self, part: Variable | str, columns: np.ndarray, nodal: bool) -> np.ndarray:
        """One symbol's values at the sample ``columns``, side by side as CasADi's map takes them."""
        m = columns.size
        if part == "t":
            return (self.t if nodal else self.t[:-1])[columns][None, :]
        if part == "tf":
            return np.full((1, m), self.tf)
        assert isinstance(part, Variable)
        rows = self._rows(part)
        if part.kind in ("variable", "parameter"):
            packed = np.repeat(self.nodes.statics[rows, None], m, axis=1)
        elif part.kind == "state":
            packed = self.nodes.states[rows, :][:, columns]
        else:
            U = self.nodes.controls[rows, :]
            packed = U[:, np.minimum(columns, U.shape[1] - 1)]
        r, c = part.shape
        return np.concatenate([packed[:, k].reshape((r, c), order="F") for k in range(m)], axis=1)

    def _expression_value(self, expr: cs.MX) -> np.ndarray | float:
        parts = self._expression_parts(expr)
        kinds = {p if isinstance(p, str) else p.kind for _, p in parts}
        constant = self.problem.transcription.controls == "constant"
        if kinds & {"state", "t"} or ("control" in kinds and not constant):
            columns, nodal = np.arange(self.N + 1), True
        elif "control" in kinds:
            columns, nodal = np.arange(self.N), False
        else:
            columns, nodal = np.arange(1), True
        fn = cs.Function("value", [s for s, _ in parts], [expr]).map(columns.size)
        out = np.asarray(fn(*[self._samples(p, columns, nodal) for _, p in parts]), dtype=float)
        er, ec = expr.shape
        series = np.stack([out[:, k * ec:(k + 1) * ec] for k in range(columns.size)])
        shape = () if er * ec == 1 else (er,) if ec == 1 else (er, ec)
        series = series.reshape((columns.size,) + shape)
        if not kinds & {"state", "control", "t"}:
            return float(series[0]) if series[0].ndim == 0 else series[0]
        return series

    def at(self, symbol: Any, t: Any) -> np.ndarray | float:
        """Values at arbitrary times in [t0, tf], consistent with the transcription.

        States follow the scheme itself between nodes (a partial Runge-Kutta
        step, or the collocation polynomial); controls are piecewise constant
        (right-continuous) or piecewise linear. Returns shape (len(t), *shape),
        or one value for a scalar ``t``.
        """
        var = self.problem.ocp.declared(symbol, "at symbol", ("state", "control", "variable", "parameter"))
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
        if var.kind in ("variable", "parameter"):
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

    def shifted(self, steps: int = 1) -> "Solution":
        """This solution moved forward by ``steps`` grid intervals (last values repeated), the warm
        start of a receding horizon: ``compiled.solve(parameters=..., guess=sol.shifted())``.

        Static variables and a free tf are kept; multipliers move the same way
        where the constraints are per interval. Only on a uniform grid. The
        result is a start point, marked as not solved (see :mod:`occontrol.shift`).
        """
        from .shift import shifted  # shift.py builds Solutions
        return shifted(self, steps)

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

    def plot(self) -> Any:
        """A ``matplotlib.figure.Figure`` of the states and controls against time (steps for
        piecewise-constant controls, lines for piecewise-linear ones), made without pyplot:
        no global plotting state changes. Save it with ``fig.savefig`` or
        :func:`occontrol.plot.save_figure`."""
        from .plot import solution_figure  # matplotlib only when asked for
        return solution_figure(self)

    @property
    def outcome(self) -> str:
        """'converged' or 'failed': the solve's word of :data:`occontrol.records.OUTCOMES` (``status`` is IPOPT's)."""
        return solve_outcome(self.success, self.status)

    # ------------------------------------------------------------------- io
    def to_dict(self) -> dict:
        """JSON-safe summary: status (and outcome), objective, timings, grid, all values and IPOPT's history."""
        ocp = self.problem.ocp
        values = {v.name: self.value(v.symbol) for v in ocp.declarations}
        return json_safe({
            "success": self.success, "status": self.status, "outcome": self.outcome, "solver": self.solver,
            "objective": self.objective, "objective_parts": self.objective_parts,
            "regularization_parts": self.regularization_parts,
            "iterations": self.iterations, "build_seconds": self.build_seconds,
            "solve_seconds": self.solve_seconds, "N": self.N, "tf": self.tf, "t": self.t,
            "transcription": self.problem.transcription.describe(),
            "values": values, "history": self.history.to_dict(),
        })

    def save(self, path: str | os.PathLike) -> None:
        """Write this solution to ``path`` (.npz, atomically): the decision vector and
        multipliers, the values by variable name, the grid, and a JSON document with
        the transcription, status, timings, IPOPT's history and a provenance record.
        Read it back with :meth:`Solution.load`."""
        ocp = self.problem.ocp
        arrays: dict[str, Any] = {"w": self.w, "grid_tau": self.problem.grid.tau, "t": self.t}
        if self.lam_x is not None and self.lam_g is not None:
            arrays["lam_x"], arrays["lam_g"] = np.asarray(self.lam_x), np.asarray(self.lam_g)
        for v in ocp.declarations:
            arrays[f"value.{v.name}"] = np.asarray(self.value(v.symbol), dtype=float)
        body = {
            "success": self.success, "status": self.status, "outcome": self.outcome, "solver": self.solver,
            "objective": self.objective, "iterations": self.iterations, "build_seconds": self.build_seconds,
            "solve_seconds": self.solve_seconds, "N": self.N, "tf": self.tf,
            "uniform_grid": bool(self.problem.grid.uniform),
            "transcription": self.problem.transcription.describe(),
            "variables": {v.name: {"kind": v.kind, "shape": list(v.shape)} for v in ocp.declarations},
            "history": self.history.to_dict(),
        }
        arrays["document"] = np.array(json.dumps(document("solution", json_safe(body))))
        write_npz(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike, ocp: OCP) -> "Solution":
        """Read a solution written by :meth:`save` back against ``ocp``.

        The NLP is rebuilt with the stored transcription and grid, and the
        stored decision vector is set, so ``w``, ``objective``, ``value`` and
        ``at`` are those that were saved, to the bit. The result has
        ``loaded`` and ``reused`` set and keeps the stored status, success,
        iterations, timings and history; it serves as ``guess=``.

        Raises
        ------
        TypeError
            ``ocp`` is not an OCP.
        ValueError
            The file is damaged or not a saved solution (``DamagedFile``, naming
            the path), or ``ocp`` does not match it (the mismatch is named).
        """
        if not isinstance(ocp, OCP):
            raise TypeError(f"ocp: expected the oc.OCP the solution was solved for, got {type(ocp).__name__}")
        check_npz(path, ("w", "grid_tau", "document"))
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        try:
            doc = json.loads(str(arrays["document"]))
            described, stored_vars = doc["transcription"], doc["variables"]
        except (ValueError, KeyError, TypeError) as exc:
            raise DamagedFile(path, f"not a saved solution: {exc}") from exc
        _check_variables(ocp, stored_vars, path)
        from .grid import Grid
        from .solver import discretize  # solver.py imports this module
        # a uniform grid computes its times and steps its own way: rebuild it as one
        tau = arrays["grid_tau"]
        grid = Grid.uniform_grid(tau.size - 1) if doc.get("uniform_grid") else Grid(tau)
        if not np.array_equal(grid.tau, tau):
            raise DamagedFile(path, "the saved grid is not one occontrol writes")
        # the parameter values the solution was solved with are saved among its values
        parameters = {v.name: arrays[f"value.{v.name}"] for v in ocp.parameters if f"value.{v.name}" in arrays}
        problem = discretize(ocp, _transcription_of(described, path), grid=grid, parameters=parameters)
        w = arrays["w"]
        if w.shape != problem.lbx.shape:
            raise ValueError(f"ocp: the saved decision vector has {w.size} entries, the NLP of this OCP "
                             f"{problem.lbx.size}")
        history = doc.get("history") or {}
        sol = cls(problem, w, status=str(doc["status"]), success=bool(doc["success"]),
                  iterations=int(doc["iterations"]), build_seconds=float(doc["build_seconds"]),
                  solve_seconds=float(doc["solve_seconds"]), solver=str(doc["solver"]),
                  lam_x=arrays.get("lam_x"), lam_g=arrays.get("lam_g"),
                  history=IterationHistory(**{f: np.array([np.nan if v is None else v for v in
                                                           history.get(f, ())], dtype=float)
                                              for f in HISTORY_FIELDS}))
        sol.loaded = sol.reused = True
        sol.provenance = doc.get("provenance")
        for v in ocp.declarations:  # fixed initial states and the dynamics are not in w: compare the values
            stored = arrays.get(f"value.{v.name}")
            if stored is not None and not np.allclose(sol.value(v.symbol), stored, rtol=1e-9, atol=1e-12):
                raise ValueError(f"ocp: the values of {v.name!r} that this OCP gives for the saved decision "
                                 f"vector differ from the saved ones (other initial values or dynamics?); {path}")
        return sol

    def __repr__(self) -> str:
        flag = "ok" if self.success else "FAILED"
        return (f"Solution({flag}, status={self.status!r}, objective={self.objective:.10g}, "
                f"N={self.N}, iterations={self.iterations})")


def flat_vector(value: Any) -> np.ndarray:
    """A vector (numpy, or a solver's casadi.DM) as a flat float array; a dense DM from its nonzeros,
    the cheaper conversion."""
    if isinstance(value, cs.DM) and value.is_dense():
        return np.fromiter(value.nonzeros(), dtype=float, count=value.numel())
    return np.asarray(value, dtype=float).ravel()


def _states_in_w(problem: DiscreteProblem) -> bool:
    """Whether the node states are (z0, the LATER_NODES state block): the built-in multiple-shooting
    and collocation transcriptions, not single shooting nor a transcription's own ``_dynamics``."""
    from .transcription.collocation import Collocation
    from .transcription.runge_kutta import ExplicitRungeKutta
    dynamics = getattr(type(problem.transcription), "_dynamics", None)
    return (dynamics in (Collocation._dynamics, ExplicitRungeKutta._dynamics)
            and problem.index.states.size == problem.model.nz * problem.N)


def direct_states(problem: DiscreteProblem, w: np.ndarray) -> np.ndarray | None:
    """The packed node states (nz, N + 1) of ``w`` by index (the fixed initial states from the
    problem's parameter vector), or None where the transcription does not keep them in w.
    The same numbers the readout gives: copies, no arithmetic."""
    if not _states_in_w(problem):
        return None
    nz, N = problem.model.nz, problem.N
    out = np.empty((nz, N + 1))
    out[:, 1:] = np.reshape(w[problem.index.states], (nz, N), order="F")
    fixed = problem.fixed_initial
    out[fixed, 0] = problem.parameters[:int(fixed.sum())]
    out[~fixed, 0] = w[problem.index.initial_states]
    return out


def direct_controls(problem: DiscreteProblem, w: np.ndarray) -> np.ndarray | None:
    """The packed controls (nu, N or N + 1) of ``w`` by index (the control block every transcription
    declares), or None if the layout holds other control blocks too."""
    nu = problem.model.nu
    cols = problem.N if problem.transcription.controls == "constant" else problem.N + 1
    if problem.index.controls.size != nu * cols:
        return None
    return np.reshape(w[problem.index.controls], (nu, cols), order="F")


def _check_variables(ocp: OCP, stored: Mapping[str, Any], path: Any) -> None:
    """ValueError naming the first difference between ``ocp``'s variables and the saved ones."""
    mine = {v.name: {"kind": v.kind, "shape": list(v.shape)} for v in ocp.declarations}
    for name in sorted(set(mine) | set(stored)):
        if name not in mine:
            raise ValueError(f"ocp: the saved solution {path} has the {stored[name]['kind']} {name!r}, "
                             "which this OCP does not declare")
        if name not in stored:
            raise ValueError(f"ocp: this OCP declares the {mine[name]['kind']} {name!r}, which the saved "
                             f"solution {path} does not have")
        if mine[name] != dict(stored[name]):
            raise ValueError(f"ocp: {name!r} is a {mine[name]['kind']} of shape {tuple(mine[name]['shape'])} "
                             f"here but a {stored[name]['kind']} of shape {tuple(stored[name]['shape'])} in "
                             f"the saved solution {path}")


def _transcription_of(described: Mapping[str, Any], path: Any) -> Any:
    """The transcription whose ``describe()`` is ``described``."""
    from .transcription.registry import make_transcription
    settings = {k: v for k, v in described.items() if k != "family"}
    family = described.get("family")
    if family == "runge-kutta":
        return make_transcription(settings.pop("scheme"), **settings)
    if family == "collocation":
        return make_transcription("collocation", **settings)
    raise DamagedFile(path, f"unknown transcription family {family!r}")

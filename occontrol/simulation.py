"""Simulation: the continuous dynamics integrated under given controls with
CasADi's integrators (``cvodes``, ``idas``, ``rk``).

The horizon [t0, t_grid[-1]] is cut at every output time and every control
switch; on each segment [ta, tb] the control is linear in time,
u = ua + s (ub - ua) with s in [0, 1], and one integrator in the scaled time
s (dz/ds = (tb - ta) f(z, u(s), p, ta + s (tb - ta), tf)) is restarted there.
So piecewise-constant and piecewise-linear controls (arrays, Solutions) are
integrated exactly up to the integrator's tolerance, and time-dependent
dynamics need no extra state. A callable u(t) is sampled at the midpoint of
``substeps`` equal sub-steps of each output interval and held constant there
(the midpoint rule: second order in the sub-step for a smooth u, exact for a
piecewise-constant u that switches on the sub-grid).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import casadi as cs
import numpy as np

from ._checks import as_choice, as_finite_array, as_finite_float, as_positive_int
from .parameters import parameter_values
from .problem import OCP, Variable
from .solution import Solution
from .transcription.model import ModelFunctions

__all__ = ["INTEGRATORS", "Trajectory", "simulate"]

INTEGRATORS = ("cvodes", "idas", "rk")


def _is_solution(obj: Any) -> bool:  # the duck type guess.py reads
    return hasattr(obj, "at") and hasattr(obj, "problem")


# ------------------------------------------------------------ control sources
class _Pieces:
    """A control given per piece of ``times``: constant (n values) or linear (n + 1 node values)."""

    def __init__(self, times: np.ndarray, values: np.ndarray, linear: bool) -> None:
        self.times, self.values, self.linear = times, values, linear  # values: (rows, size)
        self.breaks = times

    def _piece(self, t: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, self.times.size - 2)

    def _in_piece(self, k: np.ndarray, t: np.ndarray) -> np.ndarray:
        if not self.linear:
            return self.values[k]
        frac = (t - self.times[k]) / (self.times[k + 1] - self.times[k])
        return self.values[k] + frac[:, None] * (self.values[k + 1] - self.values[k])

    def law(self, ta: float, tb: float) -> tuple[np.ndarray, np.ndarray]:
        k = self._piece(np.array([0.5 * (ta + tb)]))
        ends = self._in_piece(np.repeat(k, 2), np.array([ta, tb]))
        return ends[0], ends[1]

    def __call__(self, t: np.ndarray) -> np.ndarray:
        return self._in_piece(self._piece(t), t)


class _Sampled:
    """A callable u(t), held at its midpoint value on each sub-step."""

    def __init__(self, fn: Callable, var: Variable, breaks: np.ndarray, name: str) -> None:
        self.fn, self.var, self.breaks, self.name = fn, var, breaks, name

    def __call__(self, t: np.ndarray) -> np.ndarray:
        rows = [as_finite_array(self.fn(float(ti)), self.name, self.var.shape) for ti in t]
        return np.array([r.ravel(order="F") for r in rows]).reshape(len(t), self.var.size)

    def law(self, ta: float, tb: float) -> tuple[np.ndarray, np.ndarray]:
        mid = self(np.array([0.5 * (ta + tb)]))[0]
        return mid, mid


# -------------------------------------------------------------- the result
@dataclass(frozen=True)
class Origin:
    """What a Trajectory came from: its OCP (read as ``.problem.ocp`` where a Solution is accepted)."""

    ocp: OCP


class Trajectory:
    """A simulated trajectory.

    Attributes
    ----------
    t : ndarray, shape (m,)
        The output times.
    tf : float
        The final time of the horizon simulated (the OCP's, or the free one used).
    gap : float or None
        From ``Solution.simulate``: max |x_sim(t_k) - x_k| over the nodes and states.
    gap_by_state : dict or None
        The same per state name.

    A Trajectory is accepted as ``guess=`` by ``oc.solve``, whole or per symbol:
    it has ``at`` and ``problem`` (whose ``ocp`` is the simulated OCP), like a Solution.
    """

    def __init__(self, model: ModelFunctions, t: np.ndarray, states: np.ndarray, controls: dict[str, Any],
                 variables: dict[str, np.ndarray], tf: float) -> None:
        ocp = model.ocp
        self.problem = Origin(ocp)
        self.t, self.tf = t, tf
        self._states = states  # packed (nz, m)
        self._controls = controls  # name -> source of packed values at times
        self._variables = variables
        self._blocks = {b.var.name: slice(b.offset, b.stop) for b in model.state_blocks}
        self.gap: float | None = None
        self.gap_by_state: dict[str, float] | None = None

    def _times(self, t: Any) -> np.ndarray:
        times = np.atleast_1d(as_finite_array(t, "at t")).astype(float)
        if times.ndim != 1:
            raise ValueError(f"at t: expected a time or a 1-D array of times, got shape {times.shape}")
        span = self.t[-1] - self.t[0]
        if times.size and (times.min() < self.t[0] - 1e-12 * span or times.max() > self.t[-1] + 1e-12 * span):
            raise ValueError(f"at t: expected times in the simulated range [{self.t[0]}, {self.t[-1]}]")
        return np.clip(times, self.t[0], self.t[-1])

    def _series(self, var: Variable, times: np.ndarray, exact_nodes: bool) -> np.ndarray:
        if var.kind == "variable":
            return np.broadcast_to(self._variables[var.name], (times.size,) + var.value_shape)
        if var.kind == "control":
            return Solution._shape_series(var, self._controls[var.name](times).T)
        rows = self._states[self._blocks[var.name], :]
        packed = rows if exact_nodes else np.array([np.interp(times, self.t, r) for r in rows])
        return Solution._shape_series(var, packed.reshape(var.size, times.size))

    def value(self, symbol: Any) -> np.ndarray | float:
        """Values at the output times: states and controls (m, *shape); a static variable its value."""
        var = self.problem.ocp.declared(symbol, "value symbol")
        if var.kind == "variable":
            val = np.asarray(self._variables[var.name])
            return float(val) if val.ndim == 0 else val
        return np.array(self._series(var, self.t, exact_nodes=True))

    def at(self, symbol: Any, t: Any) -> np.ndarray | float:
        """Values at times in the simulated range: states linearly interpolated between the output
        times, controls exactly as simulated (right-continuous), static variables constant.
        Shape (len(t), *shape), or one value for a scalar ``t``."""
        var = self.problem.ocp.declared(symbol, "at symbol")
        scalar = np.ndim(t) == 0
        out = np.array(self._series(var, self._times(t), exact_nodes=False))
        return out[0] if scalar else out

    def __repr__(self) -> str:
        gap = "" if self.gap is None else f", gap={self.gap:.3g}"
        return f"Trajectory(m={self.t.size}, t=[{self.t[0]:g}, {self.t[-1]:g}]{gap})"


# ------------------------------------------------------------ arguments
def _symbol_dict(value: Any, ocp: OCP, kind: str, argument: str) -> dict[str, Any]:
    """{name: value} from {symbol: value}, or from a bare value when the OCP has one symbol of ``kind``."""
    declared = [v for v in ocp.declarations if v.kind == kind]
    if isinstance(value, dict):
        return {ocp.declared(key, f"{argument} key", (kind,)).name: spec for key, spec in value.items()}
    if len(declared) != 1:
        raise TypeError(f"{argument}: expected a dict {{{kind} symbol: value}} (the OCP has "
                        f"{len(declared)} {kind}s), got {type(value).__name__}")
    return {declared[0].name: value}


def _same_ocp(solution: Any, ocp: OCP, argument: str) -> None:
    if solution.problem.ocp is not ocp:
        raise ValueError(f"{argument}: expected a Solution of this OCP, got one of another OCP")


def _final_time(ocp: OCP, tf: Any, solution: Any) -> float:
    if ocp.free_time is None:
        if tf is not None and as_finite_float(tf, "tf") != ocp.fixed_tf:
            raise ValueError(f"tf: the horizon is fixed (tf = {ocp.fixed_tf}), got tf={tf}")
        return ocp.fixed_tf
    if tf is not None:
        value = as_finite_float(tf, "tf")
    elif solution is not None:
        value = float(solution.tf)
    else:
        raise ValueError("tf: the final time is free (oc.FreeTime): give tf=, or a Solution as controls")
    if value <= ocp.t0:
        raise ValueError(f"tf: expected a final time > t0={ocp.t0}, got {value}")
    return value


def _time_grid(t_grid: Any, t0: float, tf: float) -> np.ndarray:
    times = as_finite_array(t_grid, "t_grid")
    if times.ndim != 1 or times.size < 2:
        raise ValueError(f"t_grid: expected a 1-D array of at least 2 times, got shape {times.shape}")
    if np.any(np.diff(times) <= 0):
        raise ValueError("t_grid: expected strictly increasing times")
    span = tf - t0
    if times[0] < t0 - 1e-12 * span or times[-1] > tf + 1e-12 * span:
        raise ValueError(f"t_grid: expected times in [t0, tf] = [{t0}, {tf}], got [{times[0]}, {times[-1]}]")
    return np.clip(times, t0, tf)


def _solution_source(solution: Any, var: Variable) -> _Pieces:
    values = np.asarray(solution.value(var.symbol), dtype=float).reshape(-1, var.size, order="F")
    return _Pieces(np.asarray(solution.t, dtype=float), values,
                   linear=values.shape[0] == solution.t.size)


def _array_source(spec: Any, var: Variable, times: np.ndarray, t0: float, name: str) -> _Pieces:
    arr = as_finite_array(spec, name)
    n = times.size - 1
    if arr.ndim >= 1 and arr.shape[0] in (n, n + 1) and arr.shape[1:] in {var.shape, var.value_shape,
                                                                            (var.size,)}:
        if times[0] != t0:
            raise ValueError(f"{name}: an array over t_grid needs t_grid to start at t0={t0}, "
                             f"got {times[0]}")
        values = arr.reshape((arr.shape[0],) + var.shape, order="F")
        packed = np.array([v.ravel(order="F") for v in values])
        return _Pieces(times, packed, linear=arr.shape[0] == n + 1)
    raise ValueError(f"{name}: expected an array of {n} interval values (piecewise constant) or {n + 1} "
                     f"node values (piecewise linear) on t_grid, each of shape {var.value_shape}, "
                     f"a callable of t or a Solution, got shape {arr.shape}")


def _control_sources(ocp: OCP, controls: Any, times: np.ndarray, solution: Any,
                     substeps: int) -> dict[str, Any]:
    declared = ocp.controls
    if solution is not None:
        return {v.name: _solution_source(solution, v) for v in declared}
    if not declared:
        if controls is not None:
            raise ValueError(f"controls: the OCP has no controls, got {type(controls).__name__}")
        return {}
    if controls is None:
        raise ValueError("controls: required (a Solution, an array per interval of t_grid, "
                         "a callable of t, or a dict {control: one of these})")
    specs = _symbol_dict(controls, ocp, "control", "controls")
    missing = [v.name for v in declared if v.name not in specs]
    if missing:
        raise ValueError(f"controls: no value for the control(s) {missing}")
    base = np.unique(np.concatenate([[ocp.t0], times]))
    fine = np.concatenate([np.linspace(a, b, substeps + 1)[:-1] for a, b in zip(base[:-1], base[1:])]
                          + [base[-1:]])
    sources: dict[str, Any] = {}
    for var in declared:
        spec, name = specs[var.name], f"controls for {var.name!r}"
        if _is_solution(spec):
            _same_ocp(spec, ocp, name)
            sources[var.name] = _solution_source(spec, var)
        elif callable(spec):
            sources[var.name] = _Sampled(spec, var, fine, name)
            sources[var.name](np.array([times[0]]))  # refuse a wrong shape or NaN before integrating
        else:
            sources[var.name] = _array_source(spec, var, times, ocp.t0, name)
    return sources


def _values(ocp: OCP, model: ModelFunctions, given: Any, kind: str, argument: str,
            solution: Any, default: Callable[[Variable], Any]) -> dict[str, np.ndarray]:
    """{name: value} of every symbol of ``kind``: given, else from the solution, else ``default``."""
    specs = {} if given is None else _symbol_dict(given, ocp, kind, argument)
    out = {}
    for var in [v for v in ocp.declarations if v.kind == kind]:
        spec = specs.get(var.name)
        if spec is None and solution is not None:
            value = solution.value(var.symbol)
            spec = value if kind == "variable" else np.asarray(value)[0]
        if spec is None:
            spec = default(var)
        out[var.name] = as_finite_array(spec, f"{argument} for {var.name!r}", var.shape)
    return out


def _no_variable(var: Variable) -> Any:
    raise ValueError(f"variables: no value for the static variable {var.name!r}; give {{{var.name}: value}}")


def _fixed_initial(model: ModelFunctions, parameters: dict[str, np.ndarray]) -> Callable[[Variable], Any]:
    """The default x0 of a state: its fixed initial value (of the parameter values, if given by them)."""
    z0 = np.asarray(model.initial_function()(model.pack(parameters, "parameter")), dtype=float).ravel()
    offsets = {b.var.name: slice(b.offset, b.stop) for b in model.state_blocks}

    def default(var: Variable) -> Any:
        if var.initial is None:
            raise ValueError(f"x0: no initial value for the state {var.name!r} (not fixed by ocp.initial); "
                             f"give it in x0")
        return np.reshape(z0[offsets[var.name]], var.shape, order="F")
    return default


def _parameter_values(ocp: OCP, given: Any, solution: Any) -> dict[str, np.ndarray]:
    """The parameters' values: given (all of them), else those the Solution was solved with."""
    if given is not None or solution is None:
        return parameter_values(ocp, given)
    return {v.name: np.reshape(np.asarray(solution.value(v.symbol), dtype=float), v.shape, order="F")
            for v in ocp.parameters}


# ------------------------------------------------------------ integration
def _segment_integrator(model: ModelFunctions, plugin: str, abstol: float, reltol: float,
                        rk_steps: int) -> cs.Function:
    """z(1) from z(0) on a segment [ta, tb] in scaled time s, with u linear in s."""
    nu = model.nu
    z, s = cs.MX.sym("z", model.nz), cs.MX.sym("s")
    ua, ub, p = cs.MX.sym("ua", nu), cs.MX.sym("ub", nu), cs.MX.sym("p", model.np)
    ta, tb, tf = cs.MX.sym("ta"), cs.MX.sym("tb"), cs.MX.sym("tf")
    ode = (tb - ta) * model.f(z, ua + s * (ub - ua), p, ta + s * (tb - ta), tf)
    dae = {"x": z, "t": s, "p": cs.vertcat(ua, ub, p, ta, tb, tf), "ode": ode}
    opts: dict[str, Any] = ({"number_of_finite_elements": rk_steps} if plugin == "rk"
                            else {"abstol": abstol, "reltol": reltol})
    return cs.integrator("simulate", plugin, dae, 0.0, 1.0, opts)


def _breaks(t0: float, times: np.ndarray, sources: dict[str, Any]) -> np.ndarray:
    """Segment ends: t0, the output times and every control switch before the last output."""
    pieces: list[np.ndarray] = [np.array([t0]), times, *(s.breaks for s in sources.values())]
    points = np.concatenate(pieces)
    points = np.unique(points[(points >= t0) & (points <= times[-1])])
    tol = 1e-12 * max(times[-1] - t0, 1.0)
    keep = np.concatenate([[True], np.diff(points) > tol])
    return points[keep]


def simulate(ocp: OCP, controls: Any = None, t_grid: Any = None, *, x0: Any = None, variables: Any = None,
             parameters: Any = None, tf: Any = None, integrator: str = "cvodes", abstol: float = 1e-10,
             reltol: float = 1e-10, substeps: int = 10, rk_steps: int = 20) -> Trajectory:
    """Integrate the continuous dynamics of ``ocp`` under given controls.

    Parameters
    ----------
    ocp : OCP
    controls : Solution, array, callable or dict
        A Solution of this OCP (its controls, piecewise constant or linear as
        transcribed); or per control (a dict {control: spec}, or the spec alone
        when the OCP has one control): an array of N interval values
        (piecewise constant) or N + 1 node values (piecewise linear) on
        ``t_grid`` (N = len(t_grid) - 1), a callable u(t), or a Solution.
    t_grid : array, optional
        Increasing output times in [t0, tf]; default the Solution's nodes.
        The simulation starts at t0 in any case.
    x0 : dict or array, optional
        Initial states {state: value}; default the Solution's x(t0), else the
        OCP's fixed initial values (required for states without one).
    variables : dict or value, optional
        Values of the static decision variables (``ocp.variable``); default
        the Solution's.
    parameters : dict, optional
        {parameter symbol or name: value} for every ``ocp.parameter``; default
        the values the Solution was solved with.
    tf : float, optional
        The final time of a free-time OCP (default the Solution's).
    integrator : {'cvodes', 'idas', 'rk'}
    abstol, reltol : float
        Tolerances of cvodes and idas.
    substeps : int
        Sub-steps per output interval on which a callable control is held at its midpoint value.
    rk_steps : int
        Fixed RK4 steps of the ``rk`` plugin per segment.

    Returns
    -------
    Trajectory
    """
    if not isinstance(ocp, OCP):
        raise TypeError(f"ocp: expected an oc.OCP, got {type(ocp).__name__}")
    plugin = as_choice(integrator, "integrator", INTEGRATORS)
    abstol, reltol = (as_finite_float(abstol, "abstol"), as_finite_float(reltol, "reltol"))
    for value, name in ((abstol, "abstol"), (reltol, "reltol")):
        if value <= 0:
            raise ValueError(f"{name}: expected a positive tolerance, got {value}")
    substeps, rk_steps = as_positive_int(substeps, "substeps"), as_positive_int(rk_steps, "rk_steps")
    solution = controls if _is_solution(controls) else None
    if solution is not None:
        _same_ocp(solution, ocp, "controls")
    final = _final_time(ocp, tf, solution)
    if t_grid is None:
        if solution is None:
            raise ValueError("t_grid: required unless controls is a Solution (whose nodes are the default)")
        t_grid = solution.t
    times = _time_grid(t_grid, ocp.t0, final)
    model = ModelFunctions(ocp)
    sources = _control_sources(ocp, controls, times, solution, substeps)
    params = _values(ocp, model, variables, "variable", "variables", solution, _no_variable)
    given = _parameter_values(ocp, parameters, solution)
    initial = _values(ocp, model, x0, "state", "x0", solution, _fixed_initial(model, given))
    p = np.concatenate([model.pack(params, "variable"), model.pack(given, "parameter")])
    states = _integrate(model, sources, p, model.pack(initial, "state"),
                        times, final, _segment_integrator(model, plugin, abstol, reltol, rk_steps))
    return Trajectory(model, times, states, sources, params, final)


def _integrate(model: ModelFunctions, sources: dict[str, Any], p: np.ndarray, z0: np.ndarray,
               times: np.ndarray, tf: float, step: cs.Function) -> np.ndarray:
    """Packed states (nz, m) at ``times``, integrating segment by segment from t0."""
    points = _breaks(model.ocp.t0, times, sources)
    out = np.zeros((model.nz, times.size))
    z, j = z0, 0
    tol = 1e-12 * max(times[-1] - model.ocp.t0, 1.0)
    for ta, tb in zip(points[:-1], points[1:]):
        if abs(ta - times[j]) <= tol:
            out[:, j], j = z, j + 1
        ends = [sources[v.name].law(ta, tb) for v in model.ocp.controls]
        ua = np.concatenate([e[0] for e in ends] or [np.zeros(0)])
        ub = np.concatenate([e[1] for e in ends] or [np.zeros(0)])
        z = np.asarray(step(x0=z, p=np.concatenate([ua, ub, p, [ta, tb, tf]]))["xf"]).ravel()
        if not np.all(np.isfinite(z)):
            raise ValueError(f"simulate: the state is not finite after t={tb} (the dynamics blow up?)")
    out[:, j:] = z[:, None]  # the last output time (and only it) is left
    return out

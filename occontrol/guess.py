"""Initial guesses for a DiscreteProblem.

Per symbol a guess may be a constant (scalar or an array of the symbol's
shape), an array over the grid (N + 1 node values, or N interval values
for piecewise-constant controls), a callable of t, or a previous Solution;
or the whole guess may be a previous Solution, interpolated onto the new
grid through its ``at`` (consistent with its transcription).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import casadi as cs
import numpy as np

from ._checks import as_finite_array, as_finite_float
from .problem import Variable
from .transcription.discrete import DiscreteProblem
from .transcription.layout import VARIABLE_KIND, Block

if TYPE_CHECKING:
    from .solution import Solution

__all__ = ["initial_guess", "warm_multipliers"]

Trajectory = Callable[[np.ndarray], np.ndarray]  # times (m,) -> values (m, *shape)


def _is_solution(obj: Any) -> bool:
    return hasattr(obj, "at") and hasattr(obj, "problem")


def _default(var: Variable, initial: dict[str, np.ndarray]) -> np.ndarray:
    if var.kind == "state" and var.initial is not None:
        return initial[var.name]
    return np.clip(np.zeros(var.shape), var.lower, var.upper)


def _initial_states(problem: DiscreteProblem) -> dict[str, np.ndarray]:
    """The fixed initial states by name, for this problem's parameter values (0 where not fixed)."""
    model = problem.model
    values = problem.parameter_values
    if values is None:  # parameters not given yet: no start from them
        values = {v.name: np.zeros(v.shape) for v in problem.ocp.parameters}
    z0 = np.asarray(problem.initial_function(model.pack(values, "parameter")), dtype=float).ravel()
    return {b.var.name: np.reshape(z0[b.offset:b.stop], b.var.shape, order="F") for b in model.state_blocks}


def _series(var: Variable, arr: np.ndarray, times: np.ndarray, piecewise_constant: bool) -> Trajectory:
    """A trajectory from values on the problem's own nodes or intervals."""
    arr = arr.reshape((arr.shape[0],) + var.shape, order="F")
    if piecewise_constant:
        def pc(t):
            k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, arr.shape[0] - 1)
            return arr[k]
        return pc

    def linear(t):
        flat = arr.reshape(arr.shape[0], -1)
        return np.stack([np.interp(t, times, col) for col in flat.T], axis=-1).reshape((len(t),) + var.shape)
    return linear


def _trajectory(var: Variable, spec: Any, times: np.ndarray, control_kind: str, free_time: bool) -> Trajectory:
    name = f"guess for {var.name!r}"
    if _is_solution(spec):
        if free_time:  # read the solution at the same fraction of its own horizon
            t0, scale = times[0], (spec.tf - times[0]) / (times[-1] - times[0])
            return lambda t: np.reshape(spec.at(var.symbol, t0 + (np.asarray(t) - t0) * scale),
                                        (len(t),) + var.shape, order="F")
        return lambda t: np.reshape(spec.at(var.symbol, t), (len(t),) + var.shape, order="F")
    if callable(spec):
        return lambda t: np.stack([as_finite_array(spec(float(ti)), name, var.shape) for ti in t])
    arr = as_finite_array(spec, name)
    try:
        const = as_finite_array(arr, name, var.shape)
        return lambda t: np.broadcast_to(const, (len(t),) + var.shape)
    except ValueError:
        pass
    N = times.size - 1
    if var.kind == "variable":  # constant in time: a series over the grid means a mistake
        raise ValueError(f"{name}: expected a constant of shape {var.shape} (a static variable is constant "
                         f"in time), a callable of t or a Solution, got shape {arr.shape}")
    # Per node or interval: the symbol's shape, its value shape, or flattened column-major;
    # a matching element count alone would let a transposed matrix through.
    step_shapes = {var.shape, var.value_shape, (var.size,)}
    if arr.ndim >= 1 and arr.shape[1:] in step_shapes:
        if arr.shape[0] == N + 1:
            return _series(var, arr, times, piecewise_constant=False)
        if arr.shape[0] == N and var.kind == "control" and control_kind == "constant":
            return _series(var, arr, times, piecewise_constant=True)
    rows = "N + 1 node values" + (" or N interval values" if var.kind == "control" else "")
    raise ValueError(f"{name}: expected a constant of shape {var.shape}, a callable of t, a Solution, "
                     f"or an array of {rows} (N = {N}), got shape {arr.shape}")


def _specs(problem: DiscreteProblem, guess: Any) -> tuple[dict[int, Any], float | None]:
    """Per-variable specs keyed by id(Variable), and a tf guess if one was given."""
    ocp = problem.ocp
    if guess is None:
        return {}, None
    if _is_solution(guess):
        _check_same_ocp(guess, ocp, "guess")
        return {id(v): guess for v in ocp.declarations}, guess.tf
    if not isinstance(guess, dict):
        raise TypeError(f"guess: expected a dict {{symbol: value}} or a Solution, got {type(guess).__name__}")
    specs, tf = {}, None
    for key, spec in guess.items():
        if isinstance(key, cs.MX) and ocp.free_time is not None and hash(key) == hash(ocp.tf_symbol):
            tf = spec.tf if _is_solution(spec) else as_finite_float(spec, "guess for tf")
            if tf <= ocp.t0:  # clipping it into the bounds could leave a zero-length horizon
                raise ValueError(f"guess for tf: expected a final time > t0={ocp.t0}, got {tf}")
            continue
        _refuse_fixed_tf_key(key, ocp)
        var = ocp.declared(key, "guess key")
        if _is_solution(spec):
            _check_same_ocp(spec, ocp, f"guess for {var.name!r}")
        specs[id(var)] = spec
    if tf is None and ocp.free_time is not None:  # no tf guess: that of the first Solution given, if any
        tf = next((spec.tf for spec in specs.values() if _is_solution(spec)), None)
    return specs, tf


def _refuse_fixed_tf_key(key: Any, ocp: Any) -> None:
    """A guess for tf on a fixed horizon: ``ocp.tf`` is then a number, or the tf symbol was used."""
    if ocp.free_time is not None:
        return
    is_tf_symbol = isinstance(key, cs.MX) and hash(key) == hash(ocp.tf_symbol)
    is_tf_value = (isinstance(key, (int, float, np.floating, np.integer)) and not isinstance(key, bool)
                   and key == ocp.tf)
    if is_tf_symbol or is_tf_value:
        raise ValueError(f"guess key: expected a symbol declared by this OCP, got {key!r}, which is tf: "
                         f"the horizon is fixed (tf = {ocp.tf}), so tf takes no guess (only with oc.FreeTime)")


def _check_same_ocp(solution: Any, ocp: Any, argument: str) -> None:
    """A Solution is read back by symbol, so it must come from this very OCP."""
    if solution.problem.ocp is not ocp:
        raise ValueError(f"{argument}: expected a Solution of this OCP (on any grid), got one of "
                         f"another OCP")


def initial_guess(problem: DiscreteProblem, guess: Any = None) -> np.ndarray:
    """The decision vector w0 of ``problem`` from a user guess (see module doc)."""
    ocp, model = problem.ocp, problem.model
    specs, tf_guess = _specs(problem, guess)
    if ocp.free_time is not None:
        tf = (ocp.free_time.guess if tf_guess is None
              else float(np.clip(tf_guess, ocp.free_time.lower, ocp.free_time.upper)))
    else:
        tf = ocp.fixed_tf
    times = problem.grid.times(ocp.t0, tf)
    control_kind = problem.transcription.controls
    initial = _initial_states(problem)

    def packed(kind: str, at: np.ndarray) -> np.ndarray:
        """Packed values of all variables of a kind at times ``at``: (size, len(at))."""
        values = {}
        for var in [v for v in ocp.declarations if v.kind == kind]:
            spec = specs.get(id(var))
            if spec is None:
                arr = np.broadcast_to(_default(var, initial), (len(at),) + var.shape)
            else:
                arr = _trajectory(var, spec, times, control_kind, ocp.free_time is not None)(at)
            values[var.name] = arr
        return np.column_stack([model.pack({n: a[i] for n, a in values.items()}, kind)
                                for i in range(len(at))]) if len(at) else np.zeros((0, 0))

    def fill(block: Block) -> np.ndarray:
        kind = VARIABLE_KIND.get(block.kind)
        if kind is None:  # the final time
            return np.array([[tf]])
        values = packed(kind, problem.transcription.sample_times(block.sampling, times))
        return values if block.rows is None else values[block.rows, :]

    w0 = problem.assemble(fill)
    return np.clip(w0, problem.lbx, problem.ubx)


def warm_multipliers(problem: DiscreteProblem, previous: "Solution") -> tuple[np.ndarray, np.ndarray]:
    """Multipliers (lam_x, lam_g) for ``problem`` from a previous solution.

    On the same grid and transcription they are copied. Across grids the
    multipliers of the node-continuity constraints, which approximate the
    costate at the nodes, are interpolated in time; the others start at 0.
    """
    old = previous.problem
    lam_x, lam_g = np.zeros(problem.lbx.size), np.zeros(problem.lbg.size)
    if previous.lam_x is None or previous.lam_g is None:  # a solution without multipliers (both or neither)
        return lam_x, lam_g
    if (old.grid == problem.grid and old.lbx.size == problem.lbx.size and old.lbg.size == problem.lbg.size
            and old.transcription.describe() == problem.transcription.describe()):
        return previous.lam_x.copy(), previous.lam_g.copy()
    new_slice, old_slice = problem.constraint_slices.get("dynamics"), old.constraint_slices.get("dynamics")
    if new_slice is None or old_slice is None:
        return lam_x, lam_g
    nz = problem.model.nz
    old_lam = previous.lam_g[old_slice].reshape(nz, -1, order="F")
    t_old = previous.t[1:]
    t_new = problem.grid.times(problem.ocp.t0, previous.tf)[1:]
    new_lam = np.vstack([np.interp(t_new, t_old, row) for row in old_lam])
    lam_g[new_slice] = new_lam.ravel(order="F")
    return lam_x, lam_g

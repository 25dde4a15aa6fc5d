"""The continuous optimal-control problem, written in CasADi expressions.

An :class:`OCP` holds states (vectors or matrices), controls, static
variables, parameters (values given per solve), dynamics, costs, bounds and
constraints. It knows nothing of
grids or solvers: a transcription turns it into an NLP.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import casadi as cs
import numpy as np

from ._checks import as_bound, as_finite_array, as_finite_float, check_bounds_order

__all__ = ["OCP", "FreeTime", "Variable", "Constraint", "BoundaryValue"]

_KINDS = ("state", "control", "variable")
# Kinds an expression may use: the decision symbols and the parameters (values given per solve).
_EXPR_KINDS = _KINDS + ("parameter",)
_ENDS = ("t0", "tf")


@dataclass(frozen=True)
class FreeTime:
    """A free final time, a decision variable of the problem.

    Parameters
    ----------
    guess : float
        Initial guess of the final time (time units).
    lower, upper : float
        Bounds on the final time; ``upper`` may be ``inf``.
    """

    guess: float = 1.0
    lower: float = 0.0
    upper: float = float("inf")

    def __post_init__(self) -> None:
        as_finite_float(self.guess, "FreeTime.guess")
        as_finite_float(self.lower, "FreeTime.lower")
        # numbers.Real admits numpy scalars; bool is refused as everywhere else.
        if isinstance(self.upper, bool) or not isinstance(self.upper, numbers.Real):
            raise TypeError(f"FreeTime.upper: expected a number or inf, got {self.upper!r}")
        try:
            upper = float(self.upper)
        except OverflowError as exc:  # a Python int beyond float range: say so, not numpy's TypeError
            raise ValueError(f"FreeTime.upper: expected a number or inf, got an integer too large "
                             f"for a float ({len(str(self.upper))} digits)") from exc
        if np.isnan(upper):
            raise ValueError(f"FreeTime.upper: expected a number or inf, got {self.upper}")
        if self.lower > self.upper:
            raise ValueError(f"FreeTime: lower={self.lower} exceeds upper={self.upper}")
        if not self.lower <= self.guess <= self.upper:
            raise ValueError(
                f"FreeTime.guess: expected a value in [{self.lower}, {self.upper}], got {self.guess}")


@dataclass(eq=False)
class Variable:
    """A declared state, control, static variable or parameter and everything attached to it.

    ``initial`` (states only) is the fixed x(t0): numbers, or an expression
    of the parameters (evaluated with the values given at solve time).
    """

    name: str
    kind: str
    symbol: cs.MX
    lower: np.ndarray
    upper: np.ndarray
    initial: np.ndarray | cs.MX | None = None
    rhs: cs.MX | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.symbol.shape)  # type: ignore[return-value]

    @property
    def size(self) -> int:
        return int(self.symbol.numel())

    @property
    def numeric_initial(self) -> np.ndarray | None:
        """The fixed initial value when it is numbers (None when free or given by parameters)."""
        return self.initial if isinstance(self.initial, np.ndarray) else None

    @property
    def value_shape(self) -> tuple[int, ...]:
        """Shape of one value as returned to users: () scalar, (k,) vector, (d, n) matrix."""
        rows, cols = self.shape
        if rows * cols == 1:
            return ()
        if cols == 1:
            return (rows,)
        return (rows, cols)


@dataclass(eq=False)
class Constraint:
    """``lower <= expr <= upper`` elementwise, ``expr`` a column vector."""

    expr: cs.MX
    lower: np.ndarray
    upper: np.ndarray
    text: str = field(default="")
    static: bool = False  # on static variables (and tf) only: imposed once, not per node
    fixed_at_t0: bool = False  # at t0 a function of fixed data only: checked here, not given to the solver
    # ... of fixed data that involve parameters: checked for the values of each solve (check_at_t0)
    checked_per_solve: bool = False
    # Boundary conditions: which rows are functions of fixed data only (checked by OCP.check, not solved).
    fixed_rows: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class BoundaryValue:
    """The value of a state or a control at one end of the horizon (see :meth:`OCP.at_t0`).

    Attributes
    ----------
    var : Variable
        The state or control.
    end : {'t0', 'tf'}
        Which end: the initial or the final time.
    symbol : casadi.MX
        The symbol that stands for ``var`` at ``end`` in expressions.
    """

    var: Variable
    end: str
    symbol: cs.MX


def _shape_of(shape: Any, name: str) -> tuple[int, int]:
    if isinstance(shape, bool):
        raise TypeError(f"{name}: expected a positive int or a (rows, cols) tuple, got {shape!r}")
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape), 1)
    if (not isinstance(shape, tuple) or len(shape) != 2
            or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in shape)):
        raise TypeError(f"{name}: expected a positive int or a (rows, cols) tuple, got {shape!r}")
    if shape[0] < 1 or shape[1] < 1:
        raise ValueError(f"{name}: dimensions must be >= 1, got {shape}")
    return int(shape[0]), int(shape[1])


def _numeric_bounds(lower: Any, upper: Any, name: str, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of a declared symbol: numbers only (a parameter bound is a constraint, not a box)."""
    for value, side in ((lower, "lower"), (upper, "upper")):
        if isinstance(value, cs.MX) and not value.is_constant():
            raise TypeError(f"{name} {side}: expected numbers (or None), got the expression {value}; a bound "
                            f"given by parameters is a constraint: write ocp.subject_to({name}, {side}=...)")
    lo = as_bound(_constant(lower), f"{name} lower", shape, -np.inf)
    up = as_bound(_constant(upper), f"{name} upper", shape, np.inf)
    check_bounds_order(lo, up, f"{name} bounds")
    return lo, up


def _constant(value: Any) -> Any:
    """A constant CasADi expression as numbers; anything else as it is."""
    return np.asarray(cs.evalf(value), dtype=float) if isinstance(value, cs.MX) else value


def _is_expression(value: Any) -> bool:
    return isinstance(value, cs.MX) and not value.is_constant()


def _nonfinite_constants(expr: cs.MX, allow_inf: bool) -> bool:
    """Whether a numeric constant inside ``expr`` is NaN (or +-inf unless ``allow_inf``)."""
    fn = cs.Function("constants", cs.symvar(expr), [expr])
    for k in range(fn.n_instructions()):
        if fn.instruction_id(k) == cs.OP_CONST:
            value = np.asarray(cs.evalf(fn.instruction_MX(k)), dtype=float)
            if np.isnan(value).any() or (not allow_inf and np.isinf(value).any()):
                return True
    return False


_COMPARISONS = (cs.OP_LE, cs.OP_LT, cs.OP_EQ, cs.OP_NE)


def _is_comparison(expr: cs.MX) -> bool:
    return any(expr.is_op(op) for op in _COMPARISONS)


def _bound_text(value: Any, unbounded: str) -> str:
    if value is None:
        return unbounded
    if _is_expression(value):
        return str(value)
    arr = np.asarray(value, dtype=float)
    return repr(float(arr)) if arr.ndim == 0 else np.array2string(arr, threshold=6)


def _as_mx(expr: Any, name: str, allow_inf: bool = True) -> cs.MX:
    if isinstance(expr, cs.MX):
        # NaN never means anything in a model; inf may in dynamics (e.g. fmin(x, inf)),
        # never in a cost (CasADi folds fmin(x, inf) to x, so one left over is a mistake).
        if _nonfinite_constants(expr, allow_inf=True):
            raise ValueError(f"{name}: contains NaN")
        if not allow_inf and _nonfinite_constants(expr, allow_inf=False):
            raise ValueError(f"{name}: contains an infinite constant; a cost must be finite")
        return expr
    if isinstance(expr, (cs.SX, cs.SXElem)):
        raise TypeError(f"{name}: expected an expression of the OCP's symbols (CasADi MX), got SX")
    if isinstance(expr, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a CasADi expression, got the boolean {expr!r} "
                        "(was a comparison evaluated in Python?)")
    try:
        arr = as_finite_array(expr, name)
    except TypeError as exc:
        raise TypeError(f"{name}: expected a CasADi expression or numbers, got {type(expr).__name__}") from exc
    return cs.MX(cs.DM(np.atleast_1d(arr) if arr.ndim < 2 else arr))


def _refuse_violated(con: Constraint, values: dict[int, Any], rows: np.ndarray, what: str) -> None:
    """Raise if ``con`` at the symbol values ``values`` (by hash) violates its bounds in one of ``rows``."""
    symbols = cs.symvar(con.expr)
    fn = cs.Function("fixed_data", symbols, [con.expr])
    g = np.asarray(fn(*[np.broadcast_to(values[hash(s)], s.shape) for s in symbols]), dtype=float).ravel()
    # IPOPT relaxes constraint bounds by 1e-8 (relative); a smaller excess is not infeasible.
    slack = 1e-8 * np.maximum(1.0, np.abs(np.where(np.isfinite(con.lower), con.lower, con.upper)))
    bad = rows & (np.isnan(g) | (g < con.lower - slack) | (g > con.upper + slack))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"subject_to constraint {con.text!r}: the fixed initial state violates {what} "
            f"(entry {i} of the constraint expression is {g[i]}, required in [{con.lower[i]}, "
            f"{con.upper[i]}]), so no solution exists")


class OCP:
    """A continuous-time optimal-control problem on [t0, tf].

    Parameters
    ----------
    t0 : float
        Initial time.
    tf : float or FreeTime
        Final time, fixed (> t0) or free.

    Examples
    --------
    >>> ocp = OCP(t0=0.0, tf=1.0)
    >>> x = ocp.state("x")
    >>> u = ocp.control("u")
    >>> ocp.dynamics(x, u)
    >>> ocp.initial(x, 1.0)
    >>> ocp.minimize_integral(x**2 + u**2)
    """

    def __init__(self, t0: float = 0.0, tf: float | FreeTime = 1.0) -> None:
        self.t0 = as_finite_float(t0, "t0")
        self.t = cs.MX.sym("t")
        self._tf_symbol = cs.MX.sym("tf")
        if isinstance(tf, FreeTime):
            if tf.lower < self.t0:
                raise ValueError(f"tf: FreeTime.lower={tf.lower} is below t0={self.t0}")
            if tf.guess <= self.t0:  # a zero-length first horizon makes every step h = 0
                raise ValueError(f"tf: FreeTime.guess={tf.guess} must exceed t0={self.t0}")
            self.free_time: FreeTime | None = tf
            self._tf_value: float | None = None
        else:
            self._tf_value = as_finite_float(tf, "tf")
            if self._tf_value <= self.t0:
                raise ValueError(f"tf: expected a final time > t0={self.t0}, got {self._tf_value}")
            self.free_time = None
        self.declarations: list[Variable] = []
        self._by_hash: dict[int, Variable] = {}
        self.running_costs: list[cs.MX] = []
        self.terminal_costs: list[cs.MX] = []
        self.regularization: dict[int, tuple[float, float]] = {}
        self.path_constraints: list[Constraint] = []
        self.terminal_constraints: list[Constraint] = []
        # Values at t0 / tf made by at_t0 / at_tf, keyed by their symbol's hash, and what uses them.
        self.boundary_values: dict[int, BoundaryValue] = {}
        self.boundary_constraints: list[Constraint] = []
        self.boundary_costs: list[cs.MX] = []

    # ----------------------------------------------------------------- symbols
    @property
    def tf(self) -> float | cs.MX:
        """The final time: a number when fixed, a symbol usable in costs when free."""
        return self._tf_symbol if self._tf_value is None else self._tf_value

    @property
    def fixed_tf(self) -> float:
        """The final time of a fixed horizon, as a number (ValueError when tf is free)."""
        if self._tf_value is None:
            raise ValueError("tf: the final time is free (oc.FreeTime), so it has no fixed value")
        return self._tf_value

    @property
    def tf_symbol(self) -> cs.MX:
        """The symbol that stands for tf in every CasADi function (fixed or free)."""
        return self._tf_symbol

    def _declare(self, kind: str, name: str, shape: Any, lower: Any, upper: Any) -> cs.MX:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"name: expected a Python identifier string, got {name!r}")
        if any(v.name == name for v in self.declarations):
            raise ValueError(f"name: a variable called {name!r} is already declared")
        rows, cols = _shape_of(shape, f"{kind} {name!r} shape")
        if cols > 1 and kind != "state":
            raise ValueError(f"shape: only states may be matrices, got {kind} {name!r} with shape {(rows, cols)}")
        lo, up = _numeric_bounds(lower, upper, name, (rows, cols))
        symbol = cs.MX.sym(name, rows, cols)
        var = Variable(name=name, kind=kind, symbol=symbol, lower=lo, upper=up)
        self.declarations.append(var)
        self._by_hash[hash(symbol)] = var
        return symbol

    def state(self, name: str, shape: int | tuple[int, int] = 1, lower: Any = None,
              upper: Any = None) -> cs.MX:
        """Declare a state: a vector of ``shape`` entries or a (rows, cols) matrix.

        Bounds (``lower``, ``upper``, or later :meth:`bounds`) hold where path
        constraints do: at every node, and under collocation also at every
        collocation point.

        The columns of a matrix state are an ensemble: they share the controls
        and, when the dynamics act column by column, are integrated by one
        mapped per-column function.
        """
        return self._declare("state", name, shape, lower, upper)

    def control(self, name: str, shape: int = 1, lower: Any = None, upper: Any = None) -> cs.MX:
        """Declare a control, a function of time chosen by the optimiser."""
        return self._declare("control", name, shape, lower, upper)

    def variable(self, name: str, shape: int = 1, lower: Any = None, upper: Any = None) -> cs.MX:
        """Declare a free static decision variable (constant in time, chosen by the optimiser)."""
        return self._declare("variable", name, shape, lower, upper)

    def parameter(self, name: str, shape: int = 1) -> cs.MX:
        """Declare a parameter: a value given at solve time, not chosen by the optimiser.

        A parameter may appear in the dynamics, costs, constraints (also as a
        bound: ``ocp.subject_to(x, lower=p)``) and the initial value
        (``ocp.initial(x, p)``); its value is given per solve,
        ``oc.solve(ocp, grid=N, parameters={p: value})``, and a compiled
        problem re-solves for new values without building anything.
        """
        return self._declare("parameter", name, shape, None, None)

    @property
    def parameters(self) -> list[Variable]:
        """The parameters (values given per solve), in declaration order."""
        return [v for v in self.declarations if v.kind == "parameter"]

    def declared(self, symbol: Any, argument: str = "symbol", kinds: tuple[str, ...] = _KINDS) -> Variable:
        """The :class:`Variable` behind a symbol returned by this OCP."""
        var = self._by_hash.get(hash(symbol)) if isinstance(symbol, cs.MX) else None
        if var is None:
            raise ValueError(f"{argument}: expected a symbol declared by this OCP "
                             f"({'/'.join(kinds)}), got {symbol!r}")
        if var.kind not in kinds:
            raise ValueError(f"{argument}: expected a {' or '.join(kinds)}, got the {var.kind} {var.name!r}")
        return var

    @property
    def states(self) -> list[Variable]:
        return [v for v in self.declarations if v.kind == "state"]

    @property
    def controls(self) -> list[Variable]:
        return [v for v in self.declarations if v.kind == "control"]

    @property
    def static_variables(self) -> list[Variable]:
        return [v for v in self.declarations if v.kind == "variable"]

    # ---------------------------------------------------------- boundary values
    def at_t0(self, expr: Any) -> cs.MX:
        """``expr`` at the initial time: its states and controls replaced by their values at t0.

        The controls' value at t0 is the first interval's (piecewise-constant
        controls) or the first node's (piecewise-linear); ``t`` becomes t0.
        A constraint built from at_t0 / at_tf values, static variables and tf and
        given to :meth:`subject_to` is a boundary condition, imposed once
        (e.g. a periodic orbit: ``ocp.subject_to(ocp.at_t0(x) == ocp.at_tf(x))``);
        such values may also appear in :meth:`minimize_terminal`.

        Parameters
        ----------
        expr : casadi.MX
            An expression of this OCP's states, controls, static variables, t and tf.
        """
        return self._at("t0", expr)

    def at_tf(self, expr: Any) -> cs.MX:
        """``expr`` at the final time: states and controls replaced by their values at tf.

        The controls' value at tf is the last interval's or the last node's;
        ``t`` becomes tf. See :meth:`at_t0`.
        """
        return self._at("tf", expr)

    def _at(self, end: str, expr: Any) -> cs.MX:
        argument = f"at_{end} expr"
        if not isinstance(expr, cs.MX):
            raise TypeError(f"{argument}: expected a CasADi expression of this OCP's states, controls, "
                            f"parameters and t, got {type(expr).__name__}")
        expr = _as_mx(expr, argument)
        self._check_symbols(expr, argument, _EXPR_KINDS)
        return self._substitute_end(expr, end)

    def _substitute_end(self, expr: cs.MX, end: str) -> cs.MX:
        """``expr`` with its plain states, controls and t replaced by their values at ``end``."""
        old, new = [], []
        for sym in cs.symvar(expr):
            var = self._by_hash.get(hash(sym))
            if var is not None and var.kind in ("state", "control"):
                old.append(sym)
                new.append(self._boundary_symbol(var, end))
        if cs.depends_on(expr, self.t):
            old.append(self.t)
            new.append(cs.MX(self.t0) if end == "t0" else self._tf_symbol)
        return cs.substitute([expr], old, new)[0] if old else expr

    def _boundary_symbol(self, var: Variable, end: str) -> cs.MX:
        """The symbol of ``var`` at ``end``, made once and then reused."""
        for value in self.boundary_values.values():
            if value.var is var and value.end == end:
                return value.symbol
        symbol = cs.MX.sym(f"{var.name}_{end}", *var.shape)
        self.boundary_values[hash(symbol)] = BoundaryValue(var, end, symbol)
        return symbol

    def _uses_boundary(self, expr: cs.MX) -> bool:
        return any(hash(s) in self.boundary_values for s in cs.symvar(expr))

    def _check_boundary(self, expr: cs.MX, argument: str, plain: tuple[str, ...] = ()) -> None:
        """Refuse in a boundary expression anything but at_t0/at_tf values, static variables, tf and ``plain`` kinds."""
        for sym in cs.symvar(expr):
            h = hash(sym)
            if h in self.boundary_values or h == hash(self._tf_symbol):
                continue
            var = self._by_hash.get(h)
            if var is None:
                if h == hash(self.t):
                    raise ValueError(f"{argument}: mixes the time symbol t with at_t0/at_tf values; "
                                     "write ocp.at_t0(t) or ocp.at_tf(t)")
                raise ValueError(f"{argument}: uses the symbol {sym.name()!r}, which is not declared "
                                 "by this OCP (a symbol from another OCP?)")
            if var.kind not in ("variable", "parameter") and var.kind not in plain:
                raise ValueError(f"{argument}: mixes the {var.kind} {var.name!r} (a value along the path) "
                                 f"with at_t0/at_tf values (taken once); wrap it as ocp.at_t0({var.name}) "
                                 f"or ocp.at_tf({var.name})")

    def _check_symbols(self, expr: cs.MX, argument: str, kinds: tuple[str, ...],
                       time: bool = True) -> None:
        allowed_extra = {hash(self._tf_symbol)}
        if time:
            allowed_extra.add(hash(self.t))
        for sym in cs.symvar(expr):
            h = hash(sym)
            if h in allowed_extra:
                continue
            var = self._by_hash.get(h)
            if var is None:
                if h in self.boundary_values:
                    raise ValueError(f"{argument}: uses the boundary value {sym.name()!r} (from at_t0/at_tf), "
                                     "which only subject_to and minimize_terminal accept")
                if h == hash(self.t):
                    raise ValueError(f"{argument}: the time symbol t may not appear here")
                raise ValueError(f"{argument}: uses the symbol {sym.name()!r}, which is not declared "
                                 "by this OCP (a symbol from another OCP?)")
            if var.kind not in kinds:
                raise ValueError(f"{argument}: may not depend on the {var.kind} {var.name!r}")

    # -------------------------------------------------------------- dynamics
    def dynamics(self, x: cs.MX, rhs: Any) -> None:
        """Set dx/dt = rhs, an expression of states, controls, static variables, t and tf."""
        var = self.declared(x, "dynamics x", ("state",))
        if var.rhs is not None:
            raise ValueError(f"dynamics: state {var.name!r} already has dynamics")
        rhs = _as_mx(rhs, "dynamics rhs")
        if rhs.is_scalar() and var.size > 1:
            rhs = rhs * cs.MX.ones(*var.shape)
        if tuple(rhs.shape) != var.shape:
            raise ValueError(f"dynamics rhs: expected shape {var.shape} for state {var.name!r}, got {rhs.shape}")
        self._check_symbols(rhs, "dynamics rhs", _EXPR_KINDS)
        var.rhs = rhs

    def initial(self, x: cs.MX, value: Any) -> None:
        """Fix x(t0) to ``value``: a scalar or an array of x's shape, or an expression of parameters."""
        var = self.declared(x, "initial x", ("state",))
        argument = f"initial value of {var.name!r}"
        if isinstance(value, cs.MX) and not value.is_constant():
            value = _as_mx(value, argument)
            others = [sym.name() for sym in cs.symvar(value)
                      if getattr(self._by_hash.get(hash(sym)), "kind", None) != "parameter"]
            if others:
                raise TypeError(f"{argument}: expected a number or an array of numbers, or an expression of "
                                f"this OCP's parameters (ocp.parameter), got an expression of {others}")
            if value.is_scalar() and var.size > 1:
                value = value * cs.MX.ones(*var.shape)
            if tuple(value.shape) != var.shape:
                raise ValueError(f"{argument}: expected shape {var.shape}, got {value.shape}")
            var.initial = value
            return
        if isinstance(value, cs.MX):
            value = np.asarray(cs.evalf(value), dtype=float)
        var.initial = as_finite_array(value, argument, var.shape)

    def bounds(self, var_symbol: cs.MX, lower: Any = None, upper: Any = None) -> None:
        """Bounds on a state, a control or a static variable.

        State bounds hold where :meth:`subject_to` constraints do: at every grid
        node under explicit Runge-Kutta, at every node and every collocation
        point under collocation. Control bounds hold for every control value
        (per interval or per node); static variable bounds once.
        """
        var = self.declared(var_symbol, "bounds symbol")
        lo, up = _numeric_bounds(lower, upper, var.name, var.shape)
        var.lower, var.upper = lo, up

    # ----------------------------------------------------------------- costs
    def minimize_integral(self, expr: Any) -> None:
        """Add the running cost int_{t0}^{tf} expr dt."""
        expr = self._scalar_cost(expr, "minimize_integral expr")
        self._check_symbols(expr, "minimize_integral expr", _EXPR_KINDS)
        self.running_costs.append(expr)

    def minimize_terminal(self, expr: Any) -> None:
        """Add a cost on the final states, the static variables and tf."""
        expr = self._scalar_cost(expr, "minimize_terminal expr")
        if self._uses_boundary(expr):
            # With at_t0/at_tf values in it, a plain state still means its final value.
            self._check_boundary(expr, "minimize_terminal expr", plain=("state",))
            self.boundary_costs.append(self._substitute_end(expr, "tf"))
            return
        self._check_symbols(expr, "minimize_terminal expr", ("state", "variable", "parameter"), time=False)
        self.terminal_costs.append(expr)

    @staticmethod
    def _scalar_cost(expr: Any, argument: str) -> cs.MX:
        expr = _as_mx(expr, argument, allow_inf=False)
        if not expr.is_scalar():
            raise ValueError(f"{argument}: a cost must be scalar, got shape {expr.shape}")
        return expr

    def regularize(self, u: cs.MX, l2: float = 0.0, h1: float = 0.0) -> None:
        """Add l2 * int |u|^2 dt + h1 * int |u'|^2 dt for the control ``u``.

        The discrete forms, with steps h_k: for piecewise-constant controls
        ``l2 * sum_k h_k |u_k|^2 + h1 * sum_k |u_{k+1} - u_k|^2 / ((h_k + h_{k+1}) / 2)``
        (the H1 difference over the distance of the interval midpoints), so on a
        uniform grid ``l2 * h * sum_k |u_k|^2 + h1 / h * sum_k |u_{k+1} - u_k|^2``;
        for piecewise-linear controls the exact integrals
        ``l2 * sum_k h_k / 3 * (|u_k|^2 + u_k . u_{k+1} + |u_{k+1}|^2) + h1 * sum_k |u_{k+1} - u_k|^2 / h_k``.
        """
        var = self.declared(u, "regularize u", ("control",))
        l2 = as_finite_float(l2, "regularize l2", minimum=0.0)
        h1 = as_finite_float(h1, "regularize h1", minimum=0.0)
        key = hash(var.symbol)
        if key in self.regularization:
            raise ValueError(f"regularize: control {var.name!r} is already regularised")
        self.regularization[key] = (l2, h1)

    # ------------------------------------------------------------ constraints
    def subject_to(self, constraint: Any, lower: Any = None, upper: Any = None) -> None:
        """A path constraint: a comparison (``==``, ``<=``, ``>=``), or ``lower <= expr <= upper``.

        Where it holds: at every grid node under explicit Runge-Kutta (single
        and multiple shooting), and at every node and every collocation point
        under collocation -- the same points as the state bounds. A constraint
        on the static variables and a free tf alone does not change along the horizon
        and is imposed once.

        Parameters
        ----------
        constraint : casadi.MX
            A comparison such as ``x <= 1`` or ``x + u == 0``; or, with ``lower``
            and/or ``upper``, the expression to bound. A comparison of a
            comparison, ``(0 <= x) <= 1`` or ``-1 <= (x <= 1)``, is refused (it
            compares a truth value): write ``ocp.subject_to(x, lower=0, upper=1)``.
        lower, upper : float or array, optional
            Elementwise bounds on ``constraint`` (scalars or its shape); None
            means unbounded on that side.
        """
        argument = "subject_to constraint"
        con = self._parse(constraint, argument, lower, upper)
        if self._uses_boundary(con.expr):
            self._check_boundary(con.expr, argument)
            self.boundary_constraints.append(con)
            return
        self._check_symbols(con.expr, argument, _EXPR_KINDS)
        depends = {self._by_hash[hash(s)].kind for s in cs.symvar(con.expr) if hash(s) in self._by_hash}
        free_tf = self.free_time is not None and cs.depends_on(con.expr, self._tf_symbol)
        if "parameter" in depends and depends <= {"parameter"} and not free_tf:
            raise ValueError(f"{argument}: {con.text!r} involves no state, control or static variable "
                             "(only parameters, t and a fixed tf), so the solver could not act on it")
        if (("variable" in depends or free_tf) and not depends & {"state", "control"}
                and not cs.depends_on(con.expr, self.t)):
            # The same at every node: N + 1 copies would leave IPOPT too few degrees of freedom.
            con.static = True
            self.terminal_constraints.append(con)
            return
        self.path_constraints.append(con)

    def subject_to_terminal(self, constraint: Any, lower: Any = None, upper: Any = None) -> None:
        """A constraint on the final states, the static variables and tf, imposed once at tf.

        ``constraint``, ``lower`` and ``upper`` as in :meth:`subject_to`.
        """
        argument = "subject_to_terminal constraint"
        con = self._parse(constraint, argument, lower, upper)
        self._check_symbols(con.expr, argument, ("state", "variable", "parameter"), time=False)
        self.terminal_constraints.append(con)

    @staticmethod
    def _parse(constraint: Any, argument: str, lower: Any = None, upper: Any = None) -> Constraint:
        if lower is not None or upper is not None:
            return OCP._bounded(constraint, argument, lower, upper)
        if not isinstance(constraint, cs.MX):
            raise TypeError(f"{argument}: expected a CasADi comparison such as x <= 1 or x == 0, "
                            f"got {constraint!r}")
        if constraint.is_op(cs.OP_EQ):
            lower = upper = 0.0
        elif constraint.is_op(cs.OP_LE) or constraint.is_op(cs.OP_LT):
            lower, upper = -np.inf, 0.0
        else:
            raise ValueError(f"{argument}: expected a comparison (==, <=, >=), got {constraint}")
        if any(_is_comparison(constraint.dep(i)) for i in range(2)):
            # (0 <= x) <= 1 compares a 0/1 truth value with 1: it would hold for any x.
            raise ValueError(f"{argument}: a comparison of a comparison, got {constraint}; for a two-sided "
                             "constraint write ocp.subject_to(expr, lower=..., upper=...)")
        # x <= inf would put -inf into g (IPOPT fails on it); NaN is meaningless anywhere.
        if any(_nonfinite_constants(constraint.dep(i), allow_inf=not constraint.dep(i).is_constant())
               for i in range(2)):
            raise ValueError(f"{argument}: contains NaN or a non-finite constant side, got {constraint}")
        expr = cs.vec(constraint.dep(0) - constraint.dep(1))
        n = expr.numel()
        return Constraint(expr=expr, lower=np.full(n, lower), upper=np.full(n, upper), text=str(constraint))

    @staticmethod
    def _bounded(expr: Any, argument: str, lower: Any, upper: Any) -> Constraint:
        """``lower <= expr <= upper`` from an expression and numeric bounds."""
        if isinstance(expr, cs.MX) and _is_comparison(expr):
            raise ValueError(f"{argument}: with lower/upper, expected the expression to bound (e.g. x), "
                             f"got the comparison {expr}")
        if not isinstance(expr, cs.MX) or expr.is_constant():
            raise TypeError(f"{argument}: expected a CasADi expression of the OCP's symbols to bound, "
                            f"got {expr!r}")
        if _nonfinite_constants(expr, allow_inf=False):
            raise ValueError(f"{argument}: contains NaN or an infinite constant, got {expr}")
        if _is_expression(lower) or _is_expression(upper):
            return OCP._bounded_by_expressions(expr, argument, lower, upper)
        lower, upper = _constant(lower), _constant(upper)
        shape = tuple(expr.shape)
        lo = as_bound(lower, f"{argument} lower", shape, -np.inf).ravel(order="F")
        up = as_bound(upper, f"{argument} upper", shape, np.inf).ravel(order="F")
        check_bounds_order(lo, up, f"{argument} bounds")
        if not (np.isfinite(lo) | np.isfinite(up)).any():
            raise ValueError(f"{argument}: lower and upper are both unbounded everywhere; the "
                             "constraint would have no effect")
        text = f"{_bound_text(lower, '-inf')} <= {expr} <= {_bound_text(upper, 'inf')}"
        return Constraint(expr=cs.vec(expr), lower=lo, upper=up, text=text)

    @staticmethod
    def _bounded_by_expressions(expr: cs.MX, argument: str, lower: Any, upper: Any) -> Constraint:
        """``lower <= expr <= upper`` with a side given by an expression (of parameters): one
        block of rows ``expr - lower >= 0`` and/or ``expr - upper <= 0`` per given side."""
        e = cs.vec(expr)
        n = e.numel()
        rows, lo, up = [], [], []
        for value, side, default in ((lower, "lower", -np.inf), (upper, "upper", np.inf)):
            if value is None:
                continue
            name = f"{argument} {side}"
            if _is_expression(value):
                bound = cs.vec(_as_mx(value, name, allow_inf=False))
                if bound.numel() not in (1, n):
                    raise ValueError(f"{name}: expected a scalar or shape {expr.shape}, got {value.shape}")
                rows.append(e - bound)  # lower: e - bound in [0, inf]; upper: in [-inf, 0]
                lo.append(np.zeros(n) if side == "lower" else np.full(n, -np.inf))
                up.append(np.full(n, np.inf) if side == "lower" else np.zeros(n))
                continue
            arr = as_bound(_constant(value), name, tuple(expr.shape), default).ravel(order="F")
            rows.append(e)
            lo.append(arr if side == "lower" else np.full(n, -np.inf))
            up.append(np.full(n, np.inf) if side == "lower" else arr)
        text = f"{_bound_text(lower, '-inf')} <= {expr} <= {_bound_text(upper, 'inf')}"
        return Constraint(expr=cs.vertcat(*rows), lower=np.concatenate(lo), upper=np.concatenate(up), text=text)

    # ------------------------------------------------------------- checking
    def check(self) -> None:
        """Check the problem is complete; raises ValueError naming what is missing."""
        states = self.states
        if not states:
            raise ValueError("ocp: declare at least one state with ocp.state(...)")
        missing = [v.name for v in states if v.rhs is None]
        if missing:
            raise ValueError(f"dynamics: no dynamics given for state(s) {', '.join(map(repr, missing))}")
        for var in states:
            if var.numeric_initial is not None:
                out = (var.numeric_initial < var.lower) | (var.numeric_initial > var.upper)
                if out.any():
                    raise ValueError(f"initial value of {var.name!r} lies outside its bounds")
        for con in self.path_constraints:
            self._check_fixed_data(con)
        for con in self.boundary_constraints:
            self._check_fixed_boundary(con)

    def _check_fixed_boundary(self, con: Constraint) -> None:
        """Mark the rows of a boundary condition that depend on fixed data alone; refuse violated ones.

        Such a row (``at_t0(x) == 1`` with ``x(t0)`` fixed by :meth:`initial`)
        is a constant for the solver: a satisfied one is dropped (a constant
        equality row leaves IPOPT too few degrees of freedom), a violated one
        means no solution exists.
        """
        values: dict[int, Any] = {}
        if self.free_time is None:
            values[hash(self._tf_symbol)] = self._tf_value
        for h, bv in self.boundary_values.items():
            if bv.end == "t0" and bv.var.numeric_initial is not None:
                values[h] = bv.var.numeric_initial
        symbols = cs.symvar(con.expr)
        free = [cs.vec(s) for s in symbols if hash(s) not in values]
        fixed = np.ones(con.lower.size, dtype=bool)
        if free:
            rows = cs.jacobian(con.expr, cs.vertcat(*free)).sparsity().get_triplet()[0]
            fixed[np.asarray(rows, dtype=int)] = False
        con.fixed_rows = fixed
        if not fixed.any():
            return
        # The free symbols do not reach the fixed rows: any value will do for them.
        _refuse_violated(con, {h: values.get(h, 0.0) for h in map(hash, symbols)}, fixed,
                         "this boundary condition")

    def _check_fixed_data(self, con: Constraint) -> None:
        """Refuse a path constraint that the fixed data alone already violate at t0.

        Only a constraint of fixed initial states, t and a fixed tf is decided
        here; one that involves any decision variable is left to the solver.
        One whose fixed data involve parameters is decided for the values of
        each solve (:meth:`check_at_t0`).
        """
        values = self._fixed_values({})
        per_solve = {hash(v.symbol) for v in self.parameters}
        per_solve |= {hash(v.symbol) for v in self.states if isinstance(v.initial, cs.MX)}
        symbols = [hash(sym) for sym in cs.symvar(con.expr)]
        con.fixed_at_t0 = all(h in values or h in per_solve for h in symbols)
        con.checked_per_solve = con.fixed_at_t0 and any(h in per_solve for h in symbols)
        if con.fixed_at_t0 and not con.checked_per_solve:
            _refuse_violated(con, values, np.ones(con.lower.size, dtype=bool), f"it at t0={self.t0}")

    def _fixed_values(self, initial: dict[str, np.ndarray]) -> dict[int, Any]:
        """Values by symbol hash of the fixed data at t0: t, a fixed tf, numeric initial states and
        ``initial`` (by state name)."""
        values: dict[int, Any] = {hash(self.t): self.t0}
        if self.free_time is None:
            values[hash(self._tf_symbol)] = self._tf_value
        for var in self.states:
            if var.numeric_initial is not None:
                values[hash(var.symbol)] = var.numeric_initial
            elif var.name in initial:
                values[hash(var.symbol)] = initial[var.name]
        return values

    def initial_values(self, parameters: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The initial states given by parameters, by name, for the parameters' ``values`` by name."""
        symbols = [v.symbol for v in self.parameters]
        values = [parameters[v.name] for v in self.parameters]
        return {v.name: np.reshape(np.asarray(cs.Function("initial", symbols, [v.initial])(*values), dtype=float),
                                   v.shape, order="F")
                for v in self.states if isinstance(v.initial, cs.MX)}

    def check_values(self, parameters: dict[str, np.ndarray], initial: dict[str, np.ndarray]) -> None:
        """Refuse parameter values that put the fixed data out of bounds or constraints at t0.

        An initial state given by parameters must lie within its bounds, and a
        path constraint of fixed data alone at t0 (``x <= p`` with x(t0)
        fixed), a constant for the solver there, must hold: the checks
        :meth:`check` makes for numbers, made for the values of one solve.

        Parameters
        ----------
        parameters : dict
            The parameters' values by name.
        initial : dict
            The fixed initial states by name (those given by parameters at least).
        """
        for var in self.states:
            value = initial.get(var.name) if isinstance(var.initial, cs.MX) else None
            if value is not None and ((value < var.lower) | (value > var.upper)).any():
                raise ValueError(f"parameters: with these values the initial value of {var.name!r} "
                                 f"({np.asarray(value).ravel().tolist()}) lies outside its bounds")
        constraints = [c for c in self.path_constraints if c.checked_per_solve]
        if not constraints:
            return
        values = self._fixed_values(initial)
        values.update({hash(v.symbol): parameters[v.name] for v in self.parameters})
        for con in constraints:
            _refuse_violated(con, values, np.ones(con.lower.size, dtype=bool),
                             f"it at t0={self.t0} for these parameter values")

    def __repr__(self) -> str:
        parts = ", ".join(f"{v.kind} {v.name}{list(v.shape)}" for v in self.declarations)
        tf = "free" if self.free_time else self._tf_value
        return f"OCP(t0={self.t0}, tf={tf}; {parts})"

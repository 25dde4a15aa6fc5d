"""Bad input to the OCP (declarations, dynamics, initial values, bounds, FreeTime, costs, constraints, regularisation)
gets a clear ValueError or TypeError naming the argument.

Each case checks the exception type and the argument named in the message (see tests/helpers.py). The
property-based tests at the end draw malformed and well-formed shapes and values from the same strategies and
require an error exactly for the malformed ones.
"""

from __future__ import annotations

import math

import casadi as cs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import occontrol as oc
from helpers import (ARG_ERRORS, ARRAY_SHAPES, FINITE, INF, IPOPT, NAN, PROPERTY, SIZES, SPECIAL, _constant_shapes,
                     _foreign, _values, lq)


# ----------------------------------------------------------------- dynamics
def test_dynamics_for_a_state_of_another_ocp():
    ocp, _, u = lq()
    other = oc.OCP()
    y = other.state("y")
    with pytest.raises(ValueError, match=r"dynamics x: expected a symbol declared by this OCP"):
        ocp.dynamics(y, u)


def test_dynamics_for_an_undeclared_symbol():
    ocp = oc.OCP()
    ocp.state("x")
    with pytest.raises(ValueError, match=r"dynamics x: expected a symbol declared by this OCP"):
        ocp.dynamics(cs.MX.sym("x"), 1.0)


@pytest.mark.parametrize("kind", ["control", "variable"])
def test_dynamics_for_a_non_state(kind):
    ocp = oc.OCP()
    ocp.state("x")
    sym = getattr(ocp, kind)("v")
    with pytest.raises(ValueError, match=rf"dynamics x: expected a state, got the {kind} 'v'"):
        ocp.dynamics(sym, 1.0)


def test_dynamics_for_an_expression_not_a_symbol():
    ocp = oc.OCP()
    x = ocp.state("x")
    with pytest.raises(ValueError, match=r"dynamics x: expected a symbol declared by this OCP"):
        ocp.dynamics(2 * x, 1.0)


@pytest.mark.parametrize("x", ["x", None, 1.0])
def test_dynamics_x_not_a_symbol(x):
    ocp = oc.OCP()
    ocp.state("x")
    with pytest.raises(ValueError, match=r"dynamics x: expected a symbol declared by this OCP"):
        ocp.dynamics(x, 1.0)


def test_repeated_dynamics():
    ocp, x, u = lq()
    with pytest.raises(ValueError, match=r"dynamics: state 'x' already has dynamics"):
        ocp.dynamics(x, -u)


@pytest.mark.parametrize("rhs", [cs.MX.ones(3), cs.MX.ones(1, 2), [1.0, 2.0, 3.0]])
def test_dynamics_rhs_of_the_wrong_shape(rhs):
    ocp = oc.OCP()
    z = ocp.state("z", 2)
    with pytest.raises(ValueError, match=r"dynamics rhs: expected shape \(2, 1\) for state 'z'"):
        ocp.dynamics(z, rhs)


@pytest.mark.parametrize("rhs, error, match", [
    ("x", TypeError, "dynamics rhs: expected a CasADi expression or numbers"),
    (None, TypeError, "dynamics rhs: expected a CasADi expression or numbers"),
    (True, TypeError, "dynamics rhs: expected a CasADi expression, got the boolean"),
    (NAN, ValueError, "dynamics rhs: contains NaN"),
    (INF, ValueError, "dynamics rhs: contains inf"),
    (cs.SX.sym("s"), TypeError, r"dynamics rhs: expected an expression of the OCP's symbols \(CasADi MX\)"),
])
def test_dynamics_rhs_not_an_expression(rhs, error, match):
    ocp = oc.OCP()
    x = ocp.state("x")
    with pytest.raises(error, match=match):
        ocp.dynamics(x, rhs)


def test_dynamics_rhs_with_nan_inside_an_expression():
    ocp = oc.OCP()
    x = ocp.state("x")
    with pytest.raises(ValueError, match=r"dynamics rhs: contains NaN"):
        ocp.dynamics(x, x * NAN + 1)


def test_dynamics_rhs_may_use_inf_inside_an_expression():
    ocp = oc.OCP()
    x = ocp.state("x")
    ocp.dynamics(x, cs.fmin(-x, INF))  # meaningful: no error


@pytest.mark.parametrize("entry", ["solve", "discretize"])
def test_state_without_dynamics(entry, no_graph):
    ocp, _, _ = lq()
    ocp.state("v", 2)
    call = (lambda: oc.solve(ocp, grid=4, solver=IPOPT)) if entry == "solve" else \
        (lambda: oc.discretize(ocp, grid=4))
    with pytest.raises(ValueError, match=r"dynamics: no dynamics given for state\(s\) 'v'"):
        call()


def test_ocp_without_states(no_graph):
    ocp = oc.OCP()
    ocp.control("u")
    with pytest.raises(ValueError, match=r"ocp: declare at least one state"):
        oc.solve(ocp, grid=4, solver=IPOPT)


# ------------------------------------------------------------ declarations
@pytest.mark.parametrize("name", ["1x", "x y", "", None, 3])
def test_bad_variable_name(name):
    with pytest.raises(ValueError, match=r"name: expected a Python identifier string"):
        oc.OCP().state(name)


def test_duplicate_variable_name():
    ocp = oc.OCP()
    ocp.state("x")
    with pytest.raises(ValueError, match=r"name: a variable called 'x' is already declared"):
        ocp.control("x")


@pytest.mark.parametrize("shape, error", [
    (0, ValueError), (-1, ValueError), ((2, 0), ValueError), (2.0, TypeError), (True, TypeError),
    ((2,), TypeError), ((1, 2, 3), TypeError), ([2, 3], TypeError), ("2", TypeError),
])
def test_bad_state_shape(shape, error):
    with pytest.raises(error, match=r"state 'x' shape"):
        oc.OCP().state("x", shape)


@pytest.mark.parametrize("kind", ["control", "variable"])
def test_only_states_may_be_matrices(kind):
    with pytest.raises(ValueError, match=rf"shape: only states may be matrices, got {kind} 'v'"):
        getattr(oc.OCP(), kind)("v", (2, 2))


@pytest.mark.parametrize("t0, tf, error, match", [
    (0.0, 0.0, ValueError, r"tf: expected a final time > t0"),
    (1.0, 0.5, ValueError, r"tf: expected a final time > t0"),
    (0.0, NAN, ValueError, r"tf: expected a finite number"),
    (0.0, INF, ValueError, r"tf: expected a finite number"),
    (0.0, "1", TypeError, r"tf: expected a real number"),
    (NAN, 1.0, ValueError, r"t0: expected a finite number"),
    (None, 1.0, TypeError, r"t0: expected a real number"),
])
def test_bad_horizon(t0, tf, error, match):
    with pytest.raises(error, match=match):
        oc.OCP(t0=t0, tf=tf)


# ---------------------------------------------------------- initial values
@pytest.mark.parametrize("shape, value", [
    (1, [1.0, 2.0]),
    (3, [1.0, 2.0]),
    (3, np.zeros((3, 2))),
    ((2, 3), np.zeros((3, 2))),
    ((2, 3), np.zeros((6, 1))),
    ((2, 3), np.zeros(5)),
    ((2, 3), np.zeros((2, 3, 1))),
    (2, []),
])
def test_initial_value_of_the_wrong_shape(shape, value):
    ocp = oc.OCP()
    x = ocp.state("x", shape)
    with pytest.raises(ValueError, match=r"initial value of 'x': expected shape .* got shape"):
        ocp.initial(x, value)


@pytest.mark.parametrize("value, match", [
    ([1.0, NAN], "contains NaN"), ([INF, 0.0], "contains inf"), ([0.0, -INF], "contains inf"),
    (NAN, "contains NaN"),
])
def test_initial_value_not_finite(value, match):
    ocp = oc.OCP()
    x = ocp.state("x", 2)
    with pytest.raises(ValueError, match=rf"initial value of 'x': {match}"):
        ocp.initial(x, value)


@pytest.mark.parametrize("value", ["1", None, [[1.0, 2.0], [3.0]], [1j, 2.0], cs.MX.sym("q", 2), {1: 2}])
def test_initial_value_not_numbers(value):
    ocp = oc.OCP()
    x = ocp.state("x", 2)
    with pytest.raises(TypeError, match=r"initial value of 'x': expected a number or an array of numbers"):
        ocp.initial(x, value)


def test_initial_value_too_large_for_a_float():
    ocp = oc.OCP()
    x = ocp.state("x")
    with pytest.raises(ValueError, match=r"initial value of 'x': a number is too large"):
        ocp.initial(x, 10 ** 400)


@pytest.mark.parametrize("kind", ["control", "variable"])
def test_initial_value_of_a_non_state(kind):
    ocp = oc.OCP()
    v = getattr(ocp, kind)("v")
    with pytest.raises(ValueError, match=rf"initial x: expected a state, got the {kind} 'v'"):
        ocp.initial(v, 0.0)


def test_initial_value_outside_the_bounds(no_graph):
    ocp, x, _ = lq()
    ocp.bounds(x, lower=2.0)
    with pytest.raises(ValueError, match=r"initial value of 'x' lies outside its bounds"):
        oc.solve(ocp, grid=4, solver=IPOPT)


# ------------------------------------------------------------------ bounds
@pytest.mark.parametrize("kind", ["state", "control", "variable"])
def test_lower_above_upper_in_declaration(kind):
    with pytest.raises(ValueError, match=r"v bounds: lower bound 1.0 exceeds upper bound 0.0 at index \(1, 0\)"):
        getattr(oc.OCP(), kind)("v", 2, lower=[0.0, 1.0], upper=[1.0, 0.0])


@pytest.mark.parametrize("kind", ["state", "control", "variable"])
def test_lower_above_upper_in_bounds(kind):
    ocp = oc.OCP()
    v = getattr(ocp, kind)("v", 3)
    with pytest.raises(ValueError, match=r"v bounds: lower bound 2.0 exceeds upper bound -1.0"):
        ocp.bounds(v, lower=2.0, upper=[3.0, -1.0, 4.0])


@pytest.mark.parametrize("lower, upper, error, match", [
    ([0.0, NAN], None, ValueError, r"v lower: contains NaN"),
    (None, NAN, ValueError, r"v upper: contains NaN"),
    (INF, None, ValueError, r"v lower: inf admits no value"),
    (None, -INF, ValueError, r"v upper: -inf admits no value"),
    ([0.0, 1.0, 2.0], None, ValueError, r"v lower: expected shape \(2, 1\)"),
    (None, np.zeros((2, 2)), ValueError, r"v upper: expected shape \(2, 1\)"),
    ("0", None, TypeError, r"v lower: expected a number or an array of numbers"),
    (None, [None, 1.0], ValueError, r"v upper: contains NaN \(or None\)"),
])
def test_bad_bound_values(lower, upper, error, match):
    with pytest.raises(error, match=match):
        oc.OCP().control("v", 2, lower=lower, upper=upper)
    ocp = oc.OCP()
    v = ocp.state("v", 2)
    with pytest.raises(error, match=match):
        ocp.bounds(v, lower=lower, upper=upper)


def test_infinite_bounds_in_the_right_direction_are_fine():
    ocp = oc.OCP()
    v = ocp.state("v", 2, lower=[-INF, 0.0], upper=[INF, INF])
    ocp.bounds(v, lower=-INF, upper=[1.0, INF])


def test_bounds_on_a_symbol_of_another_ocp():
    ocp, _, _ = lq()
    y = oc.OCP().state("y")
    with pytest.raises(ValueError, match=r"bounds symbol: expected a symbol declared by this OCP"):
        ocp.bounds(y, lower=0.0)


# ---------------------------------------------------------------- FreeTime
@pytest.mark.parametrize("kwargs, error, match", [
    ({"guess": NAN}, ValueError, r"FreeTime.guess: expected a finite number"),
    ({"guess": INF}, ValueError, r"FreeTime.guess: expected a finite number"),
    ({"lower": NAN}, ValueError, r"FreeTime.lower: expected a finite number"),
    ({"lower": -INF}, ValueError, r"FreeTime.lower: expected a finite number"),
    ({"upper": NAN}, ValueError, r"FreeTime.upper: expected a number or inf"),
    ({"upper": "3"}, TypeError, r"FreeTime.upper: expected a number or inf"),
    ({"upper": True}, TypeError, r"FreeTime.upper: expected a number or inf"),
    ({"guess": "1"}, TypeError, r"FreeTime.guess: expected a real number"),
    ({"guess": 1.0, "lower": 2.0, "upper": 1.0}, ValueError, r"FreeTime: lower=2.0 exceeds upper=1.0"),
    ({"upper": -INF}, ValueError, r"FreeTime: lower=0.0 exceeds upper=-inf"),
    ({"guess": 5.0, "lower": 0.0, "upper": 2.0}, ValueError, r"FreeTime.guess: expected a value in \[0.0, 2.0\]"),
])
def test_bad_free_time(kwargs, error, match):
    with pytest.raises(error, match=match):
        oc.FreeTime(**kwargs)


@pytest.mark.parametrize("upper", [np.float64(3.0), np.float32(3.0), np.int64(3), 3, INF])
def test_free_time_accepts_numpy_numbers(upper):
    oc.OCP(tf=oc.FreeTime(guess=1.0, lower=0.5, upper=upper))


@pytest.mark.parametrize("free, match", [
    (oc.FreeTime(guess=2.0, lower=0.5), r"tf: FreeTime.lower=0.5 is below t0=1.0"),
    (oc.FreeTime(guess=1.0, lower=1.0), r"tf: FreeTime.guess=1.0 must exceed t0=1.0"),
])
def test_free_time_against_t0(free, match):
    with pytest.raises(ValueError, match=match):
        oc.OCP(t0=1.0, tf=free)


# ------------------------------------------------------------------- costs
@pytest.mark.parametrize("method", ["minimize_integral", "minimize_terminal"])
@pytest.mark.parametrize("make", [
    lambda x: cs.vertcat(x, x),
    lambda x: x * cs.MX.ones(1, 3),
    lambda x: cs.DM([1.0, 2.0]),
    lambda x: np.array([1.0, 2.0]),
    lambda x: [1.0, 2.0],
])
def test_cost_not_scalar(method, make):
    ocp, x, _ = lq()
    with pytest.raises(ValueError, match=rf"{method} expr: a cost must be scalar, got shape"):
        getattr(ocp, method)(make(x))


@pytest.mark.parametrize("method", ["minimize_integral", "minimize_terminal"])
@pytest.mark.parametrize("expr, error, match", [
    ("x", TypeError, r"expected a CasADi expression or numbers, got str"),
    (None, TypeError, r"expected a CasADi expression or numbers, got NoneType"),
    (False, TypeError, r"expected a CasADi expression, got the boolean"),
    (NAN, ValueError, r"contains NaN"),
    (INF, ValueError, r"contains inf"),
    (cs.SX.sym("s"), TypeError, r"expected an expression of the OCP's symbols \(CasADi MX\)"),
])
def test_cost_not_an_expression(method, expr, error, match):
    ocp, _, _ = lq()
    with pytest.raises(error, match=rf"{method} expr: {match}"):
        getattr(ocp, method)(expr)


def test_cost_with_nan_inside_an_expression():
    ocp, x, u = lq()
    with pytest.raises(ValueError, match=r"minimize_integral expr: contains NaN"):
        ocp.minimize_integral(x ** 2 + NAN * u)


def test_terminal_cost_depending_on_a_control():
    ocp, x, u = lq()
    with pytest.raises(ValueError, match=r"minimize_terminal expr: may not depend on the control 'u'"):
        ocp.minimize_terminal(x ** 2 + u)


def test_terminal_cost_depending_on_time():
    ocp, x, _ = lq()
    with pytest.raises(ValueError, match=r"minimize_terminal expr: the time symbol t may not appear here"):
        ocp.minimize_terminal(x * ocp.t)


# ---------------------------------------------------- symbols of another OCP
@pytest.mark.parametrize("use, match", [
    (lambda ocp, x, u, f: ocp.dynamics(ocp.state("z"), f[1]), r"dynamics rhs: uses the symbol 'y'"),
    (lambda ocp, x, u, f: ocp.dynamics(ocp.state("z"), f[2] + u), r"dynamics rhs: uses the symbol 'w'"),
    (lambda ocp, x, u, f: ocp.minimize_integral(x * f[3]), r"minimize_integral expr: uses the symbol 'q'"),
    (lambda ocp, x, u, f: ocp.minimize_integral(f[0].t * x), r"minimize_integral expr: uses the symbol 't'"),
    (lambda ocp, x, u, f: ocp.minimize_terminal(f[1] ** 2), r"minimize_terminal expr: uses the symbol 'y'"),
    (lambda ocp, x, u, f: ocp.minimize_terminal(f[0].tf_symbol * x),
     r"minimize_terminal expr: uses the symbol 'tf'"),
    (lambda ocp, x, u, f: ocp.subject_to(x + f[2] <= 1), r"subject_to constraint: uses the symbol 'w'"),
    (lambda ocp, x, u, f: ocp.subject_to_terminal(f[1] == x), r"subject_to_terminal constraint: uses the symbol 'y'"),
    (lambda ocp, x, u, f: ocp.minimize_integral(cs.MX.sym("loose") * x), r"uses the symbol 'loose'"),
])
def test_symbol_of_another_ocp_in_expressions(use, match):
    ocp, x, u = lq()
    foreign = r", which is not declared by this OCP \(a symbol from another OCP\?\)"
    with pytest.raises(ValueError, match=match + foreign):
        use(ocp, x, u, _foreign())


@pytest.mark.parametrize("method, which, kwargs, argument", [
    ("initial", 1, {"value": 0.0}, "initial x"),     # the state y
    ("bounds", 2, {"lower": 0.0}, "bounds symbol"),  # the control w
    ("regularize", 2, {"l2": 1.0}, "regularize u"),  # the control w
])
def test_symbol_of_another_ocp_as_argument(method, which, kwargs, argument):
    ocp, _, _ = lq()
    with pytest.raises(ValueError, match=rf"^{argument}: expected a symbol declared by this OCP"):
        getattr(ocp, method)(_foreign()[which], **kwargs)


# ------------------------------------------------------------- constraints
@pytest.mark.parametrize("method", ["subject_to", "subject_to_terminal"])
@pytest.mark.parametrize("make, error, match", [
    (lambda x: x - 1, ValueError, r"expected a comparison \(==, <=, >=\), got"),
    (lambda x: x != 1, ValueError, r"expected a comparison \(==, <=, >=\), got"),
    (lambda x: cs.logic_and(x <= 1, x >= 0), ValueError, r"expected a comparison"),
    (lambda x: cs.MX(1.0) <= 2.0, ValueError, r"expected a comparison"),
    (lambda x: True, TypeError, r"expected a CasADi comparison such as x <= 1 or x == 0, got True"),
    (lambda x: x is not None, TypeError, r"expected a CasADi comparison .* got True"),
    (lambda x: np.bool_(False), TypeError, r"expected a CasADi comparison"),
    (lambda x: "x <= 1", TypeError, r"expected a CasADi comparison"),
    (lambda x: None, TypeError, r"expected a CasADi comparison"),
    (lambda x: cs.DM(1.0) <= 2.0, TypeError, r"expected a CasADi comparison"),
    (lambda x: cs.SX.sym("s") <= 1, TypeError, r"expected a CasADi comparison"),
    (lambda x: x <= NAN, ValueError, r"contains NaN or a non-finite constant side"),
    (lambda x: x >= NAN, ValueError, r"contains NaN or a non-finite constant side"),
    (lambda x: x <= INF, ValueError, r"contains NaN or a non-finite constant side"),
    (lambda x: x >= -INF, ValueError, r"contains NaN or a non-finite constant side"),
    (lambda x: x == cs.DM([INF]), ValueError, r"contains NaN or a non-finite constant side"),
    (lambda x: x + NAN <= 1, ValueError, r"contains NaN or a non-finite constant side"),
])
def test_constraint_not_a_comparison(method, make, error, match):
    ocp, x, _ = lq()
    with pytest.raises(error, match=rf"{method} constraint: {match}"):
        getattr(ocp, method)(make(x))


def test_terminal_constraint_on_a_control():
    ocp, _, u = lq()
    with pytest.raises(ValueError, match=r"subject_to_terminal constraint: may not depend on the control 'u'"):
        ocp.subject_to_terminal(u == 0)


def test_comparisons_are_fine():
    ocp, x, u = lq()
    ocp.subject_to(x <= 3)
    ocp.subject_to(u >= -1)
    ocp.subject_to(x + u == 0)
    ocp.subject_to_terminal(x >= 0)
    ocp.subject_to(cs.fmin(x, INF) <= 5)  # inf inside an expression is meaningful


# ------------------------------------------------------------ regularisation
@pytest.mark.parametrize("kwargs, error, match", [
    ({"l2": -1.0}, ValueError, r"regularize l2: expected a number >= 0.0, got -1.0"),
    ({"h1": -1e-9}, ValueError, r"regularize h1: expected a number >= 0.0"),
    ({"l2": NAN}, ValueError, r"regularize l2: expected a finite number"),
    ({"h1": INF}, ValueError, r"regularize h1: expected a finite number"),
    ({"l2": "1"}, TypeError, r"regularize l2: expected a real number"),
    ({"h1": None}, TypeError, r"regularize h1: expected a real number"),
    ({"l2": np.array([1.0])}, TypeError, r"regularize l2: expected a real number"),
])
def test_bad_regularization_weights(kwargs, error, match):
    ocp, _, u = lq()
    with pytest.raises(error, match=match):
        ocp.regularize(u, **kwargs)


@pytest.mark.parametrize("kind", ["state", "variable"])
def test_regularize_a_non_control(kind):
    ocp = oc.OCP()
    v = getattr(ocp, kind)("v")
    with pytest.raises(ValueError, match=rf"regularize u: expected a control, got the {kind} 'v'"):
        ocp.regularize(v, l2=1.0)


def test_regularize_twice():
    ocp, _, u = lq()
    ocp.regularize(u, l2=1.0)
    with pytest.raises(ValueError, match=r"regularize: control 'u' is already regularised"):
        ocp.regularize(u, h1=1.0)


# =================================================== property-based tests
@st.composite
def state_and_value_shape(draw):
    shape = (draw(SIZES), draw(SIZES))
    well = sorted(_constant_shapes(shape))
    arr_shape = draw(st.one_of(st.sampled_from(well), ARRAY_SHAPES))
    return shape, arr_shape


@PROPERTY
@given(state_and_value_shape(), FINITE)
def test_property_initial_value_shapes(shapes, offset):
    shape, arr_shape = shapes
    value = _values(arr_shape, offset)
    ocp = oc.OCP()
    x = ocp.state("x", shape)
    if arr_shape in _constant_shapes(shape):
        ocp.initial(x, value)
        assert ocp.declared(x).initial.shape == shape
    else:
        with pytest.raises(ValueError, match=r"^initial value of 'x': expected shape"):
            ocp.initial(x, value)


@PROPERTY
@given(SIZES, SIZES, st.data())
def test_property_non_finite_initial_values(rows, cols, data):
    n = rows * cols
    value = np.array(data.draw(st.lists(FINITE, min_size=n, max_size=n)))
    positions = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True))
    value[positions] = [data.draw(SPECIAL) for _ in positions]
    ocp = oc.OCP()
    x = ocp.state("x", (rows, cols))
    with pytest.raises(ValueError, match=r"^initial value of 'x': contains (NaN|inf)"):
        ocp.initial(x, value.reshape((rows, cols), order="F"))


def _set_bounds(kind: str, n: int, lower: np.ndarray, upper: np.ndarray, declare: bool) -> None:
    """Bounds given in the declaration, or later through ocp.bounds."""
    ocp = oc.OCP()
    if declare:
        getattr(ocp, kind)("v", n, lower=lower, upper=upper)
    else:
        ocp.bounds(getattr(ocp, kind)("v", n), lower=lower, upper=upper)


@PROPERTY
@given(SIZES, st.sampled_from(["state", "control", "variable"]), st.data())
def test_property_bounds(n, kind, data):
    entries = st.one_of(FINITE, SPECIAL)
    lower = np.array(data.draw(st.lists(entries, min_size=n, max_size=n)))
    upper = np.array(data.draw(st.lists(entries, min_size=n, max_size=n)))
    malformed = (np.isnan(lower).any() or np.isnan(upper).any() or (lower == INF).any()
                 or (upper == -INF).any() or (lower > upper).any())
    for declare in (True, False):
        if malformed:
            with pytest.raises(ValueError, match=r"^v (lower|upper|bounds): "):
                _set_bounds(kind, n, lower, upper, declare)
        else:
            _set_bounds(kind, n, lower, upper, declare)


@PROPERTY
@given(st.one_of(FINITE, SPECIAL), st.one_of(FINITE, SPECIAL), st.one_of(FINITE, SPECIAL))
def test_property_free_time(guess, lower, upper):
    well = (math.isfinite(guess) and math.isfinite(lower) and not math.isnan(upper)
            and lower <= guess <= upper)
    if well:
        free = oc.FreeTime(guess=guess, lower=lower, upper=upper)
        assert free.lower <= free.guess <= free.upper
    else:
        with pytest.raises(ValueError, match=r"^FreeTime"):
            oc.FreeTime(guess=guess, lower=lower, upper=upper)


DYN_ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(), st.text(max_size=2),
                         st.lists(st.floats(), max_size=4), st.sampled_from(["x", "u", "x+u", "sx", "vec3"]))


@PROPERTY
@given(DYN_ANYTHING, st.sampled_from(["dynamics", "minimize_integral", "minimize_terminal",
                                      "subject_to", "subject_to_terminal"]))
def test_property_expression_arguments_never_leak_other_errors(value, method):
    """Whatever is passed where an expression goes: it is accepted or refused with
    ValueError/TypeError naming the argument, never a CasADi or numpy error."""
    ocp = oc.OCP()
    x = ocp.state("x", 2)
    u = ocp.control("u")
    named = {"x": x, "u": u, "x+u": x + u, "sx": cs.SX.sym("s"), "vec3": cs.MX.ones(3)}
    value = named.get(value, value) if isinstance(value, str) else value
    call = (lambda: ocp.dynamics(x, value)) if method == "dynamics" else (lambda: getattr(ocp, method)(value))
    try:
        call()
    except ARG_ERRORS as exc:
        assert str(exc).startswith(method)

"""Bad input gets a clear ValueError or TypeError, naming the argument, before any NLP is built.

Issue 2, section 5. Each case checks the exception type and that the message
names the offending argument (``pytest.raises(..., match=...)``). Errors that
can only surface in ``solve``/``discretize`` run with ``casadi.nlpsol`` (and,
where the error concerns the OCP, the grid or the transcription,
``Transcription.discretize`` too) replaced by a function that fails the test,
so "before any NLP is built" is checked, not assumed. The property-based tests
at the end draw malformed and well-formed shapes and values from the same
strategies and require an error exactly for the malformed ones.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from unittest import mock

import casadi as cs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import occontrol as oc
from occontrol.grid import as_grid
from occontrol.transcription.discrete import Transcription

# Built once, before any test patches casadi.nlpsol: Ipopt() checks its options with a toy nlpsol.
IPOPT = oc.Ipopt()
NAN, INF = float("nan"), float("inf")
ARG_ERRORS = (ValueError, TypeError)


# ----------------------------------------------------------------- helpers
def lq() -> tuple[oc.OCP, cs.MX, cs.MX]:
    """min int x^2 + u^2, x' = u, x(0) = 1: a complete, valid problem."""
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u", lower=-2.0, upper=2.0)
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2 + u ** 2)
    return ocp, x, u


def mixed() -> tuple[oc.OCP, dict[str, cs.MX]]:
    """A vector state, a matrix state, a control and a parameter."""
    ocp = oc.OCP(t0=0.0, tf=2.0)
    x = ocp.state("x", 2)
    M = ocp.state("M", (2, 3))
    u = ocp.control("u")
    p = ocp.parameter("p", lower=0.0, upper=5.0)
    ocp.dynamics(x, cs.vertcat(x[1], u))
    ocp.dynamics(M, -p * M)
    ocp.initial(x, [1.0, 0.0])
    ocp.minimize_integral(cs.sumsqr(x) + u ** 2 + cs.sumsqr(M))
    ocp.minimize_terminal((p - 1) ** 2)
    return ocp, {"x": x, "M": M, "u": u, "p": p}


def _nlpsol_forbidden(*args, **kwargs):
    raise AssertionError("casadi.nlpsol was called: the error must come before any NLP is built")


def _discretize_forbidden(*args, **kwargs):
    raise AssertionError("Transcription.discretize was called: the error must come before the NLP graph")


@contextmanager
def nlp_forbidden(graph_too: bool = False):
    """Fail if an NLP solver is created (and, with ``graph_too``, if an NLP graph is built)."""
    with mock.patch.object(cs, "nlpsol", _nlpsol_forbidden):
        if graph_too:
            with mock.patch.object(Transcription, "discretize", _discretize_forbidden):
                yield
        else:
            yield


@pytest.fixture
def no_nlp():
    with nlp_forbidden():
        yield


@pytest.fixture
def no_graph():
    with nlp_forbidden(graph_too=True):
        yield


@pytest.fixture(scope="module")
def lq_solution():
    ocp, x, u = lq()
    sol = oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT)
    assert sol.success
    return ocp, x, u, sol


def test_guards_catch_nlp_construction(no_graph):
    """The guards themselves work: a valid solve trips them."""
    ocp, _, _ = lq()
    with pytest.raises(AssertionError, match="discretize was called"):
        oc.solve(ocp, grid=4, solver=IPOPT)


def test_nlpsol_guard_catches_solver_creation(no_nlp):
    ocp, _, _ = lq()
    with pytest.raises(AssertionError, match="nlpsol was called"):
        oc.solve(ocp, grid=4, solver=IPOPT)


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


@pytest.mark.parametrize("kind", ["control", "parameter"])
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


@pytest.mark.parametrize("kind", ["control", "parameter"])
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


@pytest.mark.parametrize("kind", ["control", "parameter"])
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
@pytest.mark.parametrize("kind", ["state", "control", "parameter"])
def test_lower_above_upper_in_declaration(kind):
    with pytest.raises(ValueError, match=r"v bounds: lower bound 1.0 exceeds upper bound 0.0 at index \(1, 0\)"):
        getattr(oc.OCP(), kind)("v", 2, lower=[0.0, 1.0], upper=[1.0, 0.0])


@pytest.mark.parametrize("kind", ["state", "control", "parameter"])
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


# -------------------------------------------------------------------- grid
@pytest.mark.parametrize("N, error", [
    (0, ValueError), (-1, ValueError), (-100, ValueError),
    (2.5, TypeError), (2.0, TypeError), (True, TypeError), (False, TypeError), ("4", TypeError),
    (None, TypeError), ([0.0, 0.5, 1.0], TypeError), (np.float64(3.0), TypeError),
])
def test_bad_N(N, error, no_graph):
    ocp, _, _ = lq()
    with pytest.raises(error, match=r"^grid: expected .*N >= 1"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=N, solver=IPOPT)
    with pytest.raises(error, match=r"^grid: expected .*N >= 1"):
        oc.discretize(ocp, grid=N)


@pytest.mark.parametrize("N, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)])
def test_bad_uniform_grid(N, error):
    with pytest.raises(error, match=r"^N: expected an integer >= 1"):
        oc.Grid.uniform_grid(N)


@pytest.mark.parametrize("nodes, match", [
    ([0.0, 1.0, 1.0, 2.0], r"nodes: expected strictly increasing nodes"),
    ([2.0, 1.0, 0.0], r"nodes: expected strictly increasing nodes"),
    ([0.0, 2.0, 1.0, 3.0], r"nodes: expected strictly increasing nodes"),
    ([0.0], r"nodes: expected a 1-D array of at least 2 nodes"),
    ([], r"nodes: expected a 1-D array of at least 2 nodes"),
    (1.0, r"nodes: expected a 1-D array of at least 2 nodes"),
    ([[0.0, 1.0], [2.0, 3.0]], r"nodes: expected a 1-D array of at least 2 nodes"),
    ([0.0, NAN, 1.0], r"nodes: contains NaN"),
    ([0.0, 1.0, INF], r"nodes: contains inf"),
    ([-INF, 0.0, 1.0], r"nodes: contains inf"),
    ([-1e308, 0.0, 1e308], r"nodes: spacing not representable"),
    ([-1e16, 0.0, 1e-300], r"nodes: spacing not representable"),
])
def test_bad_grid_nodes(nodes, match):
    with pytest.raises(ValueError, match=match):
        oc.Grid(nodes)


@pytest.mark.parametrize("nodes", ["abc", None, [0.0, "a"]])
def test_grid_nodes_not_numbers(nodes):
    with pytest.raises(TypeError, match=r"nodes: expected a number or an array of numbers"):
        oc.Grid(nodes)


@pytest.mark.parametrize("factor, error", [(0, ValueError), (1.5, TypeError)])
def test_bad_refinement_factor(factor, error):
    with pytest.raises(error, match=r"factor: expected an integer >= 1"):
        oc.Grid([0.0, 1.0, 3.0]).refined(factor)


# ----------------------------------------------------------- transcriptions
@pytest.mark.parametrize("kwargs, error, match", [
    ({"scheme": "gauss"}, ValueError, r"scheme: expected one of 'radau', 'legendre', got 'gauss'"),
    ({"scheme": None}, ValueError, r"scheme: expected one of"),
    ({"scheme": np.array(["radau"])}, ValueError, r"scheme: expected one of"),
    ({"degree": 0}, ValueError, r"degree: expected an integer >= 1, got 0"),
    ({"degree": 6}, ValueError, r"degree: expected 1 to 5, got 6"),
    ({"degree": -2}, ValueError, r"degree: expected an integer >= 1"),
    ({"degree": 2.0}, TypeError, r"degree: expected an integer >= 1"),
    ({"degree": True}, TypeError, r"degree: expected an integer >= 1"),
    ({"controls": "quadratic"}, ValueError, r"controls: expected one of 'constant', 'linear'"),
    ({"expand": "yes"}, TypeError, r"expand: expected True or False"),
])
def test_bad_collocation(kwargs, error, match):
    with pytest.raises(error, match=match):
        oc.Collocation(**kwargs)


@pytest.mark.parametrize("cls", [oc.ExplicitEuler, oc.Heun, oc.RK4])
@pytest.mark.parametrize("kwargs, error, match", [
    ({"shooting": "double"}, ValueError, r"shooting: expected one of 'multiple', 'single', got 'double'"),
    ({"shooting": None}, ValueError, r"shooting: expected one of"),
    ({"controls": "cubic"}, ValueError, r"controls: expected one of 'constant', 'linear', got 'cubic'"),
    ({"controls": ["constant"]}, ValueError, r"controls: expected one of"),
    ({"expand": 1}, TypeError, r"expand: expected True or False"),
])
def test_bad_runge_kutta_options(cls, kwargs, error, match):
    with pytest.raises(error, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("tableau", ["rk4", None, oc.RK4()])
def test_explicit_runge_kutta_needs_a_tableau(tableau):
    with pytest.raises(TypeError, match=r"tableau: expected an oc.ButcherTableau"):
        oc.ExplicitRungeKutta(tableau)


@pytest.mark.parametrize("A, b, c, match", [
    (((0.5,),), (1.0,), (0.5,), r"tableau A: an explicit scheme needs a strictly lower-triangular A"),
    (((0.0, 0.0), (1.0, 0.5)), (0.5, 0.5), (0.0, 1.0), r"tableau A: .*strictly lower-triangular"),
    (((0.0, 0.5), (0.0, 0.0)), (0.5, 0.5), (0.0, 1.0), r"tableau A: .*strictly lower-triangular"),
    (((0.0, 0.0), (1.0, 0.0)), (0.5, 0.6), (0.0, 1.0), r"tableau b: weights must sum to 1"),
    (((0.0, 0.0), (1.0, 0.0)), (0.5, 0.4), (0.0, 1.0), r"tableau b: weights must sum to 1"),
    (((0.0, 0.0), (1.0, 0.0)), (0.5, 0.5), (0.0,), r"tableau: expected A of shape \(2, 2\) and c of length 2"),
    (((0.0, 0.0), (NAN, 0.0)), (0.5, 0.5), (0.0, 1.0), r"tableau: entries must be finite"),
    ((), (), (), r"tableau b: expected a non-empty vector of weights"),
])
def test_bad_butcher_tableau(A, b, c, match):
    with pytest.raises(ValueError, match=match):
        oc.ButcherTableau(A=A, b=b, c=c)


@pytest.mark.parametrize("transcription", ["rk4", oc.RK4, 1, oc.Ipopt()])
def test_transcription_of_the_wrong_type(transcription, no_graph):
    ocp, _, _ = lq()
    with pytest.raises(TypeError, match=r"transcription: expected a transcription such as oc.RK4\(\)"):
        oc.solve(ocp, transcription, grid=4, solver=IPOPT)
    with pytest.raises(TypeError, match=r"transcription: expected a transcription"):
        oc.discretize(ocp, transcription, grid=4)


def test_ocp_of_the_wrong_type(no_graph):
    with pytest.raises(TypeError, match=r"ocp: expected an oc.OCP"):
        oc.solve("ocp", grid=4, solver=IPOPT)


# ------------------------------------------------------------------ solvers
@pytest.mark.parametrize("kwargs, error, match", [
    ({"options": {"no_such_option": 1}}, ValueError, r"options: IPOPT refused .*no_such_option"),
    ({"options": {"mu_strategy": "bogus"}}, ValueError, r"options: IPOPT refused"),
    ({"options": {"tol": "abc"}}, ValueError, r"options: IPOPT refused"),
    ({"options": [("tol", 1e-6)]}, TypeError, r"options: expected a mapping of IPOPT option names"),
    ({"hessian": "bfgs"}, ValueError, r"hessian: expected one of 'exact', 'limited-memory', got 'bfgs'"),
    ({"hessian": "limited_memory"}, ValueError, r"hessian: expected one of"),
    ({"tol": -1.0}, ValueError, r"tol: expected a positive number"),
    ({"tol": 0.0}, ValueError, r"tol: expected a positive number"),
    ({"tol": NAN}, ValueError, r"tol: expected a finite number"),
    ({"tol": INF}, ValueError, r"tol: expected a finite number"),
    ({"tol": "1e-8"}, TypeError, r"tol: expected a real number"),
    ({"tol": True}, TypeError, r"tol: expected a real number"),
    ({"max_iter": -1}, ValueError, r"max_iter: expected an integer >= 0"),
    ({"max_iter": 2.5}, TypeError, r"max_iter: expected an integer >= 0"),
    ({"max_iter": 100.0}, TypeError, r"max_iter: expected an integer >= 0"),
    ({"max_iter": True}, TypeError, r"max_iter: expected an integer >= 0"),
    ({"max_iter": "10"}, TypeError, r"max_iter: expected an integer >= 0"),
    ({"max_wall_time": 0.0}, ValueError, r"max_wall_time: expected a positive number of seconds"),
    ({"max_wall_time": NAN}, ValueError, r"max_wall_time: expected a finite number"),
    ({"print_level": 13}, ValueError, r"print_level: expected 0 to 12"),
    ({"print_level": -1}, ValueError, r"print_level: expected an integer >= 0"),
    ({"linear_solver": "ma27"}, ValueError, r"linear_solver: expected one of 'mumps', 'spral'"),
])
def test_bad_ipopt_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        oc.Ipopt(**kwargs)


@pytest.mark.parametrize("plugin, options, error, match", [
    ("nope", {}, ValueError, r"plugin: expected an NLP solver CasADi ships"),
    (None, {}, ValueError, r"plugin: expected an NLP solver CasADi ships"),
    ("sqpmethod", 3, TypeError, r"options: expected a mapping"),
])
def test_bad_casadi_solver(plugin, options, error, match):
    with pytest.raises(error, match=match):
        oc.CasadiSolver(plugin, options=options)


@pytest.mark.parametrize("solver", ["ipopt", oc.Ipopt, oc.RK4(), {"tol": 1e-6}])
def test_solver_of_the_wrong_type(solver, no_graph):
    ocp, _, _ = lq()
    with pytest.raises(TypeError, match=r"solver: expected oc.Ipopt\(...\) or oc.CasadiSolver\(...\)"):
        oc.solve(ocp, grid=4, solver=solver)


@pytest.mark.parametrize("hess_lag", [3, "gauss-newton", np.eye(2)])
def test_hess_lag_of_the_wrong_type(hess_lag, no_graph):
    ocp, _, _ = lq()
    with pytest.raises(TypeError, match=r"hess_lag: expected a casadi.Function or a callable"):
        oc.solve(ocp, grid=4, solver=IPOPT, hess_lag=hess_lag)


def test_hess_lag_of_the_wrong_size(no_nlp):
    ocp, _, _ = lq()
    bad = cs.Function("h", [cs.MX.sym("x", 3)], [cs.MX.eye(3)])
    with pytest.raises(ValueError, match=r"hess_lag: expected inputs"):
        oc.solve(ocp, grid=4, solver=IPOPT, hess_lag=bad)


@pytest.mark.parametrize("value, error, match", [
    (1, TypeError, r"warm_start_multipliers: expected True or False"),
    ("yes", TypeError, r"warm_start_multipliers: expected True or False"),
    (True, ValueError, r"warm_start_multipliers: needs a previous Solution as guess"),
])
def test_bad_warm_start_multipliers(value, error, match, no_graph):
    ocp, x, _ = lq()
    with pytest.raises(error, match=match):
        oc.solve(ocp, grid=4, solver=IPOPT, guess={x: 1.0}, warm_start_multipliers=value)


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
def _foreign():
    other = oc.OCP()
    y = other.state("y")
    w = other.control("w")
    q = other.parameter("q")
    return other, y, w, q


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


def test_symbol_of_another_ocp_as_guess_key(no_nlp):
    ocp, x, _ = lq()
    _, y, _, _ = _foreign()
    with pytest.raises(ValueError, match=r"guess key: expected a symbol declared by this OCP"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={x: 1.0, y: 0.0})


@pytest.mark.parametrize("key", ["x", 1, None])
def test_guess_key_not_a_symbol(key, no_nlp):
    ocp, _, _ = lq()
    with pytest.raises(ValueError, match=r"guess key: expected a symbol declared by this OCP"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={key: 1.0})


def test_guess_key_time_symbol(no_nlp):
    ocp, _, _ = lq()
    with pytest.raises(ValueError, match=r"guess key: expected a symbol declared by this OCP"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={ocp.t: 1.0})


def test_solution_of_another_ocp_as_guess(lq_solution, no_nlp):
    *_, sol = lq_solution
    ocp, x, _ = lq()
    with pytest.raises(ValueError, match=r"^guess: expected a Solution of this OCP"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=8, solver=IPOPT, guess=sol)
    with pytest.raises(ValueError, match=r"^guess for 'x': expected a Solution of this OCP"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=8, solver=IPOPT, guess={x: sol})


@pytest.mark.parametrize("method", ["value", "at"])
def test_solution_value_of_another_symbol(method, lq_solution):
    _, x, _, sol = lq_solution
    ocp2, x2, u2 = lq()
    args = (0.5,) if method == "at" else ()
    for bad in (x2, u2, x + 1, "x", ocp2.t):
        with pytest.raises(ValueError, match=rf"{method} symbol: expected a symbol declared by this OCP"):
            getattr(sol, method)(bad, *args)


@pytest.mark.parametrize("t, match", [(NAN, r"at t: contains NaN"), (2.0, r"at t: expected times in"),
                                      (-INF, r"at t: expected times in")])
def test_solution_at_bad_times(t, match, lq_solution):
    _, x, _, sol = lq_solution
    with pytest.raises(ValueError, match=match):
        sol.at(x, t)


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


# ------------------------------------------------------------------ guesses
@pytest.mark.parametrize("name, value, match", [
    ("x", [1.0, 2.0, 3.0], r"got shape \(3,\)"),
    ("x", np.zeros((4, 2)), r"got shape \(4, 2\)"),        # N rows for a state: needs N + 1
    ("x", np.zeros((2, 5)), r"got shape \(2, 5\)"),        # transposed series
    ("x", np.zeros(10), r"got shape \(10,\)"),             # flattened series
    ("x", np.zeros((5, 3)), r"got shape \(5, 3\)"),
    ("M", np.ones((3, 2)), r"got shape \(3, 2\)"),         # transposed constant
    ("M", np.ones((5, 3, 2)), r"got shape \(5, 3, 2\)"),   # transposed per node
    ("M", np.ones((4, 2, 3)), r"got shape \(4, 2, 3\)"),
    ("M", np.ones((5, 2, 3, 1)), r"got shape \(5, 2, 3, 1\)"),
    ("u", np.zeros(3), r"got shape \(3,\)"),
    ("u", np.zeros(6), r"got shape \(6,\)"),
    ("u", np.zeros((5, 2)), r"got shape \(5, 2\)"),
    ("p", np.ones(5), r"a parameter is constant in time.*got shape \(5,\)"),
    ("p", [1.0, 2.0], r"a parameter is constant in time.*got shape \(2,\)"),
])
def test_guess_array_of_the_wrong_shape(name, value, match, no_nlp):
    ocp, sym = mixed()
    with pytest.raises(ValueError, match=rf"guess for '{name}': expected a constant of shape .*{match}"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={sym[name]: value})


def test_guess_with_interval_values_for_linear_controls(no_nlp):
    ocp, sym = mixed()
    with pytest.raises(ValueError, match=r"guess for 'u': .*N \+ 1 node values or N interval values"):
        oc.solve(ocp, oc.ExplicitEuler(controls="linear"), grid=4, solver=IPOPT, guess={sym["u"]: np.zeros(4)})


@pytest.mark.parametrize("name, value, error, match", [
    ("x", [1.0, NAN], ValueError, r"contains NaN"),
    ("x", [INF, 0.0], ValueError, r"contains inf"),
    ("M", np.full((5, 2, 3), -INF), ValueError, r"contains inf"),
    ("u", np.array([0.0, 0.0, NAN, 0.0]), ValueError, r"contains NaN"),
    ("p", NAN, ValueError, r"contains NaN"),
    ("x", lambda t: [t, NAN], ValueError, r"contains NaN"),
    ("x", lambda t: [1.0, 2.0, 3.0], ValueError, r"expected shape \(2, 1\)"),
    ("u", lambda t: "fast", TypeError, r"expected a number or an array of numbers"),
    ("x", "abc", TypeError, r"expected a number or an array of numbers"),
    ("x", [[1.0], [2.0, 3.0]], TypeError, r"expected a number or an array of numbers"),
    ("x", cs.MX.sym("q", 2), TypeError, r"expected a number or an array of numbers"),
])
def test_bad_guess_values(name, value, error, match, no_nlp):
    ocp, sym = mixed()
    with pytest.raises(error, match=rf"guess for '{name}': {match}"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={sym[name]: value})


@pytest.mark.parametrize("guess", [[1.0], (1.0,), {1.0}, 1.0, "x"])
def test_guess_not_a_dict(guess, no_nlp):
    ocp, _, _ = lq()
    with pytest.raises(TypeError, match=r"guess: expected a dict \{symbol: value\} or a Solution"):
        oc.solve(ocp, grid=4, solver=IPOPT, guess=guess)


@pytest.mark.parametrize("tf, error, match", [
    (NAN, ValueError, r"guess for tf: expected a finite number"),
    (INF, ValueError, r"guess for tf: expected a finite number"),
    ("2", TypeError, r"guess for tf: expected a real number"),
    ([2.0], TypeError, r"guess for tf: expected a real number"),
    (0.0, ValueError, r"guess for tf: expected a final time > t0=0.0"),
    (-1.0, ValueError, r"guess for tf: expected a final time > t0=0.0"),
])
def test_bad_final_time_guess(tf, error, match, no_nlp):
    ocp = oc.OCP(t0=0.0, tf=oc.FreeTime(guess=1.0, lower=0.0, upper=10.0))
    x = ocp.state("x")
    ocp.dynamics(x, 1.0)
    ocp.minimize_terminal(ocp.tf)
    with pytest.raises(error, match=match):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={ocp.tf: tf})


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


@pytest.mark.parametrize("kind", ["state", "parameter"])
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
SIZES = st.integers(1, 3)
FINITE = st.floats(-1e3, 1e3, allow_nan=False)
SPECIAL = st.sampled_from([NAN, INF, -INF])
ARRAY_SHAPES = st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple)
PROPERTY = settings(max_examples=50, deadline=None)


def _values(shape: tuple[int, ...], offset: float) -> np.ndarray:
    """Distinct finite entries of a given shape (drawing each one would make examples huge)."""
    return offset + 0.1 * np.arange(int(np.prod(shape)), dtype=float).reshape(shape)


def _value_shape(shape: tuple[int, int]) -> tuple[int, ...]:
    rows, cols = shape
    return () if rows * cols == 1 else (rows,) if cols == 1 else (rows, cols)


def _constant_shapes(shape: tuple[int, int]) -> set[tuple[int, ...]]:
    """Shapes accepted for one value of a symbol: scalar, its shape, its value shape,
    flattened (column-major) and, for a vector, its transpose."""
    ok = {(), shape, _value_shape(shape), (shape[0] * shape[1],)}
    if 1 in shape:
        ok.add(shape[::-1])
    return ok


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
        assert ocp.variable(x).initial.shape == shape
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
@given(SIZES, st.sampled_from(["state", "control", "parameter"]), st.data())
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


N_VALUES = st.one_of(st.integers(-50, 50), st.floats(allow_nan=True), st.booleans(), st.none(),
                     st.text(max_size=3), st.lists(st.integers(0, 3), max_size=3))


@PROPERTY
@given(N_VALUES)
def test_property_N(N):
    well = isinstance(N, int) and not isinstance(N, bool) and N >= 1
    if well:
        assert as_grid(N).N == N
        return
    ocp, _, _ = lq()
    with nlp_forbidden(graph_too=True), pytest.raises(ARG_ERRORS, match=r"^grid: expected"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=N, solver=IPOPT)


@PROPERTY
@given(st.lists(st.one_of(st.floats(-1e6, 1e6, allow_nan=False), SPECIAL), max_size=8))
def test_property_grid_nodes_never_crash(nodes):
    arr = np.array(nodes, dtype=float)
    increasing = (arr.size >= 2 and np.isfinite(arr).all() and bool(np.all(np.diff(arr) > 0)))
    try:
        grid = oc.Grid(nodes)
    except ValueError as exc:
        assert re.match(r"^nodes: ", str(exc))
        # An increasing, finite list can only be refused when its spacing is unrepresentable.
        assert not increasing or "spacing not representable" in str(exc)
        return
    assert increasing
    assert grid.N == arr.size - 1 and np.all(np.diff(grid.tau) > 0)


@PROPERTY
@given(st.floats(-1e3, 1e3), st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=6),
       st.lists(st.integers(0, 6), max_size=3), st.booleans())
def test_property_grid_nodes_increasing_or_not(start, steps, breaks, reverse):
    nodes = start + np.concatenate([[0.0], np.cumsum(steps)])
    for k in breaks:  # repeat or step back at random places
        if k < nodes.size - 1:
            nodes[k + 1] = nodes[k] - (0.0 if k % 2 else 1.0)
    if reverse:
        nodes = nodes[::-1].copy()
    if not np.all(np.diff(nodes) > 0):  # moderate magnitudes: the plain test is the truth here
        with pytest.raises(ValueError, match=r"^nodes: expected strictly increasing nodes"):
            oc.Grid(nodes)
    else:
        grid = oc.Grid(nodes)
        assert grid.N == len(steps)
        problem = oc.discretize(lq()[0], oc.ExplicitEuler(), grid=grid)
        assert problem.N == len(steps)


_PROBLEMS: dict = {}


def _mixed_problem(N: int, controls: str):
    """One DiscreteProblem per (N, controls), shared by the guess properties (building costs ms)."""
    if (N, controls) not in _PROBLEMS:
        ocp, sym = mixed()
        _PROBLEMS[N, controls] = (oc.discretize(ocp, oc.ExplicitEuler(controls=controls), grid=N), sym)
    return _PROBLEMS[N, controls]


def _guess_is_well_formed(arr_shape: tuple[int, ...], var, N: int, controls: str) -> bool:
    shape = var.shape
    if arr_shape in _constant_shapes(shape):
        return True
    if var.kind == "parameter" or not arr_shape:
        return False
    per_step = {shape, _value_shape(shape), (shape[0] * shape[1],)}
    rows = {N + 1} | ({N} if var.kind == "control" and controls == "constant" else set())
    return arr_shape[0] in rows and arr_shape[1:] in per_step


@st.composite
def guess_case(draw):
    N = draw(st.integers(1, 4))
    controls = draw(st.sampled_from(["constant", "linear"]))
    name = draw(st.sampled_from(["x", "M", "u", "p"]))
    problem, sym = _mixed_problem(N, controls)
    var = problem.ocp.variable(sym[name])
    shape = var.shape
    per_step = sorted({shape, _value_shape(shape), (var.size,)})
    well = sorted(_constant_shapes(shape)) + [(rows,) + s for rows in (N, N + 1) for s in per_step]
    # Malformed neighbours: one row too many or few, a transposed step, an extra axis.
    near = [(rows,) + s for rows in (N - 1, N + 2) for s in per_step if rows > 0]
    near += [(N + 1,) + shape[::-1], (N + 1,) + shape + (1,), shape + (2,)]
    arr_shape = draw(st.one_of(st.sampled_from(well), st.sampled_from(near), ARRAY_SHAPES))
    return N, controls, name, arr_shape


@PROPERTY
@given(guess_case(), st.floats(0.0, 5.0))
def test_property_guess_shapes(case, offset):
    N, controls, name, arr_shape = case
    problem, sym = _mixed_problem(N, controls)
    var = problem.ocp.variable(sym[name])
    value = _values(arr_shape, offset)
    if _guess_is_well_formed(arr_shape, var, N, controls):
        w0 = problem.initial_point({sym[name]: value})
        assert w0.shape == problem.lbx.shape and np.isfinite(w0).all()
    else:
        with pytest.raises(ValueError, match=rf"^guess for '{name}': expected a constant of shape"):
            problem.initial_point({sym[name]: value})


@PROPERTY
@given(guess_case(), st.data())
def test_property_non_finite_guesses(case, data):
    N, controls, name, arr_shape = case
    problem, sym = _mixed_problem(N, controls)
    size = int(np.prod(arr_shape))
    value = _values((size,), data.draw(FINITE))
    positions = data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=size, unique=True))
    value[positions] = [data.draw(SPECIAL) for _ in positions]
    with nlp_forbidden(), pytest.raises(ValueError, match=rf"^guess for '{name}': contains (NaN|inf)"):
        oc.solve(problem.ocp, oc.ExplicitEuler(controls=controls), grid=N, solver=IPOPT,
                 guess={sym[name]: value.reshape(arr_shape)})


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

"""Parameters (``ocp.parameter``): values given per solve, checked before any NLP is built.

References: the LQ optimum J* = x0^2 tanh(1) (min int_0^1 x^2 + u^2, x' = u, x(0) = x0), and the same
problem with the value written in as a number, which builds the very same NLP (so the optimum agrees
to rounding); the minimum time 2 / sqrt(a) of x'' = a u, |u| <= 1, from rest at 0 to rest at 1.
"""

from __future__ import annotations

import math

import casadi as cs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import occontrol as oc
from helpers import IPOPT, log_parameter_ocp, nlp_forbidden
from occontrol.fingerprint import problem_fingerprint


def _lq(x0=None):
    """min int x^2 + u^2, x' = u on [0, 1]; x(0) the parameter 'x0', or the number ``x0``."""
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.minimize_integral(x ** 2 + u ** 2)
    if x0 is None:
        p = ocp.parameter("x0")
        ocp.initial(x, p)
        return ocp, x, u, p
    ocp.initial(x, x0)
    return ocp, x, u, None


@pytest.mark.parametrize("x0", [1.0, -2.5])
def test_initial_value_parameter_gives_the_analytic_optimum(x0):
    ocp, _, _, p = _lq()
    sol = oc.solve(ocp, grid=100, parameters={p: x0})
    assert sol.success
    # RK4 with piecewise-constant controls: the objective converges at second order (6e-6 relative at N=100)
    assert sol.objective == pytest.approx(x0 ** 2 * math.tanh(1.0), rel=2e-5)


@pytest.mark.parametrize("transcription", [oc.RK4(), oc.Collocation(degree=3), oc.RK4(controls="linear")],
                         ids=["rk4", "collocation", "rk4-linear"])
@pytest.mark.parametrize("x0", [0.7, 3.0])
def test_parameter_equals_the_number_written_in(transcription, x0):
    ocp, _, _, p = _lq()
    sol = oc.solve(ocp, transcription, grid=20, parameters={p: x0})
    written, *_ = _lq(x0)
    ref = oc.solve(written, transcription, grid=20)
    assert sol.success and ref.success
    assert sol.objective == pytest.approx(ref.objective, abs=1e-10)
    np.testing.assert_allclose(sol.w, ref.w, atol=1e-10)


def test_keys_by_name_and_vector_parameter_in_the_initial_value():
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x", 2)
    u = ocp.control("u", 2)
    q = ocp.parameter("q", 2)
    ocp.dynamics(x, u)
    ocp.initial(x, 2 * q)
    ocp.minimize_integral(cs.sumsqr(x) + cs.sumsqr(u))
    sol = oc.solve(ocp, grid=40, parameters={"q": [0.5, -1.0]})
    assert sol.success
    np.testing.assert_allclose(sol.value(x)[0], [1.0, -2.0])
    # the two entries decouple: each is an LQ problem with its own x0
    assert sol.objective == pytest.approx((1.0 + 4.0) * math.tanh(1.0), rel=1e-4)


def _decay(a=None, c=None):
    """x' = -a x + u, x(0) = 1, min int 10 (x - 2)^2 + u^2 / 10 subject to x <= c; a and c parameters or numbers."""
    ocp = oc.OCP(0.0, 2.0)
    x = ocp.state("x")
    u = ocp.control("u")
    pa = ocp.parameter("a") if a is None else a
    pc = ocp.parameter("c") if c is None else c
    ocp.dynamics(x, -pa * x + u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(10 * (x - 2) ** 2 + 0.1 * u ** 2)
    ocp.subject_to(x, upper=pc)
    return ocp, x, pa, pc


@pytest.mark.parametrize("a, c", [(0.5, 1.3), (2.0, 1.6)])
def test_parameters_in_dynamics_and_constraint_bound(a, c):
    ocp, x, pa, pc = _decay()
    sol = oc.solve(ocp, grid=30, parameters={pa: a, pc: c})
    written, *_ = _decay(a, c)
    ref = oc.solve(written, grid=30)
    assert sol.success and ref.success
    assert sol.value(x).max() <= c + 1e-7  # the bound is active: x would rise to 2 without it
    assert sol.value(x).max() == pytest.approx(c, abs=1e-6)
    # x - c <= 0 and x <= c are the same feasible set but different rows: IPOPT stops to its tolerance
    assert sol.objective == pytest.approx(ref.objective, rel=1e-7)
    np.testing.assert_allclose(sol.w, ref.w, atol=1e-6)


def test_parameter_in_terminal_cost_and_terminal_constraint():
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    r = ocp.parameter("r")
    ocp.dynamics(x, u)
    ocp.initial(x, 0.0)
    ocp.minimize_integral(u ** 2)
    ocp.subject_to_terminal(x == r)
    sol = oc.solve(ocp, grid=10, parameters={r: 3.0})
    # min int u^2 with x(1) = r: u = r, J = r^2 (exact for constant u under any RK scheme)
    assert sol.objective == pytest.approx(9.0, rel=1e-8)
    assert sol.value(x)[-1] == pytest.approx(3.0, abs=1e-8)


@pytest.mark.parametrize("a", [1.0, 4.0])
def test_free_final_time_with_a_parameter_in_the_dynamics(a):
    ocp = oc.OCP(0.0, oc.FreeTime(guess=1.0, lower=0.1, upper=10.0))
    x = ocp.state("x", 2)
    u = ocp.control("u", lower=-1.0, upper=1.0)
    gain = ocp.parameter("gain")
    ocp.dynamics(x, cs.vertcat(x[1], gain * u))
    ocp.initial(x, [0.0, 0.0])
    ocp.subject_to_terminal(x == cs.vertcat(1.0, 0.0))
    ocp.minimize_terminal(ocp.tf)
    sol = oc.solve(ocp, grid=40, parameters={gain: a})
    assert sol.success
    # bang-bang with the switch at the middle node: exact on an even grid up to IPOPT's tolerance
    assert sol.tf == pytest.approx(2.0 / math.sqrt(a), rel=1e-6)


def test_value_of_a_parameter_and_of_expressions_with_it():
    ocp, x, _, p = _lq()
    sol = oc.solve(ocp, grid=20, parameters={p: 2.0})
    assert sol.value(p) == 2.0
    np.testing.assert_allclose(sol.value(x + p), sol.value(x) + 2.0)
    np.testing.assert_allclose(sol.at(p, [0.0, 0.5]), [2.0, 2.0])


def test_save_and_load_keep_the_parameter_values(tmp_path):
    ocp, x, _, p = _lq()
    sol = oc.solve(ocp, grid=20, parameters={p: 1.5})
    sol.save(tmp_path / "sol.npz")
    back = oc.Solution.load(tmp_path / "sol.npz", ocp)
    assert back.value(p) == 1.5
    assert back.objective == sol.objective
    np.testing.assert_array_equal(back.value(x), sol.value(x))


def test_simulate_uses_the_solution_values_or_the_given_ones():
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    a, x0 = ocp.parameter("a"), ocp.parameter("x0")
    ocp.dynamics(x, -a * x + u)
    ocp.initial(x, x0)
    ocp.minimize_integral(x ** 2 + u ** 2)
    sol = oc.solve(ocp, grid=40, parameters={a: 1.0, x0: 1.0})
    assert sol.simulate().gap < 1e-6  # RK4 at N = 40 against cvodes under the same controls
    # with u = 0: x(t) = x0 exp(-a t)
    traj = oc.simulate(ocp, np.zeros(4), np.linspace(0.0, 1.0, 5), parameters={"a": 2.0, "x0": 3.0})
    np.testing.assert_allclose(traj.value(x), 3.0 * np.exp(-2.0 * np.linspace(0.0, 1.0, 5)), rtol=1e-8)
    with pytest.raises(ValueError, match=r"parameters: no value for the parameter\(s\) 'x0'"):
        oc.simulate(ocp, np.zeros(4), np.linspace(0.0, 1.0, 5), parameters={"a": 2.0})


def test_fingerprint_changes_with_the_parameter_values():
    ocp, _, _, p = _lq()
    one = oc.discretize(ocp, grid=10, parameters={p: 1.0})
    two = oc.discretize(ocp, grid=10, parameters={p: 2.0})
    again = oc.discretize(ocp, grid=10, parameters={p: 1.0})
    assert problem_fingerprint(one) != problem_fingerprint(two)
    assert problem_fingerprint(one) == problem_fingerprint(again)


@pytest.mark.parametrize("parameters, match", [
    (None, r"parameters: no value for the parameter\(s\) 'a'"),
    ({}, r"parameters: no value for the parameter\(s\) 'a'"),
    ({"a": 1.0, "c": 1.0, "b": 2.0}, r"parameters: 'b' is not declared by this OCP"),
    ({"a": [1.0, 2.0], "c": 1.0}, r"parameters\['a'\]: expected shape \(1, 1\)"),
    ({"a": float("nan"), "c": 1.0}, r"parameters\['a'\]: contains NaN"),
    ({"a": float("inf"), "c": 1.0}, r"parameters\['a'\]: contains inf"),
    ({"a": "one", "c": 1.0}, r"parameters\['a'\]: expected a number"),
    ({"x": 1.0, "a": 1.0, "c": 1.0}, r"parameters: 'x' is a state, not a parameter"),
    ({1: 1.0}, r"parameters: expected parameter symbols or names as keys"),
    ([1.0], r"parameters: expected a dict"),
])
def test_bad_parameter_values_are_refused_before_any_nlp(parameters, match):
    ocp, *_ = _decay()
    with nlp_forbidden(graph_too=True), pytest.raises((ValueError, TypeError), match=match):
        oc.solve(ocp, grid=10, parameters=parameters, solver=IPOPT)


def test_a_symbol_of_another_ocp_or_the_same_parameter_twice_is_refused():
    ocp, _, pa, pc = _decay()
    other, *_ = _decay()
    with nlp_forbidden(graph_too=True), pytest.raises(ValueError, match="parameters: the key .* not a symbol"):
        oc.solve(ocp, grid=10, parameters={other.parameters[0].symbol: 1.0, pc: 1.0}, solver=IPOPT)
    with nlp_forbidden(graph_too=True), pytest.raises(ValueError, match="parameters: 'a' is given twice"):
        oc.solve(ocp, grid=10, parameters={pa: 1.0, "a": 1.0, pc: 1.0}, solver=IPOPT)


def test_parameters_are_not_guessed():
    ocp, _, _, p = _lq()
    with nlp_forbidden(), pytest.raises(ValueError, match="guess key: expected a state or control or variable, "
                                                          "got the parameter 'x0'"):
        oc.solve(ocp, grid=10, parameters={p: 1.0}, guess={p: 1.0}, solver=IPOPT)


def test_bounds_given_by_parameters_are_refused_with_the_alternative():
    ocp = oc.OCP()
    p = ocp.parameter("p")
    with pytest.raises(TypeError, match=r"x lower: expected numbers .* write ocp.subject_to\(x, lower=...\)"):
        ocp.state("x", lower=p)
    x = ocp.state("x")
    with pytest.raises(TypeError, match=r"x upper: expected numbers"):
        ocp.bounds(x, upper=2 * p)


def test_initial_value_out_of_bounds_for_the_given_values_is_refused():
    ocp = oc.OCP()
    x = ocp.state("x", lower=0.0)
    u = ocp.control("u")
    p = ocp.parameter("p")
    ocp.dynamics(x, u)
    ocp.initial(x, p)
    ocp.minimize_integral(u ** 2)
    with nlp_forbidden(graph_too=True), pytest.raises(
            ValueError, match=r"parameters: with these values the initial value of 'x' \(\[-1.0\]\) lies outside"):
        oc.solve(ocp, grid=5, parameters={p: -1.0}, solver=IPOPT)
    compiled = oc.compile(ocp, grid=5, solver=IPOPT)
    with pytest.raises(ValueError, match=r"the initial value of 'x' \(\[-2.0\]\) lies outside"):
        compiled.solve(parameters={p: -2.0})
    assert compiled.solve(parameters={p: 2.0}).success


def test_a_path_constraint_of_fixed_data_at_t0_is_checked_for_the_values():
    """x <= c at t0 with x(0) fixed is a constant for the solver: not given to it, checked per solve."""
    ocp, x, pa, pc = _decay()  # x(0) = 1, x <= c
    with nlp_forbidden(graph_too=True), pytest.raises(
            ValueError, match=r"subject_to constraint .*: the fixed initial state violates it at t0=0.0 for these"):
        oc.solve(ocp, grid=10, parameters={pa: 1.0, pc: 0.5}, solver=IPOPT)
    compiled = oc.compile(ocp, grid=10, solver=IPOPT)
    with pytest.raises(ValueError, match="the fixed initial state violates it"):
        compiled.solve(parameters={pa: 1.0, pc: 0.9})
    sol = compiled.solve(parameters={pa: 1.0, pc: 1.2})
    assert sol.success and sol.value(x).max() == pytest.approx(1.2, abs=1e-6)
    assert "path_t0" not in sol.problem.constraint_slices  # the row at t0 is not given to the solver


def test_a_constraint_on_parameters_alone_is_refused():
    ocp = oc.OCP()
    x = ocp.state("x")
    p = ocp.parameter("p")
    ocp.dynamics(x, p)
    with pytest.raises(ValueError, match="subject_to constraint: .* involves no state, control or static"):
        ocp.subject_to(p <= 1)


def test_a_nan_from_the_parameter_values_is_named_at_the_start_point():
    ocp, _, _, p = log_parameter_ocp()
    with pytest.raises(ValueError, match="guess: the objective is NaN at the initial guess, in its running cost"):
        oc.solve(ocp, grid=5, parameters={p: -1.0})


@settings(max_examples=40, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple),
       special=st.sampled_from([None, float("nan"), float("inf"), -float("inf")]))
def test_values_of_any_shape_are_taken_or_refused_naming_the_parameter(shape, special):
    """A (3,) parameter takes a scalar or 3 entries (a row, a column or flat); anything else, or a non-finite entry,
    is a ValueError naming it, before the NLP graph is built."""
    ocp = oc.OCP()
    x = ocp.state("x", 3)
    q = ocp.parameter("q", 3)
    ocp.dynamics(x, -q * x)
    ocp.initial(x, 1.0)
    ocp.minimize_terminal(cs.sumsqr(x))
    value = np.arange(1.0, 1.0 + int(np.prod(shape))).reshape(shape)
    if special is not None:
        value.flat[-1] = special
    fits = special is None and (value.ndim == 0 or sorted(value.shape) in ([3], [1, 3]))
    if not fits:
        with nlp_forbidden(graph_too=True), pytest.raises(ValueError, match=r"parameters\['q'\]: "):
            oc.discretize(ocp, grid=4, parameters={q: value})
        return
    problem = oc.discretize(ocp, grid=4, parameters={q: value})
    np.testing.assert_array_equal(problem.parameter_values["q"].ravel(), np.broadcast_to(value.ravel(), (3,)))


def _boundary(target=None):
    """x' = u, x(0) free, min int u^2 + (x(0) - 1)^2 with x(1) = target: a boundary condition of at_tf."""
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    k = ocp.variable("k", lower=0.5, upper=2.0)  # a static variable before the parameter in the packed p
    r = ocp.parameter("r") if target is None else target
    ocp.dynamics(x, k * u)
    ocp.minimize_integral(u ** 2)
    ocp.minimize_terminal((ocp.at_t0(x) - 1) ** 2 + (k - 1) ** 2)
    ocp.subject_to(ocp.at_tf(x) == r)
    return ocp, x, k, r


def test_parameter_in_a_boundary_condition_with_a_static_variable():
    ocp, x, k, r = _boundary()
    sol = oc.solve(ocp, grid=10, parameters={r: 3.0})
    written, *_ = _boundary(3.0)
    ref = oc.solve(written, grid=10)
    assert sol.success and ref.success
    np.testing.assert_allclose(sol.w, ref.w, atol=1e-10)
    assert sol.value(x)[-1] == pytest.approx(3.0, abs=1e-8)
    # the static variable and the parameter share the model's p: simulating must read both right
    assert sol.simulate().gap < 1e-8  # x' = k u with u piecewise constant: RK4 is exact
    assert sol.value(k * r) == pytest.approx(sol.value(k) * 3.0)

"""Boundary conditions from ``ocp.at_t0`` / ``ocp.at_tf``, checked against known answers.

References: the periodic linear-quadratic problem is solved in closed form
(its optimal x and costate are sinusoids, found from a 4 x 4 linear system);
the periodic oscillator's frequency is 1 by construction; the set problems
have straight-line optima any scheme reproduces exactly; equivalences compare
with the same problem written with ``initial`` / ``subject_to_terminal``.
"""

from __future__ import annotations

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from helpers import IPOPT

A_DECAY = 0.5
PERIOD = 2 * np.pi


def periodic_lq_reference() -> tuple[float, float, float]:
    """(objective, A, B) of min int_0^2pi u^2 + (x - sin t)^2, x' = -a x + u, x periodic.

    The optimality conditions u = -lam/2, x' = -a x - lam/2, lam' = -2 (x - sin t) + a lam,
    with x and lam periodic, have the solution x = A sin t + B cos t, lam = C sin t + D cos t;
    matching the sin and cos coefficients gives four linear equations.
    """
    a = A_DECAY
    M = np.array([[a, -1.0, 0.5, 0.0],   # sin of x':    -B = -a A - C/2
                  [1.0, a, 0.0, 0.5],    # cos of x':     A = -a B - D/2
                  [-2.0, 0.0, a, 1.0],   # sin of lam':  -D = -2 A + 2 + a C
                  [0.0, 2.0, 1.0, -a]])  # cos of lam':   C = -2 B + a D
    A, B, C, D = np.linalg.solve(M, np.array([0.0, 0.0, -2.0, 0.0]))
    # int over a period of (p sin + q cos)^2 = pi (p^2 + q^2)
    return float(np.pi * ((C**2 + D**2) / 4 + (A - 1) ** 2 + B**2)), float(A), float(B)


def periodic_lq() -> tuple[oc.OCP, cs.MX]:
    ocp = oc.OCP(0.0, PERIOD)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, -A_DECAY * x + u)
    ocp.minimize_integral(u**2 + (x - cs.sin(ocp.t)) ** 2)
    ocp.subject_to(ocp.at_t0(x) == ocp.at_tf(x))
    return ocp, x


# Tolerances from the measured errors at N = 20 (about 0.64e-2 and 0.24e-2 with
# piecewise-constant controls, second order; 4.5e-5 and 5.6e-5 with piecewise-linear
# controls under RK4, fourth order), with headroom.
@pytest.mark.parametrize("transcription, objective_tol, state_tol", [
    (oc.RK4(controls="linear"), 1e-4, 1e-4),
    (oc.RK4(shooting="single", controls="linear"), 1e-4, 1e-4),
    (oc.RK4(), 1e-2, 5e-3),
    (oc.Collocation(), 1e-2, 5e-3),
], ids=["rk4-linear", "rk4-single-linear", "rk4-constant", "collocation"])
def test_periodic_lq_matches_closed_form(transcription, objective_tol, state_tol):
    ocp, x = periodic_lq()
    sol = oc.solve(ocp, transcription, grid=20)
    J, A, B = periodic_lq_reference()
    t = np.linspace(0.0, PERIOD, 21)
    assert sol.success
    assert abs(sol.objective - J) < objective_tol
    assert np.max(np.abs(sol.value(x) - (A * np.sin(t) + B * np.cos(t)))) < state_tol
    assert abs(sol.value(x)[0] - sol.value(x)[-1]) < 1e-8  # the condition itself, to IPOPT's tolerance


def test_periodic_lq_converges_at_the_scheme_order():
    """RK4 with piecewise-linear controls: halving h divides the objective error by about 16."""
    J = periodic_lq_reference()[0]
    errors = [abs(oc.solve(periodic_lq()[0], oc.RK4(controls="linear"), grid=N).objective - J) for N in (10, 20)]
    assert 10 < errors[0] / errors[1] < 24


@pytest.mark.parametrize("transcription", [oc.RK4(), oc.RK4(shooting="single"), oc.Collocation()],
                         ids=["rk4", "rk4-single", "collocation"])
def test_periodic_oscillator_finds_its_frequency(transcription):
    """x'' = -w^2 x on [0, 2 pi], x(0) = 1, v(0) = 0 fixed, v(2 pi) = v(0): w = 1 is the one root in [0.75, 1.25]
    (v(2 pi) = -w sin(2 pi w)); then x(2 pi) = x(0) follows."""
    ocp = oc.OCP(0.0, PERIOD)
    x, v = ocp.state("x"), ocp.state("v")
    w = ocp.variable("w", lower=0.75, upper=1.25)
    ocp.dynamics(x, v)
    ocp.dynamics(v, -w**2 * x)
    ocp.initial(x, 1.0)
    ocp.initial(v, 0.0)
    ocp.subject_to(ocp.at_tf(v) == ocp.at_t0(v))
    ocp.minimize_terminal((w - 0.8) ** 2)  # pulls w away from 1: only the condition holds it there
    t = np.linspace(0.0, PERIOD, 41)
    # Started near the orbit of w = 0.9, so that IPOPT meets the root rather than a point of local infeasibility.
    sol = oc.solve(ocp, transcription, grid=40, guess={w: 0.9, x: np.cos(0.9 * t), v: -0.9 * np.sin(0.9 * t)})
    assert sol.success
    # RK4 and Radau-3 phase errors at h w = 2 pi / 40 are below 1e-5 in w.
    assert abs(sol.value(w) - 1.0) < 1e-4
    assert abs(sol.value(x)[-1] - 1.0) < 1e-4


def two_states(initial_x1: bool) -> tuple[oc.OCP, cs.MX, cs.MX]:
    """x1' = x2, x2' = u, min int u^2 + (x1(1) - 1)^2 + x2(1)^2, x2(0) free, x1(0) = 0.5."""
    ocp = oc.OCP(0.0, 1.0)
    x1, x2 = ocp.state("x1"), ocp.state("x2")
    u = ocp.control("u")
    ocp.dynamics(x1, x2)
    ocp.dynamics(x2, u)
    ocp.minimize_integral(u**2)
    ocp.minimize_terminal((x1 - 1) ** 2 + x2**2)
    if initial_x1:
        ocp.initial(x1, 0.5)
    else:
        ocp.subject_to(ocp.at_t0(x1) == 0.5)
    return ocp, x1, x2


@pytest.mark.parametrize("transcription", [oc.RK4(), oc.RK4(shooting="single"), oc.Collocation()],
                         ids=["rk4", "rk4-single", "collocation"])
def test_partially_free_initial_state_equals_initial(transcription):
    a = oc.solve(two_states(True)[0], transcription, grid=10)
    ocp, x1, x2 = two_states(False)
    b = oc.solve(ocp, transcription, grid=10)
    assert a.success and b.success
    assert abs(a.objective - b.objective) < 1e-9
    assert abs(b.value(x1)[0] - 0.5) < 1e-9
    assert abs(b.value(x2)[0]) > 0.1  # x2(0) is really free: the optimum moves it


def integrator() -> tuple[oc.OCP, cs.MX, cs.MX]:
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.minimize_integral(u**2)
    return ocp, x, u


@pytest.mark.parametrize("transcription", [oc.RK4(), oc.RK4(shooting="single"), oc.Collocation()],
                         ids=["rk4", "rk4-single", "collocation"])
def test_initial_and_final_sets(transcription):
    """x' = u, min int u^2 with x(0)^2 <= 1/4 and x(1) >= 2: x(0) = 1/2, u = 3/2, objective 9/4 (exact on any grid)."""
    ocp, x, u = integrator()
    ocp.subject_to(ocp.at_t0(x) ** 2 <= 0.25)
    ocp.subject_to(ocp.at_tf(x) >= 2.0)
    sol = oc.solve(ocp, transcription, grid=8)
    assert sol.success
    assert abs(sol.objective - 2.25) < 1e-7
    assert abs(sol.value(x)[0] - 0.5) < 1e-7
    np.testing.assert_allclose(sol.value(u), 1.5, atol=1e-6)


def test_minimize_terminal_penalises_the_initial_state():
    """min int u^2 + (x(0) - 1)^2 with x(1) = 0: x(0) = a, u = -a, cost a^2 + (a - 1)^2, so a = 1/2, cost 1/2."""
    ocp, x, u = integrator()
    ocp.minimize_terminal((ocp.at_t0(x) - 1) ** 2)
    ocp.subject_to_terminal(x == 0)
    sol = oc.solve(ocp, oc.RK4(), grid=8)
    assert sol.success
    assert abs(sol.objective - 0.5) < 1e-8
    assert abs(sol.value(x)[0] - 0.5) < 1e-7


def test_minimize_terminal_mixes_plain_final_states_and_initial_values():
    """A plain state beside at_t0 values in a terminal cost means its final value: (x(1) - x(0) - 1)^2 + x(0)^2
    with cost int u^2 and x(0) free: the optimum x(0) = 0, x(1) = 1/2 (u = 1/2), cost 1/4 + 1/4 = 1/2."""
    ocp, x, u = integrator()
    ocp.minimize_terminal((x - ocp.at_t0(x) - 1) ** 2 + ocp.at_t0(x) ** 2)
    sol = oc.solve(ocp, oc.RK4(), grid=8)
    assert sol.success
    assert abs(sol.objective - 0.5) < 1e-8
    assert abs(sol.value(x)[0]) < 1e-7


@pytest.mark.parametrize("transcription", [oc.RK4(), oc.RK4(shooting="single"), oc.Collocation()],
                         ids=["rk4", "rk4-single", "collocation"])
def test_at_tf_equals_subject_to_terminal_and_at_t0_equals_initial(transcription):
    def lq(boundary: bool) -> oc.OCP:
        ocp = oc.OCP(0.0, 1.0)
        x = ocp.state("x")
        u = ocp.control("u")
        ocp.dynamics(x, u)
        ocp.minimize_integral(x**2 + u**2)
        if boundary:
            ocp.subject_to(ocp.at_t0(x) == 2.0)
            ocp.subject_to(ocp.at_tf(x) == 1.0)
        else:
            ocp.initial(x, 2.0)
            ocp.subject_to_terminal(x == 1.0)
        return ocp
    a, b = oc.solve(lq(False), transcription, grid=10), oc.solve(lq(True), transcription, grid=10)
    assert a.success and b.success
    assert abs(a.objective - b.objective) < 1e-9


def test_controls_and_time_at_the_ends():
    """at_t0(u) is the first interval's control, at_tf(u) the last's; at_t0(t) = t0, at_tf(t) = tf.
    min int u^2 with x(0) = 0, x(1) = 1 and u(t0) == 2 at_tf(t) (= 2): u = 2 on the first interval, the others
    share the rest equally: with N = 4, h = 1/4, the other three carry (1 - 2 h) / (3 h) = 2/3."""
    ocp, x, u = integrator()
    ocp.initial(x, 0.0)
    ocp.subject_to_terminal(x == 1.0)
    ocp.subject_to(ocp.at_t0(u) == 2 * ocp.at_tf(ocp.t))
    sol = oc.solve(ocp, oc.RK4(), grid=4)
    assert sol.success
    np.testing.assert_allclose(sol.value(u), [2.0, 2 / 3, 2 / 3, 2 / 3], atol=1e-7)


def test_fixed_initial_state_and_consistent_boundary_condition():
    """at_t0(x) == 1 with x(0) = 1 fixed: a constant row, checked and dropped; the answer is the plain one."""
    def lq(extra: bool) -> oc.OCP:
        ocp, x, u = integrator()
        ocp.minimize_integral(x**2)
        ocp.initial(x, 1.0)
        if extra:
            ocp.subject_to(ocp.at_t0(x) == 1.0)
            ocp.subject_to(ocp.at_t0(x) ** 2 <= 4.0)
        return ocp
    a, b = oc.solve(lq(False), oc.RK4(), grid=8), oc.solve(lq(True), oc.RK4(), grid=8)
    assert b.success
    assert abs(a.objective - b.objective) < 1e-12


def test_fixed_initial_state_violating_a_boundary_condition_is_refused(no_graph):
    ocp, x, u = integrator()
    ocp.initial(x, 1.0)
    ocp.subject_to(ocp.at_t0(x) >= 2.0)
    with pytest.raises(ValueError, match=r"subject_to constraint .*boundary condition.*no solution"):
        oc.solve(ocp, oc.RK4(), grid=4, solver=IPOPT)


def test_nonfinite_boundary_condition_at_the_guess_is_named():
    ocp, x, u = integrator()
    ocp.subject_to(cs.log(ocp.at_t0(x)) >= -1.0)  # log(0) at the zero guess
    with pytest.raises(ValueError, match=r"boundary condition .*log\(x_t0\).* at the initial guess"):
        oc.solve(ocp, oc.RK4(), grid=4)


def test_nonfinite_boundary_cost_at_the_guess_is_named():
    ocp, x, u = integrator()
    ocp.minimize_terminal(cs.log(ocp.at_t0(x)))
    with pytest.raises(ValueError, match=r"terminal cost .*minimize_terminal: log\(x_t0\)"):
        oc.solve(ocp, oc.RK4(), grid=4)


# ---------------------------------------------------------------- bad input
def test_mixed_plain_and_boundary_constraint_is_refused():
    ocp, x, u = integrator()
    with pytest.raises(ValueError, match=r"subject_to constraint: mixes the state 'x'.*ocp.at_t0\(x\)"):
        ocp.subject_to(ocp.at_t0(x) == x)
    with pytest.raises(ValueError, match=r"subject_to constraint: mixes the control 'u'"):
        ocp.subject_to(ocp.at_tf(x) <= u)
    with pytest.raises(ValueError, match=r"subject_to constraint: mixes the time symbol t"):
        ocp.subject_to(ocp.at_tf(x) <= ocp.t)
    with pytest.raises(ValueError, match=r"minimize_terminal expr: mixes the control 'u'"):
        ocp.minimize_terminal(ocp.at_t0(x) * u)
    assert not ocp.boundary_constraints and not ocp.boundary_costs


@pytest.mark.parametrize("bad", [1.0, np.ones(2), "x", None, cs.SX.sym("s")])
def test_at_t0_of_a_non_expression_is_refused(bad):
    ocp, x, u = integrator()
    with pytest.raises(TypeError, match=r"at_t0 expr: expected a CasADi expression"):
        ocp.at_t0(bad)
    with pytest.raises(TypeError, match=r"at_tf expr: expected a CasADi expression"):
        ocp.at_tf(bad)


def test_symbols_of_another_ocp_are_refused():
    ocp, x, u = integrator()
    other, y, _ = integrator()
    with pytest.raises(ValueError, match=r"at_t0 expr: uses the symbol 'x'.*another OCP"):
        ocp.at_t0(y)
    with pytest.raises(ValueError, match=r"subject_to constraint: uses the symbol 'x_tf'.*another OCP"):
        ocp.subject_to(ocp.at_t0(x) == other.at_tf(y))
    with pytest.raises(ValueError, match=r"minimize_terminal expr: uses the symbol 'x_t0'.*another OCP"):
        ocp.minimize_terminal(other.at_t0(y) ** 2)


def test_boundary_values_are_refused_where_they_mean_nothing():
    ocp, x, u = integrator()
    x0 = ocp.at_t0(x)
    for call, argument in [(lambda: ocp.minimize_integral(x0 * u), "minimize_integral expr"),
                           (lambda: ocp.subject_to_terminal(x == x0), "subject_to_terminal constraint"),
                           (lambda: ocp.dynamics(ocp.state("y"), x0), "dynamics rhs"),
                           (lambda: ocp.at_tf(x0), "at_tf expr")]:
        with pytest.raises(ValueError, match=rf"{argument}: uses the boundary value 'x_t0'"):
            call()


def test_at_t0_reuses_one_symbol_per_variable_and_end():
    ocp, x, u = integrator()
    assert hash(ocp.at_t0(x)) == hash(ocp.at_t0(x))
    assert hash(ocp.at_t0(x)) != hash(ocp.at_tf(x))
    p = ocp.variable("p")
    assert hash(ocp.at_t0(p)) == hash(p)  # a static variable is the same at both ends


def test_rows_fixed_by_initial_are_dropped_row_by_row():
    """at_t0([x; y]) == [1; 2] with x(0) = 1 fixed and y(0) free: the x row is constant (checked, dropped), the y
    row stays: min int u^2 + v^2, x' = u, y' = v, x(1) = 0 and y(1) free: y(0) = y(1) = 2, u = -1, objective 1."""
    ocp = oc.OCP(0.0, 1.0)
    x, y = ocp.state("x"), ocp.state("y")
    u, v = ocp.control("u"), ocp.control("v")
    ocp.dynamics(x, u)
    ocp.dynamics(y, v)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(u**2 + v**2)
    ocp.subject_to(ocp.at_t0(cs.vertcat(x, y)) == cs.DM([1.0, 2.0]))
    ocp.subject_to_terminal(x == 0)
    for transcription in (oc.RK4(), oc.RK4(shooting="single"), oc.Collocation()):
        problem = oc.discretize(ocp, transcription, grid=4)
        assert problem.constraint_slices["boundary"].stop - problem.constraint_slices["boundary"].start == 1
        sol = oc.solve(ocp, transcription, grid=4)
        assert sol.success
        assert abs(sol.objective - 1.0) < 1e-8
        np.testing.assert_allclose(sol.value(y), 2.0, atol=1e-8)


def test_free_final_time_in_a_boundary_condition():
    """Minimum time for x' = u, |u| <= 1, from x(0) = 0 to at_tf(x) == at_tf(t) / 2 + 1/2: x(tf) = tf reaches it
    first at tf = 1 (tf / 2 + 1/2 = tf)."""
    ocp = oc.OCP(0.0, oc.FreeTime(guess=2.0, lower=0.1, upper=5.0))
    x = ocp.state("x")
    u = ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(x, u)
    ocp.subject_to(ocp.at_t0(x) == 0.0)
    ocp.subject_to(ocp.at_tf(x) == ocp.at_tf(ocp.t) / 2 + 0.5)
    ocp.minimize_terminal(ocp.tf)
    sol = oc.solve(ocp, oc.RK4(), grid=8)
    assert sol.success
    assert abs(sol.tf - 1.0) < 1e-7
    np.testing.assert_allclose(sol.value(u), 1.0, atol=1e-6)


def test_periodic_matrix_state():
    """A matrix (ensemble) state with periodic columns: x' = -a x + u (shared u), each column tracking sin t with
    the same data is the scalar periodic LQ problem twice: objective twice the scalar one."""
    ocp = oc.OCP(0.0, PERIOD)
    X = ocp.state("X", (1, 2))
    u = ocp.control("u")
    ocp.dynamics(X, -A_DECAY * X + u)
    ocp.minimize_integral(2 * u**2 + cs.sumsqr(X - cs.sin(ocp.t)))
    ocp.subject_to(ocp.at_t0(X) == ocp.at_tf(X))
    sol = oc.solve(ocp, oc.RK4(controls="linear"), grid=20)
    scalar = oc.solve(periodic_lq()[0], oc.RK4(controls="linear"), grid=20)
    assert sol.success
    assert abs(sol.objective - 2 * scalar.objective) < 1e-7

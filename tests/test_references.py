"""Solutions against independent references: analytic optima and trajectories.

- LQ: min int_0^1 (x^2 + u^2) dt, x' = u, x(0) = 1. Riccati gives the optimum
  tanh(1), x(t) = cosh(1 - t) / cosh(1), u(t) = -sinh(1 - t) / cosh(1).
- Bryson-Denham: min 1/2 int_0^1 u^2 dt, x'' = u, x(0) = 0, x'(0) = 1,
  x(1) = 0, x'(1) = -1, x <= l = 1/9. Optimum 4 / (9 l) = 4; the constrained arc
  is [3 l, 1 - 3 l] = [1/3, 2/3], u(t) = -(2 / (3 l)) (1 - t / (3 l)) before it.
- Minimum-time double integrator: x'' = u, |u| <= 1, (1, 0) -> (0, 0).
  Bang-bang, u = -1 then +1, switching at t = 1; T* = 2.
"""

from __future__ import annotations

import casadi as cs
import numpy as np
import pytest

import occontrol as oc

# ---------------------------------------------------------------------------- LQ


def lq_x(t):
    return np.cosh(1.0 - t) / np.cosh(1.0)


def lq_u(t):
    return -np.sinh(1.0 - t) / np.cosh(1.0)


def observed_orders(errors):
    e = np.abs(np.asarray(errors))
    return np.log2(e[:-1] / e[1:])


@pytest.fixture
def lq_errors(lq_problem, lq_optimum):
    """``lq_errors(transcription, grids)``: the LQ objective's error on each grid."""
    def errors_on(transcription, grids):
        errors = []
        for N in grids:
            ocp, _, _ = lq_problem()
            sol = oc.solve(ocp, transcription, grid=N)
            assert sol.success, sol.status
            errors.append(sol.objective - lq_optimum)
        return np.array(errors)
    return errors_on


@pytest.mark.parametrize("transcription, grids, order", [
    (oc.ExplicitEuler(), (8, 16, 32, 64), 1.0),
    (oc.ExplicitEuler(shooting="single"), (8, 16, 32, 64), 1.0),
    (oc.Heun(), (8, 16, 32, 64), 2.0),
    (oc.Ralston(), (8, 16, 32, 64), 2.0),
    (oc.RK4(), (8, 16, 32, 64), 2.0),       # piecewise-constant controls limit RK4 to order 2
    (oc.RK4(controls="linear"), (4, 8, 16, 32), 4.0),
], ids=["euler", "euler-single", "heun", "ralston", "rk4", "rk4-linear"])
def test_lq_objective_converges_with_observed_order(lq_errors, transcription, grids, order):
    errors = lq_errors(transcription, grids)
    assert np.all(np.diff(np.abs(errors)) < 0), errors          # converges as N doubles
    orders = observed_orders(errors)
    assert np.all(np.abs(orders - order) <= 0.1 * order), orders
    assert abs(errors[-1]) < 0.005


def test_lq_rk4_constant_controls_never_beat_the_continuous_optimum(lq_errors):
    # With x' = u and u piecewise constant, x is piecewise linear and x^2 + u^2
    # piecewise quadratic: RK4 (Simpson quadrature) integrates both exactly, so
    # the discrete objective is the continuous cost of an admissible control.
    errors = lq_errors(oc.RK4(), (4, 8, 16))
    assert np.all(errors > -1e-10), errors


def test_lq_converges_on_a_graded_nonuniform_grid(lq_problem, lq_optimum):
    errors = []
    for N in (8, 16, 32):
        ocp, x, _u = lq_problem()
        nodes = np.linspace(0.0, 1.0, N + 1) ** 1.5
        sol = oc.solve(ocp, oc.RK4(), grid=oc.Grid(nodes))
        assert sol.success, sol.status
        np.testing.assert_allclose(sol.t, nodes, rtol=0, atol=1e-15)
        assert np.max(np.abs(sol.value(x) - lq_x(sol.t))) <= 0.05 / N ** 2    # measured 0.034 / N^2
        errors.append(sol.objective - lq_optimum)
    assert np.all(np.abs(observed_orders(errors) - 2.0) < 0.1), errors


# Explicit Euler: u_k lives on [t_k, t_k+1), first order (measured 0.25 h for x, 0.71 h for u).
# RK4: the interval value is the midpoint's, second order (measured 0.021 h^2 for x, 0.08 h^2 for u).
@pytest.mark.parametrize("transcription, control_times, order, state_bound, control_bound, order_tol", [
    (oc.ExplicitEuler(), lambda t: t[:-1], 1, 0.5, 1.0, 0.1),
    (oc.RK4(), lambda t: (t[:-1] + t[1:]) / 2, 2, 0.05, 0.2, 0.2),
], ids=["euler-first-order", "rk4-second-order"])
def test_lq_trajectory_matches_riccati(lq_problem, transcription, control_times, order, state_bound, control_bound,
                                       order_tol):
    state_err, control_err = [], []
    for N in (16, 32, 64):
        ocp, x, u = lq_problem()
        sol = oc.solve(ocp, transcription, grid=N)
        h = 1.0 / N
        np.testing.assert_allclose(sol.t, np.linspace(0, 1, N + 1), rtol=0, atol=1e-15)
        ex = np.max(np.abs(sol.value(x) - lq_x(sol.t)))
        eu = np.max(np.abs(sol.value(u) - lq_u(control_times(sol.t))))
        assert ex <= state_bound * h ** order, (N, ex / h ** order)
        assert eu <= control_bound * h ** order, (N, eu / h ** order)
        state_err.append(ex)
        control_err.append(eu)
    for errs in (state_err, control_err):
        assert np.all(np.abs(observed_orders(errs) - order) < order_tol), errs


# ------------------------------------------------------------------ Bryson-Denham
BD_L = 1.0 / 9.0


def bryson_denham():
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x", 2)
    u = ocp.control("u")
    ocp.dynamics(x, cs.vertcat(x[1], u))
    ocp.initial(x, [0.0, 1.0])
    ocp.minimize_integral(0.5 * u ** 2)
    ocp.subject_to(x[0] <= BD_L)
    ocp.subject_to_terminal(x == cs.DM([0.0, -1.0]))
    return ocp, x, u


def bd_control(t):
    t = np.asarray(t, dtype=float)
    a = 3 * BD_L
    left = -(2 / a) * (1 - t / a)
    right = -(2 / a) * (1 - (1 - t) / a)
    return np.where(t <= a, left, np.where(t >= 1 - a, right, 0.0))


def bd_position(t):
    t = np.asarray(t, dtype=float)
    a = 3 * BD_L
    left = BD_L * (1 - (1 - t / a) ** 3)
    right = BD_L * (1 - (1 - (1 - t) / a) ** 3)
    return np.where(t <= a, left, np.where(t >= 1 - a, right, BD_L))


def test_bryson_denham_rk4_linear_controls_converge_at_second_order():
    # Junctions 1/3 and 2/3 are not nodes for these N, so the kinks of the optimal
    # control are smeared over one interval: an O(h^2) error in the objective.
    errors = []
    for N in (10, 20, 40, 80):
        ocp, _, _ = bryson_denham()
        sol = oc.solve(ocp, oc.RK4(controls="linear"), grid=N)
        assert sol.success, sol.status
        err = abs(sol.objective - 4.0)
        assert err <= (1.0 / N) ** 2, (N, err)                   # measured <= 0.74 h^2
        errors.append(err)
    assert np.all(np.diff(errors) < 0), errors
    assert errors[2] / 4.0 < 1e-3                                # N = 40: 3e-5 relative


def test_bryson_denham_exact_when_junctions_are_nodes():
    # The optimal control is piecewise linear with kinks at 1/3 and 2/3: with N
    # divisible by 3 it lies in the discrete space and RK4 integrates the cubic
    # state exactly, so the discrete optimum is the continuous one.
    ocp, x, u = bryson_denham()
    sol = oc.solve(ocp, oc.RK4(controls="linear"), grid=12)
    assert sol.success, sol.status
    # With IPOPT's defaults, its bound relaxation (1e-8 relative) of x <= 1/9
    # times the sensitivity dJ/dl = -4 / (9 l^2) = -36 leaves about -4e-7.
    assert -1e-6 < sol.objective - 4.0 < 0.0
    # Without relaxation and at a tighter tolerance the optimum is met. On the
    # constrained arc the interior point keeps x below 1/9 by a barrier-sized
    # slack (2e-7 at tol 1e-10), which moves the arc's control by ~2e-5.
    ocp, x, u = bryson_denham()
    sol = oc.solve(ocp, oc.RK4(controls="linear"), grid=12,
                   solver=oc.Ipopt(tol=1e-10, options={"bound_relax_factor": 0.0}))
    assert sol.success, sol.status
    assert abs(sol.objective - 4.0) < 1e-8
    np.testing.assert_allclose(sol.value(u), bd_control(sol.t), atol=1e-4)
    np.testing.assert_allclose(sol.value(x)[:, 0], bd_position(sol.t), atol=1e-6)
    assert np.all(sol.value(x)[:, 0] <= BD_L + 1e-12)


def test_bryson_denham_collocation_constant_controls_order_two():
    errors = []
    for N in (12, 24, 48):
        ocp, _, _ = bryson_denham()
        sol = oc.solve(ocp, oc.Collocation(degree=3, scheme="radau"), grid=N)
        assert sol.success, sol.status
        errors.append(sol.objective - 4.0)
    orders = observed_orders(errors)
    assert np.all(np.abs(orders - 2.0) < 0.1), (errors, orders)
    assert abs(errors[-1]) / 4.0 < 1e-3                          # N = 48: 2.4e-4 relative


# ------------------------------------------------------------------- minimum time
def min_time():
    ocp = oc.OCP(t0=0.0, tf=oc.FreeTime(guess=1.0, lower=0.1, upper=10.0))
    x = ocp.state("x", 2)
    u = ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(x, cs.vertcat(x[1], u))
    ocp.initial(x, [1.0, 0.0])
    ocp.minimize_terminal(ocp.tf)
    ocp.subject_to_terminal(x == 0)
    return ocp, x, u


@pytest.mark.parametrize("transcription", [oc.RK4(), oc.ExplicitEuler(), oc.Collocation(degree=2)],
                         ids=["rk4", "euler", "radau2"])
@pytest.mark.parametrize("N", [10, 20])
def test_min_time_even_grid_is_exact(transcription, N):
    # With N even the switch at tf / 2 is a node, so bang-bang is in the discrete
    # space; RK4 and collocation integrate x'' = u exactly, and explicit Euler's
    # sum telescopes to the same tf (x1_N = 1 - (N h / 2)^2).
    ocp, x, u = min_time()
    sol = oc.solve(ocp, transcription, grid=N)
    assert sol.success, sol.status
    assert abs(sol.tf - 2.0) < 1e-6
    assert abs(sol.objective - 2.0) < 1e-6
    np.testing.assert_allclose(sol.t[-1], sol.tf)
    expected = np.where(np.arange(N) < N // 2, -1.0, 1.0)
    np.testing.assert_allclose(sol.value(u), expected, atol=1e-5)
    np.testing.assert_allclose(sol.value(x)[-1], [0.0, 0.0], atol=1e-8)
    if not isinstance(transcription, oc.ExplicitEuler):
        # x'' = u piecewise constant is integrated exactly between nodes too:
        # x1 = 1 - t^2 / 2 before the switch at 1, (2 - t)^2 / 2 after.
        t = np.linspace(0.0, sol.tf, 41)
        x1 = np.where(t <= 1.0, 1 - t ** 2 / 2, (sol.tf - t) ** 2 / 2)
        np.testing.assert_allclose(sol.at(x, t)[:, 0], x1, atol=1e-6)


def test_min_time_odd_grid_converges_from_above():
    # The switch falls inside an interval. A piecewise-constant control is
    # admissible for the continuous problem and RK4 is exact for x'' = u, so
    # tf_N >= T* = 2; the gap closes at second order.
    gaps = []
    for N in (11, 21, 41):
        ocp, _, _ = min_time()
        sol = oc.solve(ocp, oc.RK4(), grid=N)
        assert sol.success, sol.status
        gap = sol.tf - 2.0
        assert -1e-7 <= gap <= 2.0 / N ** 2, (N, gap)              # measured 1.0 / N^2
        gaps.append(gap)
    assert np.all(np.diff(gaps) < 0), gaps

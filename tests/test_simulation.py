"""oc.simulate and Solution.simulate: the continuous dynamics integrated under given controls.

References: closed-form solutions of x' = u and x' = a x + u, the order of the transcription
(the gap between the discrete states and the re-integrated ones shrinks as h^4 for RK4, h for
explicit Euler), and agreement between integrators and between descriptions of one control.
"""

from __future__ import annotations

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from occontrol.guess import initial_guess

from helpers import lq, mixed, nlp_forbidden, unit_min_time


def vdp() -> tuple[oc.OCP, cs.MX, cs.MX]:
    """Van der Pol with a bounded control, x(0) = (1, 0) on [0, 4]."""
    ocp = oc.OCP(t0=0.0, tf=4.0)
    x = ocp.state("x", 2)
    u = ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(x, cs.vertcat(x[1], (1 - x[0] ** 2) * x[1] - x[0] + u))
    ocp.initial(x, [1.0, 0.0])
    ocp.minimize_integral(cs.sumsqr(x) + u ** 2)
    return ocp, x, u


def observed_orders(transcription: oc.Transcription, grids: list[int]) -> np.ndarray:
    ocp, _, _ = vdp()
    gaps = []
    for n in grids:
        sol = oc.solve(ocp, transcription, grid=n)
        assert sol.success
        gaps.append(sol.simulate().gap)
    gaps_arr = np.array(gaps)
    return np.log2(gaps_arr[:-1] / gaps_arr[1:])


# ------------------------------------------------------------ analytic references
@pytest.mark.parametrize("integrator", ["cvodes", "idas", "rk"])
def test_linear_control_on_nodes_is_exact(integrator):
    """x' = u, u(t) = t given by node values (piecewise linear): x = 1 + t^2 / 2 to the tolerance."""
    ocp, x, u = lq()
    t = np.linspace(0.0, 1.0, 9)
    traj = oc.simulate(ocp, {u: t}, t, integrator=integrator, abstol=1e-12, reltol=1e-12)
    np.testing.assert_allclose(traj.value(x), 1 + t ** 2 / 2, rtol=0, atol=1e-9)
    np.testing.assert_allclose(traj.value(u), t, atol=1e-15)


def test_time_dependent_dynamics_with_constant_control():
    """x' = -x + t + u with u = 1 and x(0) = 0 has the solution x = t (the dynamics read t)."""
    ocp = oc.OCP(t0=0.0, tf=2.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, -x + ocp.t + u)
    ocp.initial(x, 0.0)
    ocp.minimize_integral(u ** 2)
    t = np.linspace(0.0, 2.0, 5)
    traj = oc.simulate(ocp, np.ones(4), t)
    # x' + x = t + 1 with x(0) = 0: x = t (check: 1 + t = t + 1)
    np.testing.assert_allclose(traj.value(x), t, atol=1e-8)


def test_callable_control_midpoint_rule_order_two():
    """x' = u, u = cos(t): x = 1 + sin t; a callable is held at sub-step midpoints (error ~ h^2 / 24)."""
    ocp, x, u = lq()
    t = np.linspace(0.0, 1.0, 5)
    errors = []
    for substeps in (4, 8, 16):
        traj = oc.simulate(ocp, np.cos, t, substeps=substeps)
        err = np.max(np.abs(traj.value(x) - (1 + np.sin(t))))
        h = 0.25 / substeps
        assert err <= h ** 2 / 24 * 1.0 * 1.0 + 1e-9  # T = 1, max |u''| = 1
        errors.append(err)
    assert np.all(np.abs(np.log2(np.array(errors[:-1]) / errors[1:]) - 2) < 0.1)


def test_x0_and_free_initial_state():
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, 2 * x + u)
    ocp.minimize_integral(x ** 2 + u ** 2)
    t = np.linspace(0.0, 1.0, 3)
    traj = oc.simulate(ocp, np.zeros(2), t, x0={x: 0.5})
    np.testing.assert_allclose(traj.value(x), 0.5 * np.exp(2 * t), rtol=1e-8)


def test_matrix_state_keeps_its_shape():
    """M' = -p M column by column: M(t) = M0 e^(-p t), values shaped (m, 2, 3); x' = (x1, u) with u = 0."""
    ocp, s = mixed()
    m0 = np.arange(6.0).reshape(2, 3)
    t = np.linspace(0.0, 2.0, 5)
    traj = oc.simulate(ocp, {s["u"]: lambda _: 0.0}, t, x0={s["M"]: m0}, variables={s["p"]: 0.7},
                       abstol=1e-12, reltol=1e-12)
    np.testing.assert_allclose(traj.value(s["M"]), m0[None] * np.exp(-0.7 * t)[:, None, None], atol=1e-9)
    np.testing.assert_allclose(traj.value(s["x"]), np.column_stack([np.ones(5), np.zeros(5)]), atol=1e-12)
    assert traj.at(s["M"], [0.1, 0.2]).shape == (2, 2, 3)
    assert traj.value(s["p"]) == 0.7


# ------------------------------------------------------------ the scheme's order
def test_rk4_gap_shrinks_at_order_four():
    orders = observed_orders(oc.RK4(), [10, 20, 40])
    assert np.all((orders >= 3.5) & (orders <= 4.5)), orders


def test_explicit_euler_gap_shrinks_at_order_one():
    orders = observed_orders(oc.ExplicitEuler(), [40, 80])
    assert np.all((orders >= 0.8) & (orders <= 1.2)), orders


def test_gap_is_the_largest_state_difference():
    ocp, x, _ = vdp()
    sol = oc.solve(ocp, grid=10)
    traj = sol.simulate()
    diff = np.abs(traj.value(x) - sol.value(x))
    assert traj.gap == diff.max()
    assert traj.gap_by_state == {"x": diff.max()}
    np.testing.assert_array_equal(traj.t, sol.t)
    np.testing.assert_allclose(traj.value(x)[0], [1.0, 0.0])


# ------------------------------------------------------------ descriptions of one control agree
def test_solution_array_and_callable_controls_agree():
    ocp, x, u = vdp()
    sol = oc.solve(ocp, grid=8)
    t = sol.t
    U = sol.value(u)
    tight = {"abstol": 1e-12, "reltol": 1e-12}
    from_solution = oc.simulate(ocp, sol, t, **tight)
    from_array = oc.simulate(ocp, {u: U}, t, **tight)
    # a callable of the same piecewise-constant function; its sub-steps contain the switches
    from_callable = oc.simulate(ocp, lambda s: sol.at(u, s), t, substeps=3, **tight)
    for other in (from_array, from_callable):
        np.testing.assert_allclose(other.value(x), from_solution.value(x), atol=1e-9)


def test_linear_controls_solution_and_node_array_agree():
    ocp, x, u = vdp()
    sol = oc.solve(ocp, oc.RK4(controls="linear"), grid=8)
    finer = np.linspace(0.0, 4.0, 17)  # output times between the solution's nodes too
    tight = {"abstol": 1e-12, "reltol": 1e-12}
    from_solution = oc.simulate(ocp, sol, finer, **tight)
    from_nodes = oc.simulate(ocp, sol.value(u), sol.t, **tight)
    np.testing.assert_allclose(from_solution.value(x)[::2], from_nodes.value(x), atol=1e-9)
    np.testing.assert_allclose(from_solution.value(u), sol.at(u, finer), atol=1e-14)


def test_integrators_agree_to_their_tolerance():
    ocp, x, _ = vdp()
    sol = oc.solve(ocp, grid=10)
    ref = sol.simulate(integrator="cvodes", abstol=1e-12, reltol=1e-12).value(x)
    for name in ("cvodes", "idas", "rk"):
        got = sol.simulate(integrator=name).value(x)
        np.testing.assert_allclose(got, ref, atol=1e-7)


def test_at_interpolates_states_linearly_between_outputs():
    ocp, x, u = lq()
    t = np.array([0.0, 0.5, 1.0])
    traj = oc.simulate(ocp, [1.0, 3.0], t)  # x = 1, 1.5, 3
    assert traj.at(x, 0.25) == pytest.approx(1.25)
    assert traj.at(x, 0.75) == pytest.approx(2.25)
    np.testing.assert_allclose(traj.at(u, [0.25, 0.5, 0.75]), [1.0, 3.0, 3.0])


# ------------------------------------------------------------ a trajectory as initial guess
def _dynamics_violation(problem, w0):
    nlp = problem.nlp
    g = np.asarray(cs.Function("g", [nlp["x"], nlp["p"]], [nlp["g"]])(w0, problem.parameters)).ravel()
    return np.max(np.abs(g[problem.constraint_slices["dynamics"]]))


def test_simulated_trajectory_as_guess_starts_nearly_feasible():
    ocp, x, u = vdp()
    n = 20
    coarse = oc.solve(ocp, grid=n)
    problem = oc.discretize(ocp, grid=n)
    traj = coarse.simulate()
    default = _dynamics_violation(problem, initial_guess(problem, {u: coarse.value(u)}))
    simulated = _dynamics_violation(problem, initial_guess(problem, traj))
    per_symbol = _dynamics_violation(problem, initial_guess(problem, {x: traj, u: traj}))
    # What is left is RK4's own local error against the exact flow: below the global gap.
    assert simulated <= traj.gap
    assert simulated < 1e-3 * default
    assert per_symbol == simulated
    again = oc.solve(ocp, grid=n, guess=traj)
    assert again.success
    assert again.objective == pytest.approx(coarse.objective, rel=1e-8)


def test_free_final_time_from_solution_and_guess():
    ocp, x, u = unit_min_time(lower=0.5, upper=4.0)
    sol = oc.solve(ocp, grid=4)
    traj = sol.simulate()
    assert traj.tf == pytest.approx(sol.tf)
    assert traj.value(x)[-1] == pytest.approx(1.0, abs=1e-8)
    again = oc.solve(ocp, grid=8, guess=traj)
    assert again.success and again.tf == pytest.approx(1.0, abs=1e-6)
    by_tf = oc.simulate(ocp, np.ones(2), [0.0, 0.5, 2.0], tf=2.0)
    np.testing.assert_allclose(by_tf.value(x), [0.0, 0.5, 2.0], atol=1e-9)


def test_parameters_from_solution_and_given():
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    a = ocp.variable("a", lower=-2.0, upper=2.0)
    ocp.dynamics(x, a * x)
    ocp.initial(x, 1.0)
    ocp.minimize_terminal((x - np.exp(-1.0)) ** 2)
    sol = oc.solve(ocp, grid=10)
    traj = sol.simulate()
    assert traj.value(a) == pytest.approx(sol.value(a))
    np.testing.assert_allclose(traj.value(x), np.exp(sol.value(a) * sol.t), rtol=1e-8)
    given = oc.simulate(ocp, None, [0.0, 1.0], variables={a: 0.5})
    assert given.value(x)[-1] == pytest.approx(np.exp(0.5), rel=1e-8)


# ------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs, error, match", [
    ({"integrator": "euler"}, ValueError, "integrator"),
    ({"t_grid": [0.0, 0.5, 0.5, 1.0]}, ValueError, "t_grid"),
    ({"t_grid": [0.0, 0.5, 1.5]}, ValueError, "t_grid"),
    ({"t_grid": [-0.5, 0.5, 1.0]}, ValueError, "t_grid"),
    ({"t_grid": [0.0, float("nan"), 1.0]}, ValueError, "t_grid"),
    ({"t_grid": None}, ValueError, "t_grid"),
    ({"controls": np.zeros(4)}, ValueError, "controls"),
    ({"controls": np.zeros((2, 2))}, ValueError, "controls"),
    ({"controls": [0.0, float("nan")]}, ValueError, "controls"),
    ({"controls": lambda t: [1.0, 2.0]}, ValueError, "controls"),
    ({"controls": lambda t: float("nan")}, ValueError, "controls"),
    ({"controls": None}, ValueError, "controls"),
    ({"controls": "zero"}, TypeError, "controls"),
    ({"x0": {"x": 1.0}}, ValueError, "x0"),
    ({"x0": float("nan")}, ValueError, "x0"),
    ({"abstol": 0.0}, ValueError, "abstol"),
    ({"reltol": -1e-8}, ValueError, "reltol"),
    ({"substeps": 0}, ValueError, "substeps"),
    ({"tf": 2.0}, ValueError, "tf"),
])
def test_bad_input_names_the_argument(kwargs, error, match):
    ocp, _, _ = lq()
    args = {"controls": [0.0, 1.0], "t_grid": [0.0, 0.5, 1.0], **kwargs}
    with pytest.raises(error, match=match):
        oc.simulate(ocp, args.pop("controls"), args.pop("t_grid"), **args)


def test_missing_initial_state_parameter_and_tf():
    ocp = oc.OCP(t0=0.0, tf=oc.FreeTime(lower=0.5, upper=4.0, guess=1.0))
    x = ocp.state("x")
    a = ocp.variable("a")
    ocp.dynamics(x, a * x)
    ocp.minimize_terminal(x ** 2)
    with pytest.raises(ValueError, match="tf"):
        oc.simulate(ocp, None, [0.0, 1.0], x0={x: 1.0}, variables={a: 1.0})
    with pytest.raises(ValueError, match="x0.*'x'"):
        oc.simulate(ocp, None, [0.0, 1.0], variables={a: 1.0}, tf=1.0)
    with pytest.raises(ValueError, match="variables.*'a'"):
        oc.simulate(ocp, None, [0.0, 1.0], x0={x: 1.0}, tf=1.0)


def test_other_ocp_and_non_ocp_are_refused():
    ocp, _, _ = lq()
    other, _, _ = lq()
    sol = oc.solve(other, grid=2)
    with pytest.raises(ValueError, match="controls"):
        oc.simulate(ocp, sol)
    with pytest.raises(TypeError, match="ocp"):
        oc.simulate("ocp", sol)
    with nlp_forbidden(), pytest.raises(ValueError, match="at t"):
        sol.simulate().at(other.controls[0].symbol, 2.0)

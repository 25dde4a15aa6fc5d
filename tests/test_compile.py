"""oc.compile: the NLP and its solver built once, re-solved for new parameter values and guesses.

References: a fresh ``oc.solve`` of the same problem (the same NLP, so the same optimum), and the
shift of a solution checked entry by entry against the solution it came from.
"""

from __future__ import annotations

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from helpers import IPOPT, nlp_forbidden

# IPOPT stops within its tolerance of the optimum; 1e-11 puts starts from different points within 1e-8 of it.
TIGHT = oc.Ipopt(tol=1e-11)


def _double_integrator(horizon: float = 2.0):
    """MPC-like: x'' = u, |u| <= 1, min int |x|^2 + u^2 / 10, x(0) the parameter x0."""
    ocp = oc.OCP(0.0, horizon)
    x = ocp.state("x", 2)
    u = ocp.control("u", lower=-1.0, upper=1.0)
    x0 = ocp.parameter("x0", 2)
    ocp.dynamics(x, cs.vertcat(x[1], u))
    ocp.initial(x, x0)
    ocp.minimize_integral(cs.sumsqr(x) + 0.1 * u ** 2)
    return ocp, x, u, x0


TRANSCRIPTIONS = [oc.RK4(), oc.Collocation(degree=3), oc.RK4(shooting="single"), oc.RK4(controls="linear")]
IDS = ["rk4", "collocation", "single-shooting", "rk4-linear"]


@pytest.mark.parametrize("transcription", TRANSCRIPTIONS, ids=IDS)
def test_resolves_match_fresh_solves_and_build_nothing(transcription):
    ocp, _, _, x0 = _double_integrator()
    starts = ([1.0, 0.0], [-0.5, 0.8], [2.0, -1.0])
    fresh = [oc.solve(ocp, transcription, grid=16, parameters={x0: v}, solver=TIGHT) for v in starts]
    compiled = oc.compile(ocp, transcription, grid=16, solver=TIGHT)
    with nlp_forbidden(graph_too=True):
        again = [compiled.solve(parameters={x0: v}) for v in starts]
    for ref, sol in zip(fresh, again):
        assert ref.success and sol.success
        assert sol.objective == pytest.approx(ref.objective, abs=1e-8)
        np.testing.assert_allclose(sol.w, ref.w, atol=1e-8)
    assert again[0].objective != pytest.approx(again[1].objective)  # the values reached the NLP


def test_warm_starts_converge_to_the_fresh_optimum_in_no_more_iterations():
    ocp, x, _, x0 = _double_integrator()
    compiled = oc.compile(ocp, grid=20, solver=TIGHT)
    first = compiled.solve(parameters={x0: [1.0, 0.0]})
    following = {x0: first.value(x)[1]}  # the next MPC step: the state one interval later
    with nlp_forbidden(graph_too=True):
        cold = compiled.solve(parameters=following)
        warm = compiled.solve(parameters=following, guess=first)
        shifted = compiled.solve(parameters=following, guess=first.shifted())
    for sol in (warm, shifted):
        assert sol.success
        assert sol.objective == pytest.approx(cold.objective, abs=1e-8)
        np.testing.assert_allclose(sol.w, cold.w, atol=1e-8)
        assert sol.iterations <= cold.iterations


def test_multipliers_warm_start_solves_and_matches():
    ocp, x, _, x0 = _double_integrator()
    compiled = oc.compile(ocp, grid=20, solver=TIGHT)
    first = compiled.solve(parameters={x0: [1.0, 0.0]})
    following = {x0: first.value(x)[1]}
    cold = compiled.solve(parameters=following)
    warm = compiled.solve(parameters=following, guess=first.shifted(), multipliers=True)
    assert warm.success
    assert warm.objective == pytest.approx(cold.objective, abs=1e-8)
    np.testing.assert_allclose(warm.w, cold.w, atol=1e-8)
    assert warm.iterations <= cold.iterations
    # the warm-start instance is built on the first such solve; after that nothing is built
    with nlp_forbidden(graph_too=True):
        again = compiled.solve(parameters=following, guess=warm, multipliers=True)
    assert again.success and again.objective == pytest.approx(cold.objective, abs=1e-8)


def test_compile_with_warm_start_builds_that_instance_first():
    ocp, _, _, x0 = _double_integrator()
    compiled = oc.compile(ocp, grid=10, solver=TIGHT, warm_start=True)
    ref = oc.solve(ocp, grid=10, parameters={x0: [1.0, 0.0]}, solver=TIGHT)
    with nlp_forbidden(graph_too=True):
        sol = compiled.solve(parameters={x0: [1.0, 0.0]}, guess=ref, multipliers=True)
    assert sol.success and sol.objective == pytest.approx(ref.objective, abs=1e-8)


def test_solve_is_compile_then_solve():
    """oc.solve and a compiled solve of the same problem give the same Solution, with and without a static
    variable and a free final time."""
    ocp = oc.OCP(0.0, oc.FreeTime(guess=1.0, lower=0.2, upper=5.0))
    x = ocp.state("x", 2)
    u = ocp.control("u", lower=-1.0, upper=1.0)
    k = ocp.variable("k", lower=0.5, upper=2.0)
    gain = ocp.parameter("gain")
    ocp.dynamics(x, cs.vertcat(x[1], gain * k * u))
    ocp.initial(x, [0.0, 0.0])
    ocp.subject_to_terminal(x == cs.vertcat(1.0, 0.0))
    ocp.minimize_terminal(ocp.tf + (k - 1) ** 2)
    fresh = oc.solve(ocp, grid=20, parameters={gain: 2.0}, solver=TIGHT)
    sol = oc.compile(ocp, grid=20, solver=TIGHT).solve(parameters={"gain": 2.0})
    assert fresh.success and sol.success
    np.testing.assert_allclose(sol.w, fresh.w, atol=1e-8)
    assert sol.value(k) == pytest.approx(fresh.value(k), abs=1e-8)


def test_shifted_moves_states_and_controls_by_whole_intervals():
    ocp, x, u, x0 = _double_integrator()
    sol = oc.solve(ocp, grid=10, parameters={x0: [1.0, 0.0]}, solver=IPOPT)
    for steps in (1, 3):
        moved = sol.shifted(steps)
        assert not moved.success and moved.status == "Shifted_Guess"  # a start point, never a result
        X, U = sol.value(x), sol.value(u)
        # node 0 is x(0), fixed by the parameter: the moved nodes start at node 1
        np.testing.assert_array_equal(moved.value(x)[1:11 - steps], X[1 + steps:])
        np.testing.assert_array_equal(moved.value(x)[11 - steps:], np.repeat(X[-1:], steps, axis=0))
        np.testing.assert_array_equal(moved.value(u)[:10 - steps], U[steps:])
        np.testing.assert_array_equal(moved.value(u)[10 - steps:], np.repeat(U[-1:], steps))
        dyn = sol.problem.constraint_slices["dynamics"]
        lam = sol.lam_g[dyn].reshape(2, 10, order="F")
        lam_moved = moved.lam_g[dyn].reshape(2, 10, order="F")
        np.testing.assert_array_equal(lam_moved[:, :10 - steps], lam[:, steps:])


def test_shifted_keeps_static_variables_and_moves_free_initial_states():
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    k = ocp.variable("k", lower=0.0, upper=3.0)
    ocp.dynamics(x, k * u)
    ocp.minimize_integral((x - 1) ** 2 + u ** 2 + (k - 2) ** 2)
    sol = oc.solve(ocp, oc.Collocation(degree=2), grid=8, solver=IPOPT)
    moved = sol.shifted(2)
    assert moved.value(k) == sol.value(k)
    np.testing.assert_array_equal(moved.value(x)[:7], sol.value(x)[2:])  # x(0) free: it moves too


def test_shifted_refuses_a_non_uniform_grid_and_bad_steps():
    ocp, _, _, x0 = _double_integrator()
    sol = oc.solve(ocp, grid=oc.Grid([0.0, 0.1, 0.5, 1.0]), parameters={x0: [1.0, 0.0]}, solver=IPOPT)
    with pytest.raises(ValueError, match="shifted: the solution's grid is not uniform"):
        sol.shifted()
    even = oc.solve(ocp, grid=oc.Grid(np.linspace(0.0, 1.0, 5)), parameters={x0: [1.0, 0.0]}, solver=IPOPT)
    assert even.shifted().w.shape == even.w.shape  # evenly spaced nodes given as a Grid are uniform
    with pytest.raises(ValueError, match=r"steps: expected 1 to N - 1 = 3 intervals, got 4"):
        even.shifted(4)
    with pytest.raises(ValueError, match="steps: expected an integer >= 1"):
        even.shifted(0)
    with pytest.raises(TypeError, match="steps: expected an integer"):
        even.shifted(1.5)


def test_bad_parameters_and_guesses_are_refused_before_solving():
    ocp, _, _, x0 = _double_integrator()
    compiled = oc.compile(ocp, grid=10, solver=IPOPT)
    other_grid = oc.solve(ocp, grid=12, parameters={x0: [1.0, 0.0]}, solver=IPOPT)
    other_scheme = oc.solve(ocp, oc.Collocation(), grid=10, parameters={x0: [1.0, 0.0]}, solver=IPOPT)
    other_ocp, *_ = _double_integrator()
    foreign = oc.solve(other_ocp, grid=10, parameters={"x0": [1.0, 0.0]}, solver=IPOPT)
    good = {x0: [1.0, 0.0]}
    with nlp_forbidden(graph_too=True):
        with pytest.raises(ValueError, match=r"parameters: no value for the parameter\(s\) 'x0'"):
            compiled.solve()
        with pytest.raises(ValueError, match=r"parameters\['x0'\]: expected shape \(2, 1\)"):
            compiled.solve(parameters={x0: [1.0, 2.0, 3.0]})
        with pytest.raises(ValueError, match=r"parameters\['x0'\]: contains NaN"):
            compiled.solve(parameters={x0: [1.0, float("nan")]})
        for wrong in (other_grid, other_scheme):
            with pytest.raises(ValueError, match="guess: expected a Solution of this compiled problem"):
                compiled.solve(parameters=good, guess=wrong)
        with pytest.raises(ValueError, match="guess: expected a Solution of this OCP"):
            compiled.solve(parameters=good, guess=foreign)
        with pytest.raises(ValueError, match="multipliers: needs a previous Solution as guess"):
            compiled.solve(parameters=good, multipliers=True)
        with pytest.raises(TypeError, match="multipliers: expected True or False"):
            compiled.solve(parameters=good, multipliers=1)


def test_compile_refuses_bad_arguments_before_building():
    ocp, *_ = _double_integrator()
    with nlp_forbidden(graph_too=True):
        with pytest.raises(TypeError, match="warm_start: expected True or False"):
            oc.compile(ocp, grid=10, solver=IPOPT, warm_start="yes")
        with pytest.raises(TypeError, match="solver: expected oc.Ipopt"):
            oc.compile(ocp, grid=10, solver="ipopt")
        with pytest.raises(TypeError, match="ocp: expected an oc.OCP"):
            oc.compile("ocp", grid=10, solver=IPOPT)


def test_timings_of_a_resolve():
    ocp, _, _, x0 = _double_integrator()
    compiled = oc.compile(ocp, grid=10, solver=IPOPT)
    assert compiled.build_seconds > 0.0
    sol = compiled.solve(parameters={x0: [1.0, 0.0]})
    # a re-solve builds nothing: its build time is the bookkeeping of the guess and the values, not the compile
    assert 0.0 < sol.build_seconds and 0.0 < sol.solve_seconds
    assert isinstance(compiled, oc.CompiledProblem)

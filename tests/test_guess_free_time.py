"""Per-symbol Solution guesses on a free-time problem: read at the same fraction of the horizon."""

import casadi as cs
import numpy as np
import pytest

import occontrol as oc


def min_time(guess_tf: float) -> tuple[oc.OCP, cs.MX, cs.MX]:
    """Rest to rest over a unit distance with |u| <= 1: the minimum time is 2 (bang-bang)."""
    ocp = oc.OCP(0.0, oc.FreeTime(guess=guess_tf, lower=0.1, upper=10.0))
    x = ocp.state("x", 2)
    u = ocp.control("u", lower=-1, upper=1)
    ocp.dynamics(x, cs.vertcat(x[1], u))
    ocp.initial(x, [0.0, 0.0])
    ocp.subject_to_terminal(x[0] == 1)
    ocp.subject_to_terminal(x[1] == 0)
    ocp.minimize_terminal(ocp.tf)
    return ocp, x, u


@pytest.fixture(scope="module")
def solved():
    ocp, x, u = min_time(guess_tf=5.0)  # a tf guess far above the optimum
    sol = oc.solve(ocp, oc.RK4(), grid=20)
    assert sol.success and sol.tf == pytest.approx(2.0, abs=1e-6)
    return ocp, x, u, sol


def test_per_symbol_solution_guesses_take_the_solutions_horizon(solved):
    ocp, x, u, sol = solved
    problem = oc.discretize(ocp, oc.RK4(), grid=20)
    # no tf guess given: the solutions' own tf, so the guess is the solution itself on its own grid
    w0 = problem.initial_point({x: sol, u: sol})
    assert w0[problem.index.tf].item() == sol.tf
    assert np.allclose(w0[problem.index.controls], sol.w[problem.index.controls], rtol=0, atol=1e-12)
    # node states are read through the scheme's dense output, a step from the previous node:
    # equal to the stored ones up to the dynamics defect IPOPT left (its tolerance, 1e-8)
    assert np.allclose(w0[problem.index.states], sol.w[problem.index.states], rtol=0, atol=1e-8)
    again = oc.solve(ocp, oc.RK4(), grid=20, guess={x: sol, u: sol})
    assert again.success and again.tf == pytest.approx(sol.tf, abs=1e-8)


def test_with_another_tf_guess_the_solution_is_read_in_normalised_time(solved):
    ocp, x, u, sol = solved
    problem = oc.discretize(ocp, oc.RK4(), grid=20)
    w0 = problem.initial_point({x: sol, u: sol, ocp.tf: 4.0})
    assert w0[problem.index.tf].item() == 4.0
    # the same control values interval by interval, now spread over [0, 4]
    assert np.allclose(w0[problem.index.controls], sol.w[problem.index.controls], rtol=0, atol=1e-12)
    assert np.allclose(w0[problem.index.states], sol.w[problem.index.states], rtol=0, atol=1e-8)

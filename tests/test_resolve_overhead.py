"""A re-solve's work outside the solver, cut without losing a check.

References: the start-point diagnosis a fresh ``oc.solve`` gives up front (the same message after a
failed re-solve from a previous Solution), the full readout function of the discrete problem (the
values read from w by index must equal it exactly), the shift written block by block (the
gather-based shift must equal it exactly), and ``parameter_values`` + ``with_parameters`` (the
compiled problem's prepared path must give the same NLP parameter vector and the same errors).
"""

from __future__ import annotations

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from helpers import IPOPT, log_parameter_ocp
from occontrol.parameters import parameter_values
from occontrol.shift import _shift_lam_g, _shift_w
from occontrol.start_check import check_initial_point


def test_a_nan_parameter_after_a_previous_optimum_gives_the_upfront_message():
    ocp, x, _, p = log_parameter_ocp()
    with pytest.raises(ValueError) as fresh:
        oc.solve(ocp, grid=5, parameters={p: -1.0}, solver=IPOPT)
    assert str(fresh.value).startswith("guess: the objective is NaN at the initial guess, in its running cost")
    compiled = oc.compile(ocp, grid=5, solver=IPOPT)
    sol = compiled.solve(parameters={p: 2.0})
    assert sol.success
    # a Solution of this layout as guess: the check runs after IPOPT fails, with the same message
    for guess, multipliers in ((sol, False), (sol, True), (sol.shifted(1), True), (sol.shifted(2), False)):
        with pytest.raises(ValueError) as again:
            compiled.solve(parameters={p: -1.0}, guess=guess, multipliers=multipliers)
        assert str(again.value) == str(fresh.value)
    # other guesses are still checked before the solver runs
    with pytest.raises(ValueError) as upfront:
        compiled.solve(parameters={p: -1.0}, guess={x: 1.0})
    assert str(upfront.value) == str(fresh.value)
    assert compiled.solve(parameters={p: 3.0}, guess=sol).success  # the compiled problem still works


def test_a_nan_in_the_guess_solution_itself_is_named():
    ocp, _, _, p = log_parameter_ocp()
    compiled = oc.compile(ocp, oc.Collocation(degree=2), grid=4, solver=IPOPT)
    sol = compiled.solve(parameters={p: 2.0})
    w = sol.w.copy()
    w[sol.problem.index.states[0]] = np.nan  # x at node 1
    poisoned = oc.Solution(sol.problem, w, status="made", success=False, iterations=0, build_seconds=0.0,
                           solve_seconds=0.0, solver="ipopt")
    with pytest.raises(ValueError) as upfront:  # what the check before the solver says of this point
        check_initial_point(sol.problem, compiled._instance(False), w)
    assert str(upfront.value).startswith("guess: the dynamics of state 'x' are NaN at the initial guess")
    with pytest.raises(ValueError) as after:
        compiled.solve(parameters={p: 2.0}, guess=poisoned)
    assert str(after.value) == str(upfront.value)


def test_a_failed_resolve_with_a_finite_start_is_returned_as_failed():
    """No NaN at the start: the check finds nothing and the failed Solution comes back as IPOPT left it."""
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u", lower=-1.0, upper=1.0)
    xf = ocp.parameter("xf")
    ocp.dynamics(x, u)
    ocp.initial(x, 0.0)
    ocp.subject_to_terminal(x == xf)
    ocp.minimize_integral(u ** 2)
    compiled = oc.compile(ocp, grid=6, solver=oc.Ipopt(max_iter=50))
    sol = compiled.solve(parameters={xf: 0.5})
    assert sol.success
    out = compiled.solve(parameters={xf: 3.0}, guess=sol)  # |u| <= 1 cannot reach 3 in 1 s
    assert not out.success and out.status == "Infeasible_Problem_Detected"


def _rich_ocp(fixed: bool):
    """A matrix state, a vector state with part of x(0) free, two controls, a static variable."""
    ocp = oc.OCP(0.0, 1.0)
    M = ocp.state("M", (2, 2))
    y = ocp.state("y", 2)
    a = ocp.control("a", lower=-2.0, upper=2.0)
    b = ocp.control("b", 2)
    k = ocp.variable("k", lower=0.5, upper=2.0)
    q = ocp.parameter("q", 2)
    ocp.dynamics(M, -k * M + a * cs.DM.eye(2))
    ocp.dynamics(y, cs.vertcat(y[1], b[0] - y[0]) + q)
    ocp.initial(M, np.array([[1.0, 0.5], [0.0, 2.0]]))
    if fixed:
        ocp.initial(y, q)
    ocp.minimize_integral(cs.sumsqr(M) + cs.sumsqr(y - 1) + a ** 2 + cs.sumsqr(b) + (k - 1) ** 2)
    return ocp, (M, y), (a, b), q


TRANSCRIPTIONS = [oc.RK4(), oc.RK4(controls="linear"), oc.RK4(shooting="single"), oc.ExplicitEuler(),
                  oc.Heun(controls="linear"), oc.Ralston(), oc.Collocation(degree=3),
                  oc.Collocation(degree=2, scheme="legendre", controls="linear")]


@pytest.mark.parametrize("fixed", [True, False], ids=["fixed-x0", "free-x0"])
@pytest.mark.parametrize("transcription", TRANSCRIPTIONS, ids=lambda t: repr(t)[:40])
def test_values_read_by_index_equal_the_readout_exactly(transcription, fixed):
    ocp, states, controls, q = _rich_ocp(fixed)
    compiled = oc.compile(ocp, transcription, grid=5, solver=IPOPT)
    sol = compiled.solve(parameters={q: [0.3, -0.2]})
    assert sol.success, sol.status
    # w with distinct entries everywhere (not only an optimum), for the layout's sake
    rng = np.random.default_rng(7)
    for w in (sol.w, rng.normal(size=sol.w.size)):
        direct = oc.Solution(sol.problem, w, status="made", success=False, iterations=0, build_seconds=0.0,
                             solve_seconds=0.0, solver="ipopt")
        read = oc.Solution(sol.problem, w, status="made", success=False, iterations=0, build_seconds=0.0,
                           solve_seconds=0.0, solver="ipopt")
        nodes, _ = sol.problem.evaluate(w)  # the readout function, evaluated independently
        read.nodes  # noqa: B018  (makes the readout first: value() then reads it)
        for s in controls:
            value = direct.value(s)
            assert "_readout" not in direct.__dict__  # read from w by index
            np.testing.assert_array_equal(value, read.value(s))
        for s in states:
            np.testing.assert_array_equal(direct.value(s), read.value(s))
        # multiple shooting and collocation keep the states in w; single shooting needs the readout
        assert ("_readout" in direct.__dict__) == (getattr(transcription, "shooting", "") == "single")
        np.testing.assert_array_equal(direct.node_states(), nodes.states)


def test_resolves_with_the_prepared_parameters_match_fresh_solves():
    ocp, _, _, q = _rich_ocp(True)
    compiled = oc.compile(ocp, oc.Collocation(degree=3), grid=6, solver=oc.Ipopt(tol=1e-11))
    for value in ([0.3, -0.2], [-1.0, 0.4]):
        fresh = oc.solve(ocp, oc.Collocation(degree=3), grid=6, parameters={q: value}, solver=oc.Ipopt(tol=1e-11))
        again = compiled.solve(parameters={"q": value}, guess=fresh)
        np.testing.assert_array_equal(again.problem.parameters, fresh.problem.parameters)
        np.testing.assert_array_equal(again.problem.parameter_values["q"], fresh.problem.parameter_values["q"])
        np.testing.assert_allclose(again.w, fresh.w, atol=1e-8)


def test_the_prepared_parameters_give_the_same_vector_and_errors_as_with_parameters():
    """A parameter-dependent initial state (an expression, so the initial function is called), one that
    is a parameter itself (copied), bounds on it, and every kind of bad input."""
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x", 2, lower=-1.0, upper=1.0)
    z = ocp.state("z")
    u = ocp.control("u")
    r = ocp.parameter("r", 2)
    s = ocp.parameter("s")
    ocp.dynamics(x, u * r)
    ocp.dynamics(z, -z)
    ocp.initial(x, r)
    ocp.initial(z, 2 * s + 1)
    ocp.minimize_integral(cs.sumsqr(x) + u ** 2 + z ** 2)
    compiled = oc.compile(ocp, grid=4, solver=IPOPT)
    for given in ({r: [0.5, -0.5], s: 2.0}, {"r": np.array([0.1, 0.2]), "s": -3}):
        problem = compiled._with_parameters(given)
        ref = compiled.problem.with_parameters(parameter_values(ocp, given))
        np.testing.assert_array_equal(problem.parameters, ref.parameters)
        assert problem.parameter_values.keys() == ref.parameter_values.keys()
        for name in ref.parameter_values:
            np.testing.assert_array_equal(problem.parameter_values[name], ref.parameter_values[name])
    bad = [None, {r: [0.5, 0.5]}, {r: [0.5, 0.5], s: 1.0, "r": [0.1, 0.1]}, {r: [0.5, 0.5], "x": 1.0},
           {r: [0.5, 0.5], x: 1.0}, {r: [0.5, 0.5], cs.MX.sym("s"): 1.0}, {r: [0.5, 0.5], 3: 1.0},
           {r: [0.5, np.nan], s: 1.0}, {r: [0.5, 0.5, 0.5], s: 1.0}, {r: [2.0, 0.0], s: 1.0}, [1.0, 2.0],
           {r: [0.5, 0.5], "r": [0.5, 0.5]}]
    for given in bad:
        with pytest.raises((TypeError, ValueError)) as ours:
            compiled.solve(parameters=given)
        with pytest.raises((TypeError, ValueError)) as ref:
            compiled.problem.with_parameters(parameter_values(ocp, given))
        assert (type(ours.value), str(ours.value)) == (type(ref.value), str(ref.value)), given


def test_the_caller_changing_its_parameter_array_changes_no_solution():
    ocp, _, _, q = _rich_ocp(True)
    compiled = oc.compile(ocp, grid=4, solver=IPOPT)
    value = np.array([0.3, -0.2])
    sol = compiled.solve(parameters={q: value})
    value[:] = 9.0
    np.testing.assert_array_equal(sol.problem.parameter_values["q"].ravel(), [0.3, -0.2])
    np.testing.assert_array_equal(sol.value(q), [0.3, -0.2])


@pytest.mark.parametrize("transcription", [oc.RK4(), oc.RK4(shooting="single", controls="linear"),
                                           oc.Collocation(degree=3)], ids=["rk4", "single-linear", "collocation"])
@pytest.mark.parametrize("fixed", [True, False], ids=["fixed-x0", "free-x0"])
def test_shifted_equals_the_block_by_block_shift(transcription, fixed):
    ocp, (_, y), (a, _), q = _rich_ocp(fixed)
    ocp.subject_to(y[0] + a <= 5.0)  # path rows: their multipliers move interval by interval
    compiled = oc.compile(ocp, transcription, grid=6, solver=IPOPT)
    sol = compiled.solve(parameters={q: [0.3, -0.2]})
    problem = sol.problem
    for steps in (1, 2, 5):
        moved = sol.shifted(steps)
        w = np.clip(_shift_w(problem, sol.w, steps, sol.nodes.states[:, steps]), problem.lbx, problem.ubx)
        np.testing.assert_array_equal(moved.w, w)
        np.testing.assert_array_equal(moved.lam_x, _shift_w(problem, sol.lam_x, steps, None))
        np.testing.assert_array_equal(moved.lam_g, _shift_lam_g(problem, sol.lam_g, steps))


@pytest.mark.parametrize("degree", [1, 2, 3, 4, 5])
def test_radau_end_point_is_the_last_collocation_point_exactly(degree):
    """Radau IIA has a point at tau = 1: the interval's end is that point, so each continuity row of
    the Jacobian holds two entries (Z_{k+1} and that point), none from round-off of the basis."""
    t = oc.Collocation(degree=degree, scheme="radau")
    np.testing.assert_array_equal(t.D, np.r_[np.zeros(degree), 1.0])
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x", 2)
    u = ocp.control("u")
    ocp.dynamics(x, cs.vertcat(x[1], u - cs.sin(x[0])))
    ocp.initial(x, [1.0, 0.0])
    ocp.minimize_integral(cs.sumsqr(x) + u ** 2)
    compiled = oc.compile(ocp, t, grid=4, solver=IPOPT)
    problem = compiled.problem
    jac = compiled._instance(False).get_function("nlp_jac_g").sparsity_out(1)
    rows = np.asarray(jac.get_triplet()[0])
    dyn = problem.constraint_slices["dynamics"]
    per_row = np.bincount(rows, minlength=problem.lbg.size)[dyn]
    np.testing.assert_array_equal(per_row, 2)
    # Legendre has no point at 1: its end point is the whole polynomial, every weight non-zero
    assert np.all(oc.Collocation(degree=degree, scheme="legendre").D != 0.0)


@pytest.mark.parametrize("fixed", [True, False], ids=["x0-is-the-parameter", "x0-free"])
def test_the_parameter_vector_by_copies_equals_with_parameters(fixed):
    """Unbounded initial states that are a parameter itself (or none): the vector is made by copies."""
    ocp, _, _, q = _rich_ocp(fixed)
    compiled = oc.compile(ocp, oc.Collocation(degree=2), grid=3, solver=IPOPT)
    for value in ([0.3, -0.2], np.array([[1.5], [2.5]]), np.array([-4.0, 7.0])):
        ours = compiled._with_parameters({q: value})
        ref = compiled.problem.with_parameters(parameter_values(ocp, {q: value}))
        np.testing.assert_array_equal(ours.parameters, ref.parameters)
        np.testing.assert_array_equal(ours.parameter_values["q"], ref.parameter_values["q"])

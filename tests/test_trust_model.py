"""No silent wrong answer from the modelling and solver API.

Each refusal checks the exception type and that the message names the
argument; each acceptance checks the effect against an independent
reference (an analytic optimum, or the same problem written another way).
"""

from __future__ import annotations

import re
from unittest import mock

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from helpers import unit_min_time
from occontrol.transcription.discrete import Transcription
from occontrol.transcription.layout import BlockKind, Sampling

INF = float("inf")
IPOPT = oc.Ipopt()  # made before any test forbids casadi.nlpsol (it checks its options on a toy NLP)


def _forbidden(*args, **kwargs):
    raise AssertionError("an NLP was built or a solver created: the error must come first")


@pytest.fixture
def no_graph():
    """Fail if casadi.nlpsol is called or an NLP graph is built."""
    with mock.patch.object(cs, "nlpsol", _forbidden), mock.patch.object(Transcription, "discretize", _forbidden):
        yield


def integrator(x0: float = 1.0) -> tuple[oc.OCP, cs.MX, cs.MX]:
    """x' = u, x(0) = x0 on [0, 1], with no cost yet."""
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, x0)
    return ocp, x, u


def bryson_denham(bound: str) -> tuple[oc.OCP, cs.MX]:
    """min 1/2 int u^2, x'' = u, (x, x')(0) = (0, 1), (x, x')(1) = (0, -1), x <= 1/9 (optimum 4).

    ``bound`` says how x <= 1/9 is written: 'bounds', 'comparison' or 'two-sided'.
    """
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x", 2)
    u = ocp.control("u")
    ocp.dynamics(x, cs.vertcat(x[1], u))
    ocp.initial(x, [0.0, 1.0])
    ocp.subject_to_terminal(x == cs.DM([0.0, -1.0]))
    ocp.minimize_integral(u ** 2 / 2)
    if bound == "bounds":
        ocp.bounds(x, upper=[1 / 9, INF])
    elif bound == "comparison":
        ocp.subject_to(x[0] <= 1 / 9)
    else:
        ocp.subject_to(x[0], lower=-1.0, upper=1 / 9)
    return ocp, x


# ====================================================== 1. two-sided constraints
@pytest.mark.parametrize("method", ["subject_to", "subject_to_terminal"])
@pytest.mark.parametrize("make", [
    lambda x: (0 <= x) <= 1,
    lambda x: -0.5 <= (x <= 0.5),
    lambda x: (x >= 0) <= 1,
    lambda x: (x == 1) <= 1,
    lambda x: (x <= 1) == 1,
])
def test_comparison_of_a_comparison_is_refused(method, make):
    ocp, x, _ = integrator()
    with pytest.raises(ValueError, match=rf"^{method} constraint: a comparison of a comparison.*"
                                         r"ocp\.subject_to\(expr, lower=\.\.\., upper=\.\.\.\)"):
        getattr(ocp, method)(make(x))
    assert ocp.path_constraints == [] and ocp.terminal_constraints == []


def test_two_sided_path_constraint_is_enforced_on_both_sides():
    """min int (u - (4t - 2))^2 with -1 <= u <= 1, four intervals.

    The cost separates per interval; RK4's quadrature (Simpson) is exact for it,
    so u_k is the interval mean of 4t - 2 (-1.5, -0.5, 0.5, 1.5) clipped to
    [-1, 1], and the optimum is 2 * h * 0.5^2 + 4 * h * (4h)^2 / 12 = 1/8 + 1/12
    (1/12 without the constraint).
    """
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, 1.0)
    ocp.initial(x, 0.0)
    ocp.minimize_integral((u - (4 * ocp.t - 2)) ** 2)
    ocp.subject_to(u, lower=-1.0, upper=1.0)
    sol = oc.solve(ocp, oc.RK4(), grid=4)
    assert sol.success
    np.testing.assert_allclose(sol.value(u), [-1.0, -0.5, 0.5, 1.0], atol=1e-7)
    assert sol.objective == pytest.approx(1 / 8 + 1 / 12, abs=1e-8)


@pytest.mark.parametrize("target, end", [(3.0, 1.0), (-3.0, -1.0)])
def test_two_sided_terminal_constraint_is_enforced(target, end):
    """min int u^2 + (x(1) - target)^2, x' = u, x(0) = 0, -1 <= x(1) <= 1.

    Unconstrained, x(1) = target / 2 = +-1.5; with the constraint x(1) = +-1 by
    a constant u, cost 1 + (1 - 3)^2 = 5 (explicit Euler is exact for constant u).
    """
    ocp, x, u = integrator(0.0)
    ocp.minimize_integral(u ** 2)
    ocp.minimize_terminal((x - target) ** 2)
    ocp.subject_to_terminal(x, lower=-1.0, upper=1.0)
    sol = oc.solve(ocp, oc.ExplicitEuler(), grid=4)
    assert sol.success
    assert sol.value(x)[-1] == pytest.approx(end, abs=1e-7)
    assert sol.objective == pytest.approx(5.0, abs=1e-7)


def test_two_sided_form_matches_bounds_and_comparisons():
    """The three spellings of x <= 1/9 give the same Bryson-Denham solution."""
    objectives = {}
    for bound in ("bounds", "comparison", "two-sided"):
        ocp, _ = bryson_denham(bound)
        sol = oc.solve(ocp, oc.RK4(), grid=6)
        assert sol.success
        objectives[bound] = sol.objective
    assert objectives["comparison"] == pytest.approx(objectives["bounds"], rel=1e-7)
    assert objectives["two-sided"] == pytest.approx(objectives["bounds"], rel=1e-7)


def test_two_sided_form_stores_elementwise_bounds():
    ocp = oc.OCP()
    x = ocp.state("x", 3)
    ocp.subject_to(x, lower=[0.0, -1.0, -INF], upper=[1.0, INF, 2.0])
    (con,) = ocp.path_constraints
    np.testing.assert_array_equal(con.lower, [0.0, -1.0, -INF])
    np.testing.assert_array_equal(con.upper, [1.0, INF, 2.0])
    assert "x" in con.text


@pytest.mark.parametrize("expr, kwargs, error, match", [
    ("x<=1", {"lower": 0.0}, ValueError, r"with lower/upper, expected the expression to bound"),
    ("x", {"lower": "0"}, TypeError, r"lower: expected a number"),
    ("x", {"upper": True}, TypeError, r"upper: expected numbers, got a boolean"),
    ("x", {"lower": [True, False]}, TypeError, r"lower: expected numbers"),
    ("x", {"lower": 1.0, "upper": 0.0}, ValueError, r"bounds: lower bound 1.0 exceeds"),
    ("x", {"lower": -INF, "upper": INF}, ValueError, r"both unbounded everywhere"),
    ("x", {"lower": INF}, ValueError, r"lower: inf admits no value"),
    ("x", {"lower": float("nan")}, ValueError, r"lower: contains NaN"),
    ("x", {"lower": [0.0, 1.0, 2.0]}, ValueError, r"lower: expected shape \(2, 1\)"),
    ("1.0", {"lower": 0.0}, TypeError, r"expected a CasADi expression of the OCP's symbols"),
    ("const", {"lower": 0.0}, TypeError, r"expected a CasADi expression of the OCP's symbols"),
    ("x+inf", {"lower": 0.0}, ValueError, r"contains NaN or an infinite constant"),
])
def test_bad_two_sided_constraints(expr, kwargs, error, match):
    ocp = oc.OCP()
    x = ocp.state("x", 2)
    value = {"x<=1": x <= 1, "x": x, "1.0": 1.0, "const": cs.MX(2.0), "x+inf": x + INF}[expr]
    with pytest.raises(error, match=rf"^subject_to constraint[ :].*{match}"):
        ocp.subject_to(value, **kwargs)
    assert ocp.path_constraints == []


# ==================================================== 2. IPOPT options
@pytest.mark.parametrize("kwargs, error, match", [
    ({"max_iter": 2 ** 33 + 3}, ValueError, r"^max_iter: expected an integer from 0 to 2147483647"),
    ({"max_iter": 2 ** 31}, ValueError, r"^max_iter: expected an integer from 0 to 2147483647"),
    ({"options": {"max_iter": 2 ** 33 + 3}}, ValueError, r"^options\['max_iter'\]: expected an integer from 0"),
    ({"options": {"max_iter": 10.0}}, TypeError, r"^options\['max_iter'\]: expected an integer"),
    ({"options": {"acceptable_iter": 1.5}}, TypeError, r"^options\['acceptable_iter'\]: expected an integer"),
    ({"options": {"max_iter": True}}, TypeError, r"^options\['max_iter'\]: expected an integer"),
    ({"options": {"tol": float("nan")}}, ValueError, r"^options\['tol'\]: expected a finite number"),
    ({"options": {"acceptable_tol": INF}}, ValueError, r"^options\['acceptable_tol'\]: expected a finite"),
    ({"options": {"tol": True}}, TypeError, r"^options\['tol'\]: expected a number or a string setting"),
    ({"options": {"tol": [1e-6]}}, TypeError, r"^options\['tol'\]: expected a number or a string setting"),
    ({"options": {"tol": None}}, TypeError, r"^options\['tol'\]: expected a number or a string setting"),
    ({"options": {"nlp_upper_bound_inf": 10 ** 30}}, ValueError,
     r"^options\['nlp_upper_bound_inf'\]: the integer .* outside IPOPT's integer range"),
    ({"options": {"print_level": 99}}, ValueError, r"^options\['print_level'\]: expected 0 to 12"),
    ({"options": {"print_level": -1}}, ValueError, r"^options\['print_level'\]: expected an integer"),
    ({"options": {1: 2}}, TypeError, r"^options: expected IPOPT option names \(strings\) as keys"),
    ({"linear_solver": "ma27"}, ValueError, r"^linear_solver: .*HSL library .* not bundled with CasADi"),
    ({"linear_solver": "MA57"}, ValueError, r"^linear_solver: .*HSL library .* not bundled with CasADi"),
    ({"options": {"linear_solver": "ma97"}}, ValueError,
     r"^options\['linear_solver'\]: .*HSL library .* not bundled with CasADi"),
    ({"options": {"linear_solver": "pardiso"}}, ValueError,
     r"^options\['linear_solver'\]: expected one of 'mumps', 'spral'"),
    # IPOPT's documented ranges and settings, checked when the options object is made:
    ({"options": {"bound_frac": 0.9}}, ValueError, r"^options: IPOPT refused bound_frac=0.9"),
    ({"options": {"tol": -1.0}}, ValueError, r"^options: IPOPT refused tol=-1.0"),
    ({"options": {"mu_strategy": "bogus"}}, ValueError, r"^options: IPOPT refused mu_strategy='bogus'"),
    ({"options": {"mu_strategy": "adaptive", "no_such_option": 1}}, ValueError,
     r"^options: IPOPT refused no_such_option=1"),
])
def test_ipopt_options_checked_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        oc.Ipopt(**kwargs)


def test_valid_ipopt_options_reach_ipopt_as_given():
    solver = oc.Ipopt(max_iter=2 ** 31 - 1, linear_solver="spral",
                      options={"mu_strategy": "adaptive", "acceptable_iter": 5, "max_cpu_time": 10 ** 6,
                               "bound_frac": 0.5})
    opts = solver.ipopt_options()
    assert opts["max_iter"] == 2 ** 31 - 1 and opts["linear_solver"] == "spral"
    assert opts["mu_strategy"] == "adaptive" and opts["acceptable_iter"] == 5
    assert opts["max_cpu_time"] == 10 ** 6 and opts["bound_frac"] == 0.5


def test_an_iteration_limit_given_by_ipopt_name_is_obeyed():
    """options={'max_iter': 2} stops IPOPT after exactly two iterations."""
    ocp, _ = bryson_denham("comparison")
    sol = oc.solve(ocp, oc.RK4(), grid=8, solver=oc.Ipopt(options={"max_iter": 2}))
    assert not sol.success
    assert sol.status == "Maximum_Iterations_Exceeded" and sol.iterations == 2


def test_spral_is_usable():
    """SPRAL and MUMPS reach the same optimum (about tanh(1) at this N)."""
    ocp, x, u = integrator()
    ocp.minimize_integral(x ** 2 + u ** 2)
    spral = oc.solve(ocp, oc.RK4(), grid=16, solver=oc.Ipopt(linear_solver="spral"))
    mumps = oc.solve(ocp, oc.RK4(), grid=16, solver=oc.Ipopt(linear_solver="mumps"))
    assert spral.success and mumps.success
    assert spral.objective == pytest.approx(mumps.objective, rel=1e-9)
    assert spral.objective == pytest.approx(np.tanh(1.0), rel=1e-3)


# ========================================= 3. constraints on parameters alone
def parameter_problem() -> tuple[oc.OCP, cs.MX, cs.MX]:
    """x' = p, x(0) = 0, min (x(1) - 2)^2 + p^2: optimum p = 1 (objective 2) unconstrained."""
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    p = ocp.variable("p")
    ocp.dynamics(x, p)
    ocp.initial(x, 0.0)
    ocp.minimize_terminal((x - 2) ** 2 + p ** 2)
    return ocp, x, p


@pytest.mark.parametrize("transcription", [oc.ExplicitEuler(), oc.Collocation(3, "legendre")])
@pytest.mark.parametrize("constraint", ["equality", "inequality", "two-sided"])
def test_parameter_only_constraint_is_imposed_once(transcription, constraint):
    """p == 1/2 (or p <= 1/2) in subject_to: x(1) = p, so the optimum is 1.5^2 + 0.25 = 2.5.

    Copied to all N + 1 nodes, the equality would leave IPOPT too few degrees of freedom.
    """
    ocp, x, p = parameter_problem()
    if constraint == "equality":
        ocp.subject_to(p == 0.5)
    elif constraint == "inequality":
        ocp.subject_to(p <= 0.5)
    else:
        ocp.subject_to(p, lower=-1.0, upper=0.5)
    assert ocp.path_constraints == [] and len(ocp.terminal_constraints) == 1
    N = 4
    problem = oc.discretize(ocp, transcription, grid=N)
    assert problem.constraint_slices["terminal"].stop - problem.constraint_slices["terminal"].start == 1
    sol = oc.solve(ocp, transcription, grid=N)
    assert sol.success, sol.status
    assert sol.value(p) == pytest.approx(0.5, abs=1e-7)
    assert sol.objective == pytest.approx(2.5, abs=1e-7)


@pytest.mark.parametrize("constraint, tf_star", [("equality", 1.5), ("inequality", 2.0)])
def test_constraint_on_a_free_final_time_alone_is_imposed_once(constraint, tf_star):
    """Minimum time to x(tf) = 1 with x' = u, |u| <= 1 is tf = 1; with tf == 1.5 or tf >= 2
    imposed by subject_to, the optimum is that tf (u = 1 / tf is then feasible)."""
    ocp, x, u = unit_min_time(lower=0.1, upper=10.0)
    ocp.subject_to(ocp.tf == 1.5 if constraint == "equality" else ocp.tf >= 2.0)
    assert ocp.path_constraints == [] and len(ocp.terminal_constraints) == 2
    sol = oc.solve(ocp, oc.ExplicitEuler(), grid=4)
    assert sol.success, sol.status
    assert sol.tf == pytest.approx(tf_star, abs=1e-7)


def test_constraint_on_parameters_and_time_stays_a_path_constraint():
    """p >= t must hold at every node, so p >= 1 at t = 1: optimum p = 1 (objective 2) is on it."""
    ocp, x, p = parameter_problem()
    ocp.subject_to(p >= 2 * ocp.t)   # forces p >= 2 at the last node
    assert len(ocp.path_constraints) == 1 and ocp.terminal_constraints == []
    sol = oc.solve(ocp, oc.ExplicitEuler(), grid=4)
    assert sol.success
    assert sol.value(p) == pytest.approx(2.0, abs=1e-7)      # (2 - 2)^2 + 2^2 = 4
    assert sol.objective == pytest.approx(4.0, abs=1e-7)


# ======================================= 4. where path constraints and bounds hold
COLLOCATIONS = [oc.Collocation(3, "legendre"), oc.Collocation(3, "radau"), oc.Collocation(2, "radau"),
                oc.Collocation(2, "legendre", controls="linear")]


@pytest.mark.parametrize("transcription", COLLOCATIONS, ids=repr)
def test_under_collocation_path_constraints_hold_where_state_bounds_do(transcription):
    """Bryson-Denham, x <= 1/9 written as a bound and as path constraints: the same
    solution, and x <= 1/9 at every collocation point (read off the collocation
    polynomial through Solution.at, and off the collocation states themselves)."""
    objectives = {}
    for bound in ("bounds", "comparison", "two-sided"):
        ocp, x = bryson_denham(bound)
        sol = oc.solve(ocp, transcription, grid=6)
        assert sol.success, sol.status
        objectives[bound] = sol.objective
        at_points = sol.at(x, transcription.collocation_times(sol.t))[:, 0]
        assert at_points.max() <= 1 / 9 + 1e-7
        assert sol.problem.block_value(sol.w, BlockKind.STATE, Sampling.COLLOCATION_POINTS)[0].max() <= 1 / 9 + 1e-7
        assert sol.value(x)[:, 0].max() <= 1 / 9 + 1e-7
    assert objectives["comparison"] == pytest.approx(objectives["bounds"], rel=1e-6)
    assert objectives["two-sided"] == pytest.approx(objectives["bounds"], rel=1e-6)


@pytest.mark.parametrize("transcription", [oc.RK4(), oc.RK4(shooting="single"), oc.Heun()], ids=repr)
def test_under_runge_kutta_path_constraints_and_bounds_both_hold_at_nodes(transcription):
    objectives = {}
    for bound in ("bounds", "comparison"):
        ocp, x = bryson_denham(bound)
        sol = oc.solve(ocp, transcription, grid=6)
        assert sol.success
        assert sol.value(x)[:, 0].max() <= 1 / 9 + 1e-7
        objectives[bound] = sol.objective
    assert objectives["comparison"] == pytest.approx(objectives["bounds"], rel=1e-6)


def test_radau_end_point_is_not_constrained_twice():
    """The Radau point tau = 1 is the next node: only the inner points get a copy."""
    ocp, _ = bryson_denham("comparison")
    N = 5
    for transcription, inner in [(oc.Collocation(3, "radau"), 2), (oc.Collocation(3, "legendre"), 3),
                                 (oc.Collocation(1, "radau"), 0)]:
        problem = oc.discretize(ocp, transcription, grid=N)
        sl = problem.constraint_slices.get("path_inner", slice(0, 0))
        assert sl.stop - sl.start == N * inner


# ==================================================== 5. checks before IPOPT runs
@pytest.mark.parametrize("make, text", [
    (lambda ocp, x, u: ocp.subject_to(x <= 0.5), "(x<=0.5)"),
    (lambda ocp, x, u: ocp.subject_to(x + ocp.t >= 2), "(2<=(x+t))"),
    (lambda ocp, x, u: ocp.subject_to(x == 2), "(2==x)"),
    (lambda ocp, x, u: ocp.subject_to(x, lower=-1.0, upper=0.5), "-1.0 <= x <= 0.5"),
    (lambda ocp, x, u: ocp.subject_to(cs.sqrt(x - 2) <= 5), "(sqrt((x-2))<=5)"),
])
def test_path_constraint_violated_by_the_fixed_initial_state(make, text, no_graph):
    ocp, x, u = integrator(1.0)
    ocp.minimize_integral(u ** 2)
    make(ocp, x, u)
    with pytest.raises(ValueError, match=r"^subject_to constraint " + re.escape(repr(text))
                       + r": the fixed initial state violates it at t0=0.0"):
        oc.solve(ocp, oc.RK4(), grid=4, solver=IPOPT)


@pytest.mark.parametrize("make", [
    lambda ocp, x, u: ocp.subject_to(x + u <= 0.5),       # a control can satisfy it
    lambda ocp, x, u: ocp.subject_to(x == 1),               # exactly satisfied: u = 0
    lambda ocp, x, u: ocp.subject_to(x * ocp.t <= 0.5),   # holds at t0
])
def test_satisfiable_or_undecided_path_constraints_go_to_the_solver(make):
    ocp, x, u = integrator(1.0)
    ocp.minimize_integral(u ** 2)
    make(ocp, x, u)
    sol = oc.solve(ocp, oc.RK4(), grid=4)
    assert sol.success


def _nan_case(case: str):
    ocp, x, u = integrator(1.0)
    if case == "running":
        ocp.minimize_integral(cs.log(x) + u ** 2)
        return ocp, {x: -1.0}, r"guess: the objective is NaN at the initial guess, in its running cost " \
                               r"\(minimize_integral: \(log\(x\)\+sq\(u\)\)\)"
    ocp.minimize_integral(u ** 2)
    if case == "terminal cost":
        ocp.minimize_terminal(1 / x)
        return ocp, {x: 0.0}, r"guess: the objective is inf at the initial guess, in its terminal cost " \
                              r"\(minimize_terminal: \(1\./x\)\)"
    if case == "path":
        ocp.subject_to(cs.sqrt(x + u) >= 0.1)
        return ocp, {u: lambda t: -3.0 if t > 0.3 else 0.0}, \
            r"guess: path constraint '\(0\.1<=sqrt\(\(x\+u\)\)\)' is NaN at the initial guess at node 1 " \
            r"\(t = 0\.25\)"  # node 1 takes the control of interval 1, guessed at its midpoint t = 0.375
    if case == "terminal":
        ocp.subject_to_terminal(cs.sqrt(x) >= 0.1)
        return ocp, {x: -3.0}, r"guess: terminal constraint '\(0\.1<=sqrt\(x\)\)' is NaN at the initial guess"
    raise AssertionError(case)


@pytest.mark.parametrize("case", ["running", "terminal cost", "path", "terminal"])
def test_nan_or_inf_at_the_initial_guess_is_named(case):
    ocp, guess, match = _nan_case(case)
    with mock.patch.object(oc.solver, "run", _forbidden):  # IPOPT never runs
        with pytest.raises(ValueError, match="^" + match):
            oc.solve(ocp, oc.RK4(), grid=4, guess=guess)


def test_nan_in_the_dynamics_at_the_initial_guess_is_named():
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    y = ocp.state("y")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.dynamics(y, cs.sqrt(x))
    ocp.initial(x, 1.0)
    ocp.initial(y, 0.0)
    ocp.minimize_integral(u ** 2)
    with pytest.raises(ValueError, match=r"^guess: the dynamics of state 'y' are NaN at the initial guess"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, guess={x: -1.0})


def test_nan_at_an_inner_collocation_point_is_named():
    """x is positive at the nodes of the guess and negative in between."""
    ocp, x, u = integrator(1.0)
    ocp.minimize_integral(u ** 2)
    ocp.subject_to(cs.sqrt(x) >= 0.1)
    on_node = lambda t: abs(4 * t - round(4 * t)) < 1e-9  # noqa: E731
    with pytest.raises(ValueError, match=r"^guess: path constraint '\(0\.1<=sqrt\(x\)\)' is NaN at the "
                                         r"initial guess at collocation point 0 of interval 0"):
        oc.solve(ocp, oc.Collocation(2, "legendre"), grid=4,
                 guess={x: lambda t: 1.0 if on_node(t) else -1.0})


def test_the_check_passes_a_custom_hessian_through():
    """hess_lag (as the ResNet's Gauss-Newton path uses) still reaches IPOPT: with the
    exact Hessian of the LQ problem given by hand, the optimum is tanh(1)."""
    ocp, x, u = integrator(1.0)
    ocp.minimize_integral(x ** 2 + u ** 2)

    def exact(problem):
        w, lam_f = problem.nlp["x"], cs.MX.sym("lam_f")
        lam_g = cs.MX.sym("lam_g", problem.lbg.size)
        lag = lam_f * problem.nlp["f"] + cs.dot(lam_g, problem.nlp["g"])
        return cs.Function("h", [w, problem.nlp["p"], lam_f, lam_g], [cs.hessian(lag, w)[0]])

    sol = oc.solve(ocp, oc.RK4(), grid=32, hess_lag=exact)
    reference = oc.solve(ocp, oc.RK4(), grid=32)
    assert sol.success and reference.success
    assert sol.objective == pytest.approx(reference.objective, rel=1e-9)
    assert sol.objective == pytest.approx(np.tanh(1.0), rel=1e-3)


# ========================================== 6. values taken as numbers by mistake
@pytest.mark.parametrize("call, error, match", [
    (lambda ocp, x: ocp.bounds(x, lower=[True, False]), TypeError, r"^x lower: expected numbers, got a boolean"),
    (lambda ocp, x: ocp.bounds(x, upper=True), TypeError, r"^x upper: expected numbers, got a boolean"),
    (lambda ocp, x: ocp.bounds(x, upper=np.array([True, True])), TypeError, r"^x upper: expected numbers"),
    (lambda ocp, x: ocp.bounds(x, upper=[1.0, np.bool_(True)]), TypeError, r"^x upper: expected numbers"),
    (lambda ocp, x: ocp.initial(x, [1.0, False]), TypeError, r"^initial value of 'x': expected numbers"),
    (lambda ocp, x: ocp.state("y", 2, lower=[[True], [0.0]]), TypeError, r"^y lower: expected numbers"),
    (lambda ocp, x: ocp.minimize_integral(cs.sumsqr(x) + INF), ValueError,
     r"^minimize_integral expr: contains an infinite constant"),
    (lambda ocp, x: ocp.minimize_terminal(x[0] - INF), ValueError,
     r"^minimize_terminal expr: contains an infinite constant"),
    (lambda ocp, x: ocp.minimize_integral(cs.dot(x, cs.DM([1.0, INF]))), ValueError,
     r"^minimize_integral expr: contains an infinite constant"),
    (lambda ocp, x: oc.Grid([0.0, True]), TypeError, r"^nodes: expected numbers"),
    (lambda ocp, x: oc.FreeTime(upper=10 ** 400), ValueError, r"^FreeTime.upper: .*too large for a float"),
    (lambda ocp, x: oc.FreeTime(lower=10 ** 400), ValueError, r"^FreeTime.lower: expected a finite number"),
])
def test_not_taken_as_numbers(call, error, match):
    ocp = oc.OCP()
    x = ocp.state("x", 2)
    with pytest.raises(error, match=match):
        call(ocp, x)


def test_inf_inside_dynamics_is_still_allowed():
    ocp = oc.OCP()
    x = ocp.state("x")
    ocp.dynamics(x, cs.fmin(x, INF) + cs.if_else(x > 0, 1.0, INF))


@pytest.fixture(scope="module")
def lq_solution():
    ocp, x, u = integrator(1.0)
    ocp.minimize_integral(x ** 2 + u ** 2)
    sol = oc.solve(ocp, oc.RK4(), grid=4)
    assert sol.success
    return ocp, x, u, sol


@pytest.mark.parametrize("t", ["0.5", b"0.5", True, np.bool_(False), [0.1, "0.2"], [0.1, True], 0.5 + 0j,
                               None, {0.5}])
def test_at_refuses_times_that_are_not_numbers(t, lq_solution):
    _, x, _, sol = lq_solution
    with pytest.raises(TypeError, match=r"^at t: expected a time or an array of times"):
        sol.at(x, t)


def test_at_accepts_numbers_of_every_kind(lq_solution):
    _, x, _, sol = lq_solution
    reference = sol.at(x, [0.0, 0.5, 1.0])
    for t in ([0, 0.5, 1], np.array([0, 0.5, 1.0]), (np.float32(0), np.int64(0) + 0.5, 1),
              np.array([0, 0.5, 1], dtype=object)):
        np.testing.assert_array_equal(sol.at(x, t), reference)
    assert sol.at(x, 1) == reference[-1]


def test_guess_for_tf_on_a_fixed_horizon():
    ocp, x, u = integrator(1.0)
    ocp.minimize_integral(u ** 2)
    for key in (ocp.tf, ocp.tf_symbol):
        with mock.patch.object(cs, "nlpsol", _forbidden), pytest.raises(
                ValueError, match=r"^guess key: .*the horizon is fixed \(tf = 1.0\), so tf takes no guess"):
            oc.solve(ocp, oc.RK4(), grid=4, guess={key: 1.0}, solver=IPOPT)


def test_nan_in_a_constraint_on_parameters_is_named():
    ocp, x, p = parameter_problem()
    ocp.subject_to(cs.log(p) <= 1.0)
    with pytest.raises(ValueError, match=r"^guess: constraint on static variables '\(log\(p\)<=1\)' is NaN"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, guess={p: -1.0})

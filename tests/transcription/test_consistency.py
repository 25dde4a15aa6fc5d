"""Transcriptions against each other and against hand-written numpy.

- single and multiple shooting of the same scheme are the same NLP up to the
  elimination of the node states, so they share the optimum;
- explicit RK and collocation on the same grid and control space differ only
  by their integration errors, so their objectives agree to O(h^q);
- explicit Euler with piecewise-constant controls is the recursion
  x_{k+1} = x_k + h f(x_k, u_k), bit for bit (DESIGN.md: "exactly the ResNet");
- the control regulariser is the discrete form of DESIGN.md.
"""

from __future__ import annotations

import functools

import casadi as cs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.integrate import quad

import occontrol as oc


# ------------------------------------------------------------------ problems
def pendulum_regulator():
    """Nonlinear, unconstrained: damp a pendulum released at angle 1."""
    ocp = oc.OCP(t0=0.0, tf=2.0)
    x = ocp.state("x", 2)
    u = ocp.control("u")
    ocp.dynamics(x, cs.vertcat(x[1], -cs.sin(x[0]) + u))
    ocp.initial(x, [1.0, 0.0])
    ocp.minimize_integral(x[0] ** 2 + 0.1 * x[1] ** 2 + u ** 2)
    ocp.minimize_terminal(x[0] ** 2)
    return ocp, x, u




# ------------------------------------------------------- single vs multiple
# Controls at their bounds (swing-up) sit a barrier-sized slack inside them, which
# differs between the two NLPs (1e-5 at tol 1e-8); a tighter tolerance removes it.
TIGHT = oc.Ipopt(tol=1e-10)


@pytest.fixture
def make(request, lq_problem, swing_up):
    """The problem builder named by the parameter."""
    return {"lq": lq_problem, "pendulum-regulator": pendulum_regulator, "swing-up": swing_up}[request.param]


@pytest.mark.parametrize("make", ["lq", "pendulum-regulator", "swing-up"], indirect=True)
@pytest.mark.parametrize("scheme", [oc.RK4, oc.ExplicitEuler])
@pytest.mark.parametrize("controls", ["constant", "linear"])
def test_single_and_multiple_shooting_agree(make, scheme, controls):
    sols = {}
    for shooting in ("single", "multiple"):
        ocp, x, u = make()
        sol = oc.solve(ocp, scheme(shooting=shooting, controls=controls), grid=20, solver=TIGHT)
        assert sol.success, (shooting, sol.status)
        sols[shooting] = sol, sol.value(x), sol.value(u)
    (s, xs, us), (m, xm, um) = sols["single"], sols["multiple"]
    assert abs(s.objective - m.objective) <= 1e-8 * max(1.0, abs(m.objective))
    np.testing.assert_allclose(us, um, atol=1e-5)
    np.testing.assert_allclose(xs, xm, atol=1e-6)
    for part in ("running", "terminal", "regularization"):
        assert abs(s.objective_parts[part] - m.objective_parts[part]) <= 1e-7


# -------------------------------------------------- explicit RK vs collocation
@functools.cache
def rk4_objective(N: int, controls: str) -> float:
    ocp, _, _ = pendulum_regulator()
    sol = oc.solve(ocp, oc.RK4(controls=controls), grid=N)
    assert sol.success, sol.status
    return sol.objective


def collocation_order(scheme: str, degree: int) -> int:
    """Classical order: Radau IIA 2d - 1, Gauss-Legendre 2d."""
    return 2 * degree - 1 if scheme == "radau" else 2 * degree


COLLOCATIONS = [("radau", d) for d in range(1, 6)] + [("legendre", d) for d in range(1, 6)]


@pytest.mark.parametrize("controls", ["constant", "linear"])
@pytest.mark.parametrize("scheme, degree", COLLOCATIONS)
def test_collocation_agrees_with_rk4_to_its_order(scheme, degree, controls):
    # Same grid, same control space: the two NLPs differ by the integration error
    # of each scheme, O(h^q) with q = min(collocation order, 4).
    q = min(collocation_order(scheme, degree), 4)
    diffs = []
    for N in (16, 32):
        ocp, _, _ = pendulum_regulator()
        sol = oc.solve(ocp, oc.Collocation(degree=degree, scheme=scheme, controls=controls), grid=N)
        assert sol.success, sol.status
        diff = abs(sol.objective - rk4_objective(N, controls))
        # measured <= 0.8 h^q, except implicit Euler (Radau 1): about 2.04 h
        assert diff <= (3.0 if q == 1 else 2.0) * (1.0 / N) ** q, (N, diff)
        diffs.append(diff)
    order = np.log2(diffs[0] / diffs[1])
    assert order >= q - 0.3, (diffs, order)


@pytest.mark.parametrize("transcription", [
    *[pytest.param(oc.Collocation(degree=d, scheme=s), id=f"{s}{d}")
      for s in ("radau", "legendre") for d in range(1, 6)],
    pytest.param(oc.ExplicitEuler(), id="euler"), pytest.param(oc.Heun(), id="heun"),
    pytest.param(oc.RK4(), id="rk4"), pytest.param(oc.RK4(shooting="single"), id="rk4-single"),
])
def test_running_cost_quadrature_is_exact_for_a_constant_integrand(transcription):
    # x stays 1, so int_0^2 x^2 dt = 2 for every consistent quadrature; and
    # int_0^2 (t + tf) dt = 6 for every scheme exact on linear integrands.
    ocp = oc.OCP(t0=0.0, tf=2.0)
    x = ocp.state("x")
    u = ocp.control("u", lower=0.0, upper=0.0)
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2)
    # Euler (left point) and Radau 1 (right point) integrate only constants exactly.
    first_order = isinstance(transcription, oc.ExplicitEuler) or (
        isinstance(transcription, oc.Collocation) and transcription.scheme == "radau"
        and transcription.degree == 1)
    linear_exact = not first_order
    if linear_exact:
        ocp.minimize_integral(ocp.t + ocp.tf)
    pr = oc.discretize(ocp, transcription, grid=4)
    w = pr.initial_point()
    running = float(pr.readout(w, pr.parameters)[4])
    assert running == pytest.approx(8.0 if linear_exact else 2.0, rel=1e-12)


# ------------------------------------------ explicit Euler, bit for bit in numpy
N_BITS = 16
NU = 6


def resnet_rhs_numpy(x, uk):
    """sigma(A x + b), A = [[u0, u1], [u2, u3]], b = (u4, u5), sigma(z) = z / (1 + z z).

    Written elementwise in the same operation order as the CasADi expression
    below (no matmul, no BLAS), rational so no libm differences either. x has 2
    rows and any number of columns (the ensemble).
    """
    a0 = uk[0] * x[0] + uk[1] * x[1] + uk[4]
    a1 = uk[2] * x[0] + uk[3] * x[1] + uk[5]
    return np.stack([a0 / (1 + a0 * a0), a1 / (1 + a1 * a1)])


def resnet_ocp(cols: int, X0: np.ndarray):
    ocp = oc.OCP(t0=0.0, tf=1.0)
    X = ocp.state("X", (2, cols)) if cols > 1 else ocp.state("X", 2)
    u = ocp.control("u", NU)
    a0 = u[0] * X[0, :] + u[1] * X[1, :] + u[4]
    a1 = u[2] * X[0, :] + u[3] * X[1, :] + u[5]
    ocp.dynamics(X, cs.vertcat(a0 / (1 + a0 * a0), a1 / (1 + a1 * a1)))
    ocp.initial(X, X0)
    ocp.minimize_integral(cs.sumsqr(X) + cs.sumsqr(u))
    return ocp, X, u


def euler_numpy(X0: np.ndarray, U: np.ndarray) -> np.ndarray:
    """Node states packed as the library packs them: (nz, N + 1), column-major per node."""
    N = U.shape[0]
    h = 1.0 / N
    x = X0.reshape(2, -1)
    out = [x.ravel(order="F")]
    for k in range(N):
        x = x + h * resnet_rhs_numpy(x, U[k])
        out.append(x.ravel(order="F"))
    return np.stack(out, axis=1)


X0_BY_COLS = {cols: np.random.default_rng(cols).normal(size=(2, cols)) for cols in (1, 5)}


@functools.cache
def euler_problem(cols: int, shooting: str):
    X0 = X0_BY_COLS[cols] if cols > 1 else X0_BY_COLS[1].ravel()
    ocp, _X, u = resnet_ocp(cols, X0)
    pr = oc.discretize(ocp, oc.ExplicitEuler(shooting=shooting), grid=N_BITS)
    g = cs.Function("g", [pr.nlp["x"], pr.nlp["p"]], [pr.nlp["g"]])
    return pr, u, g


def test_euler_ensemble_uses_mapped_columns():
    pr, _, _ = euler_problem(5, "single")
    assert pr.model.ensemble == {"X": 5}
    np.testing.assert_array_equal(pr.parameters, X0_BY_COLS[5].ravel(order="F"))


controls_strategy = arrays(np.float64, (N_BITS, NU),
                           elements=st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False))


@pytest.mark.parametrize("cols", [1, 5], ids=["vector", "ensemble-2x5"])
@settings(max_examples=25, deadline=None)
@given(U=controls_strategy)
def test_euler_single_shooting_is_the_numpy_recursion_bit_for_bit(cols, U):
    pr, u, _ = euler_problem(cols, "single")
    w = pr.initial_point({u: U})                   # single shooting: states follow from controls
    z, u_out = (np.asarray(o) for o in pr.readout(w, pr.parameters)[:2])
    np.testing.assert_array_equal(u_out, U.T)
    reference = euler_numpy(X0_BY_COLS[cols], U)
    assert z.shape == reference.shape
    assert np.array_equal(z, reference), np.max(np.abs(z - reference))


@pytest.mark.parametrize("cols", [1, 5], ids=["vector", "ensemble-2x5"])
@settings(max_examples=10, deadline=None)
@given(U=controls_strategy)
def test_euler_multiple_shooting_defects_vanish_exactly_on_the_numpy_states(cols, U):
    pr, _, g = euler_problem(cols, "multiple")
    reference = euler_numpy(X0_BY_COLS[cols], U)

    w = np.zeros(pr.lbx.size)
    w[pr.index.controls] = U.T.ravel(order="F")
    w[pr.index.states] = reference[:, 1:].ravel(order="F")
    np.testing.assert_array_equal(np.asarray(pr.readout(w, pr.parameters)[0]), reference)
    defects = np.asarray(g(w, pr.parameters)).ravel()[pr.constraint_slices["dynamics"]]
    assert defects.size == reference[:, 1:].size
    assert np.array_equal(defects, np.zeros_like(defects)), np.max(np.abs(defects))


def test_euler_running_cost_is_the_left_rectangle_rule():
    pr, u, _ = euler_problem(5, "single")
    U = np.random.default_rng(7).normal(size=(N_BITS, NU))
    out = pr.readout(pr.initial_point({u: U}), pr.parameters)
    z = euler_numpy(X0_BY_COLS[5], U)
    h = 1.0 / N_BITS
    expected = h * sum(np.sum(z[:, k] ** 2) + np.sum(U[k] ** 2) for k in range(N_BITS))
    assert float(out[4]) == pytest.approx(expected, rel=1e-13)


# ---------------------------------------------------------------- regulariser
def regularized_problem(l2: float, h1: float, tf: float = 1.0):
    ocp = oc.OCP(t0=0.0, tf=tf)
    x = ocp.state("x")
    u = ocp.control("u", 2)
    ocp.dynamics(x, u[0] - u[1])
    ocp.initial(x, 0.0)
    ocp.minimize_terminal((x - 1) ** 2)
    ocp.regularize(u, l2=l2, h1=h1)
    return ocp, x, u


def regularization_of(pr, u, U):
    w = pr.initial_point({u: U})
    return float(pr.readout(w, pr.parameters)[6])


TAU1, TAU2 = 0.3, 0.05


def test_regularizer_constant_controls_uniform_grid():
    N = 10
    ocp, _x, u = regularized_problem(TAU1, TAU2)
    pr = oc.discretize(ocp, oc.RK4(), grid=N)
    U = np.random.default_rng(3).normal(size=(N, 2))
    h = 1.0 / N
    expected = TAU1 * h * np.sum(U ** 2) + TAU2 / h * np.sum(np.diff(U, axis=0) ** 2)
    assert regularization_of(pr, u, U) == pytest.approx(expected, rel=1e-13)


def test_regularizer_constant_controls_scales_with_the_horizon():
    # On [0, T] with T = 2.5: int |u|^2 ~ sum h |u_k|^2 with h = T / N, and the
    # difference quotients (u_{k+1} - u_k) / h give h * sum |.|^2 / h^2.
    N, T = 8, 2.5
    ocp, _x, u = regularized_problem(TAU1, TAU2, tf=T)
    pr = oc.discretize(ocp, oc.ExplicitEuler(), grid=N)
    U = np.random.default_rng(4).normal(size=(N, 2))
    h = T / N
    expected = TAU1 * h * np.sum(U ** 2) + TAU2 / h * np.sum(np.diff(U, axis=0) ** 2)
    assert regularization_of(pr, u, U) == pytest.approx(expected, rel=1e-13)


def exact_piecewise_linear(t, U):
    """tau1 int |u|^2 + tau2 int |u'|^2 of the interpolant through (t_k, U_k), by quad."""
    total = 0.0
    for k in range(len(t) - 1):
        a, b = t[k], t[k + 1]
        for j in range(U.shape[1]):
            def value(s, j=j, k=k):
                return np.interp(s, t[k:k + 2], U[k:k + 2, j])
            total += TAU1 * quad(lambda s: value(s) ** 2, a, b, epsabs=0, epsrel=1e-13)[0]
            slope = (U[k + 1, j] - U[k, j]) / (b - a)
            total += TAU2 * quad(lambda s, slope=slope: slope ** 2, a, b, epsabs=0, epsrel=1e-13)[0]
    return total


@pytest.mark.parametrize("grid", [10, oc.Grid([0.0, 0.1, 0.15, 0.4, 0.8, 1.0])], ids=["uniform", "nonuniform"])
def test_regularizer_linear_controls_is_the_exact_integral(grid):
    ocp, _x, u = regularized_problem(TAU1, TAU2)
    pr = oc.discretize(ocp, oc.RK4(controls="linear"), grid=grid)
    t = pr.grid.times(0.0, 1.0)
    U = np.random.default_rng(5).normal(size=(t.size, 2))
    assert regularization_of(pr, u, U) == pytest.approx(exact_piecewise_linear(t, U), rel=1e-11)


def test_regularizer_l2_nonuniform_constant_controls_is_the_exact_integral():
    # The L2 part has one meaning on any grid: int |u|^2 of the step function.
    ocp, _x, u = regularized_problem(TAU1, 0.0)
    grid = oc.Grid([0.0, 0.1, 0.15, 0.4, 0.8, 1.0])
    pr = oc.discretize(ocp, oc.ExplicitEuler(), grid=grid)
    U = np.random.default_rng(6).normal(size=(5, 2))
    expected = TAU1 * np.sum(np.diff(grid.tau)[:, None] * U ** 2)
    assert regularization_of(pr, u, U) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("controls", ["constant", "linear"])
def test_solution_regularization_part_matches_numpy(controls):
    N = 12
    ocp, x, u = regularized_problem(TAU1, TAU2)
    sol = oc.solve(ocp, oc.RK4(controls=controls), grid=N)
    assert sol.success, sol.status
    U = sol.value(u)
    h = 1.0 / N
    if controls == "constant":
        assert U.shape == (N, 2)
        expected = TAU1 * h * np.sum(U ** 2) + TAU2 / h * np.sum(np.diff(U, axis=0) ** 2)
    else:
        assert U.shape == (N + 1, 2)
        expected = exact_piecewise_linear(sol.t, U)
    assert sol.objective_parts["regularization"] == pytest.approx(expected, rel=1e-11)
    assert sol.objective_parts["running"] == 0.0
    assert sol.objective_parts["terminal"] == pytest.approx((sol.value(x)[-1] - 1) ** 2, rel=1e-12)
    assert sol.objective == pytest.approx(sum(sol.objective_parts.values()), rel=1e-15)
    assert 0 < sol.objective_parts["regularization"]

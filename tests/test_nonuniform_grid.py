"""Non-uniform grids for every transcription and for the control regulariser, against discrete optima
written down independently (numpy), so that the step sizes, the stage times and the midpoint distances of the
H1 term on uneven intervals are all checked.

Problem: x' = u, x(0) = 0 on [0, tf], min int (u - t)^2 dt [+ l2 int u^2 + h1 int u'^2]. For piecewise-constant
controls every scheme of order >= 2 (and Radau / Legendre collocation) integrates (u_k - t)^2 exactly over an
interval (a quadratic in t; Euler's left-point rule does not), so the discrete objective is known in closed form.
"""

from __future__ import annotations

import numpy as np
import pytest

import occontrol as oc

SOLVER = oc.Ipopt(tol=1e-12)
NODES = np.array([0.0, 0.05, 0.3, 0.35, 0.9, 1.4, 1.45, 2.0])  # uneven, ratios up to 11
TRANSCRIPTIONS = {
    "heun": lambda **k: oc.Heun(**k), "ralston": lambda **k: oc.Ralston(**k), "rk4": lambda **k: oc.RK4(**k),
    "rk4-single": lambda **k: oc.RK4(shooting="single", **k),
    "radau3": lambda **k: oc.Collocation(**k), "legendre2": lambda **k: oc.Collocation(2, "legendre", **k),
}


def _problem(l2: float = 0.0, h1: float = 0.0) -> tuple[oc.OCP, object, object]:
    ocp = oc.OCP(0.0, 2.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 0.0)
    ocp.minimize_integral((u - ocp.t) ** 2)
    if l2 or h1:
        ocp.regularize(u, l2=l2, h1=h1)
    return ocp, x, u


def _constant_optimum(t: np.ndarray, l2: float, h1: float) -> np.ndarray:
    """argmin sum_k h_k (u_k - m_k)^2 + l2 sum_k h_k u_k^2 + h1 sum_k (u_k+1 - u_k)^2 / ((h_k + h_k+1) / 2),
    the discrete objective of DESIGN.md / OCP.regularize (the constant h_k^3 / 12 of int (u_k - t)^2 dropped)."""
    h = np.diff(t)
    m = (t[:-1] + t[1:]) / 2
    A = np.diag((1 + l2) * h)
    for k, d in enumerate((h[1:] + h[:-1]) / 2):
        A[k:k + 2, k:k + 2] += h1 / d * np.array([[1.0, -1.0], [-1.0, 1.0]])
    return np.linalg.solve(A, h * m)


def _linear_optimum(t: np.ndarray, l2: float, h1: float) -> np.ndarray:
    """Piecewise-linear u through the nodes: (M + l2 M + h1 K) u = M t with the P1 mass and stiffness
    matrices on the nodes (t is itself piecewise linear, so int phi_i t dt = (M t)_i)."""
    n = t.size
    M, K = np.zeros((n, n)), np.zeros((n, n))
    for k, hk in enumerate(np.diff(t)):
        M[k:k + 2, k:k + 2] += hk / 6 * np.array([[2.0, 1.0], [1.0, 2.0]])
        K[k:k + 2, k:k + 2] += 1 / hk * np.array([[1.0, -1.0], [-1.0, 1.0]])
    return np.linalg.solve((1 + l2) * M + h1 * K, M @ t)


@pytest.mark.parametrize("name", list(TRANSCRIPTIONS))
@pytest.mark.parametrize("l2,h1", [(0.0, 0.0), (0.3, 0.0), (0.0, 0.2), (0.5, 0.05)])
def test_constant_controls_on_uneven_nodes(name, l2, h1):
    ocp, x, u = _problem(l2, h1)
    sol = oc.solve(ocp, TRANSCRIPTIONS[name](), grid=oc.Grid(NODES), solver=SOLVER)
    assert sol.success
    expected = _constant_optimum(NODES, l2, h1)
    np.testing.assert_allclose(sol.value(u), expected, atol=1e-8)
    # x(tf) = sum h_k u_k, exact for any of these schemes with x' = u
    np.testing.assert_allclose(sol.value(x)[-1], np.diff(NODES) @ expected, atol=1e-8)


@pytest.mark.parametrize("name,l2,h1", [(name, l2, h1) for name in ("rk4", "rk4-single", "radau3", "legendre2")
                                         for l2, h1 in ((0.0, 0.0), (0.0, 0.2), (0.5, 0.05))] + [("heun", 0.0, 0.0)])
def test_linear_controls_on_uneven_nodes(name, l2, h1):
    """(u - t)^2 is quadratic on each interval for linear u; Heun's trapezoid is not exact on it, so Heun only
    without regularisation, where u = t makes the integrand vanish at every stage."""
    ocp, x, u = _problem(l2, h1)
    sol = oc.solve(ocp, TRANSCRIPTIONS[name](controls="linear"), grid=oc.Grid(NODES), solver=SOLVER)
    assert sol.success
    np.testing.assert_allclose(sol.value(u), _linear_optimum(NODES, l2, h1), atol=1e-8)


def test_euler_on_uneven_nodes_takes_the_left_points():
    """Euler's rule h_k (u_k - t_k)^2 puts the optimum at the left node of every interval."""
    ocp, x, u = _problem()
    sol = oc.solve(ocp, oc.ExplicitEuler(), grid=oc.Grid(NODES), solver=SOLVER)
    np.testing.assert_allclose(sol.value(u), NODES[:-1], atol=1e-8)


def test_uneven_regulariser_reads_the_midpoint_distances():
    """The H1 part of the objective at a given control equals h1 sum |du|^2 / midpoint distance (not / h_k)."""
    ocp, x, u = _problem(0.0, 0.7)
    sol = oc.solve(ocp, oc.RK4(), grid=oc.Grid(NODES), solver=SOLVER)
    values = np.asarray(sol.value(u))
    spacing = np.diff((NODES[:-1] + NODES[1:]) / 2)
    assert sol.regularization_parts["h1"] == pytest.approx(0.7 * np.sum(np.diff(values) ** 2 / spacing), rel=1e-12)


def test_adapted_grid_solution_matches_a_fine_uniform_one():
    """A refined-uniform limit: the LQ optimum tanh(1) is approached on a graded grid as on a uniform one."""
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2 + u ** 2)
    graded = oc.Grid(np.linspace(0.0, 1.0, 65) ** 1.5)  # 64 intervals, the longest 0.023 (1.5 / 64)
    sol = oc.solve(ocp, oc.RK4(), grid=graded, solver=SOLVER)
    coarser = oc.solve(ocp, oc.RK4(), grid=32, solver=SOLVER)  # every step 0.031, longer than any graded one
    finer = oc.solve(ocp, oc.RK4(), grid=128, solver=SOLVER)  # every step 0.0078, a third of the longest graded
    error = abs(sol.objective - np.tanh(1.0))
    assert abs(finer.objective - np.tanh(1.0)) < error < abs(coarser.objective - np.tanh(1.0))

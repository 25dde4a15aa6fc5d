"""oc.estimate_error against the true error |J_h - J*| on problems with known optima (tests/known_optima.py):
smooth, boundary layer, singular arc and bang-bang minimum time, with schemes of orders 1, 2, 4 and collocation."""

from __future__ import annotations

import json

import numpy as np
import pytest

import occontrol as oc
from occontrol.error_estimate import effective_order
from known_optima import bang_bang, boundary_layer, min_time, singular_arc, smooth

SOLVER = oc.Ipopt(tol=1e-10)
SCHEMES = {"euler": oc.ExplicitEuler, "heun": oc.Heun, "rk4": oc.RK4, "collocation": oc.Collocation}
PROBLEMS = {"smooth": smooth, "layer": lambda: boundary_layer(1e-3), "singular": singular_arc,
            "min_time": min_time, "bang_bang": bang_bang}


def _estimate(problem: str, name: str, N: int, **options):
    ocp, optimum = PROBLEMS[problem]()
    sol = oc.solve(ocp, SCHEMES[name](**options), grid=N, solver=SOLVER)
    assert sol.success, sol.status
    return sol, oc.estimate_error(sol, solver=SOLVER), abs(sol.objective - optimum)


# N odd for the singular arc and minimum time: the switch (t = 1 of [0, 2], half the horizon) falls inside an
# interval, so the discrete optimum is not exact.
@pytest.mark.parametrize("scheme", list(SCHEMES))
@pytest.mark.parametrize("problem,N", [("smooth", 10), ("layer", 16), ("singular", 15), ("min_time", 15),
                                       ("bang_bang", 9)])
def test_estimate_within_a_factor_10_of_the_true_error(problem, scheme, N):
    sol, est, true_error = _estimate(problem, scheme, N)
    assert est.success and true_error > 1e-6  # a real error to estimate
    assert 0.1 <= est.objective_error / true_error <= 10, (est.objective_error, true_error)
    assert est.indicators.shape == (N,) and np.all(est.indicators >= 0)


@pytest.mark.parametrize("options", [{"controls": "linear"}, {"shooting": "single"}])
def test_estimate_other_parametrisations(options):
    sol, est, true_error = _estimate("layer", "rk4", 16, **options)
    assert 0.1 <= est.objective_error / true_error <= 10, (est.objective_error, true_error)


@pytest.mark.parametrize("options", [{"degree": 2, "scheme": "legendre"}, {"degree": 1}])
def test_estimate_collocation_variants(options):
    sol, est, true_error = _estimate("smooth", "collocation", 10, **options)
    assert 0.1 <= est.objective_error / true_error <= 10, (est.objective_error, true_error)


@pytest.mark.parametrize("problem,scheme", [("singular", "rk4"), ("singular", "collocation"),
                                            ("min_time", "heun"), ("min_time", "rk4"), ("min_time", "collocation")])
def test_estimate_is_tiny_when_the_discrete_optimum_is_exact(problem, scheme):
    """N even: the switch is a node; these schemes integrate the arcs exactly (x linear and the quadrature of x^2
    exact for RK4 and Radau; x'' = u constant for all three), so J_h equals J* up to IPOPT's tolerance and the
    estimate must say so. (Heun's trapezoid rule is not exact on x^2: not a case for the singular arc.)"""
    sol, est, true_error = _estimate(problem, scheme, 8)
    assert true_error < 1e-7
    assert est.objective_error < 1e-7


def test_layer_indicators_point_at_the_layer():
    """The boundary layer of width sqrt(eps) ~ 0.03 sits in the first interval of 16."""
    sol, est, _ = _estimate("layer", "rk4", 16)
    assert int(np.argmax(est.indicators)) == 0


def test_singular_indicators_point_at_the_switch():
    """With N = 15 on [0, 2] the switch t = 1 lies in interval 7 ([0.933, 1.067])."""
    sol, est, _ = _estimate("singular", "rk4", 15)
    assert int(np.argmax(est.indicators)) == 7


def test_integration_part_is_the_scheme_error():
    """x' = u with piecewise-constant u is integrated exactly by RK4 (and the quadrature of x^2 too): no
    integration part; Euler's left-point rule is not exact: a positive one."""
    _, exact, _ = _estimate("smooth", "rk4", 10)
    _, euler, _ = _estimate("smooth", "euler", 10)
    assert exact.integration.sum() < 1e-9
    assert euler.integration.sum() > 1e-3


def test_the_fine_estimate_is_the_bisected_solves():
    ocp, optimum = smooth()
    sol, est, _ = _estimate("smooth", "heun", 10)
    fine = est.fine_solution
    assert fine.N == 20 and fine.success
    assert 0.1 <= est.fine_error / abs(fine.objective - optimum) <= 10
    again = oc.estimate_error(sol, fine=fine)  # the bisected solve given: the same estimate
    assert again.objective_error == est.objective_error


def test_estimate_serialises_without_the_solution():
    _, est, _ = _estimate("smooth", "heun", 6)
    data = json.loads(json.dumps(est.to_dict(), allow_nan=False))
    assert "fine_solution" not in data and len(data["indicators"]) == 6
    assert data["objective_error"] == pytest.approx(est.objective_error)


@pytest.mark.parametrize("transcription,order", [(oc.ExplicitEuler(), 1), (oc.Heun(), 2), (oc.RK4(), 2),
                                                 (oc.RK4(controls="linear"), 4), (oc.Ralston(), 2),
                                                 (oc.Heun(controls="linear"), 2),
                                                 (oc.Collocation(degree=1, controls="linear"), 1)])
def test_effective_order(transcription, order):
    assert effective_order(transcription) == order


def test_estimate_refuses_bad_input():
    ocp, _ = smooth()
    with pytest.raises(TypeError, match="solution"):
        oc.estimate_error("not a solution")
    failed = oc.solve(ocp, oc.RK4(), grid=4, solver=oc.Ipopt(max_iter=0))
    assert not failed.success
    with pytest.raises(ValueError, match="solution"):
        oc.estimate_error(failed)
    good = oc.solve(ocp, oc.RK4(), grid=4, solver=SOLVER)
    with pytest.raises(ValueError, match="fine"):
        oc.estimate_error(good, fine=good)
    with pytest.raises(TypeError, match="fine"):
        oc.estimate_error(good, fine=3)


def test_failed_bisected_solve_gives_no_estimate():
    ocp, _ = boundary_layer(1e-3)
    sol = oc.solve(ocp, oc.RK4(), grid=8, solver=SOLVER)
    est = oc.estimate_error(sol, solver=oc.Ipopt(max_iter=0))
    assert not est.success and "FAILED" in est.method
    assert np.isnan(est.objective_error)
    assert est.fine_status != "Solve_Succeeded"


@pytest.mark.parametrize("scheme", ["heun", "rk4", "collocation"])
def test_switch_at_the_same_distance_after_bisection(scheme):
    """N = 32 on [0, 3]: the switch t = 1.3 is 0.0125 from the node 1.3125, and bisection adds no closer node, so
    J_h = J_h/2 and Richardson alone would estimate 0 while the error is 0.0125^2 = 1.56e-4. The Pontryagin gap
    of the bisected solve does not contract, which switches the estimate to |J_h - J_h/2| + that gap."""
    sol, est, true_error = _estimate("bang_bang", scheme, 32)
    assert true_error == pytest.approx(0.0125 ** 2, rel=1e-3)
    assert abs(est.objective - est.objective_fine) < 1e-8
    assert "Pontryagin" in est.method
    assert 0.1 <= est.objective_error / true_error <= 10
    # the interval holding the switch, [1.2188, 1.3125], carries the largest indicator
    assert int(np.argmax(est.indicators)) == 13

"""Trusting a refinement study: fingerprinted level stores, failed
levels retried, free-time orders, and a verdict on studies that do not converge.

References:
- Free-time LQ: min int_0^T (x^2 + u^2) dt + T, x' = u, x(0) = 1, x(T) = 0.
  For fixed T the optimum is coth(T) (x = sinh(T - t) / sinh(T)); minimising
  coth(T) + T gives sinh(T) = 1, T* = asinh(1), J* = sqrt(2) + asinh(1). The
  same problem with T as a static parameter on [0, 1] (x' = T u) is the second,
  independent formulation.
- Hanging chain (COPS): min int_0^1 x sqrt(1 + u^2) dt, x' = u,
  s' = sqrt(1 + u^2), x(0) = 1, x(1) = 3, s(0) = 0, s(1) = 4; the catenary's
  value 5.0684801 (closed form below; COPS lists 5.0685). The explicit-Euler
  discrete problem is written here by hand (its own NLP in CasADi SX) to
  check the transcription.

Measured here: free-time LQ, RK4, N = 8..128: objective-gap orders 1.996,
1.999, 2.000, Richardson limit -2.1e-10 off J* (finest level +1.05e-6), the
static-parameter formulation gives the same numbers to 1e-9; Euler orders
1.03, 1.02, 1.01, limit 2.9e-5 off (finest 3.5e-3). Hanging chain, RK4,
N = 4..32: 5.0841361, 5.0724418, 5.0694734, 5.0687286 (orders 1.98, 1.99),
Richardson limit 5.0684791 (1.0e-6 off the catenary);
Euler: 1.2250530, 1.3057567, 1.3688078, 1.4056902 (the hand-written NLP gives
the same to 1e-8), L2 distances between minimisers 5.77, 7.94, 11.1 (growing:
the last control is ~2.75 / h, one near-vertical link).
"""

from __future__ import annotations

import importlib
import json
import math
import subprocess
import sys
import textwrap

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from occontrol.fingerprint import array_digest
from occontrol.refinement import ConvergenceStudy, LevelStore, StoreMismatch, level_fingerprint
from occontrol.solver import solve as REAL_SOLVE

refine_module = importlib.import_module("occontrol.refinement")

FREE_TIME_OPTIMUM = math.sqrt(2.0) + math.asinh(1.0)


def bisect(f, lo: float, hi: float) -> float:
    flo = f(lo)
    for _ in range(200):
        mid = (lo + hi) / 2
        if (f(mid) > 0) == (flo > 0):
            lo, flo = mid, f(mid)
        else:
            hi = mid
    return (lo + hi) / 2


def catenary_energy(a: float = 1.0, b: float = 3.0, L: float = 4.0) -> float:
    """int_0^1 x sqrt(1 + x'^2) dt of the catenary x = C + c cosh((t - m) / c) through (0, a), (1, b)
    with length L: 2 c sinh(1 / (2c)) = sqrt(L^2 - (b - a)^2) fixes c, the rise fixes m, x(0) = a fixes C;
    the integral in closed form, C c [sinh v] + c^2 [v / 2 + sinh(2 v) / 4] over v = (t - m) / c."""
    c = bisect(lambda c: 2 * c * math.sinh(1 / (2 * c)) - math.sqrt(L ** 2 - (b - a) ** 2), 0.05, 10.0)
    m = bisect(lambda m: c * (math.cosh((1 - m) / c) - math.cosh(m / c)) - (b - a), -5.0, 5.0)
    C = a - c * math.cosh(m / c)
    v0, v1 = -m / c, (1 - m) / c
    cosh_squared = (v1 - v0) / 2 + (math.sinh(2 * v1) - math.sinh(2 * v0)) / 4
    return C * c * (math.sinh(v1) - math.sinh(v0)) + c * c * cosh_squared


CATENARY = catenary_energy()  # 5.0684801110 (COPS lists 5.0685)


def lq(weight: float = 1.0):
    """min int_0^1 (x^2 + weight u^2) dt, x' = u, x(0) = 1: the same size for every weight."""
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2 + weight * u ** 2)
    return ocp



def free_time_lq():
    ocp = oc.OCP(t0=0.0, tf=oc.FreeTime(guess=1.0, lower=0.1, upper=5.0))
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2 + u ** 2)
    ocp.minimize_terminal(ocp.tf)
    ocp.subject_to_terminal(x == 0)
    return ocp


def parameter_time_lq():
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    T = ocp.variable("T", lower=0.1, upper=5.0)
    ocp.dynamics(x, T * u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(T * (x ** 2 + u ** 2))
    ocp.minimize_terminal(T)
    ocp.subject_to_terminal(x == 0)
    return ocp


def hanging_chain(a: float = 1.0, b: float = 3.0, L: float = 4.0):
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    s = ocp.state("s")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.dynamics(s, cs.sqrt(1 + u ** 2))
    ocp.initial(x, a)
    ocp.initial(s, 0.0)
    ocp.subject_to_terminal(x == b)
    ocp.subject_to_terminal(s == L)
    ocp.minimize_integral(x * cs.sqrt(1 + u ** 2))
    return ocp, x, s, u


def chain_guess(x, u):
    """A smooth start that dips below the chord (x(0) = 1, x(1) = 3)."""
    return {x: lambda t: 1 + 2 * t * t - 1.5 * np.sin(np.pi * t), u: lambda t: 4 * t - 1.5 * np.pi * np.cos(np.pi * t)}


class CountingSolve:
    def __init__(self, monkeypatch, solver_at=None):
        self.calls: list[int] = []
        self.solver_at = solver_at or {}
        monkeypatch.setattr(refine_module, "solve", self)

    def __call__(self, ocp, transcription=None, *, grid, solver=None, **kwargs):
        N = oc.grid.as_grid(grid).N
        self.calls.append(N)
        return REAL_SOLVE(ocp, transcription, grid=grid, solver=self.solver_at.get(N, solver), **kwargs)



# ------------------------------------------------------------ 1. fingerprints
def test_a_store_of_another_problem_of_the_same_size_is_refused(tmp_path):
    store = tmp_path / "levels"
    oc.refine(lq(1.0), oc.ExplicitEuler(), [8, 16], store=store)
    other = lq(4.0)   # same decision-vector sizes, other objective
    with pytest.raises(StoreMismatch, match=f"store: {store}.*N=8.*other settings"):
        oc.refine(other, oc.ExplicitEuler(), [8, 16], store=store)
    # asked to recompute, it solves the other problem and overwrites the store
    again = oc.refine(other, oc.ExplicitEuler(), [8, 16], store=LevelStore(store, recompute=True))
    fresh = oc.refine(other, oc.ExplicitEuler(), [8, 16])
    assert [lv.reused for lv in again.levels] == [False, False]
    assert [lv.objective for lv in again.levels] == pytest.approx([lv.objective for lv in fresh.levels], rel=1e-12)
    # ... and the store now belongs to the other problem
    reread = oc.refine(other, oc.ExplicitEuler(), [8, 16], store=store)
    assert [lv.reused for lv in reread.levels] == [True, True]


@pytest.fixture
def other_settings(pendulum):
    """``other_settings(change)``: refine()'s arguments for the pendulum with one setting changed."""
    def settings(change: str) -> dict:
        ocp = pendulum()
        kwargs = {"ocp": ocp, "transcription": oc.RK4()}
        if change == "transcription":
            kwargs["transcription"] = oc.Heun()
        elif change == "guess":
            kwargs["start"] = oc.StartPolicy(guess={ocp.controls[0].symbol: 1.0})
        elif change == "prolongation":
            kwargs["start"] = oc.StartPolicy(prolongation="constant")
        elif change == "tol":
            kwargs["solver"] = oc.Ipopt(tol=1e-6)
        return kwargs
    return settings


@pytest.mark.parametrize("change, match", [("transcription", "N=8.*another problem"), ("guess", "N=8.*another start"),
                                           ("prolongation", "N=16.*another start"),
                                           ("tol", "N=8.*solver options")])
def test_a_store_is_refused_for_another_transcription_start_or_tolerance(other_settings, pendulum, tmp_path, change,
                                                                          match):
    store = tmp_path / "levels"
    oc.refine(pendulum(), oc.RK4(), [8, 16], store=store)
    with pytest.raises(StoreMismatch, match=match):
        oc.refine(ladder=[8, 16], store=store, **other_settings(change))


def fingerprint_of(weight: float, solver=None) -> dict:
    ocp = lq(weight)
    problem = oc.discretize(ocp, oc.RK4(), grid=8)
    return level_fingerprint(problem, solver, None, {"kind": "cold", "w": array_digest(np.zeros(3))})


def test_fingerprints_leave_out_the_limits_and_see_everything_else():
    base = fingerprint_of(1.0)
    # limits and printing do not change the answer of a converged solve
    assert fingerprint_of(1.0, oc.Ipopt(max_iter=5, max_wall_time=1.0, print_level=3)) == base
    # the problem, beyond rounding, and the answer-changing options do
    assert fingerprint_of(1.0 + 1e-7)["problem"] != base["problem"]
    assert fingerprint_of(1.0, oc.Ipopt(tol=1e-6))["problem"] != base["problem"]
    assert fingerprint_of(1.0, oc.Ipopt(hessian="limited-memory"))["problem"] != base["problem"]
    assert fingerprint_of(1.0, oc.Ipopt(options={"mu_strategy": "adaptive"}))["problem"] != base["problem"]


def test_the_fingerprint_is_the_same_in_another_process():
    script = textwrap.dedent("""
        import json, sys
        sys.path.insert(0, "tests")
        from test_trust_study import fingerprint_of
        print(json.dumps(fingerprint_of(1.0)))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == fingerprint_of(1.0)


# ----------------------------------------------------------- 2. failed levels
def test_failed_levels_are_retried_and_limits_may_change(pendulum, tmp_path, monkeypatch):
    store = tmp_path / "levels"
    grids = [8, 16, 32]
    # the first run fails at N = 16 (an iteration limit), the others converge
    counter = CountingSolve(monkeypatch, solver_at={16: oc.Ipopt(max_iter=1)})
    first = oc.refine(pendulum(), oc.RK4(), grids, store=store)
    assert [lv.success for lv in first.levels] == [True, False, True]
    # a rerun with other limits is accepted: N = 8 is reused, the failure is solved again,
    # and N = 32, whose start was the N = 8 level then, is solved again from the new N = 16
    counter = CountingSolve(monkeypatch)
    again = oc.refine(pendulum(), oc.RK4(), grids, store=store, solver=oc.Ipopt(max_iter=500))
    assert counter.calls == [16, 32]
    assert [lv.reused for lv in again.levels] == [True, False, False]
    assert again.success
    monkeypatch.undo()
    fresh = oc.refine(pendulum(), oc.RK4(), grids)
    assert [lv.objective for lv in again.levels] == pytest.approx([lv.objective for lv in fresh.levels], rel=1e-9)
    # a third run with yet another limit reuses every converged level
    counter = CountingSolve(monkeypatch)
    third = oc.refine(pendulum(), oc.RK4(), grids, store=store, solver=oc.Ipopt(max_iter=50, max_wall_time=100.0))
    assert counter.calls == [] and all(lv.reused for lv in third.levels)


def test_a_stored_failure_is_never_reused(pendulum, tmp_path):
    store = tmp_path / "levels"
    failed = oc.refine(pendulum(), oc.RK4(), [8], store=store, solver=oc.Ipopt(max_iter=1))
    assert not failed.success and LevelStore(store).path(8).exists()
    problem = oc.discretize(pendulum(), oc.RK4(), grid=8)
    assert LevelStore(store).load(problem) is None


# --------------------------------------------------------------- 3. free time
@pytest.mark.parametrize("transcription, order", [(oc.ExplicitEuler(), 1.0), (oc.RK4(), 2.0)], ids=["euler", "rk4"])
def test_free_time_orders_and_limit(transcription, order):
    grids = [8, 16, 32, 64, 128]
    free = oc.refine(free_time_lq(), transcription, grids)
    static = oc.refine(parameter_time_lq(), transcription, grids)
    assert free.success and static.success
    gap = free.orders()["objective_gap"]
    assert all(o is not None and abs(o - order) < 0.05 * order for o in gap), gap
    assert free.converging is True
    # the same discrete problems as with the time as a static parameter: same orders and limit
    np.testing.assert_allclose(gap, static.orders()["objective_gap"], rtol=1e-6)
    np.testing.assert_allclose(free.orders()["l2"], static.orders()["l2"], rtol=1e-6)
    limit = free.limit_objective()
    assert limit == pytest.approx(static.limit_objective(), abs=1e-8)
    finest = free.levels[-1].objective
    assert abs(limit - FREE_TIME_OPTIMUM) < 0.02 * abs(finest - FREE_TIME_OPTIMUM)
    # and tf itself converges to asinh(1)
    assert free.solutions[-1].tf == pytest.approx(math.asinh(1.0), abs=2e-2 if order == 1 else 1e-5)


def test_no_order_observed_means_no_limit():
    two = oc.refine(lq(), oc.ExplicitEuler(), [8, 16])
    assert two.success and two.orders()["objective_gap"] == []
    assert two.limit_objective() is None and two.converging is None
    assert "no order observed" in two.limit_note()
    assert "Richardson limit objective: none, no order observed" in two.table()
    doc = two.to_dict()
    assert doc["limit_objective"] is None and doc["converging"] is None
    assert "no order observed" in doc["limit_note"]


# ------------------------------------------------------ 4. non-converging studies
def euler_chain_by_hand(N: int) -> float:
    """The explicit-Euler hanging chain written directly: sum_k h x_k sqrt(1 + u_k^2)."""
    h = 1.0 / N
    U = cs.SX.sym("u", N)
    x, s, J = cs.SX(1.0), cs.SX(0.0), cs.SX(0.0)
    for k in range(N):
        length = cs.sqrt(1 + U[k] ** 2)
        J += h * x * length
        x, s = x + h * U[k], s + h * length
    solver = cs.nlpsol("chain", "ipopt", {"x": U, "f": J, "g": cs.vertcat(x - 3, s - 4)},
                       {"ipopt.print_level": 0, "print_time": False})
    t = (np.arange(N) + 0.5) / N
    out = solver(x0=4 * t - 1.5 * np.pi * np.cos(np.pi * t), lbg=0, ubg=0)
    assert solver.stats()["success"]
    return float(out["f"])


def test_hanging_chain_rk4_converges_to_the_catenary():
    ocp, x, s, u = hanging_chain()
    study = oc.refine(ocp, oc.RK4(), [4, 8, 16, 32], start=oc.StartPolicy(guess=chain_guess(x, u)))
    assert study.success and study.converging is True, study.verdict()
    assert all(abs(o - 2.0) < 0.1 for o in study.orders()["objective_gap"]), study.orders()
    assert CATENARY == pytest.approx(5.0685, abs=5e-5)   # the published value, to its digits
    finest = study.levels[-1].objective
    assert abs(study.limit_objective() - CATENARY) < 0.01 * abs(finest - CATENARY)
    assert "NOT CONVERGING" not in study.table()
    assert study.to_dict()["converging"] is True


def test_hanging_chain_euler_is_flagged_not_converging(strict_json, tmp_path):
    ocp, x, s, u = hanging_chain()
    grids = [4, 8, 16, 32]
    study = oc.refine(ocp, oc.ExplicitEuler(), grids, start=oc.StartPolicy(guess=chain_guess(x, u)))
    assert study.success                     # every discrete problem is solved ...
    # ... and they are the explicit-Euler problems themselves (hand-written NLP)
    for lv in study.levels[:3]:
        assert lv.objective == pytest.approx(euler_chain_by_hand(lv.N), rel=1e-7)
    # far from the catenary, and the minimisers move apart: one near-vertical last link
    assert all(lv.objective < 2.0 for lv in study.levels)
    last_rise = [float(np.ravel(sol.value(u))[-1]) / sol.N for sol in study.solutions]
    assert all(r > 2.0 for r in last_rise[1:]), last_rise
    assert study.converging is False
    reason = study.verdict()[1]
    assert "minimisers do not converge" in reason
    assert study.limit_objective() is None
    assert f"NOT CONVERGING: {reason}" in study.table()
    doc = strict_json(study.save(tmp_path / "s.json").read_text())
    assert doc["converging"] is False and doc["converging_reason"] == reason and doc["limit_objective"] is None
    assert ConvergenceStudy.load(tmp_path / "s.json").converging is False


def test_verdict_rules(fake_study):
    # a clean first-order ladder: converging, limit by Richardson at the observed order
    ok = fake_study([1.5, 1.25, 1.125, 1.0625], [1.0, 0.5, 0.25])
    assert ok.converging is True and ok.limit_objective() == pytest.approx(1.0)
    # an objective that runs away with N
    away = fake_study([1.0, 0.5, -0.5, -2.5], [1.0, 0.5, 0.25])
    assert away.converging is False and "does not contract" in away.verdict()[1]
    assert away.limit_objective() is None
    # a gap that grows once while the minimisers contract: a turn before the asymptotic regime, undecided
    turn = fake_study([1.0, 0.9, 0.8999, 0.89], [1.0, 0.5, 0.25])
    assert turn.converging is None and "refine further" in turn.verdict()[1] and turn.limit_objective() is None
    # orders that do not settle (gap ratios 2, then 16: orders 1 and 4)
    unsettled = fake_study([2.0, 1.0, 0.5, 0.46875], [1.0, 0.5, 0.25])
    assert unsettled.converging is False and "do not settle" in unsettled.verdict()[1]
    # objectives equal to rounding: converged, the limit is the finest objective
    flat = fake_study([2.0, 2.0 + 1e-13, 2.0 - 1e-13], [1e-12, 1e-12])
    assert flat.converging is True and flat.limit_objective() == 2.0 - 1e-13

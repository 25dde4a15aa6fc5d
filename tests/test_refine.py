"""Refinement studies: oc.refine and ConvergenceStudy.

References:
- LQ: min int_0^1 (x^2 + u^2) dt, x' = u, x(0) = 1; optimum tanh(1) (Riccati),
  u*(t) = -sinh(1 - t) / cosh(1). Explicit Euler converges at order 1 in the
  objective, RK4 with piecewise-constant controls at order 2 (see
  tests/test_references.py). The distances between consecutive minimisers
  are also recomputed here by hand from the solutions' control values.
- Pendulum swing-up (RK4): q'' = -9.81 sin q + u, from rest at q = 0 to rest
  at q = pi in 3 s, min int u^2. Nonlinear, so IPOPT needs several
  iterations cold and few warm: the test bed for warm starts, forced
  failures and resume.

Measured here: LQ Euler objective-gap orders 0.994, 0.998, 0.999 (N = 8..128),
Richardson limit within 1.3e-6 of tanh(1) (finest level 2.3e-3 off); RK4
orders 2.0006, 2.0002, 2.00004, limit within 9e-11. Pendulum RK4 iterations,
N = 8..64: warm 15, 4, 3, 3; cold 15, 13, 11, 11.
"""

from __future__ import annotations

import importlib
import math

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from occontrol.refinement import ConvergenceStudy, Distance, Level, LevelStore
from occontrol.solver import solve as REAL_SOLVE

# the module occontrol.refinement is needed to patch `solve` (oc.refine is the function).
refine_module = importlib.import_module("occontrol.refinement")





class CountingSolve:
    """Wraps occontrol.refinement.solve, recording the grid size of every call."""

    def __init__(self, monkeypatch, fail_at=(), interrupt_at=None):
        self.real = REAL_SOLVE   # not refine_module.solve: that may be another wrapper
        self.calls: list[int] = []
        self.fail_at, self.interrupt_at = set(fail_at), interrupt_at
        monkeypatch.setattr(refine_module, "solve", self)

    def __call__(self, ocp, transcription=None, *, grid, solver=None, **kwargs):
        N = oc.grid.as_grid(grid).N
        if N == self.interrupt_at:
            raise KeyboardInterrupt(f"simulated interruption at N={N}")
        self.calls.append(N)
        if N in self.fail_at:
            solver = oc.Ipopt(max_iter=1)
        return self.real(ocp, transcription, grid=grid, solver=solver, **kwargs)


def lq_distance_by_hand(sol_n, sol_2n, u):
    """L2 and sup distance of piecewise-constant u_N and u_2N: on the 2N grid u_N repeats each value twice."""
    un = np.ravel(sol_n.value(u))
    u2n = np.ravel(sol_2n.value(u))
    diff = np.repeat(un, 2) - u2n
    h2 = 1.0 / u2n.size
    return math.sqrt(np.sum(diff ** 2) * h2), np.max(np.abs(diff))


# ------------------------------------------------------------------ LQ orders
@pytest.mark.parametrize("transcription, order", [(oc.ExplicitEuler(), 1.0), (oc.Ralston(), 2.0), (oc.RK4(), 2.0)],
                         ids=["euler", "ralston", "rk4"])
def test_lq_study_recovers_the_order_of_the_objective_gap(lq_problem, lq_optimum, transcription, order):
    ocp, x, u = lq_problem()
    grids = [8, 16, 32, 64, 128]
    study = oc.refine(ocp, transcription, grids)
    assert study.success and [lv.N for lv in study.levels] == grids
    E = np.array([lv.objective for lv in study.levels])
    # the discrete optima converge to tanh(1), from above (the discrete controls are admissible-ish)
    err = E - lq_optimum
    assert np.all(np.diff(np.abs(err)) < 0), err

    # distances: between consecutive levels, |E_N - E_2N| and by-hand L2 / sup of the controls
    assert [(d.N, d.N_next) for d in study.distances] == list(zip(grids, grids[1:]))
    for d, a, b, sa, sb in zip(study.distances, E, E[1:], study.solutions, study.solutions[1:]):
        assert d.objective_gap == pytest.approx(abs(a - b), rel=1e-12)
        l2, sup = lq_distance_by_hand(sa, sb, u)
        assert d.l2 == pytest.approx(l2, rel=1e-10)
        assert d.sup == pytest.approx(sup, rel=1e-10)
        assert not d.branch_jump

    orders = study.orders()
    assert set(orders) == {"l2", "sup", "h1", "objective_gap"}
    gap = np.array(orders["objective_gap"])
    assert gap.shape == (3,)
    assert np.all(np.abs(gap - order) < 0.05 * order), gap
    # observed orders are log2 of successive ratios, recomputed from the objectives
    gaps = np.abs(np.diff(E))
    np.testing.assert_allclose(gap, np.log2(gaps[:-1] / gaps[1:]), rtol=1e-10)
    # the controls (piecewise constant) converge at first order for both schemes
    assert np.all(np.abs(np.array(orders["l2"]) - 1.0) < 0.05), orders["l2"]
    assert np.all(np.abs(np.array(orders["sup"]) - 1.0) < 0.05), orders["sup"]

    # Richardson removes the leading error term: far closer to tanh(1) than the finest level
    limit = study.limit_objective()
    p = gap[-1]
    assert limit == pytest.approx(E[-1] + (E[-1] - E[-2]) / (2 ** p - 1), rel=1e-12)
    assert abs(limit - lq_optimum) < 0.01 * abs(E[-1] - lq_optimum)

    table = study.table()
    rows = [r for r in table.splitlines() if r.startswith("| ")]
    assert len(rows) == len(grids) + 1   # header row + one row per level
    assert "FAILED" not in table


def test_doubling_ladder():
    assert oc.doubling(4, 256) == [4, 8, 16, 32, 64, 128, 256]
    assert oc.doubling(4, 100) == [4, 8, 16, 32, 64]
    assert oc.doubling(8, 8) == [8]


# --------------------------------------------------------------- warm vs cold
def test_warm_start_needs_fewer_iterations_than_cold_on_the_same_ladder(pendulum):
    grids = [8, 16, 32, 64]
    warm = oc.refine(pendulum(), oc.RK4(), grids, start=oc.StartPolicy(warm=True))
    cold = oc.refine(pendulum(), oc.RK4(), grids, start=oc.StartPolicy(warm=False))
    assert warm.success and cold.success
    # same minimisers either way
    for a, b in zip(warm.levels, cold.levels):
        assert a.objective == pytest.approx(b.objective, rel=1e-7)
    assert warm.levels[0].iterations == cold.levels[0].iterations   # the first level is the same cold solve
    it_warm = [lv.iterations for lv in warm.levels[1:]]
    it_cold = [lv.iterations for lv in cold.levels[1:]]
    assert all(w < c for w, c in zip(it_warm, it_cold)), (it_warm, it_cold)
    assert sum(it_warm) < sum(it_cold)


def test_constant_and_linear_prolongation_reach_the_same_minimisers(pendulum):
    grids = [8, 16, 32]
    lin = oc.refine(pendulum(), oc.RK4(), grids, start=oc.StartPolicy(prolongation="linear"))
    con = oc.refine(pendulum(), oc.RK4(), grids, start=oc.StartPolicy(prolongation="constant"))
    assert lin.success and con.success
    for a, b in zip(lin.levels, con.levels):
        assert a.objective == pytest.approx(b.objective, rel=1e-7)


# -------------------------------------------------------------------- JSON
@pytest.fixture
def study_with_metrics_and_a_failure(pendulum):
    """Builds, given ``monkeypatch``, a pendulum study with extra metrics whose level N = 32 fails."""
    def build(monkeypatch):
        CountingSolve(monkeypatch, fail_at={32})
        ocp = pendulum()

        def metrics(sol):
            return {"u_max": float(np.max(np.abs(sol.value(ocp.controls[0].symbol)))), "tag": f"N{sol.N}",
                    "count": sol.N // 8}
        return oc.refine(ocp, oc.RK4(), [8, 16, 32, 64],
                         reporter=oc.Reporter(metrics=metrics, label="pendulum",
                                              problem_record={"name": "pendulum", "tf": 3.0,
                                                              "grids": [8, 16, 32, 64]}))
    return build


def test_json_round_trip_is_strict_and_lossless(study_with_metrics_and_a_failure, strict_json, tmp_path, monkeypatch):
    study = study_with_metrics_and_a_failure(monkeypatch)
    path = tmp_path / "study.json"
    study.save(path)
    doc = strict_json(path.read_text())
    assert doc["schema"] == 1 and isinstance(doc["schema"], int)
    assert doc["label"] == "pendulum" and doc["problem"]["name"] == "pendulum"
    assert doc["success"] is False
    assert [lv["N"] for lv in doc["levels"]] == [8, 16, 32, 64]
    assert doc["levels"][1]["tag"] == "N16" and doc["levels"][1]["count"] == 2

    loaded = ConvergenceStudy.load(path)
    assert loaded.to_dict() == study.to_dict()
    assert loaded.to_dict() == doc
    assert loaded.table() == study.table()
    assert loaded.orders() == study.orders()
    assert loaded.limit_objective() == study.limit_objective()
    for a, b in zip(loaded.levels, study.levels):
        assert a == b
    for a, b in zip(loaded.distances, study.distances):
        assert a == b
    # a second round trip is a fixed point, byte for byte
    loaded.save(tmp_path / "again.json")
    assert (tmp_path / "again.json").read_text() == path.read_text()


def test_json_refuses_another_schema(tmp_path):
    doc = {"schema": 999, "levels": [], "distances": []}
    with pytest.raises(ValueError, match="schema"):
        ConvergenceStudy.from_dict(doc)


def test_a_nan_failure_is_recorded_in_strict_json(strict_json, tmp_path):
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(cs.sqrt(x) + u ** 2)
    guess = {x: -1.0, u: -5.0}
    # solve() refuses a start where the objective is NaN before IPOPT runs, so the
    # failed level is made by calling IPOPT on that start directly and given as `first`.
    with pytest.raises(ValueError, match=r"guess: the objective is NaN at the initial guess"):
        oc.refine(ocp, oc.ExplicitEuler(), [8, 16], start=oc.StartPolicy(guess=guess))
    problem = oc.discretize(ocp, oc.ExplicitEuler(), grid=8)
    plugin, options = oc.Ipopt().nlpsol()
    first = oc.solver.run(problem, cs.nlpsol("nan_start", plugin, problem.nlp, options),
                          problem.initial_point(guess), solver_name="ipopt", build_seconds=0.0)
    study = oc.refine(ocp, oc.ExplicitEuler(), [8], start=oc.StartPolicy(guess=guess, first=first))
    assert [lv.success for lv in study.levels] == [False]
    assert "FAILED" in study.table()
    path = study.save(tmp_path / "study.json")
    doc = strict_json(path.read_text())
    assert [lv["success"] for lv in doc["levels"]] == [False]
    assert all(lv["status"] == "Invalid_Number_Detected" for lv in doc["levels"])
    assert all(lv["objective"] is None for lv in doc["levels"])
    assert "FAILED" in ConvergenceStudy.load(path).table()


# ------------------------------------------------------------------ resume
def comparable(study: ConvergenceStudy) -> dict:
    """to_dict without the fields that legitimately differ between a fresh and a resumed run."""
    doc = study.to_dict()
    for lv in doc["levels"]:
        for key in ("reused", "build_seconds", "solve_seconds"):
            lv.pop(key)
    return doc


def check_resume_with_longer_ladder(tmp_path, monkeypatch, ocp, first=None):
    """Ladder up to 32 into a store, then up to 128 with the same store: 8, 16, 32 come from disk."""
    store = tmp_path / "levels"
    initial = oc.refine(ocp, oc.RK4(), [8, 16, 32], store=store, start=oc.StartPolicy(first=first))
    assert initial.success
    assert sorted(p.name for p in store.iterdir()) == ["level_N16.npz", "level_N32.npz", "level_N8.npz"]

    counter = CountingSolve(monkeypatch)
    lines: list[str] = []
    resumed = oc.refine(ocp, oc.RK4(), [8, 16, 32, 64, 128], store=store, start=oc.StartPolicy(first=first),
                        reporter=oc.Reporter(progress=lines.append))
    assert counter.calls == [64, 128]
    reused = [first is None, True, True, False, False]   # a given first level is not read from disk
    assert [lv.reused for lv in resumed.levels] == reused
    assert [" reused " in line for line in lines] == reused
    assert "(reused)" in resumed.table()
    for a, b, sa, sb in zip(initial.levels, resumed.levels, initial.solutions, resumed.solutions):
        # everything recorded at solve time comes back, including the timings of the original solve
        assert {**a.to_dict(), "reused": b.reused} == b.to_dict()
        np.testing.assert_array_equal(sa.w, sb.w)

    monkeypatch.undo()
    fresh = oc.refine(ocp, oc.RK4(), [8, 16, 32, 64, 128], start=oc.StartPolicy(first=first))
    assert comparable(resumed) == comparable(fresh)


def check_resume_after_interruption(tmp_path, monkeypatch, ocp, first=None):
    store = tmp_path / "levels"
    grids = [8, 16, 32, 64, 128]
    counter = CountingSolve(monkeypatch, interrupt_at=64)
    with pytest.raises(KeyboardInterrupt):
        oc.refine(ocp, oc.RK4(), grids, store=store, start=oc.StartPolicy(first=first))
    assert counter.calls == ([8] if first is None else []) + [16, 32]
    # written atomically: only complete level files, no temporary leftovers
    assert sorted(p.name for p in store.iterdir()) == ["level_N16.npz", "level_N32.npz", "level_N8.npz"]

    counter = CountingSolve(monkeypatch)
    resumed = oc.refine(ocp, oc.RK4(), grids, store=store, start=oc.StartPolicy(first=first))
    assert counter.calls == [64, 128]
    assert [lv.reused for lv in resumed.levels] == [first is None, True, True, False, False]
    monkeypatch.undo()
    fresh = oc.refine(ocp, oc.RK4(), grids, start=oc.StartPolicy(first=first))
    assert comparable(resumed) == comparable(fresh)


def test_resume_reuses_stored_levels_without_calling_the_solver(pendulum, tmp_path, monkeypatch):
    check_resume_with_longer_ladder(tmp_path, monkeypatch, pendulum())


def test_resume_after_an_interruption(pendulum, tmp_path, monkeypatch):
    check_resume_after_interruption(tmp_path, monkeypatch, pendulum())


@pytest.fixture(scope="module")
def pendulum_first(pendulum):
    """One pendulum OCP and its solve at N = 8 (a given first level must belong to the same OCP)."""
    ocp = pendulum()
    sol = oc.solve(ocp, oc.RK4(), grid=8)
    assert sol.success
    return ocp, sol


def test_resume_with_a_given_first_level_reuses_stored_levels(tmp_path, monkeypatch, pendulum_first):
    # the path run_deep_limit takes (first= the best start)
    check_resume_with_longer_ladder(tmp_path, monkeypatch, *pendulum_first)


def test_resume_with_a_given_first_level_after_an_interruption(tmp_path, monkeypatch, pendulum_first):
    check_resume_after_interruption(tmp_path, monkeypatch, *pendulum_first)


def test_a_store_from_another_problem_is_refused(lq_problem, tmp_path, pendulum_first):
    store = tmp_path / "levels"
    ocp, first = pendulum_first
    oc.refine(ocp, oc.RK4(), [8], store=store, start=oc.StartPolicy(first=first))
    assert LevelStore(store).path(8).exists()
    ocp, _, _ = lq_problem()   # one state instead of two: a decision vector of another size
    with pytest.raises(ValueError, match="other settings"):
        oc.refine(ocp, oc.RK4(), [8], store=store)


# ------------------------------------------------------------------ failures
def test_iteration_limit_of_one_fails_every_level_and_says_so(pendulum, strict_json, tmp_path):
    study = oc.refine(pendulum(), oc.RK4(), [8, 16, 32], solver=oc.Ipopt(max_iter=1))
    assert not study.success
    assert all(not lv.success and lv.status == "Maximum_Iterations_Exceeded" for lv in study.levels)
    assert study.distances == []
    assert all(v == [] for v in study.orders().values())
    assert study.limit_objective() is None
    rows = [r for r in study.table().splitlines() if r.startswith("| ") and not r.startswith("| N ")]
    assert len(rows) == 3 and all("FAILED: Maximum_Iterations_Exceeded" in r for r in rows)
    doc = strict_json(study.save(tmp_path / "s.json").read_text())
    assert doc["success"] is False and doc["distances"] == [] and doc["limit_objective"] is None
    assert [(lv["success"], lv["status"]) for lv in doc["levels"]] == [(False, "Maximum_Iterations_Exceeded")] * 3


def test_a_failed_middle_level_is_shown_and_left_out_of_the_distances(pendulum, strict_json, tmp_path, monkeypatch):
    counter = CountingSolve(monkeypatch, fail_at={32})
    lines: list[str] = []
    study = oc.refine(pendulum(), oc.RK4(), [8, 16, 32, 64, 128], reporter=oc.Reporter(progress=lines.append))
    assert counter.calls == [8, 16, 32, 64, 128]
    failed = study.levels[2]
    assert (failed.N, failed.success, failed.status) == (32, False, "Maximum_Iterations_Exceeded")
    assert [lv.success for lv in study.levels] == [True, True, False, True, True]
    assert not study.success
    assert "FAILED" in lines[2] and all("FAILED" not in line for line in lines[:2] + lines[3:])
    # no distance touches the failed level; the ladder is bridged from 16 to 64
    assert [(d.N, d.N_next) for d in study.distances] == [(8, 16), (16, 64), (64, 128)]
    bridge = study.distances[1]
    assert bridge.objective_gap == pytest.approx(abs(study.levels[3].objective - study.levels[1].objective))
    ref = refine_module.control_distance(study.solutions[1], study.solutions[3])
    assert bridge.l2 == ref["l2"] and bridge.sup == ref["sup"]
    # the N=64 level was warm-started from N=16 (the last success), so it matches a clean run
    monkeypatch.undo()
    clean = oc.refine(pendulum(), oc.RK4(), [8, 16, 64, 128])
    assert study.levels[3].objective == pytest.approx(clean.levels[2].objective, rel=1e-9)

    table = study.table()
    row32 = next(r for r in table.splitlines() if r.startswith("| 32 |"))
    assert "FAILED: Maximum_Iterations_Exceeded" in row32
    assert "FAILED levels (left out of distances and orders): [32]" in table
    doc = strict_json(study.save(tmp_path / "s.json").read_text())
    lv32 = next(lv for lv in doc["levels"] if lv["N"] == 32)
    assert lv32["success"] is False and lv32["status"] == "Maximum_Iterations_Exceeded"
    assert all(32 not in (d["N"], d["N_next"]) for d in doc["distances"])


def test_a_failed_level_does_not_distort_the_observed_orders(lq_problem, monkeypatch):
    real = REAL_SOLVE

    def flaky(ocp, transcription=None, *, grid, solver=None, **kwargs):
        if oc.grid.as_grid(grid).N == 32:   # LQ converges in one iteration: max_iter=0 forces the failure
            solver = oc.Ipopt(max_iter=0)
        return real(ocp, transcription, grid=grid, solver=solver, **kwargs)
    monkeypatch.setattr(refine_module, "solve", flaky)
    ocp, _, _ = lq_problem()
    study = oc.refine(ocp, oc.ExplicitEuler(), [8, 16, 32, 64, 128, 256])
    assert [lv.success for lv in study.levels] == [True, True, False, True, True, True]
    for metric in ("objective_gap", "l2"):
        reported = [o for o in study.orders()[metric] if o is not None]
        assert reported, metric                       # 64 -> 128 -> 256 still gives one
        assert all(abs(o - 1.0) < 0.05 for o in reported), (metric, reported)


# ------------------------------------------------------------- branch jumps
def fake_solution(N, value, ocp, x, u, success=True):
    """A Solution on grid N whose control is the constant ``value`` (states from the Euler recursion)."""
    problem = oc.discretize(ocp, oc.ExplicitEuler(shooting="single"), grid=N)
    w = problem.initial_point({u: np.full(N, value)})
    return oc.Solution(problem, w, status="fake" if success else "fake failure", success=success, iterations=0,
                       build_seconds=0.0, solve_seconds=0.0, solver="none")


def fake_level(N, objective, success=True):
    return Level(N=N, h=1.0 / N, objective=objective, loss=objective, reg_l2=0.0, reg_h1=0.0,
                 status="fake" if success else "fake failure", success=success, iterations=0,
                 build_seconds=0.0, solve_seconds=0.0)


def test_branch_jump_is_flagged_where_the_distances_stop_contracting(lq_problem, strict_json, tmp_path):
    ocp, x, u = lq_problem()
    # controls constant in t: the distance between levels is exactly |c_N - c_M| (L2 on [0, 1] and sup)
    ladder = [(4, 0.0, True), (8, 1.0, True), (16, 1.5, True), (32, 1.75, True), (64, 3.0, True),
              (128, 9.0, False), (256, 3.05, True)]
    study = ConvergenceStudy({"name": "constructed"}, label="fake")
    for N, c, ok in ladder:
        study.add(fake_level(N, objective=1.0 + c, success=ok), fake_solution(N, c, ocp, x, u, ok))
    pairs = [(d.N, d.N_next) for d in study.distances]
    assert pairs == [(4, 8), (8, 16), (16, 32), (32, 64), (64, 256)]   # the failed 128 is skipped
    expected = [1.0, 0.5, 0.25, 1.25, 0.05]
    for d, e in zip(study.distances, expected):
        assert d.l2 == pytest.approx(e, abs=1e-14)
        assert d.sup == pytest.approx(e, abs=1e-14)
        assert d.h1 == pytest.approx(0.0, abs=1e-14)
        assert d.objective_gap == pytest.approx(e, abs=1e-14)
    assert [d.branch_jump for d in study.distances] == [False, False, False, True, False]
    assert study.branch_jumps() == [64]
    table = study.table()
    assert "(jump)" in next(r for r in table.splitlines() if r.startswith("| 64 |"))
    assert table.count("(jump)") == 1
    assert "Branch jumps at N = [64]" in table
    # the flag survives the JSON round trip
    loaded = ConvergenceStudy.load(study.save(tmp_path / "s.json"))
    assert loaded.branch_jumps() == [64]
    assert strict_json((tmp_path / "s.json").read_text())["branch_jumps"] == [64]


def test_a_contracting_study_has_no_branch_jumps(lq_problem):
    ocp, x, u = lq_problem()
    study = ConvergenceStudy()
    for N, c in [(4, 0.0), (8, 1.0), (16, 1.5), (32, 1.75)]:
        study.add(fake_level(N, 1.0 + c), fake_solution(N, c, ocp, x, u))
    assert study.branch_jumps() == []
    assert [Distance(**d.to_dict()) for d in study.distances] == study.distances

"""The deep-limit folder: starts and levels fingerprinted,
limits free to change between runs, failures retried, one success rule for
study.json, the table and the exit code, and weights files that say whether
their solve failed.

All on the tiny case of tests/test_cli.py (two moons, n = 60, noise 0.35,
N = 4, 8; about a second per run).
"""

from __future__ import annotations

import dataclasses
import importlib

import pytest

import occontrol as oc
from occontrol.resnet.deep_limit import (DeepLimitConfig, DeepLimitResult, SettingsMismatch, load_weights,
                                         run_deep_limit)

deep_limit_module = importlib.import_module("occontrol.resnet.deep_limit")
solver_module = importlib.import_module("occontrol.solver")
REAL_SOLVE = solver_module.solve
REAL_RUN = solver_module.run

TINY = DeepLimitConfig(n=60, noise=0.35, grids=(4, 8), n_starts=1)
TINY_ARGS = ["deep-limit", "--grids", "4,8", "--n", "60", "--noise", "0.35", "--no-figures"]


class CountingRun:
    """Counts every NLP solve (occontrol.solver.run) by grid size."""

    def __init__(self, monkeypatch):
        self.calls: list[int] = []
        monkeypatch.setattr(solver_module, "run", self)

    def __call__(self, problem, *args, **kwargs):
        self.calls.append(problem.N)
        return REAL_RUN(problem, *args, **kwargs)


def snapshot(folder) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ------------------------------------------------------------ 1. fingerprints
def test_starts_of_another_tau2_are_refused_without_settings_or_study_json(tmp_path, monkeypatch):
    out = tmp_path / "run"
    first = run_deep_limit(TINY, out)
    assert first.success
    (out / "settings.json").unlink()
    (out / "study.json").unlink()
    before = snapshot(out)
    with pytest.raises(SettingsMismatch, match=f"out: {out}.*seed0.*N=4.*other settings"):
        run_deep_limit(dataclasses.replace(TINY, tau2=2e-2), out)
    assert snapshot(out) == before      # nothing written: the folder still belongs to the first study
    # the study's own settings reuse every solve
    counter = CountingRun(monkeypatch)
    again = run_deep_limit(TINY, out)
    assert counter.calls == []
    assert [lv.objective for lv in again.study.levels] == [lv.objective for lv in first.study.levels]


# ----------------------------------------------------------- 2. failed levels
def test_a_rerun_with_a_higher_iteration_limit_solves_the_failures(strict_json, tmp_path, monkeypatch):
    out = tmp_path / "run"
    failed = run_deep_limit(dataclasses.replace(TINY, max_iter=1), out)
    assert not failed.success and len(failed.failed) == 3
    counter = CountingRun(monkeypatch)
    again = run_deep_limit(TINY, out)           # max_iter 1000 in the same folder: accepted
    assert counter.calls == [4, 8]                # the start (also the first level) and N = 8, solved again
    assert again.success and again.failed == []
    assert [lv.reused for lv in again.study.levels] == [False, False]
    doc = strict_json((out / "study.json").read_text())
    assert doc["problem"]["max_iter"] == 1000 and doc["success"] is True
    monkeypatch.undo()
    reference = run_deep_limit(TINY, tmp_path / "reference")
    assert [lv.objective for lv in again.study.levels] == pytest.approx(
        [lv.objective for lv in reference.study.levels], rel=1e-12)
    # and a third run with a lower limit reuses the converged solves
    counter = CountingRun(monkeypatch)
    third = run_deep_limit(dataclasses.replace(TINY, max_iter=2, max_wall_time=50.0), out)
    assert counter.calls == [] and third.success


# --------------------------------------------- 5. one rule; weights with status
def _failing_start(monkeypatch, failing: set[int]) -> None:
    """Make the solves with these call numbers (1 = the first start) stop after one iteration."""
    calls = []

    def solve(ocp, transcription=None, *, grid, solver=None, **kwargs):
        calls.append(grid)
        if len(calls) in failing:
            solver = oc.Ipopt(max_iter=1)
        return REAL_SOLVE(ocp, transcription, grid=grid, solver=solver, **kwargs)
    monkeypatch.setattr(deep_limit_module, "solve", solve)


def test_a_failed_start_that_is_not_followed_is_reported_everywhere_but_not_fatal(run_cli, strict_json, tmp_path,
                                                                                 monkeypatch):
    _failing_start(monkeypatch, {2})
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(TINY_ARGS + ["--starts", "2", "--out", str(out)])
    doc = strict_json((out / "study.json").read_text())
    # the followed branch converged at every level ...
    assert all(lv["success"] for lv in doc["levels"])
    assert [s["success"] for s in doc["starts"]] == [True, False]
    # ... so the study succeeded; the failed start is reported in the JSON, the table, stderr and progress
    assert doc["success"] is True and code == 0
    assert doc["failed_starts"] == ["start seed 1 at N=4: Maximum_Iterations_Exceeded"]
    assert doc["failed"] == ["start seed 1 at N=4: Maximum_Iterations_Exceeded"]
    assert doc["other_failures"] == []
    assert ("Failed starts, not followed (reported, not fatal): start seed 1 at N=4: Maximum_Iterations_Exceeded"
            in stdout)
    assert "Study: succeeded" in stdout
    assert any(line.startswith("start seed 1") and "FAILED" in line for line in stdout.splitlines())
    assert "start seed 1 at N=4: Maximum_Iterations_Exceeded" in stderr


def test_a_study_whose_only_start_fails_fails_everywhere(run_cli, strict_json, tmp_path, monkeypatch):
    _failing_start(monkeypatch, {1})
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(TINY_ARGS + ["--starts", "1", "--out", str(out)])
    doc = strict_json((out / "study.json").read_text())
    assert [s["success"] for s in doc["starts"]] == [False]
    assert doc["success"] is False and code == 1
    assert "Study: FAILED" in stdout and "FAILED solves" in stderr


def test_with_all_branches_a_failed_start_is_fatal(run_cli, strict_json, tmp_path, monkeypatch):
    _failing_start(monkeypatch, {2})
    out = tmp_path / "run"
    code, stdout, _ = run_cli(TINY_ARGS + ["--starts", "2", "--branches", "all", "--out", str(out)])
    doc = strict_json((out / "study.json").read_text())
    assert doc["levels"][0]["success"] is True          # the followed (best) branch converged
    assert doc["branches"][0]["success"] is False       # the branch from the failed start did not
    assert doc["success"] is False and code == 1 and "Study: FAILED" in stdout


def test_weights_of_a_failed_solve_say_so(tmp_path):
    failed = run_deep_limit(dataclasses.replace(TINY, max_iter=1), tmp_path / "failed")
    assert not failed.success
    for N in (4, 8):
        net, info = load_weights(tmp_path / "failed" / f"weights_N{N}.npz")
        assert info == {"status": "Maximum_Iterations_Exceeded", "success": False}
        assert net.N == N
    ok = run_deep_limit(TINY, tmp_path / "ok")
    for lv in ok.study.levels:
        _, info = load_weights(tmp_path / "ok" / f"weights_N{lv.N}.npz")
        assert info == {"status": lv.status, "success": True}


@pytest.fixture
def fake_result(fake_study):
    """``fake_result(objectives, l2s)``: a deep-limit result around a study with those levels (no solves)."""
    return lambda objectives, l2s: DeepLimitResult(fake_study(objectives, l2s), starts=[])


def test_a_study_flagged_not_converging_is_not_ok(fake_result):
    converging = fake_result([1.5, 1.25, 1.125], [1.0, 0.5])
    assert converging.success and converging.ok
    apart = fake_result([1.5, 1.25, 1.125], [1.0, 2.0])   # the minimisers move apart
    assert apart.success and apart.study.converging is False and not apart.ok

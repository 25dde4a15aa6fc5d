"""The deep-limit study: run_deep_limit on two moons.

- Short ladder N = 4..64, two random starts, Gauss-Newton, explicit Euler:
  the L2 distances between successive minimisers shrink by about 2x per
  doubling after the first level (first-order convergence of the minimisers).
- study.json has the fixed fields, and each level's ``objective`` is E_N of
  DESIGN.md, recomputed here from weights_N{N}.npz and data.npz with a numpy
  forward pass written from the formula (not ResNet.objective / ResNet.load).
- Rerunning into the same folder reuses every solve (no NLP is solved);
  an interrupted run resumes; other settings are refused; a forced failure
  (max_iter=1) is recorded as failed.

Measured here (moons n=200, seed 0, defaults, N = 4..64, 2 starts, 9-13 s):
objectives 0.11540, 0.13324, 0.13877, 0.14136, 0.14262; L2 distances 1.051,
0.1565, 0.0641, 0.0298 (ratios 6.7, 2.44, 2.15; orders 2.75, 1.29, 1.10);
objective gaps 1.8e-2, 5.5e-3, 2.6e-3, 1.3e-3; Richardson limit 0.14382;
train accuracy 0.965, then 0.96; IPOPT iterations 79, 45, 29, 20, 16;
E_N from the files equals study.json's objective exactly (0.0) and the NLP
objective to 7e-17.
"""

from __future__ import annotations

import dataclasses
import importlib

import numpy as np
import pytest

from occontrol.resnet.deep_limit import DeepLimitConfig, SettingsMismatch, run_deep_limit

solver_module = importlib.import_module("occontrol.solver")
refine_module = importlib.import_module("occontrol.refinement")
REAL_SOLVE = solver_module.solve

MOONS = DeepLimitConfig(grids=(4, 8, 16, 32, 64), n_starts=2)
# a tiny, non-separable case (noise 0.35): both levels converge in well under a second
TINY = DeepLimitConfig(n=60, noise=0.35, grids=(4, 8, 16), n_starts=1)

LEVEL_FIELDS = {"N", "objective", "loss", "reg_l2", "reg_h1", "status", "success", "iterations", "build_seconds",
                "solve_seconds", "train_accuracy", "test_accuracy"}
DISTANCE_FIELDS = {"N", "N_next", "l2", "sup", "h1", "objective_gap"}



def forbid_solves(monkeypatch):
    """Any NLP solve (every path goes through occontrol.solver.run) fails the test."""
    def no_solve(*args, **kwargs):
        raise AssertionError("an NLP was solved although every level should have been reused")
    monkeypatch.setattr(solver_module, "run", no_solve)


class CountingSolve:
    """Counts the ladder's solves (occontrol.refinement.solve); optionally interrupts at one N."""

    def __init__(self, monkeypatch, interrupt_at=None):
        self.calls: list[int] = []
        self.interrupt_at = interrupt_at
        monkeypatch.setattr(refine_module, "solve", self)

    def __call__(self, ocp, transcription=None, *, grid, **kwargs):
        N = grid.N if hasattr(grid, "N") else int(grid)
        if N == self.interrupt_at:
            raise KeyboardInterrupt(f"simulated interruption at N={N}")
        self.calls.append(N)
        return REAL_SOLVE(ocp, transcription, grid=grid, **kwargs)


# ---------------------------------------------- independent E_N from the saved files
def forward_scores(weights: dict, X: np.ndarray, horizon: float) -> np.ndarray:
    """X_{k+1} = X_k + h tanh(A_k X_k + b_k) from X_0 = x (width m = d), scores W X_N + c; shape (n,)."""
    A, b, W, c = weights["A"], weights["b"], weights["W"], weights["c"]
    N = A.shape[0]
    h = horizon / N
    Z = X.T.copy()
    for k in range(N):
        Z = Z + h * np.tanh(A[k] @ Z + b[k][:, None])
    return (W @ Z + c[:, None])[0]


def e_n(weights: dict, X: np.ndarray, y: np.ndarray, config: DeepLimitConfig) -> dict:
    """E_N of DESIGN.md with the logistic loss log(1 + e^s) - y s."""
    A, b = weights["A"], weights["b"]
    N = A.shape[0]
    h = config.horizon / N
    s = forward_scores(weights, X, config.horizon)
    loss = float(np.mean(np.logaddexp(0.0, s) - y * s))
    theta = np.hstack([A.reshape(N, -1), b])
    reg_l2 = config.tau1 * h * float(np.sum(theta ** 2))
    reg_h1 = config.tau2 / h * float(np.sum(np.diff(theta, axis=0) ** 2))
    decay = config.tau_w * float(np.sum(weights["W"] ** 2) + np.sum(weights["c"] ** 2))
    return {"objective": loss + reg_l2 + reg_h1 + decay, "loss": loss, "reg_l2": reg_l2, "reg_h1": reg_h1}


def load_npz(path) -> dict:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


# -------------------------------------------------------------------- the run
@pytest.fixture(scope="module")
def moons(tmp_path_factory):
    out = tmp_path_factory.mktemp("moons")
    lines: list[str] = []
    result = run_deep_limit(MOONS, out, progress=lines.append)
    return {"out": out, "result": result, "lines": lines, "json": (out / "study.json").read_text()}


def test_moons_minimisers_converge_at_first_order(moons):
    result = moons["result"]
    study = result.study
    assert result.failed == []
    assert study.success and [lv.N for lv in study.levels] == list(MOONS.grids)
    assert len(result.starts) == 2 and all(s["success"] for s in result.starts)
    # the followed branch starts from the best start (starts record the NLP's objective value)
    # (to 1e-9: starts that reach one minimum are a tie, kept in seed order)
    best = min(s["objective"] for s in result.starts)
    assert abs(study.levels[0].metrics["nlp_objective"] - best) <= 1e-9 * max(1.0, abs(best))
    assert [(d.N, d.N_next) for d in study.distances] == list(zip(MOONS.grids, MOONS.grids[1:]))
    l2 = np.array([d.l2 for d in study.distances])
    ratios = l2[:-1] / l2[1:]
    assert np.all(ratios > 1), ratios                              # contracting throughout
    assert np.all((ratios[-2:] >= 1.6) & (ratios[-2:] <= 2.6)), ratios   # ~2x per doubling
    gaps = np.array([d.objective_gap for d in study.distances])
    assert np.all(np.diff(gaps) < 0), gaps
    assert study.branch_jumps() == []
    # a classifier, not the trivial branch (88.5 % on this data)
    assert all(lv.metrics["train_accuracy"] >= 0.93 for lv in study.levels)
    # the Richardson limit lies beyond the finest objective (objectives increase with N here)
    objectives = [lv.objective for lv in study.levels]
    assert np.all(np.diff(objectives) > 0)
    assert objectives[-1] < study.limit_objective() < objectives[-1] + 2 * gaps[-1]


def test_progress_prints_one_line_per_solve(moons):
    lines = moons["lines"]
    starts = [line for line in lines if line.startswith("start seed")]
    levels = [line for line in lines if line.startswith("N=")]
    assert len(starts) == MOONS.n_starts
    assert [int(line.split()[0][2:]) for line in levels] == list(MOONS.grids)
    assert all(" ok " in line and "reused" not in line for line in starts + levels)


def test_study_json_has_the_fixed_fields(strict_json, moons):
    doc = strict_json(moons["json"])
    assert isinstance(doc["schema"], int) and doc["schema"] == 1
    # problem: every setting, with its value
    settings = MOONS.to_dict()
    assert {k: doc["problem"][k] for k in settings} == settings
    assert {f.name for f in dataclasses.fields(DeepLimitConfig)} <= set(doc["problem"])
    assert [lv["N"] for lv in doc["levels"]] == list(MOONS.grids)
    for lv in doc["levels"]:
        assert LEVEL_FIELDS <= set(lv), LEVEL_FIELDS - set(lv)
        assert isinstance(lv["N"], int) and isinstance(lv["iterations"], int)
        assert isinstance(lv["status"], str) and lv["success"] is True
        for key in ("objective", "loss", "reg_l2", "reg_h1", "build_seconds", "solve_seconds"):
            assert isinstance(lv[key], float) and np.isfinite(lv[key]), key
        assert 0.0 <= lv["train_accuracy"] <= 1.0 and 0.0 <= lv["test_accuracy"] <= 1.0
        assert lv["objective"] == pytest.approx(lv["loss"] + lv["reg_l2"] + lv["reg_h1"], abs=1e-15)
    assert len(doc["distances"]) == len(MOONS.grids) - 1
    by_n = {lv["N"]: lv for lv in doc["levels"]}
    for d in doc["distances"]:
        assert DISTANCE_FIELDS <= set(d), DISTANCE_FIELDS - set(d)
        assert d["N_next"] == 2 * d["N"]
        assert d["objective_gap"] == pytest.approx(abs(by_n[d["N_next"]]["objective"] - by_n[d["N"]]["objective"]),
                                                   rel=1e-12)
        assert 0 < d["l2"] <= d["sup"]        # on [0, 1] the L2 distance is below the sup distance
    assert set(doc["orders"]) >= {"l2", "sup", "h1", "objective_gap"}
    l2 = [d["l2"] for d in doc["distances"]]
    np.testing.assert_allclose(doc["orders"]["l2"], np.log2(np.array(l2[:-1]) / np.array(l2[1:])), rtol=1e-12)
    assert isinstance(doc["limit_objective"], float)
    assert doc["limit_objective"] == moons["result"].study.limit_objective()


def test_objective_is_E_N_at_the_saved_weights_on_the_saved_data(strict_json, moons):
    out, doc = moons["out"], strict_json(moons["json"])
    data = load_npz(out / "data.npz")
    X, y = data["X_train"], data["y_train"].astype(float)
    assert X.shape == (MOONS.n, 2) and set(np.unique(y)) == {0.0, 1.0}
    np.testing.assert_array_equal(X, moons["result"].data.X_train)
    for lv in doc["levels"]:
        N = lv["N"]
        weights = load_npz(out / f"weights_N{N}.npz")
        assert weights["A"].shape == (N, 2, 2) and weights["b"].shape == (N, 2)
        assert weights["W"].shape == (1, 2) and weights["c"].shape == (1,)
        assert float(weights["h"]) == MOONS.horizon / N
        assert str(weights["activation"]) == "tanh"
        if "lift" in weights:
            np.testing.assert_array_equal(weights["lift"], np.eye(2))
        mine = e_n(weights, X, y, MOONS)
        for key in ("objective", "loss", "reg_l2", "reg_h1"):
            assert abs(lv[key] - mine[key]) <= 1e-12, (N, key, lv[key], mine[key])
        # the NLP's own value at its minimiser is the same number
        assert abs(lv["nlp_objective"] - mine["objective"]) <= 1e-12
        # accuracies from the same forward pass (class 1 iff the score is positive)
        assert lv["train_accuracy"] == np.mean((forward_scores(weights, X, 1.0) > 0) == (y == 1))
        s_test = forward_scores(weights, data["X_test"], 1.0)
        assert lv["test_accuracy"] == np.mean((s_test > 0) == (data["y_test"] == 1))


def test_rerun_with_the_same_settings_reuses_every_solve(strict_json, moons, monkeypatch):
    forbid_solves(monkeypatch)
    lines: list[str] = []
    again = run_deep_limit(MOONS, moons["out"], progress=lines.append)
    starts = [line for line in lines if line.startswith("start seed")]
    levels = [line for line in lines if line.startswith("N=")]
    assert len(starts) == MOONS.n_starts and all("(reused)" in line for line in starts)
    assert len(levels) == len(MOONS.grids) and all(" reused " in line for line in levels)
    assert all(lv.reused for lv in again.study.levels)
    assert all(s["reused"] for s in again.starts)
    before, after = strict_json(moons["json"]), strict_json((moons["out"] / "study.json").read_text())
    for doc in (before, after):
        for lv in doc["levels"]:
            lv.pop("reused")
        for s in doc["starts"]:
            s.pop("reused")
    assert after == before      # identical numbers, timings of the original solves included


def test_other_settings_in_the_same_folder_are_refused(moons, monkeypatch):
    forbid_solves(monkeypatch)
    path = moons["out"] / "study.json"
    text = path.read_text()
    other = dataclasses.replace(MOONS, tau1=2e-3)
    with pytest.raises(SettingsMismatch, match="tau1"):
        run_deep_limit(other, moons["out"])
    with pytest.raises(SettingsMismatch, match="grids"):
        run_deep_limit(dataclasses.replace(MOONS, grids=(4, 8, 16, 32, 64, 128)), moons["out"])
    assert path.read_text() == text


# ------------------------------------------------------------- small cases
def test_an_interrupted_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    out = tmp_path / "run"
    counter = CountingSolve(monkeypatch, interrupt_at=16)
    with pytest.raises(KeyboardInterrupt):
        run_deep_limit(TINY, out)
    assert counter.calls == [8]          # N = 4 is the start itself
    assert not (out / "study.json").exists()
    assert not [p for p in out.rglob(".*") if p.name != ".lock"]  # no half-written temp files (the lock stays)

    counter = CountingSolve(monkeypatch)
    lines: list[str] = []
    resumed = run_deep_limit(TINY, out, progress=lines.append)
    assert counter.calls == [16]
    assert [lv.reused for lv in resumed.study.levels] == [True, True, False]
    assert [" reused " in line for line in lines if line.startswith("N=")] == [True, True, False]
    assert resumed.starts[0]["reused"] is True

    monkeypatch.undo()
    reference = run_deep_limit(TINY, tmp_path / "reference")
    assert resumed.failed == [] and reference.failed == []
    for a, b in zip(resumed.study.levels, reference.study.levels):
        assert (a.N, a.status, a.iterations) == (b.N, b.status, b.iterations)
        assert a.objective == pytest.approx(b.objective, rel=1e-12)
    for a, b in zip(resumed.study.distances, reference.study.distances):
        assert a.l2 == pytest.approx(b.l2, rel=1e-9)


def test_other_settings_after_an_interruption_are_refused(tmp_path, monkeypatch):
    out = tmp_path / "run"
    CountingSolve(monkeypatch, interrupt_at=16)
    with pytest.raises(KeyboardInterrupt):
        run_deep_limit(TINY, out)
    monkeypatch.undo()
    with pytest.raises(SettingsMismatch):
        run_deep_limit(dataclasses.replace(TINY, tau1=0.5), out)


def test_a_forced_failure_is_recorded_as_failed(strict_json, tmp_path):
    config = dataclasses.replace(TINY, grids=(4, 8), max_iter=1)
    result = run_deep_limit(config, tmp_path)
    assert not result.study.success
    assert len(result.failed) == 3      # the start and both levels
    assert any("start seed 0" in f for f in result.failed)
    doc = strict_json((tmp_path / "study.json").read_text())
    assert doc["problem"]["max_iter"] == 1
    assert doc["success"] is False
    assert [(lv["N"], lv["success"], lv["status"]) for lv in doc["levels"]] == [
        (4, False, "Maximum_Iterations_Exceeded"), (8, False, "Maximum_Iterations_Exceeded")]
    assert doc["starts"][0]["success"] is False
    assert doc["distances"] == [] and all(v == [] for v in doc["orders"].values())
    assert doc["limit_objective"] is None
    assert doc["failed"] == result.failed
    assert "FAILED" in result.study.table()


def test_branches_all_follows_every_start_and_records_each_branch(strict_json, tmp_path):
    config = dataclasses.replace(TINY, grids=(4, 8), n_starts=2, branches="all")
    result = run_deep_limit(config, tmp_path)
    assert result.failed == []
    assert len(result.branches) == 1
    followed, other = result.study, result.branches[0]
    assert followed.label != other.label
    # the best start is followed; one minimum reached from both (equal to 1e-9) keeps seed order
    best, second = followed.levels[0].metrics["nlp_objective"], other.levels[0].metrics["nlp_objective"]
    assert best <= second + 1e-9 * max(1.0, abs(second))
    if abs(best - second) <= 1e-9 * max(1.0, abs(best)):
        assert followed.label == f"branch from seed {config.seed}"
    doc = strict_json((tmp_path / "study.json").read_text())
    assert len(doc["branches"]) == 1
    branch = doc["branches"][0]
    assert branch["label"] == other.label
    assert [lv["N"] for lv in branch["levels"]] == [4, 8]
    assert branch["limit_objective"] == other.limit_objective()
    assert [(d["N"], d["N_next"]) for d in branch["distances"]] == [(4, 8)]
    # only the followed (best) branch writes the weights, and they are its minimisers
    weights = load_npz(tmp_path / "weights_N8.npz")
    data = load_npz(tmp_path / "data.npz")
    mine = e_n(weights, data["X_train"], data["y_train"].astype(float), config)
    assert abs(mine["objective"] - followed.levels[1].objective) <= 1e-12

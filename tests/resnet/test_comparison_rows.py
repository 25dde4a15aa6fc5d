"""Typed rows of the comparison: one vocabulary of outcomes with the solver's or trainer's
words as detail, the compare.json dictionaries unchanged, divergence found from non-finite values."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from occontrol import load_dataset
from occontrol.resnet import DeepLimitProblem, DeepLimitSettings, random_network
from occontrol.resnet.deep_limit import DeepLimitConfig

torch = pytest.importorskip("torch", reason="PyTorch (extra occontrol[torch]) is needed for gradient training")

from occontrol.resnet.comparison import (OUTCOMES, CompareConfig, GradientRow, IpoptRow,  # noqa: E402
                                         compare, row_from_dict)
from occontrol.resnet.gradient import GradientSettings, train_gradient  # noqa: E402


def test_rows_round_trip_and_keep_the_file_status_text():
    failed = IpoptRow("h1-iid", 8, "ipopt", "failed", "Maximum_Iterations_Exceeded", objective=1.5, iterations=2)
    doc = failed.to_dict()
    assert doc["status"] == "FAILED: Maximum_Iterations_Exceeded" and doc["success"] is False
    assert doc["outcome"] == "failed" and doc["detail"] == "Maximum_Iterations_Exceeded"
    assert row_from_dict(json.loads(json.dumps(doc))) == failed
    ok = GradientRow("h1-iid", 8, "adam", "budget", "steps budget", objective=0.3, lr=0.01)
    assert ok.success and ok["status"] == "steps budget" and ok["lr"] == 0.01
    assert row_from_dict(ok.to_dict()) == ok
    diverged = GradientRow("h1-iid", 8, "sgd", "diverged", "non-finite E_N or weights by step 3")
    assert not diverged.success and diverged.to_dict()["status"] == "diverged"
    assert set(OUTCOMES) == {"converged", "failed", "diverged", "budget"}


def test_rows_of_files_written_before_outcomes_existed():
    old = {"setting": "s", "N": 4, "method": "ipopt", "status": "FAILED: Infeasible_Problem_Detected",
           "success": False, "objective": None, "iterations": 7}
    row = row_from_dict(old)
    assert isinstance(row, IpoptRow) and (row.outcome, row.detail) == ("failed", "Infeasible_Problem_Detected")
    assert row.to_dict()["status"] == old["status"]
    row = row_from_dict({"setting": "s", "N": 4, "method": "adam", "status": "diverged", "success": False})
    assert isinstance(row, GradientRow) and row.outcome == "diverged"
    assert row_from_dict({"setting": "s", "N": 4, "method": "ipopt", "status": "Solve_Succeeded",
                          "success": True}).outcome == "converged"


def test_an_outcome_outside_the_vocabulary_is_refused():
    with pytest.raises(ValueError, match="outcome"):
        GradientRow("s", 4, "adam", "ok", "steps budget")


def test_divergence_is_seen_in_the_values_and_recorded_as_such(tmp_path):
    data = load_dataset("moons", n=40, noise=0.2, seed=0)
    deep = DeepLimitProblem(data.X_train, data.y_train, DeepLimitSettings(tau1=1e-3, tau2=1e-2))
    net = random_network(deep, 4, 0)
    # an absurd SGD step: E_N overflows within a few steps
    run = train_gradient(net, deep.X_data, deep.Y, 1e-3, 1e-2, 0.0,
                         GradientSettings(optimizer="sgd", lr=1e12, max_steps=30, record_every=1))
    assert run.diverged and math.isnan(run.objective)
    assert not all(math.isfinite(v) for _, _, v in run.history)  # the recorded E_N says so itself
    assert np.all(np.isfinite(run.network.theta))  # the start kept, never non-finite weights
    config = CompareConfig(deep=DeepLimitConfig(n=40, tau_w=1e-2, n_starts=1, grids=(4,)), methods=("sgd",),
                           lr_sgd=1e12, steps=30, record_every=1, settings=("h1-consistent",))
    result = compare(config, None, progress=None, figures=False)
    rows = [r for r in result.rows if r.method == "sgd"]
    assert [(r.outcome, r["status"], r.objective, r.gap) for r in rows] == [("diverged", "diverged", None, None)]
    assert result.diverged == ["sgd h1-consistent N=4"]
    assert result.to_dict()["rows"][-1]["status"] == "diverged"

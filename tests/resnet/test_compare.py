"""Gradient training against optimal control: the objective PyTorch
trains is the NLP's, the optimisers run, the comparison reports honestly.

References are independent of the code under test: the NLP objective is
CasADi's evaluation of the transcribed problem; distances between grid
functions are recomputed by brute force on a fine sampling that contains
every breakpoint; IPOPT's distances must match those of the refinement study
(computed from the Solutions by ``control_distance``).
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import occontrol as oc
from occontrol.datasets import load_dataset
from occontrol.resnet import DeepLimitProblem, DeepLimitSettings, guess_from_network, random_network
from occontrol.resnet.deep_limit import DeepLimitConfig

torch = pytest.importorskip("torch", reason="PyTorch (extra occontrol[torch]) is needed for gradient training")

from occontrol.cli import main  # noqa: E402
from occontrol.resnet.comparison import (CompareConfig, compare, constant_from, iid_network,  # noqa: E402
                                         theta_distance)
from occontrol.resnet.gradient import GradientSettings, train_gradient  # noqa: E402

TOL = 1e-12
# small enough to be quick, and with weight decay so that the logistic loss has a minimiser
TINY = dict(n=40, tau_w=1e-2, n_starts=1, grids=(4, 8))
TAUS = dict(tau1=1e-3, tau2=1e-2, tau_w=1e-2)


@pytest.fixture(scope="module")
def deep() -> DeepLimitProblem:
    data = load_dataset("moons", n=40, seed=0)
    return DeepLimitProblem(data.X_train, data.y_train, DeepLimitSettings(**TAUS))


def nlp_objective(deep: DeepLimitProblem, net) -> float:
    """CasADi's value of the Euler NLP objective at the network's weights."""
    pr = oc.discretize(deep.ocp, oc.ExplicitEuler(shooting="single"), grid=net.N)
    return pr.objective(pr.initial_point(guess_from_network(deep, net)))


def torch_objective(deep: DeepLimitProblem, net) -> float:
    with torch.no_grad():
        return float(net.to_torch().objective(torch.tensor(deep.X_data), torch.tensor(deep.Y.T), **TAUS))


# ------------------------------------------------------------- the objective
@pytest.mark.parametrize("init", ["consistent", "iid", "trained"])
def test_torch_objective_equals_nlp_and_numpy(deep, init):
    if init == "iid":
        net = iid_network(deep, 8, seed=3)
    else:
        net = random_network(deep, 8, seed=3)
    if init == "trained":  # weights off the random draw, where training actually evaluates E_N
        net = train_gradient(net, deep.X_data, deep.Y, **TAUS, settings=GradientSettings(max_steps=20)).network
    f_torch = torch_objective(deep, net)
    assert abs(f_torch - nlp_objective(deep, net)) <= TOL
    assert abs(f_torch - net.objective(deep.X_data, deep.Y, **TAUS)["objective"]) <= TOL


# ------------------------------------------------------------- the optimisers
def test_short_adam_run_lowers_the_objective(deep):
    net = random_network(deep, 8, seed=1)
    run = train_gradient(net, deep.X_data, deep.Y, **TAUS,
                         settings=GradientSettings(optimizer="adam", lr=1e-2, max_steps=50, record_every=5))
    start = torch_objective(deep, net)
    assert run.history[0][2] == pytest.approx(start, abs=TOL)
    assert not run.diverged and run.steps == 50
    assert run.objective < start - 1e-3
    assert run.objective == pytest.approx(torch_objective(deep, run.network), abs=TOL)


@pytest.mark.parametrize("optimizer, lr, batch", [("sgd", 0.1, None), ("sgd", 0.1, 10), ("lbfgs", 1.0, None),
                                                   ("adam", 1e-2, 10)])
def test_sgd_lbfgs_and_minibatch_run(deep, optimizer, lr, batch):
    net = random_network(deep, 8, seed=1)
    run = train_gradient(net, deep.X_data, deep.Y, **TAUS,
                         settings=GradientSettings(optimizer=optimizer, lr=lr, batch_size=batch, max_steps=20))
    assert not run.diverged and math.isfinite(run.objective)
    assert run.objective < torch_objective(deep, net)


def test_lbfgs_line_search_shortens_a_rejected_step():
    # on the default problem the unit step is first rejected at step 10 (measured)
    data = load_dataset("moons", n=200, noise=0.2, seed=0)
    deep = DeepLimitProblem(data.X_train, data.y_train, DeepLimitSettings())
    run = train_gradient(random_network(deep, 8, seed=2), deep.X_data, deep.Y, 1e-3, 1e-2, 0.0,
                         settings=GradientSettings(optimizer="lbfgs", lr=1.0, max_steps=40, record_every=1))
    assert constant_from(run) is None


def test_constant_from_finds_where_the_objective_stopped_moving(deep):
    run = train_gradient(random_network(deep, 4, seed=1), deep.X_data, deep.Y, **TAUS,
                         settings=GradientSettings(max_steps=10, record_every=2))
    assert constant_from(run) is None  # Adam moves at every step
    run.history = [(0, 0.0, 3.0), (2, 0.1, 2.0), (4, 0.2, 1.5), (6, 0.3, 1.5), (8, 0.4, 1.5)]
    assert constant_from(run) == 4
    run.history = run.history[:3]
    assert constant_from(run) is None


# ------------------------------------------------------- initialisations, distances
def test_iid_and_depth_consistent_initialisations(deep):
    N = 256
    iid, smooth = iid_network(deep, N, seed=0), random_network(deep, N, seed=0)
    # same marginals (A entries N(0, 1/m), b entries N(0, 1)) ...
    assert np.std(iid.A) == pytest.approx(1 / np.sqrt(deep.m), rel=0.1)
    assert np.std(iid.b) == pytest.approx(1.0, rel=0.1)
    # ... but i.i.d. layers jump by O(1), depth-consistent ones by O(h)
    assert np.mean(np.abs(np.diff(iid.theta, axis=0))) > 0.5
    assert np.max(np.abs(np.diff(smooth.theta, axis=0))) < 20 / N
    # a fresh draw per N: the first layers of N and 2N are unrelated
    assert not np.allclose(iid_network(deep, 8, 0).theta[:4], iid_network(deep, 16, 0).theta[:4])


def test_theta_distance_against_brute_force(deep):
    a, b = iid_network(deep, 4, seed=1), iid_network(deep, 8, seed=2)
    d = theta_distance(a, b)
    # piecewise constant: exact on the 8 intervals of the finer (nested) grid
    diff = a.theta[np.arange(8) // 2] - b.theta
    assert d["l2"] == pytest.approx(math.sqrt(np.sum(np.sum(diff ** 2, axis=1) / 8)), rel=1e-12)
    assert d["sup"] == pytest.approx(np.max(np.linalg.norm(diff, axis=1)), rel=1e-12)
    # H1 seminorm of the midpoint interpolants, continued linearly to 0 and 1 (scipy's interp1d):
    # finite differences on a sampling containing every breakpoint
    from scipy.interpolate import interp1d
    t = np.linspace(0.0, 1.0, 4097)
    fa = interp1d((np.arange(4) + 0.5) / 4, a.theta, axis=0, fill_value="extrapolate")(t)
    fb = interp1d((np.arange(8) + 0.5) / 8, b.theta, axis=0, fill_value="extrapolate")(t)
    slope = np.diff(fa - fb, axis=0) / np.diff(t)[:, None]
    assert d["h1"] == pytest.approx(math.sqrt(np.sum(slope ** 2 * np.diff(t)[:, None])), rel=1e-9)


def test_config_is_checked_before_any_solve():
    with pytest.raises(ValueError, match="transcription"):
        CompareConfig(deep=DeepLimitConfig(transcription="rk4"))
    with pytest.raises(ValueError, match="methods"):
        CompareConfig(methods=("adam", "newton"))
    with pytest.raises(ValueError, match="settings"):
        CompareConfig(settings=("h1-gaussian",))
    with pytest.raises(ValueError, match="max_steps, max_seconds"):
        CompareConfig(steps=None, seconds=None)
    config = CompareConfig(batch_size=16)
    assert config.gradient_settings("adam", 0).batch_size == 16
    assert config.gradient_settings("lbfgs", 0).batch_size is None  # the line search needs the full batch


# ------------------------------------------------------------- the comparison
@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare")
    config = CompareConfig(deep=DeepLimitConfig(**TINY), steps=20, record_every=2,
                           settings=("h1-consistent", "noh1-iid"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compare(config, out, progress=None)
    return config, result, out


ROW_FIELDS = {"setting", "N", "method", "status", "success", "objective", "target", "gap", "rel_gap", "seconds",
              "steps", "time_to_reach", "train_accuracy", "test_accuracy", "grad_norm", "l2_to_ipopt"}


def test_compare_json_has_the_expected_fields_and_no_nan(tiny):
    config, result, out = tiny
    text = (out / "compare.json").read_text()
    doc = json.loads(text)
    json.dumps(doc, allow_nan=False)
    json.dumps(result.to_dict(), allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text
    assert doc["schema"] == 1 and doc["complete"] is True
    assert doc["problem"]["n_train"] == 40 and doc["problem"]["tau2"] == 1e-2
    assert [s["name"] for s in doc["settings"]] == ["h1-consistent", "noh1-iid"]
    assert [s["tau2"] for s in doc["settings"]] == [1e-2, 0.0]
    assert len(doc["rows"]) == 2 * 2 * 4  # settings x N x (ipopt + 3 methods)
    for row in doc["rows"]:
        assert ROW_FIELDS <= set(row)
        if row["method"] != "ipopt":
            assert set(row["time_to_reach"]) == {"1e-3", "1e-6"}
    for setting in ("h1-consistent", "noh1-iid"):
        assert set(doc["distances"][setting]) == {"ipopt", "adam", "sgd", "lbfgs"}
        for ds in doc["distances"][setting].values():
            for d in ds:
                assert {"N", "N_next", "l2", "sup", "h1"} <= set(d)
    assert not doc["failed"] and set(doc["ipopt"]) == {"h1", "noh1"}
    assert "| N | method |" in (out / "compare.md").read_text()
    for name in ("objective_time_h1-consistent.png", "theta_ipopt_h1.png", "theta_adam_noh1-iid.png",
                 "deep_limit.png", "histories.npz"):
        assert (out / name).exists(), name


def test_compare_rows_are_consistent(tiny):
    config, result, out = tiny
    ipopt = {(r["setting"], r["N"]): r for r in result.rows if r["method"] == "ipopt"}
    for row in result.rows:
        if row["method"] == "ipopt":
            assert row["success"]
            continue
        ref = ipopt[(row["setting"], row["N"])]
        # the gap is against IPOPT's E_N on the same problem; torch and numpy agree on E_N
        assert row["gap"] == pytest.approx(row["objective"] - ref["objective"], abs=1e-15)
        assert row["objective"] == pytest.approx(row["torch_objective"], abs=TOL)
        assert row["objective"] < row["initial_objective"]
        reach = row["time_to_reach"]["1e-3"]
        if row["objective"] <= ref["objective"] + 1e-3 * abs(ref["objective"]) - TOL:
            assert reach["reached"] is True and reach["seconds"] <= row["seconds"]
        if not reach["reached"]:
            assert reach["seconds"] is None and row["objective"] > ref["objective"]
    # IPOPT's distances are the refinement study's (computed there from the Solutions)
    for setting, reg in (("h1-consistent", "h1"), ("noh1-iid", "noh1")):
        study = result.ipopt[reg].study.distances
        mine = result.distances[setting]["ipopt"]
        assert [(d["N"], d["N_next"]) for d in mine] == [(d.N, d.N_next) for d in study]
        for d, s in zip(mine, study):
            assert d["l2"] == pytest.approx(s.l2, rel=1e-12) and d["h1"] == pytest.approx(s.h1, rel=1e-12)
    # the depth-consistent start of the coarsest grid is IPOPT's followed start
    assert result.init_seeds["h1-consistent"] == result.ipopt["h1"].starts[0]["seed"]


def test_cli_compare_end_to_end(tmp_path, capsys):
    out = tmp_path / "cli"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["compare", "--n", "40", "--tau-w", "1e-2", "--grids", "4,8", "--starts", "1", "--steps", "10",
                     "--methods", "adam,sgd", "--batch-size", "20", "--settings", "h1-iid", "--no-figures",
                     "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    doc = json.loads((out / "compare.json").read_text())
    assert {r["method"] for r in doc["rows"]} == {"ipopt", "adam", "sgd"}
    assert {r["batch_size"] for r in doc["rows"] if r["method"] != "ipopt"} == {20}
    # one line per run: 2 IPOPT levels, then 2 methods x 2 grids
    assert sum(line.startswith(("adam ", "sgd ")) for line in printed.splitlines()) == 4
    assert sum(line.startswith("ipopt  h1-iid") for line in printed.splitlines()) == 2


def test_failed_ipopt_is_shown_failed_everywhere(tmp_path, capsys):
    out = tmp_path / "failed"
    code = main(["compare", "--n", "40", "--grids", "4,8", "--starts", "1", "--max-iter", "2", "--steps", "5",
                 "--methods", "adam", "--settings", "h1-consistent", "--no-figures", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "FAILED IPOPT solves" in captured.err
    doc = json.loads((out / "compare.json").read_text())
    assert doc["failed"]
    for row in doc["rows"]:
        if row["method"] == "ipopt":
            assert row["success"] is False and row["status"].startswith("FAILED")
        else:  # no target to compare against: null, never a number
            assert row["gap"] is None and row["target"] is None and row["l2_to_ipopt"] is None
            assert all(v["reached"] is None for v in row["time_to_reach"].values())
    assert doc["distances"]["h1-consistent"]["ipopt"] == []
    assert "FAILED" in (out / "compare.md").read_text()

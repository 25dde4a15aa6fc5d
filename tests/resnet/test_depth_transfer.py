"""Depth transfer in the deep-limit study (issue 13 §4): each trained network of the ladder run at
every depth, in study.json ("depth_transfer": trained_N x run_N), the printed tables and a figure.

The diagonal is each level's own objective and accuracy (resampling at the same depth is the
identity); off the diagonal the entries are checked against the OCP's own objective (CasADi's
single-shooting Euler NLP) at weights carried by hand: N=4 -> 8 repeats every layer, N=8 -> 4
takes the layer starting at each new midpoint (odd layers).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import occontrol as oc
from occontrol.resnet import ResNet
from occontrol.resnet.deep_limit import DeepLimitConfig, StudyRecord, load_study, run_deep_limit
from occontrol.resnet.depth_transfer import DepthTransfer
from occontrol.resnet.figures import study_figures
from occontrol.resnet.problem import DeepLimitProblem
from occontrol.resnet.train import guess_from_network

# tiny and not separable (noise 0.35): both levels converge in well under a second
TINY = DeepLimitConfig(n=60, noise=0.35, grids=(4, 8), n_starts=1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("transfer")
    result = run_deep_limit(TINY, out)
    assert result.success, result.failed
    return result, out


def _nlp_parts(deep: DeepLimitProblem, net: ResNet) -> tuple[float, float]:
    """(E, mean loss) of ``net`` from the OCP's discrete objective on its own layers (CasADi, not
    ResNet.objective): the objective, and the terminal cost less the weight decay."""
    problem = oc.discretize(deep.ocp, oc.ExplicitEuler(shooting="single"), grid=net.N)
    w = problem.initial_point(guess_from_network(deep, net, with_states=False))
    _, parts = problem.evaluate(w)
    decay = TINY.tau_w * (np.sum(net.W ** 2) + np.sum(net.c ** 2))
    return problem.objective(w), parts["terminal"] - decay


def _by_hand(net: ResNet, theta: np.ndarray) -> ResNet:
    m = net.width
    A = theta[:, :m * m].reshape(-1, m, m).transpose(0, 2, 1)
    return ResNet(A, theta[:, m * m:], net.W, net.c, net.T / theta.shape[0], net.activation, net.lift, net.loss,
                  net.classes)


def test_the_diagonal_is_each_levels_own_objective_and_accuracy(tiny, strict_json):
    result, out = tiny
    doc = strict_json((out / "study.json").read_text())["depth_transfer"]
    assert doc["trained"] == [4, 8] and doc["run"] == [4, 8] and doc["excluded"] == []
    levels = {lv["N"]: lv for lv in strict_json((out / "study.json").read_text())["levels"]}
    for i, N in enumerate(doc["trained"]):
        j = doc["run"].index(N)
        assert doc["objective"][i][j] == pytest.approx(levels[N]["objective"], abs=1e-10)
        assert doc["objective"][i][j] == pytest.approx(levels[N]["nlp_objective"], abs=1e-10)
        assert doc["loss"][i][j] == pytest.approx(levels[N]["loss"], abs=1e-12)
        assert doc["test_accuracy"][i][j] == levels[N]["test_accuracy"]


def test_off_diagonal_entries_are_the_ocp_objective_of_the_carried_weights(tiny):
    result, _ = tiny
    transfer = result.depth_transfer
    deep = DeepLimitProblem(result.data.X_train, result.data.y_train, TINY.model_settings())
    n4, n8 = result.networks[4], result.networks[8]
    up = _by_hand(n4, np.repeat(n4.theta, 2, axis=0))  # 4 -> 8: each layer twice
    down = _by_hand(n8, n8.theta[1::2])  # 8 -> 4: new midpoints (2j + 1) T / 8 start old layers 2j + 1
    assert (transfer.objective[0][1], transfer.loss[0][1]) == pytest.approx(_nlp_parts(deep, up), rel=1e-12)
    assert (transfer.objective[1][0], transfer.loss[1][0]) == pytest.approx(_nlp_parts(deep, down), rel=1e-12)
    assert transfer.test_accuracy[0][1] == up.score(result.data.X_test, result.data.y_test)
    assert transfer.test_accuracy[1][0] == down.score(result.data.X_test, result.data.y_test)
    # not the trivial answer: running at another depth changes E
    assert abs(transfer.objective[0][1] - transfer.objective[0][0]) > 1e-8


def test_study_json_round_trip_tables_and_figure(tiny):
    result, out = tiny
    assert load_study(out).depth_transfer == result.depth_transfer
    tables = result.depth_transfer.tables()
    assert "| trained N \\ run N | 4 | 8 |" in tables
    assert tables.count("\n| 4 | ") == 3 and tables.count("\n| 8 | ") == 3  # E, loss and accuracy rows
    paths = study_figures(result, out)
    assert out / "depth_transfer.png" in paths and (out / "depth_transfer.png").stat().st_size > 1000


def test_failed_levels_are_not_run_at_other_depths(tmp_path, strict_json):
    result = run_deep_limit(dataclasses.replace(TINY, max_iter=1), tmp_path)
    assert not result.success
    doc = strict_json((tmp_path / "study.json").read_text())["depth_transfer"]
    assert doc["trained"] == [] and doc["excluded"] == [4, 8] and doc["objective"] == []
    assert "Not run (failed solves): N = 4, 8" in result.depth_transfer.tables()
    assert "depth_transfer.png" not in [p.name for p in study_figures(result, tmp_path)]


def test_a_study_json_without_depth_transfer_still_reads(tiny):
    _, out = tiny
    doc = {k: v for k, v in load_study(out).as_dict().items() if k != "depth_transfer"}
    assert StudyRecord.from_dict(doc).depth_transfer is None
    # strict JSON writes a non-finite E as null; it reads back as NaN, not as a number
    back = DepthTransfer.from_dict({"trained": [4], "run": [4, 8], "objective": [[0.1, None]],
                                    "loss": [[0.05, None]], "test_accuracy": [[0.9, 0.8]]})
    assert back.objective[0][0] == 0.1 and np.isnan(back.objective[0][1]) and back.excluded == []

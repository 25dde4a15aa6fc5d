"""Layer placement by the variation of theta(t) (issue 13 §3): layers that equidistribute the variation of
theta(t) plus a floor, and the deep-limit study's 'variation' ladder beside the uniform one (the
'adaptive' ladder, placed by the error indicators, is tested in test_placement_indicators.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from occontrol.resnet import ResNet
from occontrol.resnet.deep_limit import load_study, run_deep_limit
from occontrol.resnet.figures import study_figures
from occontrol.resnet.placement import variation_density, variation_equidistributed_grid
from occontrol.resnet.problem import DeepLimitProblem

from .helpers import TINY, placed_study


def _scalar_net(b: list[float], T: float = 1.0) -> ResNet:
    """Width 1, A = 0: theta_k = (0, b_k)."""
    N = len(b)
    return ResNet(np.zeros((N, 1, 1)), np.asarray(b, dtype=float)[:, None], [[1.0]], [0.0], T / N)


def test_a_step_in_theta_draws_the_layers_by_hand():
    """theta = 0, 0, 3 on three layers of [0, 1]: midpoints 1/6, 1/2, 5/6, slopes 0 then 9 (continued over
    the half layers at the ends), variation V = 4.5; with floor 1 the density is 4.5 on [0, 1/2] and
    13.5 on [1/2, 1], total 9. Four equal shares of 2.25 end at t = 1/2, 1/2 + 2.25/13.5, ..."""
    net = _scalar_net([0.0, 0.0, 3.0])
    breaks, density = variation_density(net)
    assert breaks == pytest.approx([0, 1 / 6, 1 / 2, 5 / 6, 1], abs=1e-15)
    assert density == pytest.approx([0, 0, 9, 9], abs=1e-13)
    grid = variation_equidistributed_grid(net, 4, floor=1.0)
    assert grid.times(0.0, 1.0) == pytest.approx([0, 0.5, 2 / 3, 5 / 6, 1], abs=1e-14)
    # on T = 2 the same layers, scaled
    assert variation_equidistributed_grid(_scalar_net([0.0, 0.0, 3.0], T=2.0), 4).times(0.0, 2.0) == \
        pytest.approx([0, 1, 4 / 3, 5 / 3, 2], abs=1e-14)


def test_every_new_layer_carries_an_equal_share():
    """Checked by a midpoint-rule integral of the density on a fine uniform mesh (not the inverse map)."""
    rng = np.random.default_rng(0)
    net = _scalar_net(list(np.cumsum(rng.normal(size=12))), T=1.5)
    floor = 0.3
    breaks, density = variation_density(net)
    V = float(np.sum(density * np.diff(breaks)))
    t = (np.arange(300000) + 0.5) * (1.5 / 300000)
    rho = density[np.clip(np.searchsorted(breaks, t, side="right") - 1, 0, density.size - 1)] + floor * V / 1.5
    nodes = variation_equidistributed_grid(net, 7, floor).times(0.0, 1.5)
    shares = [np.sum(rho[(t >= a) & (t < b)]) * (1.5 / 300000) for a, b in zip(nodes[:-1], nodes[1:])]
    assert np.ptp(shares) < 1e-3 * np.mean(shares)
    assert np.ptp(np.diff(nodes)) > 0.01  # not the uniform grid


@pytest.mark.parametrize("b", [[0.7, 0.7, 0.7], [0.0, 1.0, 2.0, 3.0]])
def test_constant_or_linear_theta_gives_uniform_layers(b):
    grid = variation_equidistributed_grid(_scalar_net(b), 5)
    assert grid.times(0.0, 1.0) == pytest.approx(np.linspace(0, 1, 6), abs=1e-14)


def test_bad_arguments_are_refused():
    net = _scalar_net([0.0, 1.0])
    with pytest.raises(ValueError, match=r"^floor: expected a weight > 0"):
        variation_equidistributed_grid(net, 4, floor=0.0)
    with pytest.raises(ValueError, match=r"^N: "):
        variation_equidistributed_grid(net, 0)
    with pytest.raises(ValueError, match=r"^placement: expected one of 'uniform', 'adaptive'"):
        run_deep_limit(TINY, placement="graded")
    with pytest.raises(ValueError, match=r"^placement: 'adaptive' needs an explicit scheme"):
        run_deep_limit(dataclasses.replace(TINY, transcription="collocation", strategy="exact"),
                       placement="adaptive")


@pytest.fixture(scope="module")
def variation(tmp_path_factory):
    return placed_study(tmp_path_factory, "variation")


def test_the_variation_ladder_places_each_level_by_the_previous_one(variation):
    result, out = variation
    pl = result.placement
    assert [lv.N for lv in pl.uniform] == [lv.N for lv in pl.variation] == [4, 8, 16]
    assert pl.adaptive == [] and pl.ladders == ["variation"]
    assert all(lv.success for lv in pl.variation)
    assert pl.variation[0] == pl.uniform[0]  # the first level has no previous one: uniform
    deep = DeepLimitProblem(result.data.X_train, result.data.y_train, TINY.model_settings())
    for previous, lv in zip(pl.variation, pl.variation[1:]):
        expected = variation_equidistributed_grid(pl.networks["variation"][previous.N], lv.N).times(0.0,
                                                                                                     TINY.horizon)
        assert np.max(np.abs(np.asarray(lv.nodes) - expected)) < 1e-14
        net = ResNet.load(out / f"weights_variation_N{lv.N}.npz")
        assert np.array_equal(net.nodes, lv.nodes) and not net.uniform
        assert (lv.min_step, lv.max_step) == (net.steps.min(), net.steps.max())
        assert lv.max_step > 1.2 * lv.min_step  # really non-uniform
        # E_N of the saved weights (numpy forward pass, midpoint H1 term) is the NLP's objective
        E = net.objective(deep.X_data, deep.Y, TINY.tau1, TINY.tau2, TINY.tau_w).objective
        assert E == pytest.approx(lv.objective, abs=1e-10)
        assert lv.test_accuracy == net.score(result.data.X_test, result.data.y_test)
    for lv in pl.uniform + pl.variation:
        assert lv.error == pytest.approx(abs(lv.objective - pl.limit_objective), abs=1e-15)
    assert pl.limit_objective == result.study.limit_objective()


def test_study_json_table_and_figure(variation, strict_json):
    result, out = variation
    doc = strict_json((out / "study.json").read_text())["placement"]
    assert set(doc) >= {"uniform", "adaptive", "variation", "limit_objective", "variation_floor",
                        "variation_indicator"}
    assert [lv["N"] for lv in doc["variation"]] == [4, 8, 16] and len(doc["variation"][2]["nodes"]) == 17
    assert doc["adaptive"] == []
    assert load_study(out).placement == result.placement
    table = result.placement.table()
    assert table.count("\n| ") == 4 and "variation abs(E - E_limit)" in table and "adaptive E" not in table
    assert out / "placement.png" in study_figures(result, out)


def test_cli_refuses_adaptive_placement_with_collocation_before_any_solve(run_cli, tmp_path, no_nlp):
    code, stdout, stderr = run_cli(["deep-limit", "--placement", "adaptive", "--transcription", "collocation",
                                    "--strategy", "exact", "--out", str(tmp_path / "x")])
    assert code == 2
    assert "error: --placement: 'adaptive' needs an explicit scheme" in stderr
    assert not (tmp_path / "x" / "study.json").exists()

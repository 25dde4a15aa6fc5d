"""The 'adaptive' layer placement (issue 13 §3): each level's layers equidistribute the error density of
oc.estimate_error's indicators on the previous level; a failed estimate fails the ladder, with no fallback."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import occontrol as oc
from occontrol.resnet.deep_limit import load_study, run_deep_limit
from occontrol.resnet.figures import study_figures
from occontrol.resnet.placement import indicator_density, indicator_equidistributed_grid
from occontrol.resnet.placement_study import adaptive_ladder
from occontrol.resnet.problem import DeepLimitProblem

from .helpers import TINY, placed_study


def test_two_layers_by_hand():
    """Old layers [0, 1/2], [1/2, 1] with eta = 0.01, 0.09 and p = 1: density (eta / h^2)^(1/2) = 0.2, 0.6;
    its integral R = 0.4, floor 0.25 adds 0.1: 0.3 and 0.7, total 0.5. Four shares of 0.125 end at
    t = 0.125 / 0.3 = 5/12, then in the second layer at 1/2 + (0.25 - 0.15) / 0.7 = 1/2 + 1/7 and
    1/2 + (0.375 - 0.15) / 0.7 = 1/2 + 9/28."""
    assert indicator_density(np.array([0.0, 0.5, 1.0]), np.array([0.01, 0.09]), 1.0) == \
        pytest.approx([0.2, 0.6], abs=1e-15)
    grid = indicator_equidistributed_grid([0.0, 0.5, 1.0], [0.01, 0.09], 4, order=1.0, floor=0.25)
    assert grid.times(0.0, 1.0) == pytest.approx([0, 5 / 12, 1 / 2 + 1 / 7, 1 / 2 + 9 / 28, 1], abs=1e-14)
    # the same on [1, 3] (h = 1, density halves, the floor with it): the layers scale
    shifted = indicator_equidistributed_grid([1.0, 2.0, 3.0], [0.01, 0.09], 4, order=1.0, floor=0.25)
    assert shifted.times(1.0, 3.0) == pytest.approx([1, 1 + 5 / 6, 2 + 2 / 7, 2 + 9 / 14, 3], abs=1e-14)


def test_order_sets_the_exponent():
    """p = 2: (eta / h^3)^(1/3) on h = 1/2 layers with eta = 1/8 and 27/8 is 2 and 6 (the same shape as p = 1
    with eta 1/100, 9/100 above), so the same layers."""
    grid = indicator_equidistributed_grid([0.0, 0.5, 1.0], [1 / 8, 27 / 8], 4, order=2.0, floor=0.25)
    assert grid.times(0.0, 1.0) == pytest.approx([0, 5 / 12, 1 / 2 + 1 / 7, 1 / 2 + 9 / 28, 1], abs=1e-13)


@settings(max_examples=40, deadline=None)
@given(eta=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=9),
       widths=st.lists(st.floats(0.05, 3.0), min_size=9, max_size=9),
       N=st.integers(1, 20), order=st.sampled_from([1.0, 2.0, 4.0]), floor=st.floats(0.01, 4.0))
def test_every_new_layer_carries_an_equal_share(eta, widths, N, order, floor):
    """Checked by integrating the density + floor over each new layer against the old layers' overlaps
    (not by the inverse map the function uses)."""
    M = len(eta)
    nodes = np.concatenate([[0.5], 0.5 + np.cumsum(widths[:M])])
    eta_a = np.asarray(eta)
    new = indicator_equidistributed_grid(nodes, eta_a, N, order, floor).times(nodes[0], nodes[-1])
    assert new[0] == nodes[0] and new[-1] == pytest.approx(nodes[-1], abs=1e-12) and np.all(np.diff(new) > 0)
    h = np.diff(nodes)
    rho = (eta_a / h ** (order + 1)) ** (1 / (order + 1))
    if rho.sum() == 0:
        assert new == pytest.approx(np.linspace(nodes[0], nodes[-1], N + 1), abs=1e-12)
        return
    rho = rho + floor * np.sum(rho * h) / (nodes[-1] - nodes[0])
    shares = [sum(r * max(0.0, min(b, hi) - max(a, lo)) for r, lo, hi in zip(rho, nodes[:-1], nodes[1:]))
              for a, b in zip(new[:-1], new[1:])]
    assert np.ptp(shares) <= 1e-9 * np.mean(shares)
    # the floor: no new layer longer than (1 + 1 / floor) T / N
    assert np.diff(new).max() <= (1 + 1 / floor) * (nodes[-1] - nodes[0]) / N * (1 + 1e-9)


def test_equal_error_density_gives_uniform_layers():
    """eta_k proportional to h_k^(p+1) is a constant density: whatever the old layers, the new ones are uniform."""
    nodes = np.array([0.0, 0.1, 0.4, 0.5, 1.0])
    for p in (1.0, 2.0):
        eta = 3.0 * np.diff(nodes) ** (p + 1)
        grid = indicator_equidistributed_grid(nodes, eta, 6, p)
        assert grid.times(0.0, 1.0) == pytest.approx(np.linspace(0, 1, 7), abs=1e-14)
    assert indicator_equidistributed_grid(nodes, np.zeros(4), 3, 1.0).times(0.0, 1.0) == \
        pytest.approx(np.linspace(0, 1, 4), abs=1e-15)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"floor": 0.0}, ValueError, r"^floor: expected a weight > 0"),
    ({"floor": float("nan")}, ValueError, r"^floor: "),
    ({"order": 0.0}, ValueError, r"^order: expected the scheme's order p > 0"),
    ({"order": "2"}, TypeError, r"^order: expected a real number"),
    ({"N": 0}, ValueError, r"^N: "),
    ({"indicators": [0.1, 0.2, 0.3]}, ValueError, r"^indicators: expected one per layer, shape \(2,\)"),
    ({"indicators": [0.1, float("nan")]}, ValueError, r"^indicators: expected finite values >= 0"),
    ({"indicators": [0.1, -1e-3]}, ValueError, r"^indicators: expected finite values >= 0"),
    ({"nodes": [0.0, 0.5, 0.5]}, ValueError, r"^nodes: expected at least two strictly increasing"),
    ({"nodes": [0.0]}, ValueError, r"^nodes: "),
])
def test_bad_arguments_are_refused(kwargs, error, message):
    args = {"nodes": [0.0, 0.5, 1.0], "indicators": [0.1, 0.2], "N": 4, "order": 1.0, "floor": 0.25, **kwargs}
    with pytest.raises(error, match=message):
        indicator_equidistributed_grid(**args)


@pytest.mark.parametrize("placement", ["adaptive", "variation", "all"])
def test_placements_need_an_explicit_scheme(placement, no_nlp):
    with pytest.raises(ValueError, match=rf"^placement: '{placement}' needs an explicit scheme"):
        run_deep_limit(dataclasses.replace(TINY, transcription="collocation", strategy="exact"),
                       placement=placement)


def test_unknown_placement_is_refused(no_nlp):
    with pytest.raises(ValueError, match=r"^placement: expected one of 'uniform', 'adaptive', 'variation', 'all'"):
        run_deep_limit(TINY, placement="indicators")


def test_cli_refuses_an_unknown_placement(run_cli, tmp_path, no_nlp):
    code, _, stderr = run_cli(["deep-limit", "--placement", "graded", "--out", str(tmp_path / "x")])
    assert code == 2 and "--placement" in stderr and "'variation'" in stderr


@pytest.fixture(scope="module")
def adaptive(tmp_path_factory):
    return placed_study(tmp_path_factory, "adaptive")


def test_the_adaptive_ladder_uses_the_indicator_grid(adaptive):
    """Level 8 is placed by an independent oc.estimate_error of the uniform N=4 solve (same solver and
    Gauss-Newton Hessian); every level by the indicators recorded for the level before it."""
    result, out = adaptive
    pl = result.placement
    assert [lv.N for lv in pl.adaptive] == [4, 8, 16] and pl.variation == [] and pl.ladders == ["adaptive"]
    assert all(lv.success for lv in pl.adaptive)
    deep = DeepLimitProblem(result.data.X_train, result.data.y_train, TINY.model_settings())
    first = result.study.solutions[0]
    gauss_newton = TINY.hessian_strategy().hess_lag(deep)
    built = []

    def hess_lag(problem):  # the bisected solve gets the Gauss-Newton Hessian handed in
        built.append(problem.grid.N)
        return gauss_newton(problem)
    est = oc.estimate_error(first, solver=TINY.solver(), hess_lag=hess_lag)
    assert est.success and est.order == 1.0  # Euler
    assert built == [8]
    assert pl.adaptive[0].indicators == pytest.approx(list(est.indicators), rel=1e-6, abs=1e-12)
    expected = indicator_equidistributed_grid(np.linspace(0, TINY.horizon, 5), est.indicators, 8, 1.0, pl.floor)
    assert np.asarray(pl.adaptive[1].nodes) == pytest.approx(expected.times(0.0, TINY.horizon), abs=1e-6)
    for previous, lv in zip(pl.adaptive, pl.adaptive[1:]):
        grid = indicator_equidistributed_grid(previous.nodes, previous.indicators, lv.N, previous.order, pl.floor)
        assert np.max(np.abs(np.asarray(lv.nodes) - grid.times(0.0, TINY.horizon))) < 1e-14
        assert previous.estimated_error is not None and previous.estimated_error > 0
        assert previous.estimate_seconds > 0
        net = oc.resnet.ResNet.load(out / f"weights_adaptive_N{lv.N}.npz")
        assert np.array_equal(net.nodes, lv.nodes)
        E = net.objective(deep.X_data, deep.Y, TINY.tau1, TINY.tau2, TINY.tau_w).objective
        assert E == pytest.approx(lv.objective, abs=1e-10)
        assert lv.error == pytest.approx(abs(lv.objective - pl.limit_objective), abs=1e-15)
    assert pl.adaptive[-1].indicators == []  # the finest level places nothing: not estimated
    # the uniform ladder is the study's own: its objectives unchanged by the placement
    assert [lv.objective for lv in pl.uniform] == [lv.objective for lv in result.study.levels]


def test_study_json_and_table_have_the_adaptive_section(adaptive, strict_json):
    result, out = adaptive
    doc = strict_json((out / "study.json").read_text())["placement"]
    assert [lv["N"] for lv in doc["adaptive"]] == [4, 8, 16] and doc["variation"] == []
    assert len(doc["adaptive"][0]["indicators"]) == 4 and doc["adaptive"][0]["order"] == 1.0
    assert "oc.estimate_error" in doc["indicator"]
    assert load_study(out).placement == result.placement
    table = result.placement.table()
    assert table.count("\n| ") == 4 and "adaptive abs(E - E_limit)" in table and "variation E" not in table
    assert out / "placement.png" in study_figures(result, out)


def test_a_failed_estimate_fails_the_ladder_without_fallback(monkeypatch, tmp_path):
    """The bisected solve of the estimate is given no iterations (the real estimate, really failing):
    the next level is FAILED with the estimate's status, nothing further is solved, the study fails."""
    import occontrol.resnet.placement_study as ps
    real = ps.estimate_error
    calls = []

    def starved(sol, *, solver, hess_lag):
        calls.append(sol.N)
        return real(sol, solver=dataclasses.replace(solver, max_iter=0), hess_lag=hess_lag)
    monkeypatch.setattr(ps, "estimate_error", starved)
    solves = []
    monkeypatch.setattr(ps, "solve", lambda *a, **k: solves.append(k["grid"]))  # no placed level may be solved
    result = run_deep_limit(TINY, tmp_path, placement="adaptive")
    pl = result.placement
    assert calls == [4] and solves == []
    assert [lv.N for lv in pl.adaptive] == [4, 8]
    failed = pl.adaptive[1]
    assert not failed.success and failed.error is None and failed.nodes == []
    assert "error estimate of N=4 FAILED" in failed.status and "Maximum_Iterations_Exceeded" in failed.status
    assert "no fallback" in failed.status
    assert result.study.success and not result.success
    assert result.failed == [f"adaptive placement N=8: {failed.status}"]
    assert "Study: FAILED" in result.verdict_line()
    assert "FAILED (error estimate of N=4 FAILED" in pl.table()
    doc = load_study(tmp_path)
    assert doc["success"] is False and doc["failed"] == result.failed
    assert doc.placement.adaptive[1].status == failed.status and not doc.placement.adaptive[1].success
    assert not list(tmp_path.glob("weights_adaptive_N*.npz"))


def test_adaptive_ladder_refuses_unknown_kinds():
    with pytest.raises(ValueError, match=r"^kinds: expected some of \('adaptive', 'variation'\)"):
        adaptive_ladder([4, 8], None, None, None, {}, None, None, None, kinds=("uniform",))

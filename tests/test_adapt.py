"""oc.adapt: reaches a tolerance with fewer intervals than a uniform grid on a boundary layer, with the true
error (against the analytic optimum) near the estimate; limits and failures are reported as not converged;
refined_grid's splitting, merging and cap; bad arguments refused before any NLP is built."""

from __future__ import annotations

import json

import numpy as np
import pytest

import occontrol as oc
from occontrol.adaptation import refined_grid
from helpers import nlp_forbidden
from known_optima import bang_bang, boundary_layer, min_time, singular_arc

SOLVER = oc.Ipopt(tol=1e-10)


@pytest.mark.parametrize("transcription", [oc.RK4(), oc.Heun(), oc.Collocation(), oc.RK4(controls="linear")],
                         ids=["rk4", "heun", "radau", "rk4-linear"])
def test_boundary_layer_meets_tol_with_fewer_intervals_than_uniform(transcription):
    ocp, optimum = boundary_layer(1e-4)
    tol = 1e-5
    result = oc.adapt(ocp, transcription, grid=8, tol=tol, solver=SOLVER, max_rounds=20)
    assert result.converged and result.error_estimate <= tol
    true_error = abs(result.solution.objective - optimum)
    assert true_error <= 2 * tol
    assert 0.1 <= result.error_estimate / true_error <= 10
    assert not result.grid.uniform and result.grid.N == result.levels[-1].N
    # the uniform grid of the same size is more than 10 times worse
    uniform = oc.solve(ocp, transcription, grid=result.grid.N, solver=SOLVER)
    assert abs(uniform.objective - optimum) > 10 * true_error
    # the grid is graded into the layer at t = 0
    dtau = np.diff(result.grid.tau)
    assert dtau[0] < dtau.max() / 50


@pytest.mark.parametrize("make,v0", [(singular_arc, None), (min_time, 0.5), (bang_bang, None)],
                         ids=["singular", "min_time", "bang_bang"])
def test_bang_bang_and_singular_problems_converge(make, v0):
    ocp, optimum = make() if v0 is None else make(v0)
    result = oc.adapt(ocp, oc.Heun(), grid=9, tol=1e-4, solver=SOLVER)
    assert result.converged
    true_error = abs(result.solution.objective - optimum)
    assert true_error <= 2e-4 and 0.1 <= result.error_estimate / true_error <= 10


def test_bang_bang_switch_is_resolved_with_few_intervals():
    """The switch t = 1.3 of [0, 3] is on no dyadic node; the adapted grid closes in on it, a uniform grid of the
    same size does not."""
    ocp, optimum = bang_bang()
    result = oc.adapt(ocp, oc.RK4(), grid=8, tol=1e-6, solver=SOLVER)
    assert result.converged
    true_error = abs(result.solution.objective - optimum)
    assert true_error <= 2e-6
    uniform = oc.solve(ocp, oc.RK4(), grid=result.grid.N, solver=SOLVER)
    assert abs(uniform.objective - optimum) > 10 * true_error


def test_levels_and_table():
    ocp, _ = boundary_layer(1e-3)
    result = oc.adapt(ocp, oc.RK4(), grid=8, tol=1e-4, solver=SOLVER)
    assert [lv.round for lv in result.levels] == list(range(len(result.levels)))
    assert result.levels[0].N == 8 and result.levels[-1].N == result.solution.N
    assert all(lv.success for lv in result.levels)
    assert result.levels[-1].estimate == result.error_estimate
    estimates = [lv.estimate for lv in result.levels]
    assert estimates[-1] <= 1e-4 < min(estimates[:-1])
    # away from the layer the indicators are negligible: pairs were merged beyond the first grid's 1/8
    assert result.levels[-1].h_max > 1 / 8
    table = result.table()
    assert table.count("\n| ") == len(result.levels) and "CONVERGED" in table
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["converged"] is True and len(data["levels"]) == len(result.levels)
    assert data["nodes"][0] == 0.0 and data["nodes"][-1] == 1.0 and len(data["nodes"]) == result.solution.N + 1
    assert oc.AdaptLevel.from_dict(data["levels"][0]) == result.levels[0]


def test_progress_gets_one_line_per_round():
    ocp, _ = boundary_layer(1e-3)
    lines: list[str] = []
    result = oc.adapt(ocp, oc.RK4(), grid=8, tol=1e-3, solver=SOLVER, progress=lines.append)
    assert len(lines) == len(result.levels) and lines[0].startswith("round 0") and "N=8" in lines[0]


def test_save_writes_json(tmp_path):
    ocp, _ = boundary_layer(1e-3)
    result = oc.adapt(ocp, oc.RK4(), grid=8, tol=1e-3, solver=SOLVER)
    path = result.save(tmp_path / "adapt.json")
    assert json.loads(path.read_text())["error_estimate"] == pytest.approx(result.error_estimate)


def test_max_rounds_is_not_convergence():
    ocp, _ = boundary_layer(1e-4)
    result = oc.adapt(ocp, oc.RK4(), grid=8, tol=1e-9, solver=SOLVER, max_rounds=2)
    assert not result.converged and len(result.levels) == 2
    assert "max_rounds" in result.reason and "NOT CONVERGED" in result.table()
    assert result.error_estimate > 1e-9


def test_max_intervals_is_not_convergence():
    ocp, _ = boundary_layer(1e-4)
    result = oc.adapt(ocp, oc.RK4(), grid=8, tol=1e-9, solver=SOLVER, max_intervals=20)
    assert not result.converged and "max_intervals" in result.reason
    assert all(lv.N <= 20 for lv in result.levels) and result.levels[-1].N == 20


def test_failed_solve_stops_and_is_reported():
    ocp, _ = min_time(0.5)
    result = oc.adapt(ocp, oc.RK4(), grid=8, tol=1e-6, solver=oc.Ipopt(max_iter=2))
    assert not result.converged and len(result.levels) == 1
    level = result.levels[0]
    assert not level.success and level.status == "Maximum_Iterations_Exceeded"
    assert "FAILED" in result.reason and "Maximum_Iterations_Exceeded" in result.reason
    assert "FAILED: Maximum_Iterations_Exceeded" in result.table()


def test_refined_grid_splits_the_largest_and_merges_negligible_pairs():
    grid = oc.Grid.uniform_grid(8)
    eta = np.array([1.0, 0.01, 0.0, 0.0, 0.0, 0.0, 1e-12, 1e-12])
    new = refined_grid(grid, eta, tol=1e-3, order=2.0)
    # interval 0 (all of the error, 8000 times its share tol / N) into 4 parts; pairs (2, 3), (4, 5), (6, 7) merged
    np.testing.assert_allclose(new.tau, [0, 1 / 32, 2 / 32, 3 / 32, 4 / 32, 2 / 8, 4 / 8, 6 / 8, 1])


def test_refined_grid_bisects_when_split_is_not_far_above_share():
    grid = oc.Grid.uniform_grid(4)
    new = refined_grid(grid, np.array([0.3, 0.3, 0.3, 0.3]), tol=1.0, order=2.0)
    # Doerfler: the first three (stable order) make up 70%; each is 1.2 times its share: bisected
    np.testing.assert_allclose(new.tau, [0, 1 / 8, 2 / 8, 3 / 8, 4 / 8, 5 / 8, 6 / 8, 1])


def test_refined_grid_respects_max_intervals():
    grid = oc.Grid.uniform_grid(4)
    new = refined_grid(grid, np.array([5.0, 4.0, 1.0, 1.0]), tol=1e-3, order=1.0, max_intervals=6)
    # both marked intervals want 4 parts (10 in all): the smaller indicator gives up its split first
    np.testing.assert_allclose(new.tau, [0, 1 / 12, 2 / 12, 3 / 12, 2 / 4, 3 / 4, 1])


@pytest.mark.parametrize("kwargs,error,word", [
    ({"tol": 0.0}, ValueError, "tol"), ({"tol": "small"}, TypeError, "tol"),
    ({"tol": float("nan")}, ValueError, "tol"),
    ({"max_rounds": 0}, ValueError, "max_rounds"), ({"max_intervals": 2.5}, TypeError, "max_intervals"),
    ({"max_intervals": 4}, ValueError, "max_intervals"), ({"grid": "eight"}, TypeError, "grid"),
    ({"transcription": "rk4"}, TypeError, "transcription"),
])
def test_adapt_refuses_bad_arguments_before_any_nlp(kwargs, error, word):
    ocp, _ = boundary_layer(1e-3)
    args = {"transcription": oc.RK4(), "grid": 8, "tol": 1e-4, **kwargs}
    with nlp_forbidden(graph_too=True), pytest.raises(error, match=word):
        oc.adapt(ocp, **args)


def test_adapt_refuses_a_non_ocp():
    with pytest.raises(TypeError, match="ocp"):
        oc.adapt("ocp")


@pytest.mark.parametrize("eta,word", [(np.ones(3), "indicators"), (np.array([1.0, -1.0, 0, 0]), "indicators"),
                                      (np.array([1.0, np.nan, 0, 0]), "indicators")])
def test_refined_grid_refuses_bad_indicators(eta, word):
    with pytest.raises(ValueError, match=word):
        refined_grid(oc.Grid.uniform_grid(4), eta, tol=1e-3)

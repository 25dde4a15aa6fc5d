"""The one results layer (issue 11, section 5): records round trip, one outcome
vocabulary, schema + provenance in every results document, one markdown table,
and the success rule shared by the deep-limit study and the comparison."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

import occontrol as oc
from occontrol.io import json_safe, read_json, write_json
from occontrol.records import (OUTCOMES, SCHEMAS, Record, case_outcome, document, ipopt_version, markdown_table,
                               provenance, solve_outcome)
from occontrol.refinement import ConvergenceStudy, Distance, Level
from occontrol.resnet.comparison._rows import GradientRow, IpoptRow, row_from_dict
from occontrol.resnet.deep_limit import DeepLimitConfig, DeepLimitResult, StartRecord, run_deep_limit
from occontrol.sweeps import MARKER, expand
from occontrol.sweeps._cases import ATTEMPT, execute
from occontrol.sweeps._summary import summary_row, write_summary

TINY = DeepLimitConfig(n=60, noise=0.35, grids=(4, 8), n_starts=1)


def strict(path):
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(path.read_text(), parse_constant=refuse)


def assert_stamped(doc: dict, kind: str) -> None:
    assert doc["schema"] == SCHEMAS[kind] and isinstance(doc["schema"], int)
    versions = doc["provenance"]["versions"]
    assert versions["numpy"] == np.__version__
    assert versions["casadi"] == importlib.metadata.version("casadi")
    assert versions["occontrol"] == importlib.metadata.version("occontrol")
    assert versions["ipopt"] == ipopt_version()
    assert doc["provenance"]["cpu_count"] >= 1


# ------------------------------------------------------------------ records
def level(N: int, success: bool = True, **metrics) -> Level:
    return Level(N=N, h=1.0 / N, objective=1.0 + 1.0 / N, loss=0.5, reg_l2=0.25, reg_h1=float("nan"),
                 status="Solve_Succeeded" if success else "Maximum_Iterations_Exceeded", success=success,
                 iterations=12, build_seconds=0.5, solve_seconds=0.25, reused=True, metrics=metrics)


def test_level_round_trip_keeps_metrics_and_adds_outcome_and_detail():
    lv = level(8, success=False, train_accuracy=0.75)
    doc = json.loads(json.dumps(lv.to_dict(), allow_nan=False))
    assert doc["outcome"] == "failed" and doc["detail"] == "Maximum_Iterations_Exceeded"
    assert doc["reg_h1"] is None and doc["train_accuracy"] == 0.75
    back = Level.from_dict(doc)
    assert back.metrics == {"train_accuracy": 0.75}   # outcome and detail are derived, not metrics
    assert back.outcome == "failed" and back.status == lv.status and back.reused is True
    assert back.reg_h1 is None    # NaN is stored as null
    assert dataclasses.replace(back, reg_h1=0.0) == dataclasses.replace(lv, reg_h1=0.0)


def test_distance_and_start_round_trip_ignoring_unknown_keys():
    d = Distance(4, 8, 0.5, 0.75, 1.5, 1e-3, branch_jump=True)
    assert Distance.from_dict({**d.to_dict(), "added_by_a_later_version": 1}) == d
    start = StartRecord(seed=3, N=4, objective=0.125, status="Solve_Succeeded", success=True, iterations=9,
                        reused=False, solve_seconds=0.5)
    doc = start.to_dict()
    assert doc["outcome"] == "converged" and doc["detail"] == "Solve_Succeeded" and doc["seed"] == 3
    assert StartRecord.from_dict(doc) == start


def test_comparison_rows_round_trip_through_the_record_base():
    ipopt = IpoptRow("h1-consistent", 8, "ipopt", "failed", "Maximum_Iterations_Exceeded", objective=0.5,
                     iterations=3, reused=True)
    adam = GradientRow("h1-consistent", 8, "adam", "budget", "steps budget", objective=0.75, steps=20, lr=1e-2,
                       time_to_reach={"1e-3": {"reached": False, "seconds": None, "steps": None}})
    for row in (ipopt, adam):
        doc = json.loads(json.dumps(json_safe(row.to_dict()), allow_nan=False))
        assert isinstance(row, Record)
        assert row_from_dict(doc) == row
    assert ipopt.to_dict()["status"] == "FAILED: Maximum_Iterations_Exceeded"  # the text compare.json always had
    assert set(OUTCOMES) >= {"converged", "failed", "diverged", "budget", "incomplete"}


def test_study_round_trip_keeps_failed_starts_and_provenance(tmp_path):
    study = ConvergenceStudy({"name": "toy"}, "toy")
    for N in (4, 8):
        study.add(level(N), None)
    study.failed_starts = ["start seed 1 at N=4: Maximum_Iterations_Exceeded"]
    path = tmp_path / "study.json"
    study.save(path)
    doc = strict(path)
    assert_stamped(doc, "study")
    assert doc["provenance"]["settings"] == {"name": "toy"}
    loaded = ConvergenceStudy.load(path)
    assert loaded.to_dict() == doc and loaded.failed_starts == study.failed_starts
    assert loaded.success  # a failed start that was not followed is reported, not fatal
    assert "Failed starts, not followed (reported, not fatal): start seed 1" in loaded.table()


# ------------------------------------------------------------------ outcomes
def test_ipopt_statuses_map_to_outcomes_on_real_solves():
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u - x**3)          # nonlinear: IPOPT needs more than one iteration
    ocp.initial(x, 2.0)
    ocp.minimize_integral(x**2 + u**2)
    good = oc.solve(ocp, oc.RK4(), grid=8)
    stopped = oc.solve(ocp, oc.RK4(), grid=8, solver=oc.Ipopt(max_iter=1))
    assert good.success and good.outcome == "converged" and good.to_dict()["outcome"] == "converged"
    assert not stopped.success and stopped.status == "Maximum_Iterations_Exceeded"
    assert stopped.outcome == "failed" and stopped.to_dict()["status"] == "Maximum_Iterations_Exceeded"
    # records written without a success flag: IPOPT's own text decides
    assert solve_outcome(None, good.status) == "converged"
    assert solve_outcome(None, "Maximum_Iterations_Exceeded") == "failed"
    assert solve_outcome(None, "Infeasible_Problem_Detected") == "failed"


def test_sweep_case_statuses_map_to_outcomes():
    assert [case_outcome(s) for s in ("ok", "failed", "incomplete")] == ["converged", "failed", "incomplete"]
    with pytest.raises(ValueError, match="status"):
        case_outcome("done")


# ------------------------------------------------------------------ provenance
def test_ipopt_version_is_the_one_ipopt_prints():
    script = ("import casadi as ca; x = ca.SX.sym('x'); "
              "s = ca.nlpsol('s', 'ipopt', {'x': x, 'f': x**2}, {'ipopt.print_level': 5}); s(x0=1)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert ipopt_version() is not None and f"Ipopt version {ipopt_version()}," in out


def test_document_stamps_schema_and_keeps_the_history_of_a_resumed_document():
    doc = document("sweep", {"schema": 99, "task": "t"}, {"a": 1})
    assert_stamped(doc, "sweep")
    assert doc["task"] == "t" and doc["provenance"]["settings"] == {"a": 1} and "provenance_history" not in doc
    old = {"schema": 1, "task": "t"}                          # written before provenance was recorded
    resumed = document("sweep", {"task": "t"}, {"a": 1}, previous=old)
    assert resumed["provenance_history"] == [None]
    again = document("sweep", {"task": "t"}, {"a": 1}, previous=resumed)  # same run: nothing new to record
    assert again["provenance_history"] == [None]
    elsewhere = dict(resumed, provenance={**resumed["provenance"], "host": "another"})
    assert document("sweep", {}, {"a": 1}, previous=elsewhere)["provenance_history"] == [None, elsewhere["provenance"]]
    with pytest.raises(ValueError, match="kind"):
        document("report", {})
    assert provenance()["settings"] is None


def test_deep_limit_study_json_is_stamped_and_an_old_folder_resumes(tmp_path):
    out = tmp_path / "run"
    first = run_deep_limit(TINY, out)
    doc = strict(out / "study.json")
    assert_stamped(doc, "study")
    assert doc["provenance"]["settings"]["grids"] == [4, 8]
    assert [s["outcome"] for s in doc["starts"]] == ["converged"]
    assert [lv["outcome"] for lv in doc["levels"]] == ["converged", "converged"]
    assert [lv["detail"] for lv in doc["levels"]] == [lv.status for lv in first.study.levels]
    # a folder written before provenance existed: its study.json has none; resuming records the new one beside
    old = {k: v for k, v in doc.items() if k != "provenance"}
    write_json(out / "study.json", old)
    again = run_deep_limit(TINY, out)
    assert all(lv.reused for lv in again.study.levels)
    resumed = strict(out / "study.json")
    assert_stamped(resumed, "study")
    assert resumed["provenance_history"] == [None]
    assert [{**lv, "reused": False} for lv in resumed["levels"]] == doc["levels"] and resumed["success"] is True


def test_sweep_case_files_and_summary_are_stamped(tmp_path):
    [case] = expand({"x": 1}, {"y": [2]})

    def run(settings, folder):
        return {"status": "failed", "reason": "Maximum_Iterations_Exceeded", "results": {"e": float("nan")}}
    record = execute(run, case.settings, str(tmp_path / case.name))
    marker = strict(tmp_path / case.name / MARKER)
    assert marker == json_safe(record)
    assert_stamped(marker, "sweep-case")
    assert marker["status"] == "failed" and marker["outcome"] == "failed"
    assert marker["detail"] == "Maximum_Iterations_Exceeded" and marker["results"] == {"e": None}
    assert marker["provenance"]["settings"] == case.settings
    assert_stamped(strict(tmp_path / case.name / ATTEMPT), "sweep-attempt")
    execute(run, case.settings, str(tmp_path / case.name), retry_failed=True)   # a second attempt, same run
    assert strict(tmp_path / case.name / ATTEMPT)["attempt"] == 2
    rows = [summary_row(case, read_json(tmp_path / case.name / MARKER))]
    assert rows[0]["outcome"] == "failed"
    write_summary(tmp_path, rows, [case], {"x": 1}, {"y": [2]})
    summary = strict(tmp_path / "summary.json")
    assert_stamped(summary, "sweep-summary")
    assert summary["columns"].index("outcome") == summary["columns"].index("status") + 1


# ------------------------------------------------------------------ tables
def test_markdown_table_of_a_known_input():
    assert markdown_table(["N", "status"], [[4, "ok"], ["8", None]]) == (
        "| N | status |\n|---|---|\n| 4 | ok |\n| 8 | None |")
    assert markdown_table(["a"], []) == "| a |\n|---|"


# ------------------------------------------------------------------ the success rule
def fake_deep_limit(start_success: list[bool], level_success: bool = True) -> DeepLimitResult:
    study = ConvergenceStudy()
    for N in (4, 8):
        study.add(level(N, success=level_success), None)
    starts = [StartRecord(seed, 4, 1.0, "Solve_Succeeded" if ok else "Maximum_Iterations_Exceeded", ok, 5, False,
                          0.1).as_dict() for seed, ok in enumerate(start_success)]
    return DeepLimitResult(study, starts)


def test_the_success_rule_of_the_study():
    reported = fake_deep_limit([True, False])
    assert reported.success and reported.failed == ["start seed 1 at N=4: Maximum_Iterations_Exceeded"]
    assert reported.verdict_line().startswith("Study: succeeded") and "1 failed start(s)" in reported.verdict_line()
    assert not fake_deep_limit([False]).success                  # no start succeeded
    assert not fake_deep_limit([True], level_success=False).success  # a followed level failed
    assert fake_deep_limit([False]).verdict_line().startswith("Study: FAILED")


def test_the_comparison_follows_the_same_rule():
    pytest.importorskip("torch")
    from occontrol.resnet.comparison import CompareConfig, CompareResult
    result = CompareResult(CompareConfig(deep=TINY), {}, ipopt={"h1": fake_deep_limit([True, False])})
    assert result.success and result.failed == ["ipopt h1: start seed 1 at N=4: Maximum_Iterations_Exceeded"]
    assert result.verdict_line().startswith("Comparison: succeeded")
    result.ipopt["noh1"] = fake_deep_limit([True], level_success=False)
    assert not result.success and result.verdict_line().startswith("Comparison: FAILED")


def test_compare_json_is_stamped(tmp_path):
    pytest.importorskip("torch")
    from occontrol.resnet.comparison import CompareConfig, compare
    config = CompareConfig(deep=dataclasses.replace(TINY, n=40, tau_w=1e-2), steps=5, methods=("adam",),
                           settings=("h1-consistent",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = compare(config, tmp_path, progress=None, figures=False)
    doc = strict(tmp_path / "compare.json")
    assert_stamped(doc, "compare")
    assert doc["kind"] == "occontrol.compare" and doc["success"] is result.success is True
    assert {r["outcome"] for r in doc["rows"]} <= set(OUTCOMES)
    assert all(lv["outcome"] == "converged" for lv in doc["ipopt"]["h1"]["levels"])


def test_a_sweep_case_follows_the_study_rule(tmp_path, monkeypatch):
    import importlib

    from occontrol.resnet.sweep import run_case
    deep_limit_module = importlib.import_module("occontrol.resnet.deep_limit")
    real_solve, calls = deep_limit_module.solve, []

    def second_start_fails(ocp, transcription=None, *, grid, solver=None, **kwargs):
        calls.append(grid)
        if len(calls) == 2:
            solver = oc.Ipopt(max_iter=1)
        return real_solve(ocp, transcription, grid=grid, solver=solver, **kwargs)
    monkeypatch.setattr(deep_limit_module, "solve", second_start_fails)
    settings = {"n": 60, "noise": 0.35, "grids": [4, 8], "n_starts": 2}
    outcome = run_case(settings, str(tmp_path))
    assert outcome["status"] == "ok"
    assert outcome["reason"] == ("failed starts, not followed (reported, not fatal): "
                                 "start seed 1 at N=4: Maximum_Iterations_Exceeded")


# ------------------------------------------------------------------ the sweep's records (issue 11, section 5)
def test_case_record_round_trips_through_case_json_and_reads_by_key(tmp_path):
    from occontrol.sweeps._cases import CaseRecord, read_marker
    [case] = expand({"x": 1}, {"y": [2]})

    def run(settings, folder):
        return {"status": "ok", "reason": None, "results": {"e": 0.5, "inf": float("inf")}}
    record = execute(run, case.settings, str(tmp_path / case.name))
    assert isinstance(record, CaseRecord) and record.outcome == "converged"
    assert record["status"] == record.status == "ok" and record.get("missing", 7) == 7 and "detail" in record
    marker = strict(tmp_path / case.name / MARKER)
    assert dict(record) == marker and record.to_dict() == marker
    assert list(marker)[:3] == ["schema", "name", "settings"] and list(marker)[-1] == "provenance"
    assert read_marker(tmp_path / case.name) == record == CaseRecord.from_dict({**marker, "later_key": 1})
    # a marker written before the records (no provenance, no outcome) still reads and its case is skipped
    old = {k: v for k, v in marker.items() if k not in ("provenance", "outcome", "detail", "schema")}
    write_json(tmp_path / case.name / MARKER, old)
    assert read_marker(tmp_path / case.name).results == {"e": 0.5, "inf": None}
    assert execute(run, case.settings, str(tmp_path / case.name)).attempt == 1


def test_summary_row_round_trips_and_keeps_the_flat_keys():
    from occontrol.sweeps._cases import CaseRecord
    from occontrol.sweeps._summary import SummaryRow
    [case] = expand({"x": 1}, {"y": [2]})
    marker = CaseRecord(case.name, case.settings, "failed", "why", {"x": 3.0, "e": 0.25}, 2, None, None, 1.5, "h")
    row = summary_row(case, marker)
    flat = row.to_dict()
    assert flat == {"case": case.name, "x": 1, "y": 2, "status": "failed", "outcome": "failed", "reason": "why",
                    "result_x": 3.0, "e": 0.25, "seconds": 1.5, "attempt": 2, "host": "h"}
    assert summary_row(case, marker.to_dict()) == row          # from the marker's JSON as well
    assert SummaryRow.from_dict(flat, settings=["x", "y"]) == row
    missing = summary_row(case, None)
    assert missing["outcome"] == "incomplete" and "seconds" not in missing
    assert SummaryRow.from_dict(missing.to_dict(), settings=["x", "y"]) == missing


def test_sweep_record_round_trips():
    from occontrol.sweeps._run import SweepRecord
    spec = SweepRecord("t", {"x": 1}, {"y": [2, 3]}, ["a", "b"])
    doc = document("sweep", spec.to_dict())
    assert doc["task"] == "t" and SweepRecord.from_dict(doc) == spec


# ------------------------------------------------------------------ the deep-limit study's records
def test_problem_and_study_records_round_trip(tmp_path):
    from occontrol.resnet.deep_limit import ProblemRecord, StudyRecord, load_study
    from occontrol.resnet.sweep import CaseResults, case_results
    from occontrol.sweeps import TaskOutcome
    problem = ProblemRecord({"n": 60, "transcription": "rk4"}, 2, 3, 2, 60)
    assert problem.to_dict() == {"n": 60, "transcription": "rk4", "d": 2, "m": 3, "K": 2, "n_train": 60}
    assert ProblemRecord.from_dict(problem.to_dict()) == problem and "accuracy_note" not in problem
    noted = ProblemRecord({"n": 60}, 2, 3, 2, 60, "a note")
    assert ProblemRecord.from_dict(noted.to_dict()) == noted and noted["accuracy_note"] == "a note"
    result = run_deep_limit(TINY, tmp_path / "run")
    loaded = load_study(tmp_path / "run")
    doc = strict(tmp_path / "run" / "study.json")
    assert isinstance(loaded, StudyRecord) and loaded.to_dict() == doc and loaded["levels"] == doc["levels"]
    assert loaded.starts == result.starts and isinstance(result.starts[0], StartRecord)
    assert loaded.success is result.success is True and StudyRecord.from_dict(loaded.to_dict()) == loaded
    numbers = case_results(result)
    assert CaseResults.from_dict(numbers.to_dict()) == numbers
    assert numbers["levels"] == 2 and numbers.finest_N == 8
    assert numbers.iterations == result.starts[0].iterations + result.study.levels[1].iterations
    outcome = TaskOutcome("ok", None, numbers.to_dict())
    assert TaskOutcome.from_dict(outcome.to_dict()) == outcome and outcome["results"]["finest_N"] == 8


# ------------------------------------------------------------------ the comparison's records
def test_comparison_records_round_trip(tmp_path):
    pytest.importorskip("torch")
    from occontrol.resnet.comparison._driver import CompareProblem, CompareRecord, IpoptSummary, Reach, _ipopt_summary
    problem = CompareProblem({"n": 40, "tau2": 1e-3}, 2, 3, 2, 40, 20, "float64", {"numpy": np.__version__},
                             {"cpus": 2})
    flat = problem.to_dict()
    assert flat["float"] == "float64" and flat["tau2"] == 1e-3 and "precision" not in flat
    assert CompareProblem.from_dict(flat) == problem and problem["n_test"] == 20
    assert Reach().to_dict() == {"reached": None, "seconds": None, "steps": None}
    assert Reach.from_dict(Reach(True, 0.5, 10).to_dict()) == Reach(True, 0.5, 10)
    summary = _ipopt_summary(run_deep_limit(TINY))
    doc = json.loads(json.dumps(summary.to_dict(), allow_nan=False))
    assert [lv["outcome"] for lv in doc["levels"]] == ["converged", "converged"] and doc["followed_seed"] == 0
    back = IpoptSummary.from_dict(doc)
    assert back.starts == summary.starts and [lv.N for lv in back.levels] == [4, 8]
    assert back.to_dict() == doc
    record = CompareRecord(True, flat, {}, [], {"h1": doc}, [], {}, True, [], [])
    written = record.to_dict()
    assert list(written)[:2] == ["schema", "kind"] and written["notes"]["gap"].startswith("objective - IPOPT")
    assert CompareRecord.from_dict(document("compare", written)) == record


# ------------------------------------------------------------------ results returned, not written
def test_objective_parts_are_a_frozen_record_that_adds_up():
    from occontrol.resnet.network import ObjectiveParts
    from occontrol.resnet.train import random_network
    from occontrol.resnet import DeepLimitProblem
    X = np.array([[0.0, 1.0, -1.0], [0.5, -0.5, 2.0]])
    deep = DeepLimitProblem(X.T, np.array([0, 1, 1]))
    net = random_network(deep, 4, 0)
    parts = net.objective(deep.X_data, deep.Y, 1e-2, 1e-3, 1e-4)
    assert isinstance(parts, ObjectiveParts) and parts["objective"] == parts.objective
    assert parts.objective == pytest.approx(parts.loss + parts.reg_l2 + parts.reg_h1 + parts.weight_decay,
                                            rel=1e-15)
    theta = net.theta   # the H1 part by its definition, independently
    assert parts.reg_h1 == pytest.approx(1e-3 / net.h * np.sum(np.diff(theta, axis=0) ** 2), rel=1e-12)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parts.loss = 0.0
    assert ObjectiveParts.from_dict(parts.to_dict()) == parts and dict(parts).keys() == {
        "objective", "loss", "reg_l2", "reg_h1", "weight_decay"}


def test_distances_record_of_two_constant_controls():
    from occontrol.refinement import Distances, control_distance

    def constant(level: float, N: int):
        ocp = oc.OCP(t0=0.0, tf=1.0)
        x = ocp.state("x")
        u = ocp.control("u")
        ocp.dynamics(x, u)
        ocp.initial(x, 0.0)
        ocp.minimize_integral((u - level) ** 2)       # u = level on every grid
        return oc.solve(ocp, oc.RK4(), grid=N)
    d = control_distance(constant(1.0, 4), constant(3.0, 8))
    # u differs by 2 everywhere on [0, 1]: L2 = sup = 2, and the difference has no slope
    assert isinstance(d, Distances) and d["l2"] == d.l2
    assert d.l2 == pytest.approx(2.0, rel=1e-7) and d.sup == pytest.approx(2.0, rel=1e-7)
    assert d.h1 == pytest.approx(0.0, abs=1e-6)
    assert Distances.from_dict(d.to_dict()) == d

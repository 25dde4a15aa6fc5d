"""Sweeps on Dask: real LocalClusters, real (tiny) deep-limit studies.

Each case is a two-moons problem with 40 samples, one start and a short
ladder, a second or two of IPOPT. Executions are counted through the
``attempt`` number each case folder keeps (written when a case starts).
"""

from __future__ import annotations

import csv
import shutil

import pytest

from occontrol.cli import main
from occontrol.io import read_json
from occontrol.resnet.sweep import sweep_deep_limit
from occontrol.sweeps import MARKER, SweepSpec, expand, load_spec, parse_assignment

# tau_w > 0 keeps the tiny separable problems bounded (IPOPT then converges in tens of iterations)
BASE = {"dataset": "moons", "n": 40, "n_starts": 1, "tau_w": 1e-2, "grids": [4, 8]}
GRID = {"tau2": [1e-3, 1e-2], "seed": [0, 1]}


def approx_or_none(value, rel):
    return None if value is None else pytest.approx(value, rel=rel)


def _attempts(out, cases) -> dict[str, int]:
    return {c.name: read_json(out / c.name / "attempt.json")["attempt"] for c in cases}


@pytest.fixture(scope="module")
def scheduler():
    """A running Dask scheduler with two workers, as a user would start one (the --scheduler path)."""
    from distributed import LocalCluster
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def four_cases(tmp_path_factory):
    """The 4-case sweep, on its own in-process LocalCluster of 2 workers (the default)."""
    out = tmp_path_factory.mktemp("sweep4")
    lines: list[str] = []
    base = {**BASE, "grids": [4, 8, 16]}  # three levels: one observed order per metric
    result = sweep_deep_limit(base, GRID, out, progress=lines.append)
    return out, base, result, lines


def test_four_cases_on_two_workers(four_cases):
    out, base, result, lines = four_cases
    cases = expand(base, GRID)
    assert result.success and result.count("ok") == 4 and not result.skipped
    assert sorted(result.ran) == sorted(c.name for c in cases)
    done = [line for line in lines if line.startswith("cases done")]
    assert [line.split()[2] for line in done] == ["1/4", "2/4", "3/4", "4/4"]
    # two worker processes shared the four cases
    pids = {read_json(out / c.name / "attempt.json")["pid"] for c in cases}
    assert len(pids) == 2
    for case in cases:
        marker = read_json(out / case.name / MARKER)
        assert marker["status"] == "ok" and marker["reason"] is None and marker["attempt"] == 1
        assert marker["settings"] == case.settings
        assert (out / case.name / "study.json").exists()
    assert cases[0].name.startswith("tau2=0.001_seed=0_")


def test_summary_matches_the_studies(four_cases):
    out, base, result, _ = four_cases
    with open(out / "summary.csv", newline="") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 4
    summary = read_json(out / "summary.json")
    assert summary["counts"] == {"ok": 4, "failed": 0, "incomplete": 0}
    for row, case in zip(summary["cases"], expand(base, GRID)):
        study = read_json(out / case.name / "study.json")
        assert row["case"] == case.name and row["tau2"] == case.swept["tau2"] and row["seed"] == case.swept["seed"]
        assert row["status"] == "ok"
        # None where the ladder observed no reliable order (no order is assumed)
        assert row["limit_objective"] == approx_or_none(study["limit_objective"], rel=1e-12)
        for metric in ("l2", "sup", "h1", "objective_gap"):
            assert row[f"order_{metric}"] == pytest.approx(study["orders"][metric][-1], rel=1e-12)
        assert row["iterations"] == sum(lv["iterations"] for lv in study["levels"])  # one start: its level 0
        assert row["solve_seconds"] > 0 and row["seconds"] > 0
        csv_row = next(r for r in table if r["case"] == case.name)
        assert (float(csv_row["limit_objective"]) if csv_row["limit_objective"] else None) == approx_or_none(
            row["limit_objective"], rel=1e-12)
    for name in ("limit_objective.png", "orders.png"):
        assert (out / name).stat().st_size > 0


def test_rerun_skips_complete_cases(four_cases, tmp_path, scheduler):
    out, base, _, _ = four_cases
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    cases = expand(base, GRID)
    # a kill midway: two cases lost their markers, one of them also its finest level
    lost = [cases[1], cases[2]]
    for case in lost:
        (copy / case.name / MARKER).unlink()
    (copy / lost[0].name / "levels" / "seed1" / "level_N16.npz").unlink()
    lines: list[str] = []
    result = sweep_deep_limit(base, GRID, copy, scheduler=scheduler, progress=lines.append, figures=False)
    assert result.success
    assert sorted(result.ran) == sorted(c.name for c in lost)
    assert sorted(result.skipped) == sorted(c.name for c in cases if c not in lost)
    assert _attempts(copy, cases) == {c.name: 2 if c in lost else 1 for c in cases}
    assert lines[0].startswith("sweep: 4 cases, 2 complete already, 2 to run on scheduler tcp://")
    # the rerun cases resumed their own solved levels
    reused = {c.name: [lv["reused"] for lv in read_json(copy / c.name / "study.json")["levels"]] for c in lost}
    assert reused == {lost[0].name: [True, True, False], lost[1].name: [True, True, True]}
    for before, after in zip(read_json(out / "summary.json")["cases"], result.rows):
        assert after["limit_objective"] == approx_or_none(before["limit_objective"], rel=1e-6)


class Stop(Exception):
    """Stands for Ctrl-C: raised from the progress callback once the first case has finished."""


def test_interrupted_sweep_resumes_without_recomputing(tmp_path, scheduler):
    def stop_after_first(line: str) -> None:
        if line.startswith("cases done"):
            raise Stop

    out = tmp_path / "sweep"
    # one worker: when the first case is done, at most the second is under way (it may still
    # finish while the cluster closes) and the last two have not started
    with pytest.raises(Stop):
        sweep_deep_limit(BASE, GRID, out, n_workers=1, progress=stop_after_first)
    cases = expand(BASE, GRID)
    finished = {c.name: (out / c.name / MARKER).read_bytes() for c in cases if (out / c.name / MARKER).exists()}
    assert 1 <= len(finished) < 4
    result = sweep_deep_limit(BASE, GRID, out, scheduler=scheduler, progress=None, figures=False)
    assert result.success and sorted(result.skipped) == sorted(finished)
    assert sorted(result.ran) == sorted(c.name for c in cases if c.name not in finished)
    for name, marker in finished.items():  # untouched: not run again
        assert (out / name / MARKER).read_bytes() == marker
        assert read_json(out / name / "attempt.json")["attempt"] == 1


def test_failing_cases_are_recorded_and_the_sweep_goes_on(tmp_path, scheduler):
    # max_iter=1: IPOPT stops; seed=1: the case folder holds a damaged settings.json, so the case raises
    # (every setting is checked up front now, so a bad setting can no longer make a case raise)
    grid = {"max_iter": [1000, 1], "seed": [0, 1]}
    out = tmp_path / "sweep"
    cases = expand(BASE, grid)
    for case in cases:
        if case.settings["seed"] == 1:
            (out / case.name).mkdir(parents=True)
            (out / case.name / "settings.json").write_text("{")
    result = sweep_deep_limit(BASE, grid, out, scheduler=scheduler, progress=None, figures=False)
    rows = {(row["max_iter"], row["seed"]): row for row in result.rows}
    assert not result.success and result.count("ok") == 1 and result.count("failed") == 3
    assert rows[1000, 0]["status"] == "ok" and rows[1000, 0]["finest_objective"] is not None
    # two levels observe no order: no Richardson limit is made up
    assert rows[1000, 0]["limit_objective"] is None
    assert rows[1, 0]["status"] == "failed" and "Maximum_Iterations_Exceeded" in rows[1, 0]["reason"]
    for max_iter in (1000, 1):
        row = rows[max_iter, 1]
        assert row["status"] == "failed" and row["reason"].startswith("DamagedFile: ")
        assert "settings.json" in row["reason"]
        assert "Traceback" in (out / row["case"] / "error.txt").read_text()
    assert read_json(out / "summary.json")["counts"] == {"ok": 1, "failed": 3, "incomplete": 0}
    # failed cases are complete; retry_failed runs them (and only them) again
    again = sweep_deep_limit(BASE, grid, out, scheduler=scheduler, retry_failed=True, progress=None, figures=False)
    assert sorted(again.ran) == sorted(row["case"] for row in result.rows if row["status"] == "failed")
    assert _attempts(out, cases) == {c.name: 1 if c.settings["max_iter"] == 1000 and c.settings["seed"] == 0
                                     else 2 for c in cases}


def test_unknown_setting_is_rejected_before_anything_runs(tmp_path):
    out = tmp_path / "sweep"
    with pytest.raises(ValueError, match=r"unknown names \['tua2'\]"):
        sweep_deep_limit(BASE, {"tua2": [1e-3, 1e-2]}, out)
    with pytest.raises(ValueError, match="unknown names"):
        sweep_deep_limit({**BASE, "horizn": 1.0}, GRID, out)
    with pytest.raises(ValueError, match="tau2"):  # a bad value in one case stops all of them too
        sweep_deep_limit(BASE, {"tau2": [1e-3, -1.0]}, out)
    assert not out.exists()


def test_cli_spec_file_and_exit_code(tmp_path, scheduler, capsys):
    spec = tmp_path / "spec.toml"
    spec.write_text('[base]\ndataset = "moons"\nn = 40\nn_starts = 1\ntau_w = 1e-2\n\n[grid]\nseed = [0, 1]\n')
    out = tmp_path / "sweep"
    code = main(["sweep", str(spec), "--set", "max_iter=1,1000", "--set", "seed=0", "--grids", "4,8",
                 "--scheduler", scheduler, "--out", str(out), "--no-figures"])
    captured = capsys.readouterr()
    assert code == 1  # a case failed
    assert "cases done 2/2" in captured.out and "FAILED" in captured.err
    rows = read_json(out / "summary.json")["cases"]
    assert [(row["max_iter"], row["seed"], row["grids"], row["status"]) for row in rows] == [
        (1, 0, [4, 8], "failed"), (1000, 0, [4, 8], "ok")]
    code = main(["sweep", str(spec), "--set", "tau3=1", "--out", str(tmp_path / "other")])
    assert code == 2 and "unknown names ['tau3']" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


def test_spec_parsing(tmp_path):
    assert parse_assignment("tau2=1e-3,1e-2") == ("tau2", [1e-3, 1e-2])
    assert parse_assignment("dataset=moons,circles") == ("dataset", ["moons", "circles"])
    assert parse_assignment("grids=[4,8],[4,8,16]") == ("grids", [[4, 8], [4, 8, 16]])
    assert parse_assignment("tau-w=0") == ("tau_w", [0])
    assert parse_assignment("width=none,3") == ("width", [None, 3])
    assert parse_assignment("warm=false") == ("warm", [False])
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_assignment("tau2")
    spec = SweepSpec(base={"tau2": 1e-2}, grid={"seed": [0, 1]})
    spec.set("tau2", [1e-3, 1e-2])
    spec.set("seed", [3])
    assert spec.base == {"seed": 3} and spec.grid == {"tau2": [1e-3, 1e-2]}
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid]\ntau2 = 0.1\n")
    with pytest.raises(ValueError, match="non-empty list"):
        load_spec(bad)
    bad.write_text("[settings]\ntau2 = 0.1\n")
    with pytest.raises(ValueError, match="unknown top-level keys"):
        load_spec(bad)


def test_case_folders_are_named_from_settings():
    a = expand({"n": 40}, {"tau2": [1e-3, 1e-2], "seed": [0]})
    b = expand({"n": 40}, {"tau2": [1e-3, 1e-2], "seed": [0]})
    assert [c.name for c in a] == [c.name for c in b]  # stable across runs
    assert a[0].name != expand({"n": 41}, {"tau2": [1e-3], "seed": [0]})[0].name  # base settings count
    with pytest.raises(ValueError, match="also in base"):
        expand({"tau2": 1.0}, {"tau2": [1e-3]})
    with pytest.raises(ValueError, match="repeats"):
        expand({}, {"seed": [0, 0]})
    with pytest.raises(ValueError, match="non-empty list"):
        expand({}, {"seed": 0})

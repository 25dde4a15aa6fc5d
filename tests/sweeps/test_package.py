"""The sweep machinery as the package occontrol.sweeps: SweepSpec owns the merging of a
spec file with the command line, its defaults and checks; a worker count is checked in one place."""

from __future__ import annotations

import importlib
import types

import pytest

import occontrol as oc
from occontrol.cli import main
from occontrol.sweeps import (DEFAULT_OUT, DEFAULT_WORKERS, SweepSpec, SweepTask, check_workers, load_spec,
                              sweep)


def test_the_package_is_not_shadowed_by_the_function():
    package = importlib.import_module("occontrol.sweeps")
    assert isinstance(package, types.ModuleType) and package.__name__ == "occontrol.sweeps"
    assert oc.sweep is package.sweep and callable(oc.sweep)
    import occontrol.sweeps as again
    assert again is package  # the import statement yields the package, not the function
    assert oc.SweepTask is package.SweepTask and oc.SweepResult is package.SweepResult


def test_the_command_line_goes_on_top_of_the_spec(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('out = "from-file"\nn_workers = 3\n[base]\nn = 40\nseed = 1\n[grid]\ntau2 = [0.001, 0.01]\n')
    spec = load_spec(path)
    merged = spec.merged(["seed=0,1", "tau2=0.1"], grids=(4, 8), scheduler="tcp://h:1")
    # NAME=V1,V2 sweeps NAME, NAME=V sets it: each replaces NAME wherever the file had it
    assert merged.base == {"n": 40, "tau2": 0.1, "grids": [4, 8]} and merged.grid == {"seed": [0, 1]}
    assert (merged.folder, merged.workers, merged.scheduler) == ("from-file", 3, "tcp://h:1")
    assert spec.base == {"n": 40, "seed": 1} and spec.grid == {"tau2": [0.001, 0.01]}  # the file's spec unchanged
    assert spec.merged(out="cli", n_workers=1).folder == "cli" and spec.merged(n_workers=1).workers == 1
    # nothing said anywhere: the defaults
    assert (SweepSpec().folder, SweepSpec().workers) == (DEFAULT_OUT, DEFAULT_WORKERS) == ("occontrol-results/sweep", 2)


def test_cases_are_checked_by_the_task_and_named():
    spec = SweepSpec({"n": 40}, {"seed": [0, 1]})

    def check(settings):
        if settings["seed"] == 1:
            raise ValueError("seed: odd")
    with pytest.raises(ValueError, match="sweep case seed=1: seed: odd"):
        spec.cases(check)
    assert [case.settings for case in spec.cases(lambda s: None)] == [{"n": 40, "seed": 0}, {"n": 40, "seed": 1}]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_one_worker_count_check_everywhere(bad, tmp_path):
    with pytest.raises(ValueError) as direct:
        check_workers(bad)
    expected = f"n_workers: expected a positive integer, got {bad!r}"
    assert str(direct.value) == expected
    with pytest.raises(ValueError, match=f"^{expected.replace('(', '.').replace(')', '.')}$"):
        SweepSpec(n_workers=bad)
    task = SweepTask("t", run=lambda s, f: {}, check=lambda s: None)
    with pytest.raises(ValueError, match="n_workers: expected a positive integer"):
        sweep({}, {}, tmp_path / "s", task=task, n_workers=bad)
    path = tmp_path / "spec.toml"
    path.write_text(f"n_workers = {bad!r}\n".replace("True", "true").replace("'", '"'))
    with pytest.raises(ValueError, match=f"{path.name}: n_workers: expected a positive integer"):
        load_spec(path)
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("value", ["0", "-3"])
def test_the_cli_names_its_option_for_the_same_check(value, tmp_path, capsys):
    code = main(["sweep", "--set", "n=40", f"--workers={value}", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"occontrol sweep: error: --workers: expected a positive integer, got {value}"
    assert not (tmp_path / "out").exists()


def test_bad_spec_values_are_refused_by_the_spec(tmp_path):
    with pytest.raises(ValueError, match="grid: seed expected a non-empty list"):
        SweepSpec(grid={"seed": []})
    with pytest.raises(TypeError, match="scheduler: expected an address"):
        SweepSpec(scheduler=8786)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="out: expected a folder path"):
        SweepSpec(out=" ")
    with pytest.raises(ValueError, match="--set: expected NAME=VALUE"):
        SweepSpec().merged(["seed"])

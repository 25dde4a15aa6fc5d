"""The ``occontrol`` command: ``occontrol deep-limit`` end to end on a
tiny case (two moons, n = 60, noise 0.35, N = 4, 8, one start; about a second),
a forced failure, refused settings, ``--help`` and the installed script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from occontrol.cli import main

TINY = ["deep-limit", "--grids", "4,8", "--n", "60", "--noise", "0.35", "--starts", "1"]
OPTIONS = ["--dataset", "--n", "--noise", "--seed", "--activation", "--loss", "--tau1", "--tau2", "--tau-w", "--width",
           "--horizon", "--grids", "--transcription", "--strategy", "--cold", "--starts", "--branches",
           "--prolongation", "--tol", "--max-iter", "--max-wall-time", "--out", "--no-figures"]




@pytest.fixture(scope="module")
def tiny(run_cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "deep-limit"
    code, stdout, stderr = run_cli(TINY + ["--out", str(out)])
    return {"out": out, "code": code, "stdout": stdout, "stderr": stderr}


def test_deep_limit_end_to_end(strict_json, tiny):
    out, stdout = tiny["out"], tiny["stdout"]
    assert tiny["code"] == 0, tiny["stderr"]
    for name in ("study.json", "data.npz", "weights_N4.npz", "weights_N8.npz", "theta.png", "convergence.png",
                 "depth_transfer.png", "boundary.png"):
        assert (out / name).is_file(), name
    for name in ("theta.png", "convergence.png", "depth_transfer.png", "boundary.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    assert not (out / "weights_N16.npz").exists()

    lines = stdout.splitlines()
    # one line per solve as it finishes: the start, then each level of the ladder
    assert len([line for line in lines if line.startswith("start seed")]) == 1
    level_lines = [line for line in lines if line.startswith("N=")]
    assert [line.split()[0] for line in level_lines] == ["N=4", "N=8"]
    assert all(" ok " in line and "objective" in line and "iter" in line for line in level_lines)
    # then the table
    header = next(i for i, line in enumerate(lines) if line.startswith("| N | status | objective"))
    assert header > lines.index(level_lines[-1])
    rows = []  # the table's rows: the lines up to the first that is not one (the depth-transfer tables follow)
    for line in lines[header + 2:]:
        if not line.startswith("| "):
            break
        rows.append(line)
    assert [r.split("|")[1].strip() for r in rows] == ["4", "8"]
    assert all("FAILED" not in r for r in rows)
    assert any(line.startswith("Observed orders") for line in lines)
    assert any(line.startswith("Richardson limit objective") for line in lines)
    assert len([line for line in lines if line.startswith("figure: ")]) == 4
    # the depth-transfer tables: E, loss and test accuracy, rows trained N, columns run N
    transfer = [i for i, line in enumerate(lines) if line.startswith("| trained N \\ run N | 4 | 8 |")]
    assert len(transfer) == 3 and all(lines[i + 2].startswith("| 4 | ") for i in transfer)
    assert "FAILED" not in tiny["stderr"]

    doc = strict_json((out / "study.json").read_text())
    assert doc["problem"]["n"] == 60 and doc["problem"]["noise"] == 0.35 and doc["problem"]["grids"] == [4, 8]
    assert doc["problem"]["n_starts"] == 1 and doc["problem"]["warm"] is True
    assert [lv["N"] for lv in doc["levels"]] == [4, 8] and all(lv["success"] for lv in doc["levels"])
    assert [(d["N"], d["N_next"]) for d in doc["distances"]] == [(4, 8)]


def test_an_iteration_limit_of_one_exits_1_and_says_failed(run_cli, strict_json, tmp_path):
    out = tmp_path / "failing"
    argv = ["deep-limit", "--grids", "4:8", "--n", "60", "--noise", "0.35", "--starts", "1", "--max-iter", "1",
            "--out", str(out)]
    code, stdout, stderr = run_cli(argv)
    assert code == 1
    rows = [line for line in stdout.splitlines() if line.startswith("| 4 |") or line.startswith("| 8 |")]
    assert len(rows) == 2 and all("FAILED: Maximum_Iterations_Exceeded" in r for r in rows)
    assert "FAILED solves" in stderr
    doc = strict_json((out / "study.json").read_text())
    assert doc["problem"]["grids"] == [4, 8] and doc["problem"]["max_iter"] == 1   # '4:8' is the doubling 4, 8
    assert doc["success"] is False
    assert [(lv["success"], lv["status"]) for lv in doc["levels"]] == [(False, "Maximum_Iterations_Exceeded")] * 2
    assert doc["distances"] == []


def test_other_settings_in_the_same_out_exit_2_with_a_clear_message(run_cli, tiny):
    study = tiny["out"] / "study.json"
    before = study.read_text()
    code, stdout, stderr = run_cli(["deep-limit", "--grids", "4,8", "--n", "60", "--noise", "0.35", "--starts", "1",
                                    "--tau1", "0.002", "--out", str(tiny["out"])])
    assert code == 2
    assert "other settings" in stderr and "tau1" in stderr and str(tiny["out"]) in stderr
    assert "N=" not in stdout
    assert study.read_text() == before


@pytest.mark.parametrize("argv, words", [
    (["--grids", "8,4"], ["grids", "increasing"]),
    (["--transcription", "collocation"], ["strategy", "collocation"]),
    (["--starts", "0"], ["--starts"]),
], ids=["decreasing-grids", "gauss-newton-collocation", "no-starts"])
def test_bad_settings_exit_2_before_any_solve(run_cli, tmp_path, argv, words):
    code, stdout, stderr = run_cli(["deep-limit", *argv, "--out", str(tmp_path / "x")])
    assert code == 2
    for word in words:
        assert word in stderr, (word, stderr)
    assert not (tmp_path / "x").exists()


def test_unparsable_grids_are_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["deep-limit", "--grids", "4,x"])
    assert exc.value.code == 2
    assert "--grids" in capsys.readouterr().err


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["deep-limit", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for option in OPTIONS:
        assert option in text, option
    assert "default" in text and "4:256" in text


def test_a_command_is_required(capsys):
    with pytest.raises(SystemExit) as exc:
        main([])
    assert exc.value.code == 2


def test_installed_console_script():
    script = shutil.which("occontrol", path=str(Path(sys.executable).parent))
    cmd = [script] if script else [sys.executable, "-m", "occontrol.cli"]
    done = subprocess.run(cmd + ["deep-limit", "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--grids" in done.stdout and "--max-iter" in done.stdout

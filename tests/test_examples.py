"""The scripts under examples/ run, and print what they state: their objective next to the known optimum.

Each script is run as a user runs it (a subprocess, small N) and its printed numbers are checked against
independent values: the Riccati optimum tanh(1) of the LQ problem, 4 for Bryson-Denham, T* = 2 with the
switch at t = 1 for the minimum-time problem. The discretisation errors are checked to shrink at the
scheme's order as N doubles, so a script that printed the optimum without solving would fail.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def run_example(script: str, *args: str, cwd: Path | None = None) -> dict[str, float | str]:
    """Run examples/<script> and read its printed lines into {label: value}."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
                          env=env, cwd=cwd or EXAMPLES, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    values: dict[str, float | str] = {}
    for label, pattern in {"objective": r"objective\s+(\S+)", "optimum": r"optimum\s+(\S+)",
                           "tf": r"final time tf = (\S+)", "switch": r"turns positive at t = (\S+)",
                           "max_x": r"max x\(t\)\s+(\S+)"}.items():
        match = re.search(pattern, done.stdout)
        if match:
            values[label] = float(match.group(1))
    values["status"] = re.search(r"status\s+(\S+)", done.stdout).group(1)  # type: ignore[union-attr]
    return values


def test_every_example_is_tested_and_has_a_page() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    untested = sorted(s for s in scripts if s not in TESTED and not (
        s in TESTED_ELSEWHERE and s in (ROOT / TESTED_ELSEWHERE[s]).read_text()))
    assert not untested, f"examples without a test: {untested}"
    pages = sorted(s for s in scripts if not (ROOT / "docs" / "examples" / f"{Path(s).stem}.md").is_file())
    assert not pages, f"examples without a page under docs/examples/: {pages}"


def test_lq_converges_to_tanh_1() -> None:
    coarse, fine = run_example("lq.py", "--N", "8"), run_example("lq.py", "--N", "16")
    exact = math.tanh(1.0)  # the Riccati solution of min int (x^2 + u^2), x' = u, x(0) = 1
    assert coarse["status"] == fine["status"] == "Solve_Succeeded"
    assert fine["optimum"] == pytest.approx(exact, abs=1e-10)
    e8, e16 = abs(coarse["objective"] - exact), abs(fine["objective"] - exact)  # type: ignore[operator]
    assert e16 < 1e-3
    # piecewise-constant controls: second order, the error quarters as N doubles
    assert 3.0 < e8 / e16 < 5.0


def test_bryson_denham_converges_to_4() -> None:
    coarse = run_example("bryson_denham.py", "--N", "20")
    fine = run_example("bryson_denham.py", "--N", "40")
    assert coarse["status"] == fine["status"] == "Solve_Succeeded"
    assert fine["optimum"] == 4.0
    e20, e40 = abs(coarse["objective"] - 4.0), abs(fine["objective"] - 4.0)  # type: ignore[operator]
    assert e40 < 1e-2 and e40 < e20 / 2  # converging, at least at first order
    assert fine["max_x"] <= 1 / 9 + 1e-6  # the state constraint holds at the nodes


@pytest.mark.parametrize("transcription", ["rk4", "euler"])
def test_min_time_finds_T_2_and_the_switch(transcription: str) -> None:
    result = run_example("min_time.py", "--N", "20", "--transcription", transcription)
    assert result["status"] == "Solve_Succeeded"
    assert result["optimum"] == 2.0
    # bang-bang with the switch on a node (N even): the discrete optimum is T* up to the solver's tolerance
    assert result["tf"] == pytest.approx(2.0, abs=1e-6)
    assert result["switch"] == pytest.approx(1.0, abs=1e-3)


def test_plot_option_writes_the_figure(tmp_path: Path) -> None:
    target = tmp_path / "lq.png"
    run_example("lq.py", "--N", "8", "--plot", str(target))
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


TESTED = ("lq.py", "bryson_denham.py", "min_time.py")
TESTED_ELSEWHERE = {"mpc.py": "tests/test_mpc_example.py"}  # the closed loop has its own test file

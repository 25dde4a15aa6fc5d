"""Your own problem: ``occontrol refine SCRIPT.py:FUNCTION`` and ``occontrol solve SCRIPT.py:FUNCTION`` on
a script written here (the LQ problem, optimum tanh(1) from the Riccati equation), resume and refusal,
one-line usage errors, and the examples run the same way."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import occontrol as oc

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
OPTIMUM = math.tanh(1.0)  # min int_0^1 x^2 + u^2, x' = u, x(0) = 1

SCRIPT = """
import numpy as np
import occontrol as oc


def lq(x0=1.0):
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, x0)
    ocp.minimize_integral(x**2 + u**2)
    return ocp


def lq_with_guess():
    ocp = lq()
    u = ocp.controls[0].symbol
    return ocp, {u: lambda t: -np.cosh(1 - t) / np.cosh(1.0)}


def not_an_ocp():
    return 42


def broken():
    raise RuntimeError("no model today")


if __name__ == "__main__":
    raise SystemExit("the script's own main must not run on import")
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "myproblem.py"
    path.write_text(SCRIPT)
    return path


def test_refine_study_approaches_the_optimum_and_resumes(run_cli, strict_json, script, tmp_path):
    out = tmp_path / "study"
    argv = ["refine", f"{script}:lq", "--transcription", "rk4", "--grids", "8:64", "--out", str(out)]
    code, stdout, stderr = run_cli(argv)
    assert code == 0, stderr
    assert "| N | status | objective" in stdout and "Study: succeeded" in stdout
    doc = strict_json((out / "study.json").read_text())
    levels = doc["levels"]
    assert [lv["N"] for lv in levels] == [8, 16, 32, 64] and all(lv["success"] for lv in levels)
    errors = [abs(lv["objective"] - OPTIMUM) for lv in levels]
    # RK4 with piecewise-constant controls: the objective error falls by about 4 per doubling (order 2)
    assert all(3.5 < a / b < 4.5 for a, b in zip(errors, errors[1:])), errors
    assert errors[-1] < 2e-5
    assert abs(doc["limit_objective"] - OPTIMUM) < 1e-6  # Richardson, from the two finest levels
    assert doc["problem"]["problem"] == f"{script}:lq" and doc["problem"]["transcription"] == "rk4"
    for name in ("convergence.png", "solution.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # a rerun reuses every level; other settings in the same folder are refused in one line
    code, stdout, stderr = run_cli(argv + ["--no-figures"])
    assert code == 0, stderr
    assert sum("reused" in line for line in stdout.splitlines() if line.startswith("N=")) == 4
    code, _, stderr = run_cli(argv[:3] + ["euler"] + argv[4:])
    assert code == 2 and stderr.count("\n") == 1 and "differs in transcription" in stderr

    # the script now builds another problem (x(0) = 2): its stored levels are refused by their fingerprints
    script.write_text(SCRIPT.replace("def lq(x0=1.0)", "def lq(x0=2.0)"))
    code, _, stderr = run_cli(argv)
    assert code == 2 and stderr.count("\n") == 1
    assert stderr.startswith("occontrol refine: error: --out:") and "another problem or settings" in stderr


def test_refine_takes_the_scripts_guess(run_cli, strict_json, script, tmp_path):
    out = tmp_path / "g"
    code, _, stderr = run_cli(["refine", f"{script}:lq_with_guess", "--grids", "8,16", "--out", str(out),
                               "--no-figures"])
    assert code == 0, stderr
    doc = strict_json((out / "study.json").read_text())
    assert doc["problem"]["guess"] is True
    assert abs(doc["levels"][-1]["objective"] - OPTIMUM) < 1e-3


def test_solve_writes_the_solution_and_its_figure(run_cli, script, tmp_path):
    out = tmp_path / "one"
    code, stdout, stderr = run_cli(["solve", f"{script}:lq", "--grid", "100", "--out", str(out)])
    assert code == 0, stderr
    assert "ok Solve_Succeeded" in stdout
    assert (out / "solution.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from occontrol.userproblem import load_problem
    sol = oc.Solution.load(out / "solution.npz", load_problem(f"{script}:lq").ocp)
    assert sol.success and sol.N == 100
    assert abs(sol.objective - OPTIMUM) < 1e-5  # RK4 at h = 0.01


@pytest.mark.parametrize("spec, words", [
    ("{script}:nope", "has no function 'nope' (its functions: broken, lq, lq_with_guess, not_an_ocp)"),
    ("{script}:not_an_ocp", "returned int, expected an occontrol.OCP or (OCP, guess)"),
    ("{script}:broken", "raised RuntimeError: no model today"),
    ("{missing}:lq", "does not exist"),
    ("{script}", "expected SCRIPT.py:FUNCTION"),
    ("{script}:lq:extra", "expected SCRIPT.py:FUNCTION"),
])
@pytest.mark.parametrize("command", ["refine", "solve"])
def test_problem_errors_are_one_line(run_cli, no_nlp, script, tmp_path, command, spec, words):
    spec = spec.format(script=script, missing=tmp_path / "missing.py")
    code, stdout, stderr = run_cli([command, spec, "--out", str(tmp_path / "o")])
    assert code == 2
    assert stderr.count("\n") == 1, stderr
    assert stderr.startswith(f"occontrol {command}: error: SCRIPT.py:FUNCTION: "), stderr
    assert words in stderr


@pytest.mark.parametrize("example, N, optimum, tolerance", [
    ("lq", 32, OPTIMUM, 1e-4), ("bryson_denham", 50, 4.0, 1e-2), ("min_time", 20, 2.0, 1e-4)])
def test_examples_solve_from_the_command_line(run_cli, tmp_path, example, N, optimum, tolerance):
    out = tmp_path / example
    code, _, stderr = run_cli(["solve", f"{EXAMPLES / example}.py:problem", "--grid", str(N), "--out", str(out),
                               "--no-figures"])
    assert code == 0, stderr
    from occontrol.userproblem import load_problem
    sol = oc.Solution.load(out / "solution.npz", load_problem(f"{EXAMPLES / example}.py:problem").ocp)
    assert sol.success and abs(sol.objective - optimum) < tolerance


def test_mpc_example_horizon_solves_from_the_command_line(run_cli, tmp_path):
    code, stdout, stderr = run_cli(["solve", f"{EXAMPLES / 'mpc.py'}:problem", "--transcription", "collocation",
                                    "--grid", "20", "--out", str(tmp_path / "mpc"), "--no-figures"])
    assert code == 0, stderr
    assert "ok Solve_Succeeded" in stdout

"""Campaign: generated command lines, each with exactly one bad
option among valid ones, for deep-limit, sweep and compare. Every invocation
must end in exit code 2 and exactly one error line naming the bad option,
with no traceback, and must not start any work.

Valid invocations are impossible by construction (one option is always bad),
and as a second guard the functions that would run a study are replaced by
ones that fail the test. About 200 invocations in-process, 10 as real
processes (the console path: exit status and stderr as a user sees them).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("deep-limit", "sweep", "compare")

# ---------------------------------------------------------------- values
ints = st.integers(-10**6, 10**6)
texts = st.text(alphabet="abcxyz_-.:,;/ 0123456789", min_size=0, max_size=8)
not_numbers = texts.filter(lambda t: not _is_float(t))
non_finite = st.sampled_from(["nan", "inf", "-inf", "NaN", "Infinity", "1e999"])


def _parses(text: str, kind: type) -> bool:
    """Whether ``kind(text)`` accepts the text."""
    try:
        kind(text)
    except ValueError:
        return False
    return True


def _is_float(text: str) -> bool:
    return _parses(text, float)


def _is_int(text: str) -> bool:
    return _parses(text, int)


def bad_int(minimum: int) -> st.SearchStrategy[str]:
    """Below the minimum, a float, or not a number."""
    return st.one_of(st.integers(-10**6, minimum - 1).map(str),
                     st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer()).map(repr),
                     texts.filter(lambda t: not _is_int(t)))


def bad_number(minimum: float, strict: bool) -> st.SearchStrategy[str]:
    below = st.floats(max_value=minimum, exclude_max=not strict, allow_nan=False, allow_infinity=False)
    return st.one_of(below.map(repr), non_finite, not_numbers)


def bad_choice(choices: tuple[str, ...]) -> st.SearchStrategy[str]:
    return texts.filter(lambda t: t not in choices)


def bad_names(choices: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Comma lists with an unknown or a repeated name."""
    unknown = st.lists(st.sampled_from(choices), max_size=2).flatmap(
        lambda names: bad_choice(choices + ("all",)).map(lambda t: ",".join([*names, t])))
    repeated = st.sampled_from(choices).map(lambda n: f"{n},{n}")
    return st.one_of(unknown, repeated)


def _grids_text(values: list[int]) -> str:
    return ",".join(map(str, values))


bad_grids = st.one_of(
    st.tuples(st.integers(-64, 0), st.integers(-64, 256)).map(lambda t: f"{t[0]}:{t[1]}"),     # first < 1
    st.tuples(st.integers(2, 512), st.integers(1, 511)).filter(lambda t: t[1] < t[0]).map(lambda t: f"{t[0]}:{t[1]}"),
    st.lists(st.integers(1, 64), min_size=2, max_size=5).filter(
        lambda v: any(b <= a for a, b in zip(v, v[1:]))).map(_grids_text),                     # not increasing
    st.lists(st.integers(-8, 0), min_size=1, max_size=3).map(_grids_text),                       # zeros, negatives
    st.sampled_from(["4.5,8", "4:8.0", "a:b", "4:8:16", "", ",", "4,,8", "nan:8", "1e3:2e3", "4;8", "x"]),
)

BAD = {  # option -> strategy of bad values
    "--n": bad_int(2), "--seed": bad_int(0), "--width": bad_int(1), "--starts": bad_int(1), "--max-iter": bad_int(0),
    "--noise": bad_number(0.0, False), "--tau1": bad_number(0.0, False), "--tau2": bad_number(0.0, False),
    "--tau-w": bad_number(0.0, False), "--horizon": bad_number(0.0, True), "--tol": bad_number(0.0, True),
    "--max-wall-time": bad_number(0.0, True),
    "--dataset": bad_choice(("moons", "circles", "blobs", "iris", "wine", "breast_cancer")),
    "--activation": bad_choice(("tanh", "sigmoid", "softplus", "smooth_relu", "relu")),
    "--loss": bad_choice(("auto", "logistic", "softmax", "squared")),
    "--strategy": bad_choice(("gauss-newton", "exact")), "--grids": bad_grids,
    "--transcription": bad_choice(("euler", "heun", "ralston", "rk4", "collocation")),
    "--branches": bad_choice(("best", "all")), "--prolongation": bad_choice(("linear", "constant")),
    "--out": st.sampled_from(["", " ", "   "]),
    "--workers": bad_int(1),
    "--methods": bad_names(("adam", "sgd", "lbfgs")),
    "--settings": bad_names(("h1-consistent", "h1-iid", "noh1-consistent", "noh1-iid")),
    "--lr-adam": bad_number(0.0, True), "--lr-sgd": bad_number(0.0, True), "--lr-lbfgs": bad_number(0.0, True),
    "--momentum": bad_number(0.0, False), "--batch-size": bad_int(1), "--seconds": bad_number(0.0, True),
    "--record-every": bad_int(1), "--init-seed": bad_int(0), "--threads": bad_int(0), "--steps": bad_int(0),
}

GOOD = {  # option -> strategy of valid values (never completing a runnable command on their own)
    "--n": st.integers(2, 300).map(str), "--seed": st.integers(0, 99).map(str),
    "--noise": st.floats(0, 1).map(repr), "--tau1": st.floats(0, 1).map(repr), "--tau2": st.floats(0, 1).map(repr),
    "--tau-w": st.floats(0, 1).map(repr), "--horizon": st.floats(0.1, 5).map(repr),
    "--starts": st.integers(1, 5).map(str), "--tol": st.sampled_from(["1e-8", "1e-6"]),
    "--max-iter": st.integers(0, 100).map(str), "--max-wall-time": st.sampled_from(["1", "60.5"]),
    "--activation": st.sampled_from(["tanh", "sigmoid", "softplus", "smooth_relu", "relu"]),
    "--grids": st.sampled_from(["4,8", "4:32", "8", "2,3,5"]),
    "--strategy": st.sampled_from(["gauss-newton"]), "--prolongation": st.sampled_from(["linear", "constant"]),
    "--workers": st.integers(1, 4).map(str), "--methods": st.sampled_from(["adam", "sgd,lbfgs", "all"]),
    "--lr-adam": st.sampled_from(["0.01", "1"]), "--momentum": st.sampled_from(["0", "0.9"]),
    "--record-every": st.integers(1, 20).map(str), "--threads": st.integers(1, 2).map(str),
}

DEEP = ["--n", "--seed", "--width", "--starts", "--max-iter", "--noise", "--tau1", "--tau2", "--tau-w", "--horizon",
        "--tol", "--max-wall-time", "--dataset", "--activation", "--loss", "--strategy", "--grids", "--transcription",
        "--branches", "--prolongation", "--out"]
OPTIONS = {
    "deep-limit": DEEP,
    "sweep": ["--grids", "--out", "--workers"],
    "compare": [o for o in DEEP if o not in ("--transcription", "--branches", "--prolongation")]
    + ["--methods", "--settings", "--lr-adam", "--lr-sgd", "--lr-lbfgs", "--momentum", "--batch-size", "--seconds",
       "--record-every", "--init-seed", "--threads", "--steps"],
}


@st.composite
def invocations(draw, commands=COMMANDS) -> tuple[str, str, list[str]]:
    """(command, the bad option, argv): one bad option, placed among up to three valid ones."""
    command = draw(st.sampled_from(commands))
    options = OPTIONS[command]
    bad = draw(st.sampled_from(options))
    if bad == "--steps":  # --steps 0 is valid (a budget in seconds), as long as --seconds is given
        value = draw(st.one_of(st.integers(-10**6, -1).map(str), texts.filter(lambda t: not _is_int(t))))
    else:
        value = draw(BAD[bad])
    good = draw(st.lists(st.sampled_from([o for o in options if o in GOOD and o != bad]), max_size=3, unique=True))
    pairs = [(o, draw(GOOD[o])) for o in good]
    pairs.insert(draw(st.integers(0, len(pairs))), (bad, value))
    argv = [command] + [f"{o}={v}" for o, v in pairs]  # '=': a value may start with '-'
    return command, bad, argv


def _forbid(*args, **kwargs):
    raise AssertionError("a study would have run")


@contextlib.contextmanager
def no_work():
    """The functions that run a study fail the test if they are ever called."""
    with mock.patch("occontrol.resnet.deep_limit.run_deep_limit", _forbid), \
            mock.patch("occontrol.resnet.comparison.compare", _forbid), \
            mock.patch("occontrol.resnet.sweep.sweep_deep_limit", _forbid):
        yield



def check(command: str, bad: str, code: int, stdout: str, stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, (code, stderr)
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert lines[0].startswith(f"occontrol {command}: error: ") and f"{bad}:" in lines[0], (bad, lines[0])
    assert stdout == ""


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invocations())
def test_generated_bad_invocations_in_process(run_cli, invocation):
    command, bad, argv = invocation
    with tempfile.TemporaryDirectory() as tmp, no_work():
        out = Path(tmp) / "out"
        if bad != "--out":
            argv = argv + ["--out", str(out)]
        cwd = os.getcwd()
        os.chdir(tmp)  # a default --out, had it been used, would land here
        try:
            code, stdout, stderr = run_cli(argv)
        finally:
            os.chdir(cwd)
        check(command, bad, code, stdout, stderr)
        assert os.listdir(tmp) == []  # nothing created


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invocations())
def test_generated_bad_invocations_as_real_processes(invocation):
    command, bad, argv = invocation
    with tempfile.TemporaryDirectory() as tmp:
        if bad != "--out":
            argv = argv + ["--out", str(Path(tmp) / "out")]
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        done = subprocess.run([sys.executable, "-m", "occontrol.cli", *argv], capture_output=True, text=True,
                              timeout=120, env=env, cwd=tmp)
        check(command, bad, done.returncode, done.stdout, done.stderr)
        assert os.listdir(tmp) == []


# settings that are each valid alone but not together: refused after parsing, before any work
PAIRS = [
    (["--width=1"], "--width"), (["--dataset=wine", "--width=12"], "--width"),
    (["--dataset=iris", "--loss=logistic"], "--loss"), (["--dataset=blobs", "--loss=logistic"], "--loss"),
    (["--transcription=collocation", "--strategy=gauss-newton"], "--strategy"),
]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(PAIRS), st.sampled_from(["deep-limit", "compare"]), st.integers(2, 300))
def test_settings_that_do_not_fit_together(run_cli, pair, command, n):
    argv, bad = pair
    if command == "compare" and any(a.startswith("--transcription") for a in argv):
        argv, bad = ["--dataset=wine", "--width=3"], "--width"  # compare has no --transcription
    with tempfile.TemporaryDirectory() as tmp, no_work():
        code, stdout, stderr = run_cli([command, *argv, f"--n={n}", "--out", str(Path(tmp) / "out")])
        check(command, bad, code, stdout, stderr)
        assert os.listdir(tmp) == []

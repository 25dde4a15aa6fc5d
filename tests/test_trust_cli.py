"""The command line and results folders: malformed ladders refused at
once (they used to loop forever), one-line usage errors with exit code 2, the
'auto' loss, ``--out`` checked before any work, a lock per results folder,
stale temp files cleaned, damaged files named, an unreachable scheduler, and
no heavy module imported before the arguments are parsed.

Real processes where the behaviour is about processes (the lock, the console
script); ``main(argv)`` in-process elsewhere.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import occontrol as oc
from occontrol.cli import _grids
from occontrol.datasets import DATASETS, SHAPES, load_dataset
from occontrol.io import TEMP_PREFIX, DamagedFile, FolderInUse, atomic_write, folder_lock, read_json
from occontrol.resnet.deep_limit import DeepLimitConfig, run_deep_limit

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--grids", "4,8", "--n", "60", "--noise", "0.35", "--starts", "1", "--no-figures"]
HEAVY = ("casadi", "torch", "sklearn", "dask", "distributed", "matplotlib")



def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def run_process(argv, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "occontrol.cli", *argv], capture_output=True, text=True,
                          timeout=120, env=env(), **kwargs)


def one_error_line(stderr: str, command: str, *words: str) -> str:
    """The single line of a usage error; it names what it is about."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"occontrol {command}: error: "), lines[0]
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


# ------------------------------------------------------------------------- ladders
def test_doubling_gives_the_ladder():
    assert oc.doubling(4, 256) == [4 * 2 ** k for k in range(7)]
    assert oc.doubling(3, 50) == [3, 6, 12, 24, 48]
    assert oc.doubling(5, 5) == [5]
    assert oc.doubling(1, 1) == [1]


@pytest.mark.parametrize("start, stop, error, name", [
    (0, 8, ValueError, "start"), (-4, 8, ValueError, "start"), (64, 4, ValueError, "stop"),
    (4.0, 8, TypeError, "start"), (4, 8.0, TypeError, "stop"), (math.nan, 8, TypeError, "start"),
    (True, 8, TypeError, "start"), (4, "8", TypeError, "stop"), (4, 0, ValueError, "stop"),
])
def test_doubling_refuses_malformed_ladders(start, stop, error, name):
    with pytest.raises(error, match=f"^{name}: "):
        oc.doubling(start, stop)


def test_doubling_accepts_numpy_integers():
    assert oc.doubling(np.int64(2), np.int32(8)) == [2, 4, 8]


@pytest.mark.parametrize("text, ladder", [("4:32", (4, 8, 16, 32)), ("3:50", (3, 6, 12, 24, 48)), ("7:7", (7,)),
                                          ("4,8,16", (4, 8, 16)), ("1,3,10", (1, 3, 10)), ("9", (9,))])
def test_grids_option_parses_ladders(text, ladder):
    assert _grids(text) == ladder
    if ":" in text:
        assert list(ladder) == oc.doubling(*(int(v) for v in text.split(":")))


BAD_GRIDS = ["0:8", "-4:8", "64:4", "0:0", "8,4", "4,4", "0,4", "-2,4", "4,8,8", "4.5,8", "4:8.0", "a:b", "4:8:16",
             "", ",", "4,,8", "nan:8", "1e3:2e3"]


@pytest.mark.parametrize("command", ["deep-limit", "sweep", "compare"])
@pytest.mark.parametrize("text", BAD_GRIDS)
def test_malformed_grids_are_one_usage_error(run_cli, command, text, tmp_path):
    code, stdout, stderr = run_cli([command, f"--grids={text}", "--out", str(tmp_path / "x")])
    assert code == 2
    one_error_line(stderr, command, "--grids", repr(text))
    assert stdout == "" and not (tmp_path / "x").exists()


@pytest.mark.parametrize("argv", [["deep-limit", "--grids", "0:8"], ["deep-limit", "--grids=-4:8"],
                                  ["sweep", "--grids", "0:8"], ["deep-limit", "--grids", "64:4"]])
def test_the_ladders_that_hung_exit_2_in_a_real_process(argv, tmp_path):
    done = run_process(argv + ["--out", str(tmp_path / "x")])   # the timeout of run_process catches a hang
    assert done.returncode == 2
    one_error_line(done.stderr, argv[0], "--grids")


# ------------------------------------------------------------------------- options, loss, --out
@pytest.mark.parametrize("option, value, expected", [
    ("--n", "0", ">= 2"), ("--n", "1.5", "integer"), ("--noise", "-1", ">= 0"), ("--noise", "nan", "finite"),
    ("--seed", "-1", ">= 0"), ("--width", "0", ">= 1"), ("--tau1", "-1e-3", ">= 0"), ("--tau2", "inf", "finite"),
    ("--tau-w", "x", "number"), ("--horizon", "0", "> 0"), ("--starts", "0", ">= 1"), ("--tol", "0", "> 0"),
    ("--max-iter", "-1", ">= 0"), ("--max-wall-time", "-5", "> 0"), ("--dataset", "mnist", "choose from"),
    ("--loss", "hinge", "choose from"),
])
def test_bad_numbers_and_names_are_one_usage_error(run_cli, option, value, expected, tmp_path):
    # option=value: argparse takes a lone '-1e-3' for an option of its own
    code, stdout, stderr = run_cli(["deep-limit", f"{option}={value}", "--out", str(tmp_path / "x")])
    assert code == 2
    one_error_line(stderr, "deep-limit", option, expected)
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("argv, option, words", [
    (["--width", "1"], "--width", ["m >= d = 2"]),
    (["--dataset", "wine", "--width", "12"], "--width", ["m >= d = 13"]),
    (["--dataset", "iris", "--loss", "logistic"], "--loss", ["two classes", "softmax"]),
    (["--transcription", "collocation"], "--strategy", ["collocation", "exact"]),
])
def test_settings_that_do_not_fit_the_data_are_refused_up_front(run_cli, argv, option, words, tmp_path):
    code, stdout, stderr = run_cli(["deep-limit", *argv, "--out", str(tmp_path / "x")])
    assert code == 2
    one_error_line(stderr, "deep-limit", option, *words)
    assert not (tmp_path / "x").exists()


def test_compare_options_are_checked_up_front(run_cli, tmp_path):
    for argv, option in [(["--methods", "adam,newton"], "--methods"), (["--methods", "adam,adam"], "--methods"),
                         (["--settings", "h1-gaussian"], "--settings"), (["--lr-adam", "0"], "--lr-adam"),
                         (["--batch-size", "0"], "--batch-size"), (["--steps", "0"], "--steps"),
                         (["--record-every", "0"], "--record-every"), (["--threads", "-1"], "--threads"),
                         (["--init-seed", "-3"], "--init-seed"), (["--momentum", "-0.5"], "--momentum")]:
        code, _, stderr = run_cli(["compare", *argv, "--out", str(tmp_path / "x")])
        assert code == 2, argv
        one_error_line(stderr, "compare", option)  # --steps 0 alone: no budget at all (no --seconds)
    assert not (tmp_path / "x").exists()


def test_auto_loss_matches_the_classes_of_each_dataset():
    for name in DATASETS:
        data = load_dataset(name, n=40)
        classes = len(np.unique(np.concatenate([data.y_train, data.y_test])))
        assert SHAPES[name] == (data.X_train.shape[1], classes), name  # the table the checks rely on
        assert DeepLimitConfig(dataset=name).loss == ("logistic" if classes == 2 else "softmax"), name
    assert DeepLimitConfig(dataset="iris", loss="squared").loss == "squared"


def test_iris_runs_with_the_default_loss(run_cli, tmp_path):
    out = tmp_path / "iris"
    code, stdout, stderr = run_cli(["deep-limit", "--dataset", "iris", "--grids", "2", "--starts", "1",
                                    "--tau-w", "1e-2", "--out", str(out), "--no-figures"])
    assert code in (0, 1), stderr            # it ran: a solve's verdict, not a usage error or a crash
    assert "Traceback" not in stderr
    assert "loss softmax (auto)" in stdout.splitlines()[0]
    problem = read_json(out / "study.json")["problem"]
    assert problem["loss"] == "softmax" and problem["K"] == 3 and problem["d"] == 4


@pytest.mark.parametrize("command", ["deep-limit", "sweep", "compare"])
def test_unusable_out_folders_are_one_usage_error(run_cli, command, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    extra = ["--set", "n=40"] if command == "sweep" else []
    cases = [(str(afile), "is a file"), (str(afile / "sub" / "x"), "which is a file"), ("", "folder path"),
             ("  ", "folder path")]
    for out, words in cases:
        code, stdout, stderr = run_cli([command, *extra, "--out", out])
        assert code == 2, (out, stderr)
        one_error_line(stderr, command, "--out", words)
    assert afile.read_text() == "not a folder" and sorted(os.listdir(tmp_path)) == ["afile"]


def test_library_refuses_an_empty_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # Path('') would be this folder
    from occontrol.resnet.sweep import sweep_deep_limit
    with pytest.raises(ValueError, match="^out: "):
        run_deep_limit(DeepLimitConfig(n=40, grids=(4,), n_starts=1), out="")
    with pytest.raises(ValueError, match="^out: "):
        sweep_deep_limit({"n": 40, "grids": [4]}, {}, " ")
    with pytest.raises(ValueError, match="^out: "):
        folder_lock("").__enter__()
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------------- the lock
HOLD = """
import sys, time
from occontrol.io import folder_lock
with folder_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(600)
"""


@contextlib.contextmanager
def holder(folder: Path):
    """Another process holding ``folder``'s lock until the block ends (then killed)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True, env=env())
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_a_second_process_on_the_same_out_is_refused_at_once(run_cli, tmp_path):
    out = tmp_path / "study"
    with holder(out) as proc:
        code, stdout, stderr = run_cli(["deep-limit", *TINY, "--out", str(out)])
        assert code == 2
        one_error_line(stderr, "deep-limit", f"{out} is in use by another run (pid {proc.pid})", "another --out")
        assert "start seed" not in stdout
        assert sorted(os.listdir(out)) == [".lock"]  # nothing written: not settings.json, not data.npz
        with pytest.raises(FolderInUse):  # the library refuses as well
            run_deep_limit(DeepLimitConfig(n=60, grids=(4,), n_starts=1), out)
    # the holder was killed: the kernel released its lock, and the folder is usable again
    code, _, stderr = run_cli(["deep-limit", *TINY, "--out", str(out)])
    assert code == 0, stderr
    assert read_json(out / "study.json")["problem"]["grids"] == [4, 8]


@pytest.mark.parametrize("command", ["sweep", "compare", "deep-limit"])
def test_sweep_and_compare_folders_are_locked_too(command, tmp_path):
    out = tmp_path / "out"
    argv = {"sweep": ["sweep", "--set", "n=40", "--grids", "4"],
            "compare": ["compare", "--grids", "4,8", "--n", "40", "--steps", "5", "--no-figures"],
            "deep-limit": ["deep-limit", *TINY]}[command]
    with folder_lock(out):  # held by this process; the command runs as a real second process
        done = run_process(argv + ["--out", str(out)])
    assert done.returncode == 2
    one_error_line(done.stderr, command, f"is in use by another run (pid {os.getpid()})")
    assert sorted(os.listdir(out)) == [".lock"]


# ------------------------------------------------------------------------- stale temp files
def test_temp_files_are_recognisable(tmp_path):
    names = []

    def write(tmp: str) -> None:
        names.append(Path(tmp).name)
        Path(tmp).write_text("x")
    atomic_write(tmp_path / "a.json", write)
    atomic_write(tmp_path / "b.npz", write, suffix=".npz")
    assert sorted(os.listdir(tmp_path)) == ["a.json", "b.npz"]
    assert names[0].startswith(TEMP_PREFIX + "a.json.") and names[1].startswith(TEMP_PREFIX + "b.npz.")
    assert names[1].endswith(".npz")


def test_a_refused_run_leaves_the_live_runs_temp_files(run_cli, tmp_path):
    out = tmp_path / "study"
    with holder(out):
        live = out / f"{TEMP_PREFIX}study.json.l1ve"  # being written by the run that holds the lock
        live.write_text("half written")
        code, _, _ = run_cli(["deep-limit", *TINY, "--out", str(out)])
        assert code == 2 and live.read_text() == "half written"
    # the holder is dead now: its temp file is stale, and the next run removes it
    code, _, stderr = run_cli(["deep-limit", *TINY, "--out", str(out)])
    assert code == 0, stderr
    assert not live.exists()


def test_a_run_removes_the_temp_files_a_killed_run_left(run_cli, tmp_path):
    out = tmp_path / "study"
    stale = [out / f"{TEMP_PREFIX}study.json.k1ll3d", out / "levels" / "seed0" / f"{TEMP_PREFIX}level_N8.npz.x7.npz"]
    other = out / "other-run" / f"{TEMP_PREFIX}live.json.a1"  # a folder locked by a run of its own
    for path in stale + [other]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half written")
    (other.parent / ".lock").write_text("")
    keep = out / ".notes"  # a dot file that is not ours
    keep.write_text("mine")
    code, _, stderr = run_cli(["deep-limit", *TINY, "--out", str(out)])
    assert code == 0, stderr
    assert not any(p.exists() for p in stale)
    assert other.exists() and keep.read_text() == "mine"
    assert [p.name for p in out.rglob(f"{TEMP_PREFIX}*")] == [other.name]


# ------------------------------------------------------------------------- damaged folders
@pytest.fixture(scope="module")
def finished(run_cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("finished") / "study"
    code, _, stderr = run_cli(["deep-limit", *TINY, "--out", str(out)])
    assert code == 0, stderr
    return out


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGE = {
    "empty settings.json": ("settings.json", lambda p: p.write_text("")),
    "corrupt settings.json": ("settings.json", lambda p: p.write_text('{"dataset": "moo')),
    "settings.json a list": ("settings.json", lambda p: p.write_text("[]")),
    "empty study.json": ("study.json", lambda p: p.write_text("")),
    "corrupt study.json": ("study.json", lambda p: p.write_bytes(b"\xff\xfe\x00garbage")),
    "study.json null": ("study.json", lambda p: p.write_text("null")),
    "truncated level": ("levels/seed0/level_N8.npz", _truncate),
    "empty level": ("levels/seed0/level_N8.npz", lambda p: p.write_bytes(b"")),
    "truncated start": ("starts/seed0/level_N4.npz", _truncate),
    "truncated data": ("data.npz", _truncate),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_results_folder_names_the_file(run_cli, damage, finished, tmp_path):
    out = tmp_path / "study"
    shutil.copytree(finished, out)
    name, spoil = DAMAGE[damage]
    spoil(out / name)
    code, _, stderr = run_cli(["deep-limit", *TINY, "--out", str(out)])
    assert code == 2
    one_error_line(stderr, "deep-limit", str(out / name), "damaged", "delete it")
    # and the advice works: without the file the study is computed again
    (out / name).unlink()
    code, _, stderr = run_cli(["deep-limit", *TINY, "--out", str(out)])
    assert code == 0, stderr


def test_a_damaged_sweep_marker_names_the_file(run_cli, tmp_path):
    from occontrol.sweeps import MARKER, expand
    out = tmp_path / "sweep"
    case = expand({"n": 40, "grids": [4]}, {})[0]
    (out / case.name).mkdir(parents=True)
    (out / case.name / MARKER).write_text('{"status": ')
    code, _, stderr = run_cli(["sweep", "--set", "n=40", "--grids", "4", "--out", str(out)])
    assert code == 2
    one_error_line(stderr, "sweep", str(out / case.name / MARKER), "delete it")


def test_read_json_names_the_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{")
    with pytest.raises(DamagedFile, match="x.json is damaged"):
        read_json(path)
    path.write_text(json.dumps({"a": 1}))
    assert read_json(path) == {"a": 1}


# ------------------------------------------------------------------------- sweep up front, scheduler
@pytest.mark.parametrize("assign, words", [
    (["--set", "width=1"], ["width", "m >= d"]),
    (["--set", "n=40,0"], ["n=0", "n: expected an integer >= 2"]),
    (["--set", "dataset=moons,iris", "--set", "loss=logistic"], ["dataset=iris", "two classes"]),
    (["--set", "seed=-1"], ["seed"]),
    (["--set", "noise=-0.5"], ["noise"]),
    (["--set", "grids=[8,4]"], ["grids", "increasing"]),
])
def test_every_case_is_checked_before_anything_runs(run_cli, assign, words, tmp_path):
    out = tmp_path / "sweep"
    code, stdout, stderr = run_cli(["sweep", *assign, "--out", str(out)])
    assert code == 2
    one_error_line(stderr, "sweep", *words)
    assert stdout == "" and not out.exists()


def test_an_unreachable_scheduler_is_one_usage_error(run_cli, tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, _, stderr = run_cli(["sweep", "--set", "n=40", "--grids", "4", "--scheduler", f"tcp://127.0.0.1:{port}",
                               "--out", str(tmp_path / "sweep")])
    assert code == 2
    one_error_line(stderr, "sweep", "--scheduler", f"tcp://127.0.0.1:{port}", "no answer")


# ------------------------------------------------------------------------- light imports
PROBE = """
import sys
import occontrol.cli as cli
for argv in {argvs!r}:
    try:
        cli.main(argv)
    except SystemExit:
        pass
print(",".join(m for m in {heavy!r} if m in sys.modules))
"""


def test_help_and_usage_errors_import_nothing_heavy():
    argvs = [["--help"], ["deep-limit", "--help"], ["sweep", "--help"], ["compare", "--help"],
             ["deep-limit", "--n", "0"], ["sweep", "--grids", "0:8"], ["compare", "--methods", "x"], []]
    done = subprocess.run([sys.executable, "-c", PROBE.format(argvs=argvs, heavy=HEAVY)], capture_output=True,
                          text=True, timeout=120, env=env())
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == ""  # none of them
    # the probe is not vacuous: running a config check does import CasADi
    done = subprocess.run([sys.executable, "-c", PROBE.format(argvs=[["deep-limit", "--width", "1"]], heavy=HEAVY)],
                          capture_output=True, text=True, timeout=120, env=env())
    assert "casadi" in done.stdout.splitlines()[-1]


def test_the_package_still_offers_its_names():
    import occontrol.refinement  # noqa: F401
    import occontrol.sweeps  # noqa: F401  (importing the modules leaves the functions in place)
    assert callable(oc.refine) and oc.refine.__name__ == "refine"
    assert callable(oc.sweep) and oc.sweep.__name__ == "sweep"
    namespace: dict = {}
    exec("from occontrol import *", namespace)
    assert set(oc.__all__) <= set(namespace)
    for name in oc.__all__:
        assert getattr(oc, name) is not None, name
    import occontrol.resnet as resnet
    for name in resnet.__all__:
        assert getattr(resnet, name) is not None, name

"""``occontrol --version`` and ``python -m occontrol``: the command as a module, its version from the
distribution's metadata, answered without importing CasADi."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from occontrol.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def test_version_is_the_distributions(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"occontrol {metadata.version('occontrol')}"


def test_python_dash_m_runs_the_command():
    done = subprocess.run([sys.executable, "-m", "occontrol", "--version"], capture_output=True, text=True,
                          env=_env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"occontrol {metadata.version('occontrol')}"
    # no command: a usage error in one line, exit code 2
    done = subprocess.run([sys.executable, "-m", "occontrol"], capture_output=True, text=True, env=_env(), cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("occontrol: error:")


def test_version_does_not_import_casadi():
    code = ("import sys\nfrom occontrol.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print('casadi' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(), cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"

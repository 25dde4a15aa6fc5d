"""The type checker is clean on the package (issue 11, section 2); CI runs it too (.ci/run)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # a cold run takes about a minute (warm: seconds); CI runs `python -m mypy occontrol` anyway
def test_mypy_finds_no_error_in_the_package():
    api = pytest.importorskip("mypy.api")
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                      "--cache-dir", str(ROOT / ".mypy_cache"), str(ROOT / "occontrol")])
    assert status == 0, stdout + stderr
    assert stdout.startswith("Success: no issues found"), stdout


@pytest.mark.slow
def test_mypy_is_configured_to_check_the_bodies_of_untyped_functions(tmp_path):
    # the configuration is what the package check relies on: an error inside an unannotated function is reported
    api = pytest.importorskip("mypy.api")
    module = tmp_path / "untyped.py"
    module.write_text("def f():\n    return 1 + 'a'\n", encoding="utf-8")
    stdout, _, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache"),
                                 str(module)])
    assert status == 1 and "untyped.py:2: error" in stdout, stdout

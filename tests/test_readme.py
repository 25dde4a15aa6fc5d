"""README.md's Python code runs, and prints what its comments say.

Each ```python block is executed in a temporary folder, after the README's first block (the first
OCP, which the later blocks build on or vary). A ``print(...)  # -> expected`` line is checked against
its comment (up to a ": " that starts an explanation): words equal, numbers to the digits shown. The
one block that needs a SLURM cluster (dask-jobqueue) is compiled only.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
NEEDS_A_CLUSTER = "SLURMCluster"  # dask-jobqueue submits jobs to a batch system: not available in a test


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)


def expected_prints(block: str) -> list[str]:
    """What ``print(...)  # -> expected: explanation`` lines say they print, in order."""
    return [m.group(1).split(": ")[0].strip() for m in re.finditer(r"^print\(.*\)\s+#\s*->\s*(.+)$", block, re.M)]


def matches(printed: str, expected: str) -> bool:
    """Every word of ``expected`` at its place in ``printed``; a number to the digits it shows."""
    got, want = printed.split(), expected.split()
    if len(want) > len(got):
        return False
    for g, w in zip(got, want):
        if re.fullmatch(r"-?\d+\.\d+", w):  # fixed point: to the decimals shown
            tolerance = 0.6 * 10.0 ** -len(w.split(".")[1])
        elif re.fullmatch(r"-?\d\.\d+e[-+]\d+", w):  # scientific: to the mantissa's digits shown
            mantissa, exponent = w.split("e")
            tolerance = 0.6 * 10.0 ** (int(exponent) - len(mantissa.split(".")[1]))
        elif g != w:
            return False
        else:
            continue
        try:
            if not math.isclose(float(g), float(w), abs_tol=tolerance):
                return False
        except ValueError:
            return False
    return True


def test_the_readme_has_the_first_ocp() -> None:
    blocks = python_blocks(README.read_text())
    assert any("oc.OCP(" in b and "oc.solve(" in b for b in blocks)


def test_the_first_ocp_states_its_output() -> None:
    first = next(b for b in python_blocks(README.read_text()) if "oc.OCP(" in b)
    assert expected_prints(first)[:3] == ["Solve_Succeeded True", "0.7616061756 0.7615941560", "(64,)"]


def test_matches_is_not_vacuous() -> None:
    assert matches("Solve_Succeeded True", "Solve_Succeeded True")
    assert matches("0.7616061755971 0.7615941559557649", "0.7616061756 0.7615941560")
    assert not matches("0.7616 0.76159", "0.7616061756 0.7615941560")
    assert not matches("Maximum_Iterations_Exceeded False", "Solve_Succeeded True")
    assert matches("1.2019624609616031e-05", "1.2e-05") and not matches("1.3e-05", "1.2e-05")


def run_block(block: str, label: str, namespace: dict, execute: bool = True) -> None:
    """Compile one block (``label`` names it in tracebacks); unless ``execute`` is False, run it in
    ``namespace`` and check what it prints against its ``# -> expected`` comments."""
    code = compile(block, label, "exec")
    if not execute:
        return
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, namespace)  # noqa: S102 - the documentation's own code
    printed = out.getvalue().splitlines()
    for want in expected_prints(block):
        assert any(matches(line, want) for line in printed), \
            f"{label}: no printed line matches '# -> {want}'; printed:\n{out.getvalue()}"


def _run(block: str, number: int, namespace: dict) -> None:
    run_block(block, f"README.md python block {number}", namespace, execute=NEEDS_A_CLUSTER not in block)


BLOCKS = python_blocks(README.read_text())


@pytest.mark.parametrize("number", range(1, len(BLOCKS) + 1))
def test_readme_python_block_runs(number: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Block ``number``, after the first block (the first OCP, which the later blocks build on or vary)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__readme__"}
    if number > 1:
        _run(BLOCKS[0], 1, namespace)
    _run(BLOCKS[number - 1], number, namespace)

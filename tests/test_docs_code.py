"""The Python code on the documentation pages runs, and prints what its comments say.

Each page under docs/ is a session: its ```python blocks run in order in one namespace, in a temporary
folder, and ``print(...)  # -> expected`` lines are checked as in tests/test_readme.py. A block whose
first line is a ``# not run: <why>`` comment (it needs a cluster, a long run or a file the reader has)
is compiled only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from test_readme import python_blocks, run_block

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md") if python_blocks(p.read_text()))


def _page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


@pytest.mark.parametrize("page", [pytest.param(page, id=_page_id(page)) for page in PAGES])
def test_page_code_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__docs__"}
    for number, block in enumerate(python_blocks(page.read_text()), 1):
        run_block(block, f"{_page_id(page)} python block {number}", namespace,
                  execute=not block.lstrip().startswith("# not run:"))


def test_the_getting_started_code_is_run() -> None:
    assert "getting-started.md" in [_page_id(p) for p in PAGES]

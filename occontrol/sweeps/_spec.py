"""A sweep's specification, from a TOML file or the command line: ``[base]``
settings shared by every case and ``[grid]`` lists of values to sweep.

A spec file::

    out = "occontrol-results/sweep"      # optional: where the case folders go
    scheduler = "tcp://host:8786"        # optional: a running Dask scheduler
    n_workers = 2                        # optional: workers of the local cluster

    [base]
    n = 40
    grids = [4, 8, 16]

    [grid]
    tau2 = [1e-3, 1e-2]
    seed = [0, 1]

On the command line, ``NAME=V1,V2`` sweeps NAME over the values and
``NAME=V`` sets it for every case; either replaces what the file said.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = ["SweepSpec", "load_spec", "parse_assignment", "parse_value"]

_TOP = ("out", "scheduler", "n_workers", "base", "grid")


@dataclass
class SweepSpec:
    """Settings of a sweep before it runs.

    Attributes
    ----------
    base : dict
        Settings shared by every case.
    grid : dict of name -> list
        Swept settings; the cases are the product of the lists.
    out, scheduler, n_workers
        Where results go, a Dask scheduler address, the local cluster's size
        (None: the caller's default).
    """

    base: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    out: str | None = None
    scheduler: str | None = None
    n_workers: int | None = None

    def set(self, name: str, values: list) -> None:
        """One value goes to ``base``, several to ``grid``; either replaces ``name`` wherever it was."""
        self.base.pop(name, None)
        self.grid.pop(name, None)
        if len(values) == 1:
            self.base[name] = values[0]
        else:
            self.grid[name] = list(values)


def load_spec(path: str | os.PathLike) -> SweepSpec:
    """Read a spec file (TOML, layout in the module docstring).

    Raises
    ------
    ValueError
        Malformed TOML, unknown top-level keys, or a ``[grid]`` entry that is
        not a non-empty list.
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(doc) - set(_TOP))
    if unknown:
        raise ValueError(f"{path}: unknown top-level keys {unknown}; expected some of {list(_TOP)} "
                         "(settings go in [base] or [grid])")
    base, grid = doc.get("base", {}), doc.get("grid", {})
    if not isinstance(base, dict) or not isinstance(grid, dict):
        raise ValueError(f"{path}: [base] and [grid] must be tables")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"{path}: [grid] {name} expected a non-empty list, got {values!r} "
                             "(a single value goes in [base])")
    n_workers = doc.get("n_workers")
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1):
        raise ValueError(f"{path}: n_workers expected a positive integer, got {n_workers!r}")
    for key in ("out", "scheduler"):
        if key in doc and not isinstance(doc[key], str):
            raise ValueError(f"{path}: {key} expected a string, got {doc[key]!r}")
    return SweepSpec(dict(base), dict(grid), doc.get("out"), doc.get("scheduler"), n_workers)


def parse_value(text: str) -> Any:
    """One value as TOML reads it (``1e-3``, ``true``, ``[4, 8]``, ``"x"``); ``none`` is None; else the text."""
    text = text.strip()
    if text.lower() in ("none", "null"):
        return None
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        pass
    try:  # what TOML refuses but Python reads as a number: '.5', '1E3'
        return float(text)
    except ValueError:
        return text  # a bare word such as moons


def _split(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: 'a,[1,2],"x,y"' -> ['a', '[1,2]', '"x,y"']."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_assignment(text: str) -> tuple[str, list]:
    """``'tau2=1e-3,1e-2'`` -> ``('tau2', [0.001, 0.01])``; a list value is bracketed: ``grids=[4,8],[4,8,16]``."""
    name, sep, values = text.partition("=")
    name = name.strip()
    if not sep or not name or not values.strip():
        raise ValueError(f"--set: expected NAME=VALUE or NAME=V1,V2,..., got {text!r}")
    parsed = [parse_value(v) for v in _split(values)]
    return name.replace("-", "_"), parsed

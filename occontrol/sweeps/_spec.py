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
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ._cases import Case, check_cases, expand

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the tomli backport (the sweep and test extras install it)
    import tomli as tomllib

__all__ = ["SweepSpec", "load_spec", "parse_assignment", "parse_value", "check_workers", "DEFAULT_OUT",
           "DEFAULT_WORKERS"]

_TOP = ("out", "scheduler", "n_workers", "base", "grid")
DEFAULT_OUT = "occontrol-results/sweep"  # where the case folders go when neither the spec nor the caller says
DEFAULT_WORKERS = 2  # workers of the local cluster when neither the spec nor the caller says


def check_workers(n_workers: Any) -> int:
    """``n_workers`` as a positive integer (the one check of a worker count).

    Raises
    ------
    ValueError
        Anything but a positive integer (booleans included).
    """
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers: expected a positive integer, got {n_workers!r}")
    return n_workers


def check_scheduler(scheduler: Any) -> str | None:
    """``scheduler`` as an address string, or None (a local cluster).

    Raises
    ------
    TypeError
        Anything but a string or None.
    """
    if scheduler is not None and not isinstance(scheduler, str):
        raise TypeError(f"scheduler: expected an address such as 'tcp://host:8786', got {scheduler!r}")
    return scheduler


@dataclass
class SweepSpec:
    """Settings of a sweep before it runs: what a spec file and the command line say, merged.

    Attributes
    ----------
    base, grid : dict
        The common settings, and name -> list of the swept ones (as for :func:`sweep`).
    out, scheduler, n_workers
        Where results go, a Dask scheduler address, the local cluster's size
        (None: the defaults, see :attr:`folder` and :attr:`workers`).

    Raises
    ------
    ValueError, TypeError
        ``base`` or ``grid`` not tables, a ``grid`` entry that is not a
        non-empty list, ``out`` or ``scheduler`` not strings, ``n_workers`` not
        a positive integer.
    """

    base: dict = field(default_factory=dict)
    grid: dict = field(default_factory=dict)
    out: str | None = None
    scheduler: str | None = None
    n_workers: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.base, dict) or not isinstance(self.grid, dict):
            raise TypeError("base, grid: expected tables ([base] and [grid]) of settings")
        for name, values in self.grid.items():
            if not isinstance(values, list) or not values:
                raise ValueError(f"grid: {name} expected a non-empty list, got {values!r} "
                                 "(a single value goes in [base])")
        if self.n_workers is not None:
            check_workers(self.n_workers)
        check_scheduler(self.scheduler)
        if self.out is not None and (not isinstance(self.out, str) or not self.out.strip()):
            raise ValueError(f"out: expected a folder path, got {self.out!r}")

    def set(self, name: str, values: list) -> None:
        """One value goes to ``base``, several to ``grid``; either replaces ``name`` wherever it was."""
        self.base.pop(name, None)
        self.grid.pop(name, None)
        if len(values) == 1:
            self.base[name] = values[0]
        else:
            self.grid[name] = list(values)

    def merged(self, assignments: Sequence[str] = (), *, grids: Sequence[int] | None = None,
               out: str | None = None, scheduler: str | None = None, n_workers: int | None = None) -> "SweepSpec":
        """A copy with the command line on top of this spec.

        Parameters
        ----------
        assignments : sequence of str
            ``NAME=V1,V2`` sweeps NAME, ``NAME=V`` sets it (see
            :func:`parse_assignment`); each replaces NAME wherever it was.
        grids : sequence of int, optional
            The layer counts of every case (a list-valued setting).
        out, scheduler, n_workers : optional
            Replace the spec's values when given.

        Raises
        ------
        ValueError, TypeError
            A malformed assignment or a bad ``out``, ``scheduler`` or ``n_workers``.
        """
        spec = SweepSpec(dict(self.base), {k: list(v) for k, v in self.grid.items()},
                         self.out if out is None else out, self.scheduler if scheduler is None else scheduler,
                         self.n_workers if n_workers is None else n_workers)
        for text in assignments:
            spec.set(*parse_assignment(text))
        if grids is not None:
            spec.set("grids", [list(grids)])
        return spec

    @property
    def folder(self) -> str:
        """Where the sweep writes: ``out``, else :data:`DEFAULT_OUT`."""
        return self.out or DEFAULT_OUT

    @property
    def workers(self) -> int:
        """Workers of the local cluster: ``n_workers``, else :data:`DEFAULT_WORKERS`."""
        return self.n_workers or DEFAULT_WORKERS

    def cases(self, check: Callable[[dict], Any]) -> list[Case]:
        """Every case of the spec, each checked by ``check`` (ValueError or TypeError naming the case)."""
        cases = expand(self.base, self.grid)
        check_cases(cases, check)
        return cases


def load_spec(path: str | os.PathLike) -> SweepSpec:
    """Read a spec file (TOML, layout in the module docstring).

    Raises
    ------
    ValueError
        Malformed TOML, unknown top-level keys, or a value :class:`SweepSpec`
        refuses (named with the file).
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
    try:
        return SweepSpec(doc.get("base", {}), doc.get("grid", {}), doc.get("out"), doc.get("scheduler"),
                         doc.get("n_workers"))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from exc


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

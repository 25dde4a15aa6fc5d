"""Figures of a sweep: a result against a swept setting, and results case by case.

Failed cases are drawn as red crosses (or hollow markers), never as results.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from ..plot import new_figure, save_figure
from ..records import Keyed

__all__ = ["first_numeric", "trend_figure", "by_case_figure"]


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def first_numeric(rows: Sequence[Keyed], swept: Sequence[str]) -> str | None:
    """The first swept setting whose values are all numbers (the natural x axis)."""
    return next((k for k in swept if rows and all(_number(row.get(k)) for row in rows)), None)


def _label(row: Keyed, keys: Sequence[str]) -> str:
    return ", ".join(f"{k}={row.get(k)}" for k in keys)


def trend_figure(rows: Sequence[Keyed], swept: Sequence[str], column: str, path: str | os.PathLike,
                 title: str = "") -> Path | None:
    """``column`` against the first numeric swept setting, one line per combination of the others.

    Returns the path, or None when no swept setting is numeric or no case has a value.
    """
    x = first_numeric(rows, swept)
    valued = [row for row in rows if _number(row.get(column))]
    if x is None or not valued:
        return None
    others = [k for k in swept if k != x]
    fig = new_figure(figsize=(6.4, 4.2))
    ax = fig.subplots()
    groups: dict[str, list[Keyed]] = {}
    for row in valued:
        groups.setdefault(_label(row, others), []).append(row)
    for label, group in groups.items():
        ok = sorted((row for row in group if row["status"] == "ok"), key=lambda row: row[x])
        if ok:
            ax.plot([row[x] for row in ok], [row[column] for row in ok], "o-", label=label or None)
    failed = [row for row in valued if row["status"] != "ok"]
    if failed:
        ax.plot([row[x] for row in failed], [row[column] for row in failed], "x", color="red", ms=9, mew=2,
                label="failed case")
    xs = [row[x] for row in rows]
    if min(xs) > 0 and max(xs) >= 10 * min(xs):
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(column)
    ax.set_title(title or f"{column} against {x}")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    save_figure(fig, path)
    return Path(path)


def by_case_figure(rows: Sequence[Keyed], swept: Sequence[str], columns: Sequence[str],
                   path: str | os.PathLike, title: str = "", xlabel: str = "") -> Path | None:
    """One row per case (labelled by its swept settings), one marker per column.

    Returns the path, or None when no case has a value in any of ``columns``.
    """
    if not any(_number(row.get(c)) for row in rows for c in columns):
        return None
    fig = new_figure(figsize=(7.0, 1.2 + 0.38 * len(rows)))
    ax = fig.subplots()
    markers = "osD^v<>ph*"
    for j, column in enumerate(columns):
        for ok in (True, False):
            pts = [(row[column], i) for i, row in enumerate(rows)
                   if _number(row.get(column)) and (row["status"] == "ok") == ok]
            if pts:
                ax.plot(*zip(*pts), markers[j % len(markers)], color=f"C{j}", ls="none",
                        mfc=None if ok else "none", label=column if ok else f"{column} (failed case)")
    labels = [_label(row, swept) or row["case"] for row in rows]
    labels = [lab + ("" if row["status"] == "ok" else f"  [{row['status'].upper()}]") for lab, row in zip(labels, rows)]
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=7, loc="best")
    save_figure(fig, path)
    return Path(path)

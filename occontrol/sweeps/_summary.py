"""The summary table of a sweep, one row per case, as CSV and JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Sequence

from ..io import atomic_write
from ..records import case_outcome, markdown_table, write_document
from ._cases import Case

__all__ = ["summary_row", "summary_columns", "write_summary", "text_table"]

# Row fields that are not settings or results, in the order they are shown.
STATUS_FIELDS = ("case", "status", "outcome", "reason")
RUN_FIELDS = ("seconds", "attempt", "host")


def summary_row(case: Case, record: dict | None) -> dict:
    """The row of one case from its marker (None: the case has not completed)."""
    row: dict[str, Any] = {"case": case.name, **case.settings}
    if record is None:
        row.update(status="incomplete", outcome=case_outcome("incomplete"),
                   reason="no marker: not run yet, or interrupted")
        return row
    row.update(status=record["status"], outcome=case_outcome(record["status"]), reason=record.get("reason"))
    for key, value in record.get("results", {}).items():
        row[f"result_{key}" if key in row else key] = value  # a result never overwrites a setting
    row.update({k: record.get(k) for k in RUN_FIELDS})
    return row


def summary_columns(rows: Sequence[dict], cases: Sequence[Case], swept: Sequence[str]) -> list[str]:
    """case, swept settings, other settings, status, outcome, reason, results (first seen order), run fields."""
    settings = list(dict.fromkeys(k for case in cases for k in case.settings))
    results = dict.fromkeys(k for row in rows for k in row
                            if k not in STATUS_FIELDS + RUN_FIELDS and k not in settings)
    return ["case", *swept, *[k for k in settings if k not in swept], "status", "outcome", "reason", *results,
            *[k for k in RUN_FIELDS if any(k in row for row in rows)]]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    return repr(value) if isinstance(value, float) else str(value)


def write_summary(out: Path, rows: Sequence[dict], cases: Sequence[Case], base: dict,
                  grid: dict) -> list[Path]:
    """summary.json (with the spec and counts) and summary.csv, atomically; return both paths."""
    head = summary_columns(rows, cases, list(grid))
    counts = {status: sum(row["status"] == status for row in rows) for status in ("ok", "failed", "incomplete")}
    doc = {"base": base, "grid": grid, "counts": counts, "columns": head, "cases": list(rows)}
    paths = [write_document(out / "summary.json", "sweep-summary", doc, {"base": base, "grid": grid})]

    def write_csv(tmp: str) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(head)
            for row in rows:
                writer.writerow([_cell(row.get(k)) for k in head])
    paths.append(atomic_write(out / "summary.csv", write_csv))
    return paths


def text_table(rows: Sequence[dict], keys: Sequence[str]) -> str:
    """A markdown table of ``keys`` for the terminal."""
    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return "-" if value is None else str(value)
    return markdown_table(keys, [[fmt(row.get(k)) for k in keys] for row in rows])

"""The summary table of a sweep, one row per case, as CSV and JSON."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..io import atomic_write
from ..records import Keyed, KeyedRecord, markdown_table, write_document
from ._cases import Case, CaseRecord, CaseStatus

__all__ = ["SummaryRow", "summary_row", "summary_columns", "write_summary", "text_table"]

# Row fields that are not settings or results, in the order they are shown.
STATUS_FIELDS = ("case", "status", "outcome", "reason")
RUN_FIELDS = ("seconds", "attempt", "host")


@dataclass
class SummaryRow(CaseStatus, KeyedRecord):
    """One row of a sweep's summary: the case, its settings, how it ended, its results, its run.

    Read by key as the flat row it is in summary.json and summary.csv
    (``row["status"]``, ``row[setting]``, ``row[result]``); a result named
    like a setting is ``result_<name>``. An incomplete case has no run keys.

    Attributes
    ----------
    case : str
        The case folder's name.
    settings : dict
        Every setting of the case.
    status : str
        'ok', 'failed' or 'incomplete'.
    reason : str or None
    results : dict
    seconds, attempt, host : optional
        From the marker (absent from the row of an incomplete case).
    """

    case: str
    settings: dict
    status: str
    reason: str | None = None
    results: dict = field(default_factory=dict)
    seconds: float | None = None
    attempt: int | None = None
    host: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The flat row: case, settings, status, outcome, reason, results, then the run fields."""
        row: dict[str, Any] = {"case": self.case, **self.settings, "status": self.status,
                               "outcome": self.outcome, "reason": self.reason}
        for key, value in self.results.items():
            row[f"result_{key}" if key in row else key] = value  # a result never overwrites a setting
        if self.status != "incomplete":
            row.update(seconds=self.seconds, attempt=self.attempt, host=self.host)
        return row

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], settings: Sequence[str] = ()) -> "SummaryRow":
        """The row of a summary.json entry; ``settings`` names its settings (the other keys are results)."""
        fixed = {"case", "status", "outcome", "reason", *(RUN_FIELDS if data.get("status") != "incomplete" else ())}
        results = {k[len("result_"):] if k.startswith("result_") and k[len("result_"):] in settings else k: v
                   for k, v in data.items() if k not in fixed and k not in settings}
        return cls(data["case"], {k: data[k] for k in settings if k in data}, data["status"], data.get("reason"),
                   results, **{k: data.get(k) for k in RUN_FIELDS})


def summary_row(case: Case, record: Keyed | None) -> SummaryRow:
    """The row of one case from its marker (None: the case has not completed)."""
    if record is None:
        return SummaryRow(case.name, dict(case.settings), "incomplete", "no marker: not run yet, or interrupted")
    marker = record if isinstance(record, CaseRecord) else CaseRecord.from_dict({"name": case.name, **record})
    return SummaryRow(case.name, dict(case.settings), marker.status, marker.reason, dict(marker.results),
                      marker.seconds, marker.attempt, marker.host)


def summary_columns(rows: Sequence[Keyed], cases: Sequence[Case], swept: Sequence[str]) -> list[str]:
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


def write_summary(out: Path, rows: Sequence[Keyed], cases: Sequence[Case], base: dict,
                  grid: dict) -> list[Path]:
    """summary.json (with the spec and counts) and summary.csv, atomically; return both paths."""
    head = summary_columns(rows, cases, list(grid))
    counts = {status: sum(row["status"] == status for row in rows) for status in ("ok", "failed", "incomplete")}
    doc = {"base": base, "grid": grid, "counts": counts, "columns": head, "cases": [dict(row) for row in rows]}
    paths = [write_document(out / "summary.json", "sweep-summary", doc, {"base": base, "grid": grid})]

    def write_csv(tmp: str) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(head)
            for row in rows:
                writer.writerow([_cell(row.get(k)) for k in head])
    paths.append(atomic_write(out / "summary.csv", write_csv))
    return paths


def text_table(rows: Sequence[Keyed], keys: Sequence[str]) -> str:
    """A markdown table of ``keys`` for the terminal."""
    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return "-" if value is None else str(value)
    return markdown_table(keys, [[fmt(row.get(k)) for k in keys] for row in rows])

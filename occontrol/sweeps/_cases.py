"""The cases of a sweep: the product of settings, one folder per case, and the
marker written last that says a case is complete.

A case folder is named from its settings (the swept values, readable, and a
short hash of every setting), so the same settings always land in the same
folder: that is what lets a rerun skip finished cases and resume the rest.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import socket
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..io import DamagedFile, atomic_write, json_safe, read_json, write_json
from ..records import SCHEMAS, Keyed, KeyedRecord, case_outcome, document, write_document

__all__ = ["Case", "CaseRecord", "TaskOutcome", "expand", "case_name", "read_marker", "same_settings", "execute",
           "lost_record", "check_cases", "MARKER", "SCHEMA"]

SCHEMA = SCHEMAS["sweep-case"]
MARKER = "case.json"      # written last: its presence means the case is complete (ok or failed)
ATTEMPT = "attempt.json"  # written first: how many times the case has been started
ERROR = "error.txt"       # the traceback of a case that raised


@dataclass(frozen=True)
class Case:
    """One point of the product of settings.

    Attributes
    ----------
    settings : dict
        Every setting given (the base with this case's swept values).
    swept : dict
        The swept settings alone, in the grid's order.
    name : str
        The case folder's name: readable ``key=value`` parts and a hash.
    """

    settings: dict
    swept: dict
    name: str

    @property
    def label(self) -> str:
        """The swept settings as ``key=value`` words (for progress lines and figures)."""
        return " ".join(f"{k}={_text(v)}" for k, v in self.swept.items()) or "(base)"


def _canonical(value: Any, name: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name}: expected plain data (numbers, strings, booleans, lists), got {value!r}") from exc


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "-".join(_text(v) for v in value)
    return str(value)


class CaseStatus:
    """The outcome of a sweep case's ``status`` (shared by the marker and the summary row)."""

    status: str

    @property
    def outcome(self) -> str:
        """'converged', 'failed' or 'incomplete' (:func:`occontrol.records.case_outcome` of the status)."""
        return case_outcome(self.status)


@dataclass
class CaseRecord(CaseStatus, KeyedRecord):
    """A sweep case's marker, case.json: how the case ended, its results, and its run.

    Read by key as the dict it was (``record["status"]``); written as
    case.json's keys: ``schema``, the fields, ``outcome`` and ``detail``
    (derived from ``status`` and ``reason``), ``provenance`` and, for a case
    run again, ``provenance_history``.

    Attributes
    ----------
    name : str
        The case folder's name.
    settings : dict
        Every setting of the case.
    status : str
        'ok' or 'failed'.
    reason : str or None
        Why it failed (or a note on an ok case).
    results : dict
        The task's results, strict JSON (non-finite as None).
    attempt : int
        How many times the case was started.
    started, finished : str or None
        Local time stamps of the attempt.
    seconds : float or None
        Wall time of the attempt (None: the task never returned).
    host : str or None
        Where it ran.
    schema : int
        The schema version of case.json.
    provenance, provenance_history : optional
        As written by :func:`occontrol.records.document` (None: not yet written).
    """

    name: str
    settings: dict
    status: str
    reason: str | None = None
    results: dict = field(default_factory=dict)
    attempt: int = 0
    started: str | None = None
    finished: str | None = None
    seconds: float | None = None
    host: str | None = None
    schema: int = SCHEMA
    provenance: dict | None = None
    provenance_history: list | None = None

    def body(self) -> dict[str, Any]:
        """case.json's own keys: the fields of the run, outcome and detail (no schema, no provenance)."""
        out = {k: v for k, v in super().as_dict().items() if k not in _STAMP}
        out.update(outcome=self.outcome, detail=self.reason)
        return out

    def as_dict(self) -> dict[str, Any]:
        """The keys of case.json, in its order (``provenance_history`` only when there is one)."""
        out = {"schema": self.schema, **self.body(), "provenance": self.provenance}
        if self.provenance_history is not None:
            out["provenance_history"] = self.provenance_history
        return out


_STAMP = ("schema", "provenance", "provenance_history")  # written by occontrol.records.document


@dataclass
class TaskOutcome(KeyedRecord):
    """What a sweep task's ``run`` returns (a plain dict with these keys is accepted too).

    Attributes
    ----------
    status : str
        'ok' or 'failed'.
    reason : str or None
    results : mapping of name -> number or None
    """

    status: str
    reason: str | None = None
    results: Any = field(default_factory=dict)


def case_name(settings: Mapping[str, Any], swept: Mapping[str, Any]) -> str:
    """``key=value_...`` of the swept settings, then 10 hex digits of a hash of every setting."""
    digest = hashlib.sha256(_canonical(dict(settings), "settings").encode()).hexdigest()[:10]
    readable = "_".join(f"{k}={_text(v)}" for k, v in swept.items())
    readable = re.sub(r"[^A-Za-z0-9._=+-]", "-", readable)[:80]  # safe on every filesystem
    return f"{readable}_{digest}" if readable else digest


def expand(base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]]) -> list[Case]:
    """Every case of the product of ``grid``'s lists, on top of ``base``.

    Parameters
    ----------
    base : mapping
        Settings shared by every case.
    grid : mapping of name -> non-empty list
        The swept settings; the product runs through them in the given order
        (the last name varies fastest).

    Raises
    ------
    TypeError, ValueError
        A grid entry that is not a non-empty list, a name both in ``base`` and
        ``grid``, repeated values, or values that are not plain data.
    """
    if not isinstance(base, Mapping):
        raise TypeError(f"base: expected a mapping of settings, got {type(base).__name__}")
    if not isinstance(grid, Mapping):
        raise TypeError(f"grid: expected a mapping of setting -> list of values, got {type(grid).__name__}")
    for name in list(base) + list(grid):
        if not isinstance(name, str) or not name:
            raise TypeError(f"settings: expected names as non-empty strings, got {name!r}")
    both = sorted(set(base) & set(grid))
    if both:
        raise ValueError(f"grid: {both} also in base; give each setting in one place")
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ValueError(f"grid: {name} expected a non-empty list of values, got {values!r}")
        texts = [_canonical(v, f"grid: {name}") for v in values]
        if len(set(texts)) != len(texts):
            raise ValueError(f"grid: {name} repeats a value in {list(values)}")
    _canonical(dict(base), "base")
    cases = []
    for combo in itertools.product(*grid.values()):
        swept = dict(zip(grid, combo))
        settings = {**base, **swept}
        cases.append(Case(settings, swept, case_name(settings, swept)))
    return cases


def read_marker(folder: str | os.PathLike) -> CaseRecord | None:
    """The case's marker, or None while the case is not complete."""
    path = Path(folder) / MARKER
    if not path.exists():
        return None
    record = read_json(path)
    if not isinstance(record, dict) or record.get("status") not in ("ok", "failed") \
            or not isinstance(record.get("settings"), dict):
        raise DamagedFile(path, "not a case marker")
    return CaseRecord.from_dict({"name": Path(folder).name, **record})


def same_settings(record: Keyed, case: Case) -> bool:
    """Whether a marker was written for exactly ``case``'s settings (a guard against hash collisions)."""
    return _canonical(record.get("settings"), "marker") == _canonical(case.settings, "settings")


def _plain(value: Any) -> Any:
    """Results as strict JSON: numpy scalars to Python, NaN and inf to None, anything else as its repr."""
    return json_safe(value, repr)


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def execute(run: Callable[[dict, str], Keyed], settings: dict, folder: str,
            retry_failed: bool = False) -> CaseRecord:
    """Run one case into ``folder`` (on a worker) and write its marker last.

    ``run(settings, folder)`` returns a :class:`TaskOutcome` or the plain dict
    ``{"status": "ok" | "failed", "reason": str | None, "results": {name: number}}``. An exception it raises is
    recorded as a failed case, with the traceback in ``error.txt``, so one
    case never stops the sweep. Returns the marker's record (plain data).
    A case already complete (a failed one too, unless ``retry_failed``) is
    not run again: its marker is returned (a :class:`CaseRecord`).
    """
    path = Path(folder)
    existing = read_marker(path)
    # Dask recomputes a finished task whose result died with its worker: the marker says it is done
    if existing is not None and (existing.status == "ok" or not retry_failed):
        return existing
    path.mkdir(parents=True, exist_ok=True)
    previous = read_json(path / ATTEMPT) if (path / ATTEMPT).exists() else {}
    attempt = int(previous.get("attempt", 0)) + 1
    started = _stamp()
    host = socket.gethostname()
    write_document(path / ATTEMPT, "sweep-attempt", {"attempt": attempt, "started": started, "host": host,
                                                     "pid": os.getpid()}, settings)
    for stale in (MARKER, ERROR):  # an earlier attempt's verdict would mislead (retrying a failed case)
        if (path / stale).exists():
            (path / stale).unlink()
    clock = time.perf_counter()
    try:
        outcome = run(dict(settings), str(path))
        status, reason, results = outcome["status"], outcome.get("reason"), outcome.get("results", {})
        if status not in ("ok", "failed"):
            raise ValueError(f"run: expected status 'ok' or 'failed', got {status!r}")
    except Exception as exc:  # recorded, never hidden: the marker says failed, error.txt has the traceback
        status, reason, results = "failed", f"{type(exc).__name__}: {exc}", {}
        text = traceback.format_exc()
        atomic_write(path / ERROR, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    record = CaseRecord(path.name, settings, status, None if reason is None else str(reason), _plain(results),
                        attempt, started, _stamp(), time.perf_counter() - clock, host)
    return _write_marker(path, record, existing)


def _write_marker(folder: Path, record: CaseRecord, previous: CaseRecord | None) -> CaseRecord:
    """Write case.json (schema, outcome and detail, provenance); return it as written."""
    doc = document("sweep-case", record.body(), record.settings, previous)
    write_json(folder / MARKER, doc)
    return CaseRecord.from_dict(doc)


def lost_record(case: Case, folder: Path, error: BaseException) -> CaseRecord:
    """The marker of a case whose task never returned (its worker died, say), written by the client."""
    previous = read_json(folder / ATTEMPT) if (folder / ATTEMPT).exists() else {}
    record = CaseRecord(case.name, case.settings, "failed",
                        f"the task did not return: {type(error).__name__}: {error}", {},
                        int(previous.get("attempt", 0)), previous.get("started"), _stamp(), None,
                        previous.get("host"))
    return _write_marker(folder, record, None)


def check_cases(cases: Sequence[Case], check: Callable[[dict], Any]) -> None:
    """Call ``check`` on every case's settings; re-raise the first error naming the case."""
    for case in cases:
        try:
            check(dict(case.settings))
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"sweep case {case.label}: {exc}") from exc

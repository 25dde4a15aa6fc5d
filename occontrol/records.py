"""One results layer: typed records, one outcome vocabulary, one schema
registry and one provenance record for every results document, and one
markdown-table helper.

Records are dataclasses written with :meth:`Record.to_dict` (through the one
JSON sanitiser, :func:`occontrol.io.json_safe`) and read with
:meth:`Record.from_dict`, which ignores keys it does not know (a file written
by a newer occontrol still reads). A :class:`KeyedRecord` is also read by key,
as the plain dict it replaced was (``row["status"]``).

Every record that reports a solve or a run says how it ended with one word of
:data:`OUTCOMES` (``outcome``), and keeps what the solver or the runner said
in its own words (``detail``; IPOPT's status text, a sweep case's reason).

Every results document (study.json, compare.json, sweep.json, a sweep case's
case.json, ...) is stamped by :func:`document` with its schema version from
:data:`SCHEMAS` and a :func:`provenance` record: the versions of occontrol,
CasADi, IPOPT, numpy, ... , the machine, and the settings. A document
rewritten in place (a resumed study) keeps the provenance of the runs before
in ``provenance_history``; a run written before provenance was recorded
appears there as ``null``.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import importlib.metadata
import os
import platform
import socket
from collections.abc import Iterator
from collections.abc import Mapping as MappingABC
from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar, Literal, Mapping, Sequence, TypeVar, Union

from ._checks import as_choice
from .io import DamagedFile, json_safe, read_json, write_json

__all__ = ["Record", "KeyedRecord", "Keyed",
           "OUTCOMES", "Outcome", "solve_outcome", "case_outcome", "SCHEMAS", "document",
           "write_document", "provenance", "ipopt_version", "markdown_table", "json_safe"]

# converged: the solve met its tolerance (a sweep case: its task reported ok); failed: it stopped without
# (IPOPT's iteration or time limit, an infeasible problem, an exception); diverged: a gradient run's objective or
# weights went non-finite; budget: a gradient run used its steps or seconds (it has no convergence test);
# incomplete: not run yet, or interrupted
OUTCOMES = ("converged", "failed", "diverged", "budget", "incomplete")
Outcome = Literal["converged", "failed", "diverged", "budget", "incomplete"]

# IPOPT's return statuses that CasADi counts as success (used for records written without a success flag)
_IPOPT_SUCCESS = ("Solve_Succeeded", "Solved_To_Acceptable_Level", "Feasible_Point_Found")

# a sweep case's status (case.json, summary.csv) -> outcome
_CASE_OUTCOMES = {"ok": "converged", "failed": "failed", "incomplete": "incomplete"}

# the schema version of every results document, by kind
SCHEMAS: dict[str, int] = {"study": 1, "sweep": 1, "sweep-case": 1, "sweep-attempt": 1, "sweep-summary": 1,
                           "compare": 1, "solution": 1, "level": 1}

# the distributions whose versions make up a provenance record (absent ones are recorded as None)
PACKAGES = ("occontrol", "casadi", "numpy", "scipy", "torch", "scikit-learn", "dask", "matplotlib")

R = TypeVar("R", bound="Record")


def solve_outcome(success: bool | None, status: str | None = None) -> str:
    """The outcome of a solve: 'converged' or 'failed'.

    ``success`` is the solver's own verdict (CasADi's ``stats['success']``);
    when a record has none (None), IPOPT's ``status`` text decides: its
    success statuses are converged, every other status failed.
    """
    if success is None:
        return "converged" if status in _IPOPT_SUCCESS else "failed"
    return "converged" if success else "failed"


def case_outcome(status: str) -> str:
    """The outcome of a sweep case from its status ('ok', 'failed' or 'incomplete')."""
    return _CASE_OUTCOMES[as_choice(status, "status", _CASE_OUTCOMES)]


class Record:
    """A results record: a dataclass written and read through one pair of helpers.

    The base is not a dataclass itself, so a record may be frozen or not.
    """

    __dataclass_fields__: ClassVar[dict[str, Any]]  # set by @dataclass on every subclass (for the type checker)

    def as_dict(self) -> dict[str, Any]:
        """The fields (and what a subclass derives from them) as they are in memory."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_dict(self) -> dict[str, Any]:
        """`as_dict()` as strict-JSON-ready plain data (non-finite floats as None)."""
        return json_safe(self.as_dict())

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        """The record of ``data``; keys that are not fields (added by later versions) are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


class KeyedRecord(Record):
    """A record that is also read by key, as the plain dict it replaces was (``row["status"]``,
    ``row.get("reason")``, ``dict(row)``, :func:`~occontrol.io.json_safe`).

    The keys are those of :meth:`Record.as_dict` (for a record written flat,
    the flattened view). It is registered as a read-only ``Mapping`` so the
    JSON sanitiser writes it as its keys.
    """

    def __getitem__(self, key: str) -> Any:
        return self.as_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        """The value of ``key``, or ``default`` when the record has no such key."""
        return self.as_dict().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.as_dict()

    def keys(self) -> Any:
        """The record's keys."""
        return self.as_dict().keys()

    def items(self) -> Any:
        """The record's (key, value) pairs."""
        return self.as_dict().items()

    def values(self) -> Any:
        """The record's values, in key order (a mapping's values view)."""
        return self.as_dict().values()

    def __iter__(self) -> Iterator[str]:
        return iter(self.as_dict())

    def __len__(self) -> int:
        return len(self.as_dict())


MappingABC.register(KeyedRecord)

# what code that reads results by key accepts: a plain dict or a keyed record
Keyed = Union[Mapping[str, Any], KeyedRecord]


# ------------------------------------------------------------------ provenance
def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


@functools.lru_cache(maxsize=1)
def ipopt_version() -> str | None:
    """The version of the IPOPT library CasADi loads (``GetIpoptVersion`` of the library shipped with
    CasADi), or None when it cannot be found without solving."""
    try:
        import casadi
    except ImportError:
        return None
    folder = os.path.dirname(casadi.__file__)
    for path in sorted(glob.glob(os.path.join(folder, "*ipopt*")), key=len):
        if "sipopt" in path or "nlpsol" in path or path.endswith(".la"):
            continue
        try:
            lib = ctypes.CDLL(path)
            major, minor, release = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
            lib.GetIpoptVersion(ctypes.byref(major), ctypes.byref(minor), ctypes.byref(release))
        except (OSError, AttributeError):
            continue
        return f"{major.value}.{minor.value}.{release.value}"
    return None


@functools.lru_cache(maxsize=1)
def _environment() -> dict[str, Any]:
    versions = {name: _version(name) for name in PACKAGES}
    versions["ipopt"] = ipopt_version()
    return {"versions": versions, "python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "host": socket.gethostname(), "cpu_count": os.cpu_count()}


def provenance(settings: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What produced a results document: package versions (IPOPT's included), the machine, the settings.

    Parameters
    ----------
    settings : mapping, optional
        The run's settings, recorded as given (None: not recorded here).

    Returns
    -------
    dict
        ``{"versions": {package: version or None}, "python", "platform",
        "machine", "host", "cpu_count", "settings"}``.
    """
    return json_safe({**_environment(), "settings": None if settings is None else dict(settings)})


def document(kind: str, body: Mapping[str, Any], settings: Mapping[str, Any] | None = None,
             previous: Any = None) -> dict[str, Any]:
    """A results document: ``schema`` (from :data:`SCHEMAS`), ``body``, and ``provenance``.

    Parameters
    ----------
    kind : str
        A key of :data:`SCHEMAS`.
    body : mapping
        The document's own keys (a ``schema`` in it is replaced by the registry's).
    settings : mapping, optional
        Recorded in the provenance.
    previous : dict, optional
        The document this one replaces (a resumed run): its provenance, if it
        differs, is kept in ``provenance_history`` (None for a document written
        before provenance was recorded).

    Raises
    ------
    ValueError
        ``kind`` is not registered.
    """
    as_choice(kind, "kind", SCHEMAS)
    doc = {"schema": SCHEMAS[kind], **{k: v for k, v in body.items() if k != "schema"}}
    doc["provenance"] = provenance(settings)
    if isinstance(previous, Mapping):
        history = list(previous.get("provenance_history") or [])
        if previous.get("provenance") != doc["provenance"]:
            history.append(previous.get("provenance"))
        if history:
            doc["provenance_history"] = history
    return doc


def write_document(path: str | os.PathLike, kind: str, body: Mapping[str, Any],
                   settings: Mapping[str, Any] | None = None, previous: Any = None) -> Path:
    """Write :func:`document` to ``path`` atomically, keeping the provenance of the document it replaces.

    ``previous`` defaults to the document at ``path`` (none if absent or unreadable).
    """
    path = Path(path)
    if previous is None and path.exists():
        try:
            previous = read_json(path)
        except DamagedFile:  # replaced anyway; its provenance is lost with it
            previous = None
    return write_json(path, document(kind, body, settings, previous))


# ------------------------------------------------------------------ tables
def markdown_table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table: the header, the separator, one line per row (cells as ``str``)."""
    lines = ["| " + " | ".join(str(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)

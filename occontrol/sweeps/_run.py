"""Sweeps: run one task for every case of a product of settings, on Dask.

Each case is one Dask task that writes into its own folder under ``out`` and
writes the marker ``case.json`` last. A rerun skips the cases whose marker
exists, so a killed sweep resumes (and a task that resumes itself, as a
refinement study does, picks up its own partial work). A case that fails, by
its own verdict or by raising, is recorded as failed with its reason and the
sweep goes on.

By default the cases run on an in-process ``LocalCluster`` (worker processes,
one thread each); with ``scheduler="tcp://host:port"`` they run on the workers
of a running Dask scheduler, for example SLURM or PBS jobs started through
dask-jobqueue. Workers then need occontrol installed and ``out`` on a shared
filesystem.

The sweep's folder is locked for the whole run (:func:`occontrol.io.folder_lock`):
a second sweep into it stops at once with :class:`~occontrol.io.FolderInUse`.
A scheduler that does not answer within ``CONNECT_SECONDS`` ends the sweep
with :class:`SchedulerUnreachable`.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..io import folder_lock
from ..records import Keyed, Record, write_document
from ._cases import Case, CaseRecord, check_cases, execute, expand, lost_record, read_marker, same_settings
from ._spec import DEFAULT_WORKERS, check_scheduler, check_workers
from ._summary import SummaryRow, summary_row, write_summary

__all__ = ["SweepTask", "SweepResult", "SweepRecord", "sweep", "SchedulerUnreachable", "CONNECT_SECONDS"]

CONNECT_SECONDS = 5  # how long to wait for a scheduler to answer


class SchedulerUnreachable(ConnectionError):
    """The Dask scheduler given did not answer."""


@dataclass(frozen=True)
class SweepTask:
    """What runs for each case, and how its results are checked and drawn.

    Attributes
    ----------
    name : str
        Recorded in ``sweep.json``.
    run : callable (settings: dict, folder: str) -> TaskOutcome or dict
        A module-level function (workers import it by name) that runs one case
        into ``folder`` and returns a ``TaskOutcome`` or plain data: ``{"status": "ok" | "failed",
        "reason": str | None, "results": {name: number or None}}``.
    check : callable (settings: dict) -> Any
        Raises ValueError or TypeError on settings that cannot run; called for
        every case before any case runs.
    headline : str, optional
        The result shown in progress lines.
    trends : tuple of str
        Results each drawn against the first numeric swept setting.
    per_case : dict of figure name -> (title, axis label, result names)
        Results drawn case by case, one figure each.
    """

    name: str
    run: Callable[[dict, str], Keyed]
    check: Callable[[dict], Any]
    headline: str | None = None
    trends: tuple[str, ...] = ()
    per_case: Mapping[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)


@dataclass
class SweepResult:
    """The rows of the summary table, and what this run did.

    Attributes
    ----------
    out : Path
    rows : list of SummaryRow
        One per case: settings, status ('ok', 'failed' or 'incomplete'), reason, results
        (read by key, as the rows of summary.json).
    ran, skipped : list of str
        Names of the cases run now, and of those complete before.
    files : list of Path
        summary.json, summary.csv and the figures.
    """

    out: Path
    rows: list[SummaryRow]
    ran: list[str]
    skipped: list[str]
    files: list[Path] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many cases have ``status`` ('ok', 'failed' or 'incomplete')."""
        return sum(row["status"] == status for row in self.rows)

    @property
    def success(self) -> bool:
        """True when every case completed with status 'ok'."""
        return all(row["status"] == "ok" for row in self.rows)


@dataclass
class SweepRecord(Record):
    """sweep.json's own keys: the task, the spec, and the case folders in the product's order."""

    task: str
    base: dict
    grid: dict
    cases: list


def _complete(case: Case, out: Path, retry_failed: bool) -> CaseRecord | None:
    """The marker of a complete case to skip (None: the case runs)."""
    record = read_marker(out / case.name)
    if record is None:
        return None
    if not same_settings(record, case):
        raise ValueError(f"out: {out / case.name} holds a case with other settings; remove that folder")
    if retry_failed and record.status != "ok":
        return None
    return record


@contextlib.contextmanager
def _client(scheduler: str | None, n_workers: int):
    """A Dask client of the given scheduler, or of a fresh LocalCluster (closed on exit)."""
    from distributed import Client, LocalCluster  # optional dependency: occontrol[sweep]
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            # processes, one thread each: IPOPT's MUMPS is not thread-safe, and one solve keeps a core busy
            # dashboard on any free port: two sweeps side by side do not fight over 8787
            cluster = stack.enter_context(LocalCluster(n_workers=n_workers, threads_per_worker=1,
                                                       processes=True, dashboard_address=":0"))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout=CONNECT_SECONDS))
            except (OSError, ValueError, TypeError) as exc:  # dask raises OSError on a timeout
                raise SchedulerUnreachable(f"scheduler: no answer from {scheduler!r} within {CONNECT_SECONDS} s "
                                           f"({type(exc).__name__}: {exc}); is it running?") from exc
        yield client


def _line(done: int, total: int, case: Case, record: CaseRecord, headline: str | None) -> str:
    state = "ok" if record.status == "ok" else "FAILED"
    value = record.results.get(headline) if headline else None
    extra = f"  {headline} {value:.10g}" if isinstance(value, (int, float)) else ""
    seconds = record.seconds
    extra += f"  ({seconds:.1f} s)" if isinstance(seconds, (int, float)) else ""
    if record.status != "ok":
        extra += f"  reason: {record.reason}"
    return f"cases done {done}/{total}  {state:<6s} {case.label}{extra}"


def _run(todo: list[Case], out: Path, task: SweepTask, scheduler: str | None, n_workers: int, retry_failed: bool,
         done: int, total: int, say: Callable[[str], None]) -> list[str]:
    """Submit every case, record each as it finishes; return the names of the cases that completed."""
    from distributed import as_completed
    completed = []
    with _client(scheduler, n_workers) as client:
        futures = {client.submit(execute, task.run, case.settings, str(out / case.name), retry_failed,
                                 pure=False, key=f"case-{case.name}-{os.urandom(4).hex()}"): case for case in todo}
        for future in as_completed(futures):
            case = futures.pop(future)
            if future.status == "finished":
                record = future.result()
            elif future.status == "error":  # the task never returned: its worker died, for example
                record = lost_record(case, out / case.name, future.exception())
            else:  # lost with its worker or cancelled: the marker on disk is the truth
                record = read_marker(out / case.name)
            # released at once: a result held by a worker that dies later would be recomputed
            future.release()
            if record is None:
                say(f"case {case.label}: {future.status}, not complete; it runs again on the next sweep")
                continue
            completed.append(case.name)
            done += 1
            say(_line(done, total, case, record, task.headline))
    return completed


def _figures(out: Path, rows: list[SummaryRow], swept: list[str], task: SweepTask) -> list[Path]:
    from ._figures import by_case_figure, trend_figure  # matplotlib only when drawing
    paths = [trend_figure(rows, swept, column, out / f"{column}.png") for column in task.trends]
    paths += [by_case_figure(rows, swept, columns, out / f"{name}.png", title=title, xlabel=xlabel)
              for name, (title, xlabel, columns) in task.per_case.items()]
    return [p for p in paths if p is not None]


def sweep(base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]], out: str | os.PathLike, *,
          task: SweepTask, scheduler: str | None = None, n_workers: int = DEFAULT_WORKERS,
          retry_failed: bool = False, figures: bool = True,
          progress: Callable[[str], None] | None = print) -> SweepResult:
    """Run ``task`` for every case of the product of ``grid`` on top of ``base``.

    Parameters
    ----------
    base : mapping
        Settings shared by every case.
    grid : mapping of name -> list
        Swept settings; the cases are the product of the lists.
    out : path
        The sweep's folder: one subfolder per case, summary.csv, summary.json,
        sweep.json and figures. Rerunning skips complete cases; extending the
        grid reuses the cases it already holds.
    task : SweepTask
        What runs for each case.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:port``). None: a
        LocalCluster of ``n_workers`` processes, closed at the end.
    n_workers : int
        Workers of the LocalCluster (ignored with ``scheduler``).
    retry_failed : bool
        Run failed cases again (by default a failed case is complete).
    figures : bool
        Draw the task's figures.
    progress : callable, optional
        Receives a line as each case finishes ("cases done k/total ...").
        An exception it raises stops the sweep like Ctrl-C: the cases
        finished so far stay recorded and a rerun resumes the rest.

    Returns
    -------
    SweepResult

    Raises
    ------
    ValueError, TypeError
        Bad settings in any case, before any case runs.
    FolderInUse
        Another process is using ``out``.
    SchedulerUnreachable
        ``scheduler`` did not answer within ``CONNECT_SECONDS``.
    """
    say = progress or (lambda line: None)
    check_workers(n_workers)
    check_scheduler(scheduler)
    if not str(out).strip():  # Path('') is the current folder
        raise ValueError(f"out: expected a folder path, got {str(out)!r}")
    cases = expand(base, grid)
    check_cases(cases, task.check)
    out = Path(out).resolve()  # workers on other machines see the same absolute path on a shared filesystem
    with folder_lock(out):
        return _sweep(cases, base, grid, out, task, scheduler, n_workers, retry_failed, figures, say)


def _sweep(cases: list[Case], base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]], out: Path,
           task: SweepTask, scheduler: str | None, n_workers: int, retry_failed: bool, figures: bool,
           say: Callable[[str], None]) -> SweepResult:
    records = {case.name: _complete(case, out, retry_failed) for case in cases}
    todo = [case for case in cases if records[case.name] is None]
    skipped = [case.name for case in cases if records[case.name] is not None]
    spec = SweepRecord(task.name, dict(base), dict(grid), [case.name for case in cases])
    write_document(out / "sweep.json", "sweep", spec.to_dict(), {"base": dict(base), "grid": dict(grid)})
    where = f"scheduler {scheduler}" if scheduler else f"a local cluster of {n_workers} workers"
    say(f"sweep: {len(cases)} cases, {len(skipped)} complete already, {len(todo)} to run on {where}; "
        f"results in {out}")
    ran = _run(todo, out, task, scheduler, n_workers, retry_failed, len(skipped), len(cases), say) if todo else []
    rows = [summary_row(case, read_marker(out / case.name)) for case in cases]
    files = write_summary(out, rows, cases, dict(base), dict(grid))
    if figures:
        files += _figures(out, rows, list(grid), task)
    return SweepResult(out, rows, ran, skipped, files)

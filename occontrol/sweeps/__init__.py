"""Sweeps: run one task for every case of a product of settings, on Dask.

The public names of the sweep machinery live here; the modules behind them
are private:

- :func:`sweep`, :class:`SweepTask`, :class:`SweepResult`,
  :class:`SchedulerUnreachable`: running a sweep (``_run``);
- :class:`SweepSpec`, :func:`load_spec`, :func:`parse_assignment`: a sweep's
  settings from a TOML file and the command line, merged and checked (``_spec``);
- :class:`Case`, :func:`expand`, :data:`MARKER`: the cases and their folders
  (``_cases``);
- :func:`text_table`: the summary for the terminal (``_summary``);
- :func:`trend_figure`, :func:`by_case_figure`: the figures (``_figures``,
  imported on first use: matplotlib only when drawing).

The function :func:`occontrol.sweep` is :func:`occontrol.sweeps.sweep`.
"""

from __future__ import annotations

from typing import Any

from ._cases import MARKER, SCHEMA, Case, CaseRecord, TaskOutcome, check_cases, expand
from ._run import CONNECT_SECONDS, SchedulerUnreachable, SweepResult, SweepTask, sweep
from ._spec import (DEFAULT_OUT, DEFAULT_WORKERS, SweepSpec, check_workers, load_spec, parse_assignment,
                    parse_value)
from ._summary import text_table

__all__ = ["sweep", "SweepTask", "SweepResult", "TaskOutcome", "CaseRecord", "SchedulerUnreachable",
           "CONNECT_SECONDS", "SweepSpec", "load_spec",
           "parse_assignment", "parse_value", "check_workers", "DEFAULT_OUT", "DEFAULT_WORKERS", "Case", "expand",
           "check_cases", "MARKER", "SCHEMA", "text_table", "trend_figure", "by_case_figure"]

_FIGURES = ("trend_figure", "by_case_figure")


def __getattr__(name: str) -> Any:
    if name not in _FIGURES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import _figures
    return getattr(_figures, name)

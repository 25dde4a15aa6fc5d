"""The deep-limit study as a sweep task: each case is one refinement study
(:func:`run_deep_limit`) written into its own folder, which it resumes on a
rerun.

Example
-------
>>> from occontrol.resnet import sweep_deep_limit
>>> result = sweep_deep_limit({"n": 40, "grids": [4, 8, 16]},
...                           {"tau2": [1e-3, 1e-2], "seed": [0, 1]}, "results/sweep")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..records import KeyedRecord
from ..sweeps import SweepResult, SweepTask, TaskOutcome, sweep
from .deep_limit import DeepLimitConfig, DeepLimitResult, run_deep_limit

__all__ = ["DEEP_LIMIT", "CaseResults", "check_settings", "run_case", "case_results", "sweep_deep_limit"]

ORDER_METRICS = ("l2", "sup", "h1", "objective_gap")


def check_settings(settings: dict) -> DeepLimitConfig:
    """The case's configuration; unknown names and bad values raise ValueError or TypeError."""
    return DeepLimitConfig.from_dict(settings)


def _last(values: Sequence[float | None]) -> float | None:
    return next((v for v in reversed(values) if v is not None), None)


@dataclass
class CaseResults(KeyedRecord):
    """One summary row's numbers from a deep-limit study (the ``results`` of a sweep case), read by key too.

    Attributes
    ----------
    limit_objective, finest_objective, test_accuracy : float or None
        The extrapolated limit, the finest converged level's objective and test accuracy.
    finest_N : int or None
        The finest converged level.
    order_l2, order_sup, order_h1, order_objective_gap : float or None
        The last observed order of each distance.
    levels_ok, levels, branch_jumps : int
    iterations : int
    solve_seconds, build_seconds : float
    """

    limit_objective: float | None
    finest_N: int | None
    finest_objective: float | None
    test_accuracy: float | None
    order_l2: float | None
    order_sup: float | None
    order_h1: float | None
    order_objective_gap: float | None
    levels_ok: int
    levels: int
    branch_jumps: int
    iterations: int
    solve_seconds: float
    build_seconds: float


def case_results(result: DeepLimitResult) -> CaseResults:
    """One summary row's numbers from a study.

    ``order_*`` is the last observed order of each distance; ``iterations`` and
    ``solve_seconds`` add up every IPOPT solve (the random starts, then each
    followed branch above the coarsest grid, whose first level is its start);
    levels reused from disk count with the numbers of the run that solved them.
    """
    study = result.study
    ok = [lv for lv in study.levels if lv.success]
    finest = ok[-1] if ok else None
    orders = study.orders()
    climbs = [lv for branch in [study, *result.branches] for lv in branch.levels[1:]]
    firsts = [branch.levels[0] for branch in [study, *result.branches] if branch.levels]
    return CaseResults(
        study.limit_objective(), finest.N if finest else None, finest.objective if finest else None,
        finest.metrics.get("test_accuracy") if finest else None,
        order_l2=_last(orders["l2"]), order_sup=_last(orders["sup"]), order_h1=_last(orders["h1"]),
        order_objective_gap=_last(orders["objective_gap"]),
        levels_ok=len(ok), levels=len(study.levels), branch_jumps=len(study.branch_jumps()),
        iterations=sum(s.iterations for s in result.starts) + sum(lv.iterations for lv in climbs),
        solve_seconds=sum(s.solve_seconds for s in result.starts) + sum(lv.solve_seconds for lv in climbs),
        build_seconds=sum(lv.build_seconds for lv in firsts + climbs))


def run_case(settings: dict, folder: str) -> TaskOutcome:
    """Run (or resume) one study into ``folder``; runs on a Dask worker, so it takes plain data and returns
    a record of plain data."""
    config = check_settings(settings)
    # progress.log lets a person follow a long case on a remote worker (tail -f)
    with open(Path(folder) / "progress.log", "a", encoding="utf-8", buffering=1) as log:
        result = run_deep_limit(config, out=folder, progress=lambda line: print(line, file=log))
    # the study's one success rule: failed starts that are not followed are reported in the reason, not fatal
    failed = "; ".join(result.failed) or None
    if result.success and failed is not None:
        failed = f"failed starts, not followed (reported, not fatal): {failed}"
    return TaskOutcome("ok" if result.success else "failed", failed, case_results(result).to_dict())


DEEP_LIMIT = SweepTask(
    name="deep-limit", run=run_case, check=check_settings, headline="limit_objective",
    trends=("limit_objective",),
    per_case={"orders": ("Observed orders of convergence (last pair of refinements)", "observed order",
                         tuple(f"order_{m}" for m in ORDER_METRICS))})


def sweep_deep_limit(base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]], out: str | os.PathLike,
                     **options: Any) -> SweepResult:
    """:func:`occontrol.sweep` of the deep-limit study; settings are :class:`DeepLimitConfig`'s fields
    (the unset ones keep its defaults); ``options`` as for :func:`occontrol.sweep`.

    Parameters
    ----------
    base : mapping
        Settings shared by every case (``{"grids": "4:64"}``, say).
    grid : mapping of str to sequence
        Setting name -> the values to sweep; the cases are the product.
    out : str or path
        The sweep's folder (one sub-folder per case; a rerun resumes).
    **options
        As for :func:`occontrol.sweep` (``scheduler``, ``retry_failed``, ...).
    """
    return sweep(base, grid, out, task=DEEP_LIMIT, **options)

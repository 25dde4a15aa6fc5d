"""Gradient training against optimal control, on the very same E_N (issue 5).

For each N of a ladder, IPOPT's warm-started deep-limit ladder
(:func:`run_deep_limit`) is compared with networks trained by ``torch.optim``
(Adam, SGD with momentum, L-BFGS with a strong-Wolfe line search) on the same
discrete objective E_N (:meth:`occontrol.resnet.ResNet.objective`): same data, N, activation, loss, tau1,
tau2 and tau_w. Then the deep-limit question is asked of every method: do the
trained theta_N converge as N doubles? It is asked under four settings, the
H1 regulariser on (tau2 as configured) or off (tau2 = 0), crossed with a
depth-consistent or an i.i.d. per-layer initialisation.

The landscape is not convex: a gradient run may end in another local minimum
than the one IPOPT's ladder tracked, above or below it. Objectives are
reported as measured, signed gaps included, with the distance of each trained
theta_N to IPOPT's and the gradient norm at the final weights; an IPOPT level
that failed is shown failed and every gap against it is null.
"""

from __future__ import annotations

import math
import os
import platform
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..._checks import as_choice, as_positive_int
from ...datasets import Dataset, load_dataset
from ...io import atomic_write, folder_lock, json_safe, write_npz
from ...records import SCHEMAS, Keyed, KeyedRecord, Record, write_document
from ...refinement import Level
from ._rows import GradientRow, IpoptRow
from ._metrics import constant_from, gradient_norm, initial_network, theta_distance
from ..config import COMPARE_GRIDS, OPTIMIZERS, SETTINGS, CompareFields
from ..deep_limit import DATA_FILE_KEYS, DeepLimitConfig, DeepLimitResult, StartRecord, run_deep_limit
from ..gradient import GradientRun, GradientSettings, train_gradient
from ..network import ResNet
from ..problem import DeepLimitProblem
from .._torch import import_torch, resolve_threads

__all__ = ["CompareConfig", "CompareResult", "CompareRecord", "CompareProblem", "IpoptSummary", "Reach", "Setting",
           "SETTINGS", "SCHEMA", "compare"]

SCHEMA = SCHEMAS["compare"]
RELS = {"1e-3": 1e-3, "1e-6": 1e-6}  # relative tolerances of "reached IPOPT's objective"


@dataclass(frozen=True)
class Setting:
    """One of the four settings: H1 regulariser on or off, and the initialisation."""

    name: str
    h1: bool
    init: str  # 'consistent' (random_network) or 'iid' (iid_network)

    @classmethod
    def parse(cls, name: str) -> "Setting":
        as_choice(name, "settings", SETTINGS)
        reg, init = name.split("-")
        return cls(name, reg == "h1", init)

    @property
    def regulariser(self) -> str:
        """'h1' or 'noh1': the key of the IPOPT ladder this setting is measured against."""
        return "h1" if self.h1 else "noh1"


def _default_deep() -> DeepLimitConfig:
    return DeepLimitConfig(grids=COMPARE_GRIDS)


@dataclass(frozen=True)
class CompareConfig(CompareFields):
    """Every setting of a comparison.

    Parameters
    ----------
    deep : DeepLimitConfig
        The problem (data, model, tau1, tau2, tau_w), the ladder ``grids`` and
        IPOPT's settings. The transcription must be 'euler': the ResNet itself,
        which is what the gradient methods train.
    methods : tuple of {'adam', 'sgd', 'lbfgs'}
    lr_adam, lr_sgd, lr_lbfgs : float
        Learning rates (L-BFGS: initial step of its strong-Wolfe line search).
    momentum : float
        SGD momentum.
    batch_size : int or None
        Minibatch size for Adam and SGD; None is full batch. L-BFGS always uses
        the full batch (its line search needs a deterministic objective).
    steps, seconds : int or float or None
        Budget per training run, in optimiser steps and/or training seconds
        (whichever ends first).
    record_every : int
        The objective is recorded every this many steps; times to reach IPOPT's
        objective are resolved to this granularity.
    settings : tuple of str
        Some of 'h1-consistent', 'h1-iid', 'noh1-consistent', 'noh1-iid'.
    init_seed : int or None
        Seed of the initial weights. None: the seed of the start IPOPT's
        ladder followed (for the same regulariser), so that on the coarsest grid
        the gradient methods start exactly where IPOPT's followed branch did.
    threads : int
        torch intra-op threads while training (``GradientSettings.threads``).
        1 by default: the tensors are tiny (n x m with m = 2), where thread
        hand-offs cost more than they save, and IPOPT with MUMPS runs on one
        thread too. 0: the machine's cores.
    device, dtype : str
        Where torch trains ('cpu', or 'cuda' when torch sees one) and its arithmetic
        ('float64' or 'float32'); recorded with the threads in compare.json's ``machine``.
    """

    deep: DeepLimitConfig = field(default_factory=_default_deep)

    def __post_init__(self) -> None:
        if not isinstance(self.deep, DeepLimitConfig):
            raise TypeError(f"deep: expected a DeepLimitConfig, got {type(self.deep).__name__}")
        if self.deep.transcription != "euler":
            raise ValueError(f"deep: expected transcription='euler' (the ResNet the gradient methods train), "
                             f"got {self.deep.transcription!r}")
        for name, choices in (("methods", OPTIMIZERS), ("settings", SETTINGS)):
            values = (getattr(self, name),) if isinstance(getattr(self, name), str) else tuple(getattr(self, name))
            if not values or len(set(values)) != len(values):
                raise ValueError(f"{name}: expected distinct names among {', '.join(choices)}, got {values!r}")
            for v in values:
                as_choice(v, name, choices)
            object.__setattr__(self, name, values)
        if self.init_seed is not None:
            as_positive_int(self.init_seed, "init_seed", minimum=0)
        for method in self.methods:  # validates learning rates, momentum, batch size and budget
            self.gradient_settings(method, seed=0)

    def gradient_settings(self, method: str, seed: int) -> GradientSettings:
        """The GradientSettings of one run (``seed`` orders the minibatches)."""
        lr = {"adam": self.lr_adam, "sgd": self.lr_sgd, "lbfgs": self.lr_lbfgs}[method]
        return GradientSettings(optimizer=method, lr=lr, momentum=self.momentum,
                                batch_size=None if method == "lbfgs" else self.batch_size,
                                max_steps=self.steps, max_seconds=self.seconds,
                                record_every=self.record_every, seed=seed, threads=self.threads,
                                device=self.device, dtype=self.dtype)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["deep"] = self.deep.to_dict()
        out["methods"], out["settings"] = list(self.methods), list(self.settings)
        return out


# ------------------------------------------------------------------ result
@dataclass
class CompareResult:
    """Everything a comparison measured.

    Attributes
    ----------
    rows : list of IpoptRow and GradientRow
        One per (setting, N, method), IPOPT included (method 'ipopt').
    config : CompareConfig
        What was compared.
    problem : mapping or KeyedRecord
        The problem's settings, for the record.
    distances : dict
        ``distances[setting][method]`` = list of {N, N_next, l2, sup, h1, l2_ratio}
        between consecutive successful runs of the ladder.
    ipopt : dict
        IPOPT's ladder per regulariser ('h1', 'noh1').
    runs, networks : dict
        Gradient runs and final networks keyed by (setting, method, N);
        networks also holds IPOPT's, with method 'ipopt'.
    init_seeds : dict
        Per setting, the seed of the initial weights.
    data : Dataset or None
        The training and test data.
    complete : bool
        Whether every run of the configuration was made (False while a run is interrupted or resumed).
    """

    config: CompareConfig
    problem: Keyed
    rows: list[IpoptRow | GradientRow] = field(default_factory=list)
    distances: dict = field(default_factory=dict)
    ipopt: dict[str, DeepLimitResult] = field(default_factory=dict)
    runs: dict[tuple[str, str, int], GradientRun] = field(default_factory=dict)
    networks: dict[tuple[str, str, int], ResNet] = field(default_factory=dict)
    init_seeds: dict[str, int] = field(default_factory=dict)
    data: Dataset | None = None
    complete: bool = False

    @property
    def failed(self) -> list[str]:
        """Every failed IPOPT solve (starts and levels), described."""
        return [f"ipopt {reg}: {line}" for reg, res in self.ipopt.items() for line in res.failed]

    @property
    def success(self) -> bool:
        """Every IPOPT ladder succeeded, by the deep-limit study's rule
        (:attr:`~occontrol.resnet.deep_limit.DeepLimitResult.success`): a failed start that is not
        followed is reported in :attr:`failed`, not fatal. Gradient runs never fail the comparison."""
        return all(res.success for res in self.ipopt.values())

    def verdict_line(self) -> str:
        """One line saying whether the comparison succeeded, by the rule of :attr:`success`."""
        if self.success:
            note = f"; {len(self.failed)} failed start(s) not followed, reported" if self.failed else ""
            return "Comparison: succeeded (every level of every IPOPT ladder converged" + note + ")"
        return "Comparison: FAILED (" + "; ".join(self.failed) + ")"

    @property
    def diverged(self) -> list[str]:
        """Every gradient run whose E_N or weights went non-finite, described."""
        return [f"{r.method} {r.setting} N={r.N}" for r in self.rows if r.outcome == "diverged"]

    def to_dict(self) -> dict:
        """The compare.json document (strict JSON: NaN and inf are null)."""
        return self.record().to_dict()

    def record(self) -> CompareRecord:
        """The compare.json document as a record."""
        return CompareRecord(
            complete=self.complete, problem=json_safe(self.problem), config=self.config.to_dict(),
            settings=[{**asdict(Setting.parse(s)), "tau2": self._tau2(s), "init_seed": self.init_seeds.get(s),
                       "ipopt_ladder": Setting.parse(s).regulariser} for s in self.config.settings],
            ipopt={reg: _ipopt_summary(res).to_dict() for reg, res in self.ipopt.items()},
            rows=[r.to_dict() for r in self.rows], distances=self.distances, success=self.success,
            failed=self.failed, diverged=self.diverged)

    def _tau2(self, name: str) -> float:
        return self.config.deep.tau2 if Setting.parse(name).h1 else 0.0


NOTES = {
    "objective": "E_N = mean loss + tau1 h sum |theta_k|^2 + tau2 / h sum |theta_{k+1} - theta_k|^2 "
                 "+ tau_w (|W|^2 + |c|^2), evaluated by ResNet.objective (numpy) at the final weights, "
                 "for every method",
    "gap": "objective - IPOPT objective at the same N and setting (negative: a lower local minimum); "
           "null when IPOPT failed there",
    "seconds": "gradient: training time only (the recorded full-batch evaluations excluded); "
               "ipopt: NLP build + solve of this level; ipopt ladder_seconds: every solve and build of the "
               "ladder up to this level, coarse multi-start included",
    "time_to_reach": "training seconds until E_N <= E_ipopt + rel |E_ipopt|, resolved to record_every steps; "
                     "seconds null and reached false: not reached within the budget; reached null: no target",
    "constant_from_step": "the step from which the recorded E_N never changed again (null: it moved to the "
                          "end); with a gradient norm far from 0, the optimiser stalled rather than converged",
    "init": "consistent: random_network(deep, N, seed), a smooth random theta(t) discretised on the grid (also "
            "IPOPT's cold start on that grid); iid: A_k ~ N(0, 1/m), b_k ~ N(0, 1) independent per layer; "
            "(W, c) fitted by scikit-learn in both",
    "ipopt_ladder": "IPOPT's warm-started ladder depends on the initialisation only through its coarsest "
                    "multi-start, so the 'iid' settings are measured against the same ladder as the "
                    "'consistent' ones with the same regulariser",
    "distances": "between consecutive successful runs: L2 and sup of piecewise-constant theta(t), H1 seminorm "
                 "of the piecewise-linear interpolants through interval midpoints (as the refinement study)",
}


@dataclass
class CompareRecord(Record):
    """compare.json's own keys (``schema`` and ``provenance`` are stamped by :func:`~occontrol.records.document`).

    Attributes
    ----------
    complete : bool
        False while settings remain (compare.json is rewritten after each).
    problem : dict
        :class:`CompareProblem` as written.
    config : dict
        :meth:`CompareConfig.to_dict`.
    settings : list of dict
        Each setting: regulariser, initialisation, tau2, init_seed and the IPOPT ladder it is measured against.
    ipopt : dict
        :class:`IpoptSummary` of each regulariser's ladder, as written.
    rows : list of dict
        Every row (:class:`IpoptRow`, :class:`GradientRow`) as written.
    distances : dict
        distances[setting][method] = list of {N, N_next, l2, sup, h1, l2_ratio}.
    success : bool
    failed, diverged : list of str
    notes : dict
        What the columns mean.
    schema : int
    kind : str
    """

    complete: bool
    problem: dict
    config: dict
    settings: list
    ipopt: dict
    rows: list
    distances: dict
    success: bool
    failed: list
    diverged: list
    notes: dict = field(default_factory=lambda: dict(NOTES))
    schema: int = SCHEMA
    kind: str = "occontrol.compare"

    def as_dict(self) -> dict[str, Any]:
        """The keys in compare.json's order."""
        out = super().as_dict()
        return {"schema": out.pop("schema"), "kind": out.pop("kind"), **out}


@dataclass
class CompareProblem(KeyedRecord):
    """The compared problem as compare.json's ``problem`` has it (read by key too): the deep-limit
    configuration flattened, the data's sizes, the arithmetic, and the machine the timings come from.

    Attributes
    ----------
    config : dict
        :meth:`DeepLimitConfig.to_dict`.
    d, m, K, n_train, n_test : int
    precision : str
        The arithmetic of every method (``float`` in JSON).
    versions, machine : dict
        Package versions and the machine (load average at the start, torch threads).
    """

    config: dict
    d: int
    m: int
    K: int
    n_train: int
    n_test: int
    precision: str
    versions: dict
    machine: dict

    def as_dict(self) -> dict[str, Any]:
        """The flat record."""
        return {**self.config, "d": self.d, "m": self.m, "K": self.K, "n_train": self.n_train,
                "n_test": self.n_test, "float": self.precision, "versions": self.versions, "machine": self.machine}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CompareProblem":
        """The record of compare.json's ``problem``."""
        own = ("d", "m", "K", "n_train", "n_test", "float", "versions", "machine")
        return cls({k: v for k, v in data.items() if k not in own}, data["d"], data["m"], data["K"],
                   data["n_train"], data["n_test"], data["float"], data["versions"], data["machine"])


@dataclass
class IpoptSummary(Record):
    """One IPOPT ladder as compare.json's ``ipopt`` has it.

    Attributes
    ----------
    label : str
    followed_seed : int
        The start the ladder followed.
    starts : list of StartRecord
    success : bool
        By the deep-limit study's rule.
    limit_objective : float or None
    levels : list of Level
    failed : list of str
    """

    label: str
    followed_seed: int
    starts: list[StartRecord]
    success: bool
    limit_objective: float | None
    levels: list[Level]
    failed: list[str]

    def as_dict(self) -> dict[str, Any]:
        """The summary with its starts and levels as written."""
        return {**super().as_dict(), "starts": [s.to_dict() for s in self.starts],
                "levels": [lv.to_dict() for lv in self.levels]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "IpoptSummary":
        """The summary of compare.json's entry."""
        return cls(data["label"], data["followed_seed"], [StartRecord.from_dict(s) for s in data["starts"]],
                   data["success"], data.get("limit_objective"), [Level.from_dict(lv) for lv in data["levels"]],
                   list(data.get("failed") or []))


def _ipopt_summary(res: DeepLimitResult) -> IpoptSummary:
    study = res.study
    return IpoptSummary(study.label, _followed_seed(res), list(res.starts), res.success, study.limit_objective(),
                        list(study.levels), res.failed)


def _followed_seed(res: DeepLimitResult) -> int:
    # the ranking run_deep_limit follows: successful first, then the lowest objective
    return min(res.starts, key=lambda s: (not s.success, s.objective)).seed


# ------------------------------------------------------------------ rows
def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _ipopt_rows(setting: Setting, res: DeepLimitResult, deep: DeepLimitProblem, tau2: float,
                tau1: float, tau_w: float) -> list[IpoptRow]:
    rows, ladder = [], sum(s.solve_seconds for s in res.starts)
    for i, lv in enumerate(res.study.levels):
        # the first level is the best start itself: its solve is already counted among the starts
        ladder += lv.build_seconds + (lv.solve_seconds if i else 0.0)
        net = res.networks.get(lv.N)
        rows.append(IpoptRow(
            setting.name, lv.N, "ipopt", "converged" if lv.success else "failed", lv.status,
            objective=_finite(lv.objective), loss=_finite(lv.loss), reg_l2=_finite(lv.reg_l2),
            reg_h1=_finite(lv.reg_h1), seconds=lv.build_seconds + lv.solve_seconds,
            train_accuracy=lv.metrics.get("train_accuracy"), test_accuracy=lv.metrics.get("test_accuracy"),
            grad_norm=gradient_norm(net, deep.X_data, deep.Y, tau1, tau2, tau_w) if net is not None else None,
            build_seconds=lv.build_seconds, solve_seconds=lv.solve_seconds, ladder_seconds=ladder,
            iterations=lv.iterations, reused=lv.reused))
    return rows


@dataclass
class Reach(Record):
    """Whether, and when, a gradient run reached IPOPT's objective within one relative tolerance.

    Attributes
    ----------
    reached : bool or None
        None: no target (IPOPT failed at that N).
    seconds : float or None
        Training seconds until reached (None: not reached, or no target).
    steps : int or None
        The recorded step at which it was reached.
    """

    reached: bool | None = None
    seconds: float | None = None
    steps: int | None = None


def _reach(run: GradientRun, target: float | None) -> dict[str, dict[str, Any]]:
    """A gradient row's ``time_to_reach``: each tolerance's :class:`Reach`, as written."""
    out: dict[str, dict[str, Any]] = {}
    for key, rel in RELS.items():
        if target is None:
            out[key] = Reach().to_dict()
            continue
        seconds = run.time_to_reach(target, rel)
        step = next((s for s, sec, _ in run.history if sec == seconds), None) if seconds is not None else None
        out[key] = Reach(seconds is not None, seconds, step).to_dict()
    return out


def _gradient_row(setting: Setting, N: int, method: str, run: GradientRun, init: ResNet,
                  deep: DeepLimitProblem, data: Dataset, tau1: float, tau2: float, tau_w: float,
                  ipopt_row: IpoptRow | None, ipopt_net: ResNet | None, settings: GradientSettings) -> GradientRow:
    start = init.objective(deep.X_data, deep.Y, tau1, tau2, tau_w).objective
    ok_target = ipopt_row is not None and ipopt_row.success and ipopt_row.objective is not None
    target = ipopt_row.objective if ok_target and ipopt_row is not None else None
    common: dict[str, Any] = dict(init=setting.init, lr=settings.lr, batch_size=settings.batch_size,
                                  initial_objective=start, target=target, seconds=run.seconds, steps=run.steps,
                                  time_to_reach=_reach(run, target))
    if run.diverged:  # train_gradient saw a non-finite E_N or non-finite weights
        return GradientRow(setting.name, N, method, "diverged", f"non-finite E_N or weights by step {run.steps}",
                           **common)
    net = run.network
    parts = net.objective(deep.X_data, deep.Y, tau1, tau2, tau_w)
    by_steps = settings.max_steps is not None and run.steps >= settings.max_steps
    gap = parts.objective - target if target is not None else None
    return GradientRow(
        setting.name, N, method, "budget", "steps budget" if by_steps else "seconds budget",
        objective=parts.objective, loss=parts.loss, reg_l2=parts.reg_l2, reg_h1=parts.reg_h1,
        torch_objective=run.objective, gap=gap, rel_gap=gap / abs(target) if gap is not None and target else None,
        constant_from_step=constant_from(run), train_accuracy=net.score(data.X_train, data.y_train),
        test_accuracy=net.score(data.X_test, data.y_test),
        grad_norm=gradient_norm(net, deep.X_data, deep.Y, tau1, tau2, tau_w),
        l2_to_ipopt=theta_distance(net, ipopt_net, deep.settings.horizon).l2
        if ipopt_net is not None and ipopt_row is not None and ipopt_row.success else None, **common)


def _run_line(row: IpoptRow | GradientRow) -> str:
    def f(x, spec=".4g"):
        return "-" if x is None else format(x, spec)
    if isinstance(row, IpoptRow):
        return (f"ipopt  {row.setting:<16s} N={row.N:<4d} {'ok' if row.success else 'FAILED':<8s} "
                f"{row.status:<28s} E_N {f(row.objective, '.10g')}  iter {row.iterations}  "
                f"{f(row.seconds, '.2f')}s  |grad| {f(row.grad_norm, '.2g')}")
    reach = row.time_to_reach or {}
    t = "  ".join(f"t({k}) " + ("n/a" if v["reached"] is None else f"{v['seconds']:.2f}s" if v["reached"]
                                else "not reached") for k, v in reach.items())
    still = f"  (E_N constant from step {row.constant_from_step})" if row.constant_from_step else ""
    return (f"{row.method:<6s} {row.setting:<16s} N={row.N:<4d} "
            f"{'ok' if row.success else 'DIVERGED':<8s} steps {f(row.steps, 'd')}  {f(row.seconds, '.2f')}s  "
            f"E_N {f(row.objective, '.10g')}  gap {f(row.gap, '+.3g')}  {t}  "
            f"train {f(row.train_accuracy, '.3f')}  test {f(row.test_accuracy, '.3f')}  "
            f"|grad| {f(row.grad_norm, '.2g')}{still}")


def _distances(nets: dict[int, ResNet], horizon: float) -> list[dict]:
    """Between consecutive entries of ``nets`` (successful runs only, sorted by N)."""
    Ns, out = sorted(nets), []  # type: list[int], list[dict[str, Any]]
    for a, b in zip(Ns, Ns[1:]):
        d: dict[str, Any] = theta_distance(nets[a], nets[b], horizon).as_dict()
        d["l2_ratio"] = out[-1]["l2"] / d["l2"] if out and d["l2"] > 0 else None
        out.append({"N": a, "N_next": b, **d})
    return out


# ------------------------------------------------------------------ driver
def _problem_record(config: CompareConfig, deep: DeepLimitProblem, data: Dataset) -> CompareProblem:
    torch = import_torch()
    import casadi
    import sklearn
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    values = config.deep.to_dict()
    if "sha256" in data.settings:  # a data file: its provenance, as the deep-limit study records it
        values.update({f"data_{k}": data.settings[k] for k in DATA_FILE_KEYS if k in data.settings})
    return CompareProblem(
        values, deep.d, deep.m, deep.K, deep.n, int(data.X_test.shape[0]),
        "float64" if config.dtype == "float64" else f"float64 (IPOPT), {config.dtype} (torch)",
        versions={"python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
                  "casadi": casadi.__version__,  # type: ignore[attr-defined]  # set at import, missing from its stubs
                  "sklearn": sklearn.__version__},
        machine={"platform": platform.platform(), "cpus": os.cpu_count(),
                 "load_average_at_start": list(load) if load else None,
                 "torch_threads": resolve_threads(config.threads), "torch_device": config.device,
                 "torch_dtype": config.dtype})


def _ipopt_ladder(config: CompareConfig, setting: Setting, folder: Path | None,
                  say: Callable[[str], None]) -> DeepLimitResult:
    tau2 = config.deep.tau2 if setting.h1 else 0.0
    deep_config = replace(config.deep, tau2=tau2)
    sub = folder / f"ipopt-{setting.regulariser}" if folder is not None else None
    say(f"-- IPOPT ladder, {setting.regulariser} (tau2={tau2:g}), N = {list(config.deep.grids)}")
    return run_deep_limit(deep_config, sub, progress=lambda line: say(f"ipopt {setting.regulariser}: {line}"))


def compare(config: CompareConfig | None = None, out: str | os.PathLike | None = None,
            progress: Callable[[str], None] | None = print, figures: bool = True) -> CompareResult:
    """Run the comparison; with ``out``, write compare.json, compare.md, histories.npz, weights and figures.

    For every setting and every N of ``config.deep.grids``: IPOPT's
    warm-started ladder (one per regulariser, shared by both initialisations)
    and one training run per gradient method from the same initial weights.
    With the depth-consistent initialisation those weights are
    ``random_network(deep, N, seed)``: a smooth random theta(t) discretised on
    the N-layer grid, with (W, c) fitted by scikit-learn; this is also IPOPT's
    cold start on that grid, and with the default ``init_seed`` the start of
    IPOPT's followed branch on the coarsest grid is exactly this network.
    With the i.i.d. initialisation they are :func:`iid_network`.

    Parameters
    ----------
    config : CompareConfig
    out : path, optional
        Output folder. compare.json is rewritten after every setting
        ("complete": false until the end); IPOPT's ladders live in
        ipopt-h1/ and ipopt-noh1/ and are reused by a rerun with the same settings.
    progress : callable, optional
        Receives one line per IPOPT level and per training run (default print).
    figures : bool
        Write the figures into ``out``.

    Returns
    -------
    CompareResult
        Failed IPOPT solves are listed in ``result.failed``; their rows say
        FAILED and every gap against them is null.
    """
    config = CompareConfig() if config is None else config
    import_torch()  # before any solve: fail early without the extra
    if out is None:
        return _compare(config, None, progress, figures)
    with folder_lock(out):  # a second process on the same folder stops at once (FolderInUse)
        return _compare(config, Path(out), progress, figures)


def _compare(config: CompareConfig, folder: Path | None, progress: Callable[[str], None] | None,
             figures: bool) -> CompareResult:
    say = progress or (lambda line: None)
    cfg = config.deep
    data = load_dataset(cfg.dataset, n=cfg.n, noise=cfg.noise, seed=cfg.seed, target=cfg.target, loss=cfg.loss)
    deep = DeepLimitProblem(data.X_train, data.y_train, cfg.model_settings())
    result = CompareResult(config, _problem_record(config, deep, data), data=data)
    for name in config.settings:
        _run_setting(result, Setting.parse(name), deep, data, folder, say)
        if folder is not None:
            write_document(folder / "compare.json", "compare", result.to_dict(), result.config.to_dict())
    result.complete = True
    if folder is not None:
        _write_outputs(result, folder, figures)
    return result


def _run_setting(result: CompareResult, setting: Setting, deep: DeepLimitProblem, data: Dataset,
                 folder: Path | None, say: Callable[[str], None]) -> None:
    config, cfg = result.config, result.config.deep
    tau1, tau_w = cfg.tau1, cfg.tau_w
    tau2 = cfg.tau2 if setting.h1 else 0.0
    if setting.regulariser not in result.ipopt:
        result.ipopt[setting.regulariser] = _ipopt_ladder(config, setting, folder, say)
    ladder = result.ipopt[setting.regulariser]
    seed = config.init_seed if config.init_seed is not None else _followed_seed(ladder)
    result.init_seeds[setting.name] = seed
    ipopt_rows = {r.N: r for r in _ipopt_rows(setting, ladder, deep, tau2, tau1, tau_w)}
    say(f"-- {setting.name}: tau2={tau2:g}, {setting.init} initialisation (seed {seed}), "
        f"methods {', '.join(config.methods)}")
    for row in ipopt_rows.values():
        result.rows.append(row)
        say(_run_line(row))
    ok_nets: dict[str, dict[int, ResNet]] = {m: {} for m in ("ipopt",) + config.methods}
    for N, row in ipopt_rows.items():
        if row.success and N in ladder.networks:
            ok_nets["ipopt"][N] = ladder.networks[N]
            result.networks[(setting.name, "ipopt", N)] = ladder.networks[N]
    for N in cfg.grids:
        init = initial_network(deep, N, seed, setting.init)
        for method in config.methods:
            settings = config.gradient_settings(method, seed)
            run = train_gradient(init, deep.X_data, deep.Y, tau1, tau2, tau_w, settings)
            trained = _gradient_row(setting, N, method, run, init, deep, data, tau1, tau2, tau_w,
                                    ipopt_rows.get(N), ladder.networks.get(N), settings)
            result.rows.append(trained)
            result.runs[(setting.name, method, N)] = run
            if trained.success:
                ok_nets[method][N] = run.network
                result.networks[(setting.name, method, N)] = run.network
                if folder is not None:
                    run.network.save(folder / "weights" / setting.name / f"{method}_N{N}.npz")
            say(_run_line(trained))
    result.distances[setting.name] = {m: _distances(nets, cfg.horizon) for m, nets in ok_nets.items()}


def _write_outputs(result: CompareResult, folder: Path, figures: bool) -> None:
    from ._report import compare_figures, markdown

    doc = result.to_dict()
    write_document(folder / "compare.json", "compare", doc, result.config.to_dict())
    text = markdown(doc)
    atomic_write(folder / "compare.md", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    histories = {f"{s}/{m}/N{N}": np.asarray(run.history, dtype=float) for (s, m, N), run in result.runs.items()}
    if histories:
        write_npz(folder / "histories.npz", **histories)
    if figures:
        compare_figures(result, folder)

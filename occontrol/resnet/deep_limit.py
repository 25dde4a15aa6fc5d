"""The deep-limit study, the project's main job: train the N-layer ResNet as
the discretised control problem on a ladder of N, warm-starting each level
from the previous one, and record how the minimisers converge.

Everything lands in one folder, written atomically; a rerun with the same
settings reuses the converged solves already on disk (each checked against
its fingerprint), solves again what failed, and different settings are
refused rather than mixed. Solver limits (max_iter, max_wall_time) may change
between runs.

One rule for the verdict: the study succeeds when at least one random start
succeeded and every level of every followed branch succeeded. A failed start
that is not followed is reported (progress line, table, study.json's
``failed_starts`` and ``failed``) but does not fail the study; with
``branches='all'`` every start is followed, so there a failed start is fatal.
study.json's ``success``, the table's verdict line and the CLI's exit code all
follow this rule, and a study whose followed branch is flagged not converging
exits 1 too.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, cast

import numpy as np

from .._checks import as_choice, as_finite_float, as_positive_int
from ..datasets import DATASETS, SHAPES, Dataset, load_dataset
from ..userdata import check_hessian, is_data_file, read_data_file, shape_of
from ..io import DamagedFile, check_npz, folder_lock, read_json, write_json, write_npz
from ..records import KeyedRecord, solve_outcome, write_document
from ..refinement import (ConvergenceStudy, LevelStore, Reporter, StartPolicy, StoreMismatch,
                      level_fingerprint, refine, start_record)
from ..solution import Solution
from ..solver import Ipopt, discretize, solve
from ..transcription.discrete import Transcription
from ..transcription.registry import SCHEME_NAMES
from .config import BRANCHES, DeepLimitFields, ModelFields, SolverFields, resolve_loss
from .depth_transfer import DepthTransfer, depth_transfer
from .network import ResNet
from .placement_study import PLACEMENTS, PlacementStudy, adaptive_ladder, ladders_of
from .problem import DeepLimitProblem, DeepLimitSettings
from .strategy import HessianStrategy, as_strategy
from .train import (check_classifier_growth, guess_from_network, network_from_solution, random_network,
                    training_labels)

__all__ = ["DeepLimitConfig", "DeepLimitResult", "StartRecord", "run_deep_limit", "SettingsMismatch", "load_weights"]

# settings that may change between runs in the same folder: they bound a solve but do not
# define its answer (a converged level stays valid; a failed one is solved again)
LIMITS = ("max_iter", "max_wall_time")


class SettingsMismatch(ValueError):
    """The output folder holds a study made with other settings."""


@dataclass(frozen=True)
class DeepLimitConfig(DeepLimitFields):
    """Every setting of a deep-limit study (names and defaults: :class:`DeepLimitFields`), checked.

    Settings are checked against the dataset's shape too (``width`` >= its
    features, a loss that fits its classes), so a bad one is refused before
    anything runs; ``loss='auto'`` is resolved here (logistic or softmax).
    """

    def __post_init__(self) -> None:
        as_positive_int(self.n, "n", minimum=2)
        as_finite_float(self.noise, "noise", minimum=0.0)
        as_positive_int(self.seed, "seed", minimum=0)
        features, classes = self._shape()
        object.__setattr__(self, "loss", resolve_loss(self.loss, str(self.dataset), classes))
        if self.width is not None and as_positive_int(self.width, "width") < features:
            raise ValueError(f"width: expected m >= d = {features} (the features of {self.dataset}), "
                             f"got {self.width}")
        as_choice(self.transcription, "transcription", SCHEME_NAMES)
        strategy = as_strategy(self.strategy)
        if not isinstance(self.strategy, str):  # settings.json keeps the registered name
            object.__setattr__(self, "strategy", strategy.name)
        as_choice(self.branches, "branches", BRANCHES)
        as_positive_int(self.n_starts, "n_starts")
        grids = tuple(self.grids)
        if not grids or any(isinstance(g, bool) or not isinstance(g, (int, np.integer)) or g < 1 for g in grids):
            raise ValueError(f"grids: expected positive layer counts, got {self.grids!r}")
        if list(grids) != sorted(set(grids)):
            raise ValueError(f"grids: expected strictly increasing layer counts, got {list(grids)}")
        object.__setattr__(self, "grids", tuple(int(g) for g in grids))
        if is_data_file(self.dataset):  # a file's features are the user's: can a second-order method take them?
            K = 1 if self.loss in ("logistic", "squared") else classes
            check_hessian(self.grids[-1], self.width or features, K, features, str(self.dataset))
        strategy.transcription_for(self.transcription)  # e.g. Gauss-Newton refuses collocation
        self.model_settings()  # validates activation, loss, taus, width, horizon
        self.solver()  # validates tol, max_iter, max_wall_time

    def _shape(self) -> tuple[int, int]:
        """(features, classes) of the data (classes 0 for real targets), before loading it."""
        if is_data_file(self.dataset):
            if self.target is not None and not isinstance(self.target, str):
                raise TypeError(f"target: expected a column name, got {self.target!r}")
            return shape_of(read_data_file(self.dataset, self.target), self.loss)
        as_choice(self.dataset, "dataset", DATASETS, alternative="a .csv or .npz data file")
        if self.target is not None:
            raise ValueError(f"target: names a column of a data file (--data), and {self.dataset!r} is built in")
        return SHAPES[self.dataset]

    def model_settings(self) -> DeepLimitSettings:
        """The model part (:class:`ModelFields`) as the problem's settings."""
        return DeepLimitSettings(**{f.name: getattr(self, f.name) for f in fields(ModelFields)})

    def to_dict(self) -> dict:
        out = asdict(self)
        out["grids"] = list(self.grids)
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "DeepLimitConfig":
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"settings: unknown names {sorted(unknown)}; expected some of {sorted(names)}")
        data = dict(data)
        if "grids" in data:
            data["grids"] = tuple(data["grids"])
        return cls(**data)

    def hessian_strategy(self) -> HessianStrategy:
        """The :class:`~occontrol.resnet.strategy.HessianStrategy` named by ``strategy``."""
        return as_strategy(self.strategy)

    def transcription_object(self) -> Transcription:
        """The transcription of ``transcription`` that the strategy solves."""
        return self.hessian_strategy().transcription_for(self.transcription)

    def solver(self) -> Ipopt:
        """IPOPT with these limits and the options the strategy requires."""
        solver = Ipopt(**{f.name: getattr(self, f.name) for f in fields(SolverFields)})
        return cast(Ipopt, self.hessian_strategy().ipopt(solver))


@dataclass
class StartRecord(KeyedRecord):
    """One random start at the coarsest grid, as study.json's ``starts`` has it (read by key too).

    Attributes
    ----------
    seed, N : int
    objective : float
    status : str
        IPOPT's status (``detail`` in JSON); ``outcome`` says converged or failed.
    success : bool
    iterations : int
    reused : bool
        Read from the folder's store, solved by an earlier run.
    solve_seconds : float
    """

    seed: int
    N: int
    objective: float
    status: str
    success: bool
    iterations: int
    reused: bool
    solve_seconds: float

    def as_dict(self) -> dict:
        """The start's entry, with ``outcome`` and ``detail``."""
        return {**super().as_dict(), "outcome": solve_outcome(self.success, self.status), "detail": self.status}


@dataclass
class DeepLimitResult:
    """The followed branch, every start at the coarsest grid, and other branches if asked."""

    study: ConvergenceStudy
    starts: list[StartRecord]
    branches: list[ConvergenceStudy] = field(default_factory=list)
    networks: dict[int, ResNet] = field(default_factory=dict)
    data: Dataset | None = None
    depth_transfer: DepthTransfer | None = None
    placement: PlacementStudy | None = None

    def __post_init__(self) -> None:
        # starts given as study.json's entries (plain dicts) are read into records
        self.starts = [s if isinstance(s, StartRecord) else StartRecord.from_dict(s) for s in self.starts]

    @property
    def failed(self) -> list[str]:
        """Every failed solve, described (failed starts that were not followed included: reported, not fatal)."""
        out = _failed_starts(self.starts)
        for study in [self.study] + self.branches:
            out += [f"{study.label} N={lv.N}: {lv.status}" for lv in study.levels if not lv.success]
        if self.placement is not None:
            out += self.placement.failed
        return out

    @property
    def success(self) -> bool:
        """At least one start succeeded and every level of every followed branch (and of every placed ladder,
        when run) succeeded.

        A failed start that was not followed does not count; a followed one is
        the first level of its branch, so it does (``branches='all'``).
        """
        started = not self.starts or any(s.success for s in self.starts)
        placed = self.placement is None or not self.placement.failed
        return started and placed and all(study.success for study in [self.study] + self.branches)

    def verdict_line(self) -> str:
        """One line saying whether the study succeeded, by the rule of :attr:`success`."""
        if self.success:
            note = (f"; {len(self.failed)} failed start(s) not followed, reported" if self.failed else "")
            return "Study: succeeded (every level of every followed branch converged" + note + ")"
        return "Study: FAILED (" + "; ".join(self.failed) + ")"

    @property
    def ok(self) -> bool:
        """Success, and the followed branch is not flagged as not converging (the CLI exits 0 iff ok)."""
        return self.success and self.study.converging is not False


def rank_starts(objectives: Sequence[float], successes: Sequence[bool], tie: float = 1e-9) -> list[int]:
    """Indices of the starts, best first.

    Successful starts come before failed ones, lower objectives first;
    objectives within ``tie`` (relative) of the first of a group are the same
    minimum reached from different starts and keep their seed order, so the
    followed branch does not flip with round-off (another BLAS, another CPU).

    Parameters
    ----------
    objectives : sequence of float
        Each start's objective, in seed order.
    successes : sequence of bool
        Whether each start's solve succeeded.
    tie : float
        Relative difference under which two objectives count as equal.
    """
    order = sorted(range(len(objectives)), key=lambda i: (not successes[i], objectives[i]))
    ranked: list[int] = []
    while order:
        lead = order[0]
        scale = tie * max(1.0, abs(objectives[lead]))
        group = [i for i in order if successes[i] == successes[lead]
                 and abs(objectives[i] - objectives[lead]) <= scale]
        ranked += sorted(group)
        order = [i for i in order if i not in group]
    return ranked


def _failed_starts(starts: list[StartRecord]) -> list[str]:
    return [f"start seed {s.seed} at N={s.N}: {s.status}" for s in starts if not s.success]


def _network(deep: DeepLimitProblem, sol: Solution, config: DeepLimitConfig) -> ResNet:
    # Collocation has no layer map of its own: its controls are read into an RK4 network,
    # which is how its accuracies are evaluated (recorded in the study's problem).
    return network_from_solution(deep, sol, scheme="rk4" if config.transcription == "collocation" else None)


def _metrics(deep: DeepLimitProblem, data: Dataset, config: DeepLimitConfig, out: Path | None,
             networks: dict) -> Callable[[Solution], dict]:
    def metrics(sol: Solution) -> dict:
        net = _network(deep, sol, config)
        networks[sol.N] = net
        if out is not None:  # the network carries its solve's status, so the weights of a failed solve say so
            write_npz(out / f"weights_N{sol.N}.npz", **net.to_arrays())
        values = {"train_accuracy": net.score(data.X_train, training_labels(deep)),
                  "test_accuracy": net.score(data.X_test, data.y_test)}
        if config.transcription != "collocation":
            # E_N (ResNet.objective) at the saved weights on the saved data (numpy), not the NLP's value
            parts = net.objective(deep.X_data, deep.Y, config.tau1, config.tau2, config.tau_w)
            values.update(parts.as_dict())
            values["nlp_objective"] = sol.objective
        return values
    return metrics


@dataclass
class ProblemRecord(KeyedRecord):
    """The study's problem, as settings.json and study.json's ``problem`` have it: the configuration's
    fields flattened, the data's sizes, and a note on how collocation's accuracies are evaluated.

    Attributes
    ----------
    config : dict
        :meth:`DeepLimitConfig.to_dict`.
    d, m, K, n_train : int
        Features, width, classes and training points.
    accuracy_note : str, optional
        Present (collocation only) when the accuracies come from an RK4 forward pass.
    """

    config: dict
    d: int
    m: int
    K: int
    n_train: int
    accuracy_note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The flat record (no ``accuracy_note`` key when there is none)."""
        out = {**self.config, "d": self.d, "m": self.m, "K": self.K, "n_train": self.n_train}
        if self.accuracy_note is not None:
            out["accuracy_note"] = self.accuracy_note
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ProblemRecord":
        """The record of a settings.json; every key that is not a size or the note is the configuration's."""
        own = ("d", "m", "K", "n_train", "accuracy_note")
        return cls({k: v for k, v in data.items() if k not in own}, data["d"], data["m"], data["K"],
                   data["n_train"], data.get("accuracy_note"))


# what the record keeps of a data file's provenance (as data_<key>): its sha256 among the settings
# means a changed file is refused on resume like any other changed setting
DATA_FILE_KEYS = ("path", "sha256", "labels", "classes", "split", "standardize", "n_test")


def _problem_record(config: DeepLimitConfig, deep: DeepLimitProblem, data: Dataset | None = None) -> ProblemRecord:
    note = "collocation controls evaluated by an RK4 forward pass" if config.transcription == "collocation" else None
    values = config.to_dict()
    if data is not None and "sha256" in data.settings:
        values.update({f"data_{k}": data.settings[k] for k in DATA_FILE_KEYS if k in data.settings})
    return ProblemRecord(values, deep.d, deep.m, deep.K, deep.n, note)


def _check_folder(out: Path, record: ProblemRecord) -> None:
    """Refuse a folder that holds (part of) a study with other settings.

    settings.json is written before the first solve, so an interrupted run is
    recognised too, not only a finished one.
    """
    for name in ("settings.json", "study.json"):
        path = out / name
        if not path.exists():
            continue
        previous = read_json(path)
        previous = previous.get("problem", {}) if name == "study.json" else previous
        diff = sorted(k for k in set(previous) | set(record) if k not in LIMITS and previous.get(k) != record.get(k))
        if diff:
            raise SettingsMismatch(f"out: {out} holds a study with other settings (differs in {', '.join(diff)}); "
                                   "choose another --out or remove the folder")


def _start(deep, config, N, seed, solver, hess_lag) -> tuple[Any, dict, dict]:
    """(discrete problem, guess, fingerprint) of one random start at the coarsest grid."""
    problem = discretize(deep.ocp, config.transcription_object(), grid=N)
    guess = guess_from_network(deep, random_network(deep, N, seed))
    return problem, guess, level_fingerprint(problem, solver, hess_lag, start_record(problem, "cold", guess))


def _start_store(folder: Path, seed: int) -> LevelStore:
    return LevelStore(folder / "starts" / f"seed{seed}")


def _check_starts(folder: Path, deep, config, solver, hess_lag) -> None:
    """Refuse stored starts solved for anything else (another problem, data, settings or start)
    before this run writes into the folder: checked by fingerprint, not by settings.json, which
    may be missing."""
    for i in range(config.n_starts):
        store = _start_store(folder, config.seed + i)
        if store.path(config.grids[0]).exists():
            problem, _, fingerprint = _start(deep, config, config.grids[0], config.seed + i, solver, hess_lag)
            store.load(problem, fingerprint)


def _solve_start(deep, config, N, seed, store: LevelStore | None, solver, hess_lag) -> tuple[Solution, bool]:
    """One random start at the coarsest grid (reused from ``store`` if it converged before with
    the same fingerprint: problem, data, settings and the start itself)."""
    problem, guess, fingerprint = _start(deep, config, N, seed, solver, hess_lag)
    if store is not None:
        sol = store.load(problem, fingerprint)
        if sol is not None:
            return sol, True
    sol = solve(deep.ocp, problem.transcription, grid=N, guess=guess, solver=solver, hess_lag=hess_lag)
    if store is not None:
        store.save(sol, fingerprint)
    return sol, False


def _check_readable(out: Path) -> None:
    """Refuse a damaged results folder up front, naming the file (a killed disk, a hand edit)."""
    for name in ("settings.json", "study.json"):
        if (out / name).exists() and not isinstance(read_json(out / name), dict):
            raise DamagedFile(out / name, "not a JSON object")
    if (out / "data.npz").exists():
        check_npz(out / "data.npz", ("X_train", "y_train", "X_test", "y_test"))
    for path in sorted(out.glob("*/**/level_N*.npz")):  # the level stores under levels/ and starts/
        check_npz(path, ("w", "lam_x", "lam_g", "meta"))
        with np.load(path, allow_pickle=False) as data:
            try:
                meta = json.loads(str(data["meta"]))
            except json.JSONDecodeError as exc:
                raise DamagedFile(path, f"meta is not valid JSON: {exc}") from exc
        if not isinstance(meta, dict) or not {"status", "success", "iterations"} <= set(meta):
            raise DamagedFile(path, "meta lacks the solve's status")


def run_deep_limit(config: DeepLimitConfig | None = None, out: str | os.PathLike | None = None,
                   progress: Callable[[str], None] | None = None, print_level: int = 0,
                   placement: str = "uniform") -> DeepLimitResult:
    """Run the study; with ``out``, write study.json, data.npz, weights_N*.npz and the level store.

    Returns the result; failed solves are listed in ``result.failed`` (never
    counted as results).

    ``out`` is locked for the run (:func:`occontrol.io.folder_lock`): a second
    process gets :class:`~occontrol.io.FolderInUse` at once. A damaged file in
    it raises :class:`~occontrol.io.DamagedFile` naming the file, before any solve.

    ``print_level`` is IPOPT's (0 to 12; 5 prints its iteration table): not a
    setting of the study, since it changes no answer.

    ``placement`` 'adaptive' runs a second ladder with the same numbers of
    layers, each level placed by the error indicators of the previous one
    (``oc.estimate_error``); 'variation' one placed by the variation of the
    previous level's theta(t); 'all' both
    (:mod:`occontrol.resnet.placement_study`; explicit schemes only). They are
    reported beside the uniform one in ``result.placement`` and study.json's
    ``placement``, and their failed levels count as failed (``result.failed``).
    Their solves are not stored: a rerun solves them again.
    """
    as_choice(placement, "placement", PLACEMENTS)
    if placement != "uniform" and (config or DeepLimitConfig()).transcription == "collocation":
        raise ValueError(f"placement: {placement!r} needs an explicit scheme (the network's layer map); "
                         "got transcription 'collocation'")
    if out is None:
        return _run_deep_limit(config, None, progress, print_level, placement)
    with folder_lock(out):
        _check_readable(Path(out))
        return _run_deep_limit(config, out, progress, print_level, placement)


def _run_deep_limit(config: DeepLimitConfig | None, out: str | os.PathLike | None,
                    progress: Callable[[str], None] | None, print_level: int,
                    placement: str = "uniform") -> DeepLimitResult:
    config = DeepLimitConfig() if config is None else config
    say = progress or (lambda line: None)
    data = load_dataset(config.dataset, n=config.n, noise=config.noise, seed=config.seed, target=config.target,
                        loss=config.loss)
    deep = DeepLimitProblem(data.X_train, data.y_train, config.model_settings())
    record = _problem_record(config, deep, data)
    folder = Path(out) if out is not None else None
    solver = replace(config.solver(), print_level=print_level)
    hess_lag = config.hessian_strategy().hess_lag(deep)
    try:
        if folder is not None:
            _check_folder(folder, record)
            _check_starts(folder, deep, config, solver, hess_lag)
            folder.mkdir(parents=True, exist_ok=True)
            write_json(folder / "settings.json", record.to_dict())
            write_npz(folder / "data.npz", X_train=data.X_train, y_train=data.y_train, X_test=data.X_test,
                      y_test=data.y_test)
        result = _run(config, deep, data, record, folder, solver, hess_lag, say)
        kinds = ladders_of(placement)
        if kinds:
            say(f"-- layer placement: {', '.join(kinds)} (same N, each level's layers placed on the previous "
                "level of its ladder)")
            result.placement = adaptive_ladder(list(config.grids), deep, data, result.study, result.networks,
                                               config.transcription_object(), solver, hess_lag, progress=say,
                                               kinds=kinds)
            if folder is not None:  # the first level is the uniform one, already written
                for kind, nets in result.placement.networks.items():
                    for N, net in nets.items():
                        if N != config.grids[0]:
                            write_npz(folder / f"weights_{kind}_N{N}.npz", **net.to_arrays())
    except StoreMismatch as exc:  # a stored solve that belongs to another study
        raise SettingsMismatch(f"out: {folder} holds solves made with other settings; choose another --out "
                               f"or remove the folder ({exc})") from exc
    if folder is not None:
        # a resumed folder's earlier study.json (without provenance if written before it was recorded)
        # keeps its provenance in provenance_history
        write_document(folder / "study.json", "study", study_json(result).to_dict(), record.to_dict())
    return result


def _run(config: DeepLimitConfig, deep: DeepLimitProblem, data: Dataset, record: ProblemRecord, folder: Path | None,
         solver, hess_lag, say: Callable[[str], None]) -> DeepLimitResult:
    transcription = config.transcription_object()
    N0 = config.grids[0]

    # 1. random non-constant starts at the coarsest grid
    starts: list[StartRecord] = []
    start_sols: list[Solution] = []
    for i in range(config.n_starts):
        seed = config.seed + i
        store = _start_store(folder, seed) if folder is not None else None
        sol, reused = _solve_start(deep, config, N0, seed, store, solver, hess_lag)
        starts.append(StartRecord(seed, N0, sol.objective, sol.status, sol.success, sol.iterations, reused,
                                  sol.solve_seconds))
        start_sols.append(sol)
        say(f"start seed {seed:<3d} N={N0:<4d} {'ok' if sol.success else 'FAILED':<6s} {sol.status:<28s} "
            f"objective {sol.objective:.10g}  iter {sol.iterations:<4d} solve {sol.solve_seconds:6.2f}s"
            + ("  (reused)" if reused else ""))
    ranked = rank_starts([sol.objective for sol in start_sols], [sol.success for sol in start_sols])
    follow = ranked if config.branches == "all" else ranked[:1]

    # 2. follow the branch(es) up the ladder
    networks: dict[int, ResNet] = {}
    studies = []
    for rank, i in enumerate(follow):
        seed = starts[i].seed
        label = f"branch from seed {seed}"
        say(f"-- following the {'best ' if rank == 0 else ''}{label} (objective {starts[i].objective:.10g} "
            f"at N={N0})")
        branch_networks: dict[int, ResNet] = {}
        # only the followed (best) branch writes weights_N*.npz
        metrics = _metrics(deep, data, config, folder if rank == 0 else None, branch_networks)
        level_folder = folder / "levels" / f"seed{seed}" if folder is not None else None

        def cold(N: int, seed: int = seed) -> dict:  # the same smooth random theta(t), on grid N
            return guess_from_network(deep, random_network(deep, N, seed))
        start = StartPolicy(guess=cold, warm=config.warm, prolongation=config.prolongation, first=start_sols[i])
        reporter = Reporter(progress=say, metrics=metrics, shown=["train_accuracy", "test_accuracy"], label=label,
                            problem_record=record.to_dict())
        study = refine(deep.ocp, transcription, config.grids, start=start, store=level_folder, solver=solver,
                       hess_lag=hess_lag, reporter=reporter)
        for level_sol in study.solutions:
            if level_sol is not None:
                check_classifier_growth(deep, level_sol)
        studies.append(study)
        if rank == 0:
            networks = branch_networks
    # a failed start that is not followed is reported, not fatal (a followed one is a failed first level)
    followed = {starts[i].seed for i in follow}
    studies[0].failed_starts = _failed_starts([s for s in starts if s.seed not in followed])
    transfer = _depth_transfer(config, deep, data, studies[0], networks)
    return DeepLimitResult(studies[0], starts, studies[1:], networks, data, transfer)


def _depth_transfer(config: DeepLimitConfig, deep: DeepLimitProblem, data: Dataset, study: ConvergenceStudy,
                    networks: dict[int, ResNet]) -> DepthTransfer:
    """The followed branch's converged networks, each run at every depth of the ladder."""
    converged = {lv.N for lv in study.levels if lv.success}
    ok = {N: net for N, net in networks.items() if N in converged}
    return depth_transfer(ok, list(config.grids), deep.X_data, deep.Y, data.X_test, data.y_test, config.tau1,
                          config.tau2, config.tau_w, excluded=[N for N in networks if N not in converged])


# the keys of a ConvergenceStudy's document that study.json keeps for each other branch
BRANCH_KEYS = ("label", "limit_objective", "success", "converging", "converging_reason", "levels", "distances",
               "orders")


@dataclass
class StudyRecord(KeyedRecord):
    """study.json: the followed branch's document, with the study's verdict, every start and the other branches.

    Read by key as the document (``record["levels"]``); the followed branch's
    keys (:meth:`ConvergenceStudy.to_dict`, its schema and provenance as
    written) are in ``study``.

    Attributes
    ----------
    study : dict
        The followed branch's document.
    success : bool
        The exit code's rule, other branches included (:attr:`DeepLimitResult.success`).
    starts : list of StartRecord
    branches : list of dict
        The :data:`BRANCH_KEYS` of each other followed branch.
    failed : list of str
        Every failed solve, described.
    depth_transfer : DepthTransfer, optional
        The followed branch's networks run at every depth of the ladder.
    placement : PlacementStudy, optional
        Uniform and adaptive layer placement side by side (``placement='adaptive'``).
    """

    study: dict
    success: bool
    starts: list[StartRecord] = field(default_factory=list)
    branches: list[dict] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    depth_transfer: DepthTransfer | None = None
    placement: PlacementStudy | None = None

    def as_dict(self) -> dict[str, Any]:
        """The flat document: the branch's keys, then success, starts, branches, failed, depth_transfer
        and placement (when run)."""
        out = {**self.study, "success": self.success, "starts": [s.to_dict() for s in self.starts],
               "branches": self.branches, "failed": self.failed}
        if self.depth_transfer is not None:
            out["depth_transfer"] = self.depth_transfer.to_dict()
        if self.placement is not None:
            out["placement"] = self.placement.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "StudyRecord":
        """The record of a study.json (its other keys are the followed branch's)."""
        own = ("success", "starts", "branches", "failed", "depth_transfer", "placement")
        transfer = data.get("depth_transfer")  # absent in a study.json written before it existed
        placement = data.get("placement")  # present when the adaptive placement was run
        return cls({k: v for k, v in data.items() if k not in own}, data.get("success", False),
                   [StartRecord.from_dict(s) for s in data.get("starts") or []], list(data.get("branches") or []),
                   list(data.get("failed") or []), None if transfer is None else DepthTransfer.from_dict(transfer),
                   None if placement is None else PlacementStudy.from_dict(placement))


def study_json(result: DeepLimitResult) -> StudyRecord:
    """The study.json document: the followed branch's fields, plus starts and other branches."""
    branches = [{k: branch[k] for k in BRANCH_KEYS} for branch in (b.to_dict() for b in result.branches)]
    return StudyRecord(result.study.to_dict(), result.success, list(result.starts), branches, result.failed,
                       result.depth_transfer, result.placement)


def load_study(out: str | os.PathLike) -> StudyRecord:
    """study.json of a finished run (read by key as the document, or by attribute)."""
    return StudyRecord.from_dict(read_json(Path(out) / "study.json"))


def load_weights(path: str | os.PathLike) -> tuple[ResNet, dict[str, Any]]:
    """A weights_N*.npz: the network and ``{"status", "success"}`` of the solve that gave it.

    Files written before the status was recorded give ``{"status": None, "success": None}``.

    Parameters
    ----------
    path : str or path
        A ``weights_N{N}.npz`` written by the deep-limit study (or ``ResNet.save``).
    """
    net = ResNet.load(path)
    return net, {"status": net.status, "success": net.success}

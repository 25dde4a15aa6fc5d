"""The ``occontrol`` command.

Only the standard library and the plain settings of
:mod:`occontrol.resnet.config` are imported before the arguments are
parsed; CasADi, scikit-learn, torch, Dask and matplotlib come in when a
command runs, so ``--help`` and usage errors answer at once.

Exit codes: 0 done, 1 a study, a comparison or a sweep case failed (by the
study's rule: a failed start that is not followed is reported, not fatal;
see :attr:`occontrol.resnet.deep_limit.DeepLimitResult.success`), 2 a usage error,
said in one line ``occontrol <command>: error: ...``: a bad option, settings
that do not fit together, an output folder that cannot be used (a file,
below a file, not writable, in use by another run, or holding a damaged file
or another study), an unreachable scheduler.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

from .resnet.config import (COMPARE_GRIDS, CompareFields, DataFields, DeepLimitFields,
                            LadderFields, ModelFields, SolverFields)

__all__ = ["main"]

# the study's model options: the model's fields with the study's 'auto' loss
_StudyModelFields = dataclasses.make_dataclass(
    "_StudyModelFields", [(f.name, f.type, next(g for g in dataclasses.fields(DeepLimitFields) if g.name == f.name))
                          for f in dataclasses.fields(ModelFields)])
# what compare asks of the ladder (it fixes transcription, warm, branches and prolongation)
_CompareLadderFields = dataclasses.make_dataclass(
    "_CompareLadderFields", [(f.name, f.type, f) for f in dataclasses.fields(LadderFields)
                             if f.name in ("grids", "strategy", "n_starts")])

# the comparison's own options: every field of CompareFields but the problem and ladder it holds in `deep`
_GradientFields = dataclasses.make_dataclass(
    "_GradientFields", [(f.name, f.type, f) for f in dataclasses.fields(CompareFields) if f.name != "deep"])

# IPOPT's print level under --verbose: its iteration table
VERBOSE_PRINT_LEVEL = 5

# settings whose command-line option is not --<name with dashes>
OPTION_OF = {"n_starts": "--starts", "warm": "--cold", "max_steps": "--steps", "max_seconds": "--seconds",
             "deep": "--transcription", "n_workers": "--workers", "problem": "SCRIPT.py:FUNCTION"}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line: ``prog: error: message`` (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


def _integer(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value
    return parse


def _number(minimum: float, strict: bool = False) -> Callable[[str], float]:
    """A finite number >= minimum (> minimum with ``strict``)."""
    expected = f"a finite number {'>' if strict else '>='} {minimum:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value
    return parse


def _names(choices: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    """Comma-separated distinct names among ``choices`` ('all' for every one)."""
    def parse(text: str) -> tuple[str, ...]:
        if text.strip() == "all":
            return choices
        names = tuple(v.strip() for v in text.split(","))
        if any(v not in choices for v in names) or len(set(names)) != len(names):
            raise argparse.ArgumentTypeError(f"expected distinct comma-separated names among {', '.join(choices)} "
                                             f"(or all), got {text!r}")
        return names
    return parse


def _grids(text: str) -> tuple[int, ...]:
    """'4,8,16' (strictly increasing positive integers) or '4:256' (doubling from 4 up to 256)."""
    expected = "expected '4,8,16' (increasing positive integers) or '4:256' (doubling from 4 up to 256)"
    parts = text.split(":")
    if len(parts) == 2:
        try:
            start, stop = (int(v) for v in parts)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{expected}, got {text!r}") from None
        if start < 1 or stop < start:
            raise argparse.ArgumentTypeError(f"{expected}; the first count must be >= 1 and at most the last, "
                                             f"got {text!r}")
        grids = [start]
        while grids[-1] * 2 <= stop:  # ends: start >= 1 (the same ladder as occontrol.doubling)
            grids.append(grids[-1] * 2)
        return tuple(grids)
    try:
        grids = [int(v) for v in text.split(",")] if len(parts) == 1 else []
    except ValueError:
        grids = []
    if not grids or grids[0] < 1 or any(b <= a for a, b in zip(grids, grids[1:])):
        raise argparse.ArgumentTypeError(f"{expected}, got {text!r}")
    return tuple(grids)


def _out(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a folder path, got {text!r}")
    return text


def _check_out(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be an output folder, or None; creates it when it can.

    Called after the settings were checked and before any work.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        return f"--out: {path} is a file, expected a folder"
    existing = next(p for p in [folder.absolute(), *folder.absolute().parents] if p.exists())
    if not existing.is_dir():
        return f"--out: {path} lies below {existing}, which is a file"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"--out: cannot create {path}: {exc.strerror or exc}"
    # root ignores permission bits: os.access is a hint; the lock file written next is the proof
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"--out: {path} is not writable"
    return None


def _option(message: str) -> str:
    """A library message 'name: ...' as 'option: ...' ('n_starts: ...' -> '--starts: ...'; 'a, b: ...' too)."""
    match = re.match(r"([a-z][a-z0-9_]*(?:, [a-z][a-z0-9_]*)*): ", message)
    if not match:
        return message
    names = match.group(1).split(", ")
    options = ", ".join(OPTION_OF.get(name, "--" + name.replace("_", "-")) for name in names)
    return options + message[len(match.group(1)):]


def _fail(args: argparse.Namespace, message: Any) -> int:
    """A usage error found after parsing: one line, exit code 2."""
    text = _option(" ".join(str(message).split()))
    print(f"occontrol {args.command}: error: {text}", file=sys.stderr)
    return 2


def _parse_of(spec: tuple) -> Callable[[str], Any] | None:
    """The argparse ``type`` of a field's ``parse`` metadata (:func:`occontrol.resnet.config.setting`)."""
    if not spec:
        return None
    kind, *bounds = spec
    return {"integer": lambda: _integer(*bounds), "number": lambda: _number(*bounds),
            "positive": lambda: _number(0.0, strict=True), "grids": lambda: _grids,
            "names": lambda: _names(*bounds)}[kind]()


def _add_fields(group: Any, cls: type, defaults: Any, **help_of: str) -> None:
    """One option per field of the dataclass ``cls``: name, default, type, choices and help from
    the field and its metadata (``help_of`` replaces a field's help)."""
    for f in dataclasses.fields(cls):
        meta = f.metadata
        option = meta.get("option") or "--" + f.name.replace("_", "-")
        help_text = help_of.get(f.name, meta["help"])
        if f.type in (bool, "bool"):  # a switch away from the default (--cold for warm=True)
            group.add_argument(option, action="store_true", help=help_text)
            continue
        metavar = None if meta["choices"] else option[2:].upper().replace("-", "_")
        group.add_argument(option, dest=f.name, type=_parse_of(meta["parse"]), choices=meta["choices"],
                           default=getattr(defaults, f.name), metavar=metavar, help=help_text)


def _add_model_options(p: argparse.ArgumentParser, defaults: Any) -> None:
    g = p.add_argument_group("data and model")
    _add_fields(g, DataFields, defaults)
    g.add_argument("--data", type=_out, default=None, metavar="PATH",
                   help="your own data instead of --dataset: a CSV (a header row; the target column is --target, "
                        "by default the last) or an .npz (X, y, optional X_test, y_test)")
    _add_fields(g, _StudyModelFields, defaults)


def _add_solver_options(p: argparse.ArgumentParser, defaults: Any) -> None:
    g = p.add_argument_group("discretisation and solver")
    _add_fields(g, LadderFields, defaults)
    _add_fields(g, SolverFields, defaults)


def _deep_limit_parser(sub) -> None:
    d = DeepLimitFields()
    p = sub.add_parser("deep-limit", help="the main job: ResNet training as optimal control, refined in N",
                       description="Train the N-layer ResNet as the discretised optimal-control problem for a "
                                   "ladder of N (warm-started), and measure how the minimisers converge. "
                                   "With no options: two moons (n=200, noise 0.2), tanh, logistic loss, "
                                   "tau1=1e-3, tau2=1e-2, explicit Euler, N = 4, 8, ..., 256.")
    _add_model_options(p, d)
    _add_solver_options(p, d)
    p.add_argument("--out", type=_out, default="occontrol-results/deep-limit",
                   help="output folder (default %(default)s); rerunning resumes, other settings are refused")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--verbose", action="store_true",
                   help="print IPOPT's progress (its iteration table, print level 5) for every solve")
    p.add_argument("--placement", choices=("uniform", "adaptive", "variation", "all"), default="uniform",
                   help="'adaptive': also run the ladder with the same N, each level's layers placed by the "
                        "error indicators of the previous level (oc.estimate_error); 'variation': placed by the "
                        "variation of its theta(t); 'all': both; and compare (default %(default)s)")
    p.set_defaults(run=_run_deep_limit)


def _config_from(args):
    """The DeepLimitConfig of the parsed options: one per field (``--cold`` is ``warm=False``;
    ``--data PATH`` is the dataset PATH, and its errors name --data)."""
    from .resnet.deep_limit import DeepLimitConfig
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(DeepLimitFields) if f.name != "warm"}
    if args.data is not None:
        if args.dataset != DeepLimitFields.dataset:
            raise ValueError(f"data: give your own data (--data) or a built-in --dataset, not both; got --data "
                             f"{args.data} and --dataset {args.dataset}")
        values["dataset"] = args.data
    try:
        return DeepLimitConfig(**values, warm=not args.cold)
    except (ValueError, TypeError) as exc:
        if args.data is not None and str(exc).startswith("dataset: "):
            raise type(exc)("data: " + str(exc)[len("dataset: "):]) from None
        raise


def _data_lines(config: Any) -> list[str]:
    """What the study does with a data file: its hash, labels, loss, split and standardisation."""
    from .datasets import load_dataset
    from .userdata import is_data_file
    if not is_data_file(config.dataset):
        return []
    s = load_dataset(config.dataset, seed=config.seed, target=config.target, loss=config.loss).settings
    labels = (f"{len(s['classes'])} classes ({', '.join(map(str, s['classes']))})" if s["labels"] == "classes"
              else "real targets")
    return [f"data: {s['path']} (sha256 {s['sha256']})",
            f"data: {s['features']} features, target {s['target']!r}: {labels} -> loss {config.loss}",
            f"data: {s['n_train']} training, {s['n_test']} test samples ({s['split']}); features standardised "
            "with the training part's mean and scale"]


def _loss_line(args, loss: str) -> str:
    return f"loss {loss}" + (" (auto)" if args.loss == "auto" else "")


# what a run can end in that is the user's to fix, not a failed solve: one line, exit code 2
def _usage_errors(*more: type[BaseException]) -> tuple[type[BaseException], ...]:
    from .io import DamagedFile, FolderInUse
    from .resnet.deep_limit import SettingsMismatch
    return (DamagedFile, FolderInUse, SettingsMismatch, *more)


def _with_settings(make: Callable[[argparse.Namespace], Any]) -> Callable[..., Callable[[argparse.Namespace], int]]:
    """Run a command with its settings ``make(args)`` and its output folder, both checked first: a
    usage error there is one line and exit code 2, before anything heavy runs."""
    def wrap(run: Callable[[argparse.Namespace, Any, Path], int]) -> Callable[[argparse.Namespace], int]:
        def checked(args: argparse.Namespace) -> int:
            try:
                config = make(args)
            except (ValueError, TypeError) as exc:
                return _fail(args, exc)
            problem = _check_out(args.out)
            if problem:
                return _fail(args, problem)
            return run(args, config, Path(args.out))
        return checked
    return wrap


@_with_settings(_config_from)
def _run_deep_limit(args: argparse.Namespace, config: Any, out: Path) -> int:
    from .resnet.deep_limit import run_deep_limit
    from .resnet.figures import study_figures
    if args.placement != "uniform" and config.transcription == "collocation":
        return _fail(args, ValueError(f"--placement: {args.placement!r} needs an explicit scheme (the network's "
                                      "layer map), got --transcription collocation"))
    print(f"occontrol deep-limit: {config.dataset}, {_loss_line(args, config.loss)}, N = {list(config.grids)}, "
          f"{config.transcription}, {config.strategy}; results in {out}", flush=True)
    try:
        lines = _data_lines(config)
    except (ValueError, TypeError) as exc:
        return _fail(args, exc)
    for line in lines:
        print(line, flush=True)
    try:
        result = run_deep_limit(config, out, progress=lambda line: print(line, flush=True),
                                print_level=VERBOSE_PRINT_LEVEL if args.verbose else 0, placement=args.placement)
    except _usage_errors() as exc:
        return _fail(args, exc)
    print()
    print(result.study.table())
    for branch in result.branches:
        print(f"\n{branch.label}: limit objective {branch.limit_objective()}")
        print(branch.table())
    if result.depth_transfer is not None:
        print("\n" + result.depth_transfer.tables())
    if result.placement is not None:
        print("\n" + result.placement.table())
    if not args.no_figures:
        for path in study_figures(result, out):
            print(f"figure: {path}")
    print(f"study: {out / 'study.json'}")
    print(result.verdict_line())
    if result.failed:
        head = "FAILED solves" if not result.success else "Failed starts, not followed (reported, not fatal)"
        print(f"{head}:\n  " + "\n  ".join(result.failed), file=sys.stderr)
    return 0 if result.ok else 1  # ok: the study succeeded (DeepLimitResult.success) and is not flagged not converging


def _sweep_parser(sub) -> None:
    p = sub.add_parser("sweep", help="the deep-limit study over a product of settings, on Dask",
                       description="Run the deep-limit study for every combination of settings, each case one "
                                   "Dask task writing into its own folder. Settings are DeepLimitConfig's names "
                                   "(tau1, tau2, tau_w, seed, dataset, n, activation, grids, n_starts, ...); unset "
                                   "ones keep the deep-limit defaults. A rerun skips complete cases and resumes "
                                   "the rest. Exit code 1 if any case failed.")
    p.add_argument("spec", nargs="?", help="TOML file with [base] settings and [grid] lists (optional)")
    p.add_argument("--set", dest="assign", action="append", default=[], metavar="NAME=V1[,V2,...]",
                   help="sweep NAME over the values (one value: set it for every case); repeatable; "
                        "list values in brackets, as grids=[4,8],[4,8,16]")
    p.add_argument("--grids", type=_grids, default=None, help="layer counts N of every case, as '4,8,16' or '4:32'")
    p.add_argument("--out", type=_out, default=None,
                   help="output folder (default: the spec's out, else occontrol-results/sweep)")
    p.add_argument("--scheduler", default=None,
                   help="address of a running Dask scheduler, as tcp://host:8786 (default: a local cluster)")
    # a whole number here; SweepSpec checks that it is positive, as it does a spec file's n_workers
    p.add_argument("--workers", type=int, default=None, help="workers of the local cluster (default 2)")
    p.add_argument("--retry-failed", action="store_true", help="run the cases recorded as failed again")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.set_defaults(run=_run_sweep)


def _run_sweep(args) -> int:
    from .sweeps import SweepSpec, load_spec
    try:  # every setting of every case is checked, in this process, before anything runs
        spec = (load_spec(args.spec) if args.spec else SweepSpec()).merged(
            args.assign, grids=args.grids, out=args.out, scheduler=args.scheduler, n_workers=args.workers)
        from .resnet.sweep import DEEP_LIMIT
        spec.cases(DEEP_LIMIT.check)
    except (OSError, ValueError, TypeError) as exc:
        return _fail(args, exc)
    problem = _check_out(spec.folder)
    if problem:
        return _fail(args, problem)
    from .resnet.sweep import sweep_deep_limit
    from .sweeps import SchedulerUnreachable, text_table
    try:
        result = sweep_deep_limit(spec.base, spec.grid, spec.folder, scheduler=spec.scheduler, n_workers=spec.workers,
                                  retry_failed=args.retry_failed, figures=not args.no_figures,
                                  progress=lambda line: print(line, flush=True))
    except _usage_errors(SchedulerUnreachable) as exc:
        return _fail(args, exc)
    print()
    print(text_table(result.rows, [*spec.grid, "status", "limit_objective", "order_l2", "order_h1", "iterations",
                                   "solve_seconds"]))
    for path in result.files:
        print(f"written: {path}")
    bad = [row for row in result.rows if row["status"] != "ok"]
    for row in bad:
        print(f"{row['status'].upper()} {row['case']}: {row['reason']}", file=sys.stderr)
    return 1 if bad else 0


def _compare_parser(sub) -> None:
    d, c = DeepLimitFields(grids=COMPARE_GRIDS), CompareFields()
    p = sub.add_parser("compare", help="IPOPT's ladder against Adam, SGD and L-BFGS (PyTorch) on the same E_N",
                       description="For each N of the ladder, train the N-layer ResNet on the same E_N by IPOPT "
                                   "(the warm-started deep-limit ladder) and by torch.optim, from the same initial "
                                   "weights, and compare objectives, wall times, times to reach IPOPT's objective "
                                   "and accuracies; then measure |theta_N - theta_2N| per method with and without "
                                   "the H1 regulariser, from depth-consistent and i.i.d. initial weights. Needs "
                                   "the extra occontrol[torch]. Exit code 1 if an IPOPT ladder failed (a failed start "
                                   "that is not followed is reported, not fatal).")
    _add_model_options(p, d)
    g = p.add_argument_group("ladder and IPOPT")
    _add_fields(g, _CompareLadderFields, d, grids="layer counts N, as '8,16' or '8:64' (default %s)"
                % ",".join(map(str, COMPARE_GRIDS)))
    _add_fields(g, SolverFields, d)
    g = p.add_argument_group("gradient training (torch.optim, float64)")
    _add_fields(g, _GradientFields, c)
    p.add_argument("--out", type=_out, default="occontrol-results/compare",
                   help="output folder (default %(default)s); IPOPT's levels there are reused by a rerun")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    # settings the comparison fixes: the Euler ResNet, a warm ladder following the best start
    p.set_defaults(run=_run_compare, transcription="euler", cold=False, branches="best", prolongation="linear")


def _compare_config(args: argparse.Namespace) -> Any:
    """The CompareConfig of the parsed options (``--steps 0``: a budget in seconds only)."""
    from .resnet.comparison import CompareConfig
    gradient = {f.name: getattr(args, f.name) for f in dataclasses.fields(_GradientFields)}
    if gradient["steps"] == 0:
        gradient["steps"] = None
    return CompareConfig(deep=_config_from(args), **gradient)


@_with_settings(_compare_config)
def _run_compare(args: argparse.Namespace, config: Any, out: Path) -> int:
    from .resnet.comparison import compare
    print(f"occontrol compare: {config.deep.dataset}, {_loss_line(args, config.deep.loss)}, "
          f"N = {list(config.deep.grids)}, methods "
          f"{', '.join(config.methods)}, settings {', '.join(config.settings)}; results in {out}", flush=True)
    try:
        lines = _data_lines(config.deep)
    except (ValueError, TypeError) as exc:
        return _fail(args, exc)
    for line in lines:
        print(line, flush=True)
    try:
        result = compare(config, out, progress=lambda line: print(line, flush=True), figures=not args.no_figures)
    except _usage_errors(ImportError) as exc:
        return _fail(args, exc)
    from .resnet.comparison import distance_table
    print("\nDeep limit: L2 distance between theta_N and theta_2N [H1 seminorm]")
    print(distance_table(result.distances, list(config.deep.grids)))
    print(f"table: {out / 'compare.md'}\nresults: {out / 'compare.json'}")
    if result.diverged:
        print("diverged gradient runs: " + ", ".join(result.diverged))
    print(result.verdict_line())
    if result.failed:
        head = ("FAILED IPOPT solves" if not result.success
                else "Failed IPOPT starts, not followed (reported, not fatal)")
        print(f"{head}:\n  " + "\n  ".join(result.failed), file=sys.stderr)
    return 0 if result.success else 1  # failed starts that are not followed are reported, not fatal


# ---------------------------------------------------------------- your own problem: refine and solve
# settings of a refinement study that may change between runs in one folder (as the deep-limit study's),
# and the script's hash, which is recorded but not compared: the levels' fingerprints decide
# whether a stored solve still belongs to the problem the script now builds
_REFINE_FREE = ("max_iter", "max_wall_time", "script_sha256")


def _problem_arguments(p: argparse.ArgumentParser, what: str) -> None:
    from .transcription.registry import SCHEME_NAMES
    p.add_argument("problem", metavar="SCRIPT.py:FUNCTION",
                   help=f"a Python file and the function in it (no arguments) that returns the OCP {what}, "
                        "or (OCP, guess)")
    p.add_argument("--transcription", choices=SCHEME_NAMES, default="rk4",
                   help="the registered scheme (default %(default)s)")


def _refine_parser(sub) -> None:
    p = sub.add_parser("refine", help="the warm-started refinement study of your own OCP (SCRIPT.py:FUNCTION)",
                       description="Import FUNCTION from SCRIPT.py, which returns an occontrol.OCP (or (OCP, "
                                   "guess)), and solve it on a ladder of grids, each level warm-started from the "
                                   "previous minimiser; print the table, write study.json, the figures and one "
                                   "file per level, so a rerun resumes. Exit code 1 if a level failed or the "
                                   "ladder is flagged not converging.")
    _problem_arguments(p, "to refine")
    p.add_argument("--grids", type=_grids, default=(8, 16, 32, 64),
                   help="grid sizes N, as '8,16,32' or '8:256' for doubling (default 8:64)")
    p.add_argument("--cold", action="store_true", help="start every level cold instead of warm")
    p.add_argument("--prolongation", choices=("linear", "constant"), default="linear",
                   help="how the controls are carried to the finer grid (default %(default)s)")
    _add_fields(p.add_argument_group("solver"), SolverFields, SolverFields())
    p.add_argument("--out", type=_out, default="occontrol-results/refine",
                   help="output folder (default %(default)s); rerunning resumes, other settings are refused")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.add_argument("--verbose", action="store_true", help="print IPOPT's iteration table for every solve")
    p.set_defaults(run=_run_refine)


def _solve_parser(sub) -> None:
    p = sub.add_parser("solve", help="solve your own OCP (SCRIPT.py:FUNCTION) once, write the solution and figure",
                       description="Import FUNCTION from SCRIPT.py, which returns an occontrol.OCP (or (OCP, "
                                   "guess)), solve it once on a uniform grid, and write solution.npz "
                                   "(occontrol.Solution.load reads it back) and solution.png. Exit code 1 if "
                                   "the solve failed.")
    _problem_arguments(p, "to solve")
    p.add_argument("--grid", type=_integer(1), default=100, help="grid intervals N (default %(default)s)")
    _add_fields(p.add_argument_group("solver"), SolverFields, SolverFields())
    p.add_argument("--out", type=_out, default="occontrol-results/solve", help="output folder (default %(default)s)")
    p.add_argument("--no-figures", action="store_true", help="skip the figure")
    p.add_argument("--verbose", action="store_true", help="print IPOPT's iteration table")
    p.set_defaults(run=_run_solve)


def _user_problem(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """(UserProblem, transcription, solver) of the parsed options; ValueError/TypeError for a usage error."""
    from .solver import Ipopt
    from .transcription.registry import make_transcription
    from .userproblem import load_problem, parse_problem
    parse_problem(args.problem)  # the form first, before importing anything heavy
    user = load_problem(args.problem)
    solver = Ipopt(**{f.name: getattr(args, f.name) for f in dataclasses.fields(SolverFields)},
                   print_level=VERBOSE_PRINT_LEVEL if args.verbose else 0)
    return user, make_transcription(args.transcription), solver


def _refine_settings(args: argparse.Namespace, user: Any) -> dict:
    return {"problem": args.problem, "script": str(user.path), "script_sha256": user.sha256,
            "transcription": args.transcription, "grids": list(args.grids), "warm": not args.cold,
            "prolongation": args.prolongation, "guess": user.guess is not None,
            **{f.name: getattr(args, f.name) for f in dataclasses.fields(SolverFields)}}


def _check_refine_folder(out: Path, settings: dict) -> str | None:
    """Why ``out`` holds another study (settings.json differs beyond the free settings), or None."""
    from .io import read_json
    path = out / "settings.json"
    if not path.exists():
        return None
    previous = read_json(path)
    if not isinstance(previous, dict):
        return f"--out: {path} is damaged (not a JSON object); delete it or the folder"
    diff = sorted(k for k in set(previous) | set(settings)
                  if k not in _REFINE_FREE and previous.get(k) != settings.get(k))
    if diff:
        return (f"--out: {out} holds a study with other settings (differs in {', '.join(diff)}); choose another "
                "--out or remove the folder")
    return None


def _run_refine(args: argparse.Namespace) -> int:
    try:
        user, transcription, solver = _user_problem(args)
    except (ValueError, TypeError) as exc:
        return _fail(args, exc)
    problem = _check_out(args.out)
    if problem:
        return _fail(args, problem)
    from .io import folder_lock, write_json
    from .records import write_document
    from .refinement import LevelStore, Reporter, StartPolicy, StoreMismatch, refine
    out, settings = Path(args.out), _refine_settings(args, user)
    print(f"occontrol refine: {args.problem}, {args.transcription}, N = {list(args.grids)}, "
          f"{'warm' if not args.cold else 'cold'}; results in {out}", flush=True)
    try:
        with folder_lock(out):
            mismatch = _check_refine_folder(out, settings)
            if mismatch:
                return _fail(args, mismatch)
            write_json(out / "settings.json", settings)
            study = refine(user.ocp, transcription, args.grids,
                           start=StartPolicy(guess=user.guess, warm=not args.cold, prolongation=args.prolongation),
                           store=LevelStore(out / "levels"), solver=solver,
                           reporter=Reporter(progress=lambda line: print(line, flush=True), label=args.problem,
                                             problem_record=settings))
            write_document(out / "study.json", "study", study.to_dict(), settings)
    except StoreMismatch as exc:
        return _fail(args, f"--out: {out} holds solves of another problem or settings; choose another --out or "
                           f"remove the folder ({exc})")
    except _usage_errors() as exc:
        return _fail(args, exc)
    except (ValueError, TypeError) as exc:  # the OCP is refused by the transcription or the solver
        return _fail(args, f"problem: {exc}")
    print()
    print(study.table())
    if not args.no_figures:
        for path in _refine_figures(study, out):
            print(f"figure: {path}")
    print(f"study: {out / 'study.json'}")
    failed = [f"N={lv.N}: {lv.status}" for lv in study.levels if not lv.success]
    print("Study: succeeded (every level converged)" if not failed else "Study: FAILED (" + "; ".join(failed) + ")")
    if failed:
        print("FAILED solves:\n  " + "\n  ".join(failed), file=sys.stderr)
    return 0 if study.success and study.converging is not False else 1


def _refine_figures(study: Any, out: Path) -> list[Path]:
    """convergence.png, and solution.png of the finest converged level."""
    from .plot import convergence_plot, save_figure
    paths = [out / "convergence.png"]
    convergence_plot(study, paths[0], title="Distances between consecutive minimisers")
    finest = [sol for lv, sol in zip(study.levels, study.solutions) if lv.success and sol is not None]
    if finest:
        paths.append(out / "solution.png")
        save_figure(finest[-1].plot(), paths[-1])
    return paths


def _run_solve(args: argparse.Namespace) -> int:
    try:
        user, transcription, solver = _user_problem(args)
    except (ValueError, TypeError) as exc:
        return _fail(args, exc)
    problem = _check_out(args.out)
    if problem:
        return _fail(args, problem)
    from .io import folder_lock
    from .solver import solve
    out = Path(args.out)
    print(f"occontrol solve: {args.problem}, {args.transcription}, N = {args.grid}; results in {out}", flush=True)
    try:
        with folder_lock(out):
            sol = solve(user.ocp, transcription, grid=args.grid, guess=user.guess, solver=solver)
            sol.save(out / "solution.npz")
    except _usage_errors() as exc:
        return _fail(args, exc)
    except (ValueError, TypeError) as exc:
        return _fail(args, f"problem: {exc}")
    print(f"{'ok' if sol.success else 'FAILED'} {sol.status}: objective {sol.objective:.10g}, "
          f"{sol.iterations} iterations, build {sol.build_seconds:.2f} s, solve {sol.solve_seconds:.2f} s")
    print(f"solution: {out / 'solution.npz'}")
    if not args.no_figures:
        from .plot import save_figure
        save_figure(sol.plot(), out / "solution.png")
        print(f"figure: {out / 'solution.png'}")
    if not sol.success:
        print(f"FAILED: {sol.status}; the solution file says so and is not a result", file=sys.stderr)
        return 1
    return 0


def _version() -> str:
    """The installed distribution's version (the package's ``__version__``; CasADi is not imported)."""
    from . import __version__
    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = _Parser(prog="occontrol", description="Optimal control by discretise-then-optimise "
                                     "on CasADi and IPOPT, and the deep limit of residual networks.")
    parser.add_argument("--version", action="version", version=f"occontrol {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    _deep_limit_parser(sub)
    _sweep_parser(sub)
    _compare_parser(sub)
    _refine_parser(sub)
    _solve_parser(sub)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

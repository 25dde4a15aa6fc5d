"""The ``occontrol`` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

__all__ = ["main"]


def _grids(text: str) -> tuple[int, ...]:
    """'4,8,16' or '4:256' (doubling from 4 to 256)."""
    try:
        if ":" in text:
            start, stop = (int(v) for v in text.split(":"))
            from .refine import doubling
            return tuple(doubling(start, stop))
        return tuple(int(v) for v in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected '4,8,16' or '4:256', got {text!r}") from exc


def _add_model_options(p: argparse.ArgumentParser, defaults) -> None:
    g = p.add_argument_group("data and model")
    g.add_argument("--dataset", default=defaults.dataset,
                   choices=["moons", "circles", "blobs", "iris", "wine", "breast_cancer"],
                   help="scikit-learn dataset (default %(default)s)")
    g.add_argument("--n", type=int, default=defaults.n,
                   help="training samples of a synthetic set (default %(default)s)")
    g.add_argument("--noise", type=float, default=defaults.noise, help="noise of a synthetic set (default %(default)s)")
    g.add_argument("--seed", type=int, default=defaults.seed,
                   help="seeds the data, the split and the first start (default %(default)s)")
    g.add_argument("--activation", default=defaults.activation,
                   choices=["tanh", "sigmoid", "softplus", "smooth_relu", "relu"], help="sigma (default %(default)s)")
    g.add_argument("--loss", default=defaults.loss, choices=["logistic", "softmax", "squared"],
                   help="loss of the scores W X(T) + c (default %(default)s)")
    g.add_argument("--tau1", type=float, default=defaults.tau1, help="weight of int |theta|^2 (default %(default)s)")
    g.add_argument("--tau2", type=float, default=defaults.tau2, help="weight of int |theta'|^2 (default %(default)s)")
    g.add_argument("--tau-w", type=float, default=defaults.tau_w,
                   help="weight decay on (W, c) (default %(default)s)")
    g.add_argument("--width", type=int, default=defaults.width, help="state width m >= d (default: d)")
    g.add_argument("--horizon", type=float, default=defaults.horizon, help="depth T (default %(default)s)")


def _add_solver_options(p: argparse.ArgumentParser, defaults) -> None:
    g = p.add_argument_group("discretisation and solver")
    g.add_argument("--grids", type=_grids, default=defaults.grids,
                   help="layer counts N, as '4,8,16' or '4:256' for doubling (default 4:256)")
    g.add_argument("--transcription", default=defaults.transcription, choices=["euler", "heun", "rk4", "collocation"],
                   help="euler is the ResNet exactly (default %(default)s)")
    g.add_argument("--strategy", default=defaults.strategy, choices=["gauss-newton", "exact"],
                   help="single shooting with a Gauss-Newton Hessian, or multiple shooting with the exact "
                        "Hessian (default %(default)s)")
    g.add_argument("--cold", action="store_true",
                   help="start every level cold instead of warm from the previous level")
    g.add_argument("--starts", type=int, default=defaults.n_starts,
                   help="random non-constant starts at the coarsest grid (default %(default)s)")
    g.add_argument("--branches", default=defaults.branches, choices=["best", "all"],
                   help="follow the best start up the ladder, or every start (default %(default)s)")
    g.add_argument("--prolongation", default=defaults.prolongation, choices=["linear", "constant"],
                   help="how theta is carried to the finer grid (default %(default)s)")
    g.add_argument("--tol", type=float, default=defaults.tol, help="IPOPT tolerance (default %(default)s)")
    g.add_argument("--max-iter", type=int, default=defaults.max_iter,
                   help="IPOPT iteration limit per solve (default %(default)s)")
    g.add_argument("--max-wall-time", type=float, default=defaults.max_wall_time,
                   help="IPOPT wall-time limit per solve, seconds (default none)")


def _deep_limit_parser(sub) -> None:
    from .resnet.deep_limit import DeepLimitConfig
    d = DeepLimitConfig()
    p = sub.add_parser("deep-limit", help="the main job: ResNet training as optimal control, refined in N",
                       description="Train the N-layer ResNet as the discretised optimal-control problem for a "
                                   "ladder of N (warm-started), and measure how the minimisers converge. "
                                   "With no options: two moons (n=200, noise 0.2), tanh, logistic loss, "
                                   "tau1=1e-3, tau2=1e-2, explicit Euler, N = 4, 8, ..., 256.")
    _add_model_options(p, d)
    _add_solver_options(p, d)
    p.add_argument("--out", default="occontrol-results/deep-limit",
                   help="output folder (default %(default)s); rerunning resumes, other settings are refused")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.set_defaults(run=_run_deep_limit)


def _config_from(args):
    from .resnet.deep_limit import DeepLimitConfig
    return DeepLimitConfig(dataset=args.dataset, n=args.n, noise=args.noise, seed=args.seed,
                           activation=args.activation, loss=args.loss, tau1=args.tau1, tau2=args.tau2,
                           tau_w=args.tau_w, width=args.width, horizon=args.horizon, grids=args.grids,
                           transcription=args.transcription, strategy=args.strategy, warm=not args.cold,
                           n_starts=args.starts, branches=args.branches, prolongation=args.prolongation,
                           tol=args.tol, max_iter=args.max_iter, max_wall_time=args.max_wall_time)


def _run_deep_limit(args) -> int:
    from .resnet.deep_limit import SettingsMismatch, run_deep_limit
    from .resnet.figures import study_figures
    try:
        config = _config_from(args)
    except (ValueError, TypeError) as exc:
        print(f"occontrol deep-limit: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    print(f"occontrol deep-limit: {config.dataset}, N = {list(config.grids)}, {config.transcription}, "
          f"{config.strategy}; results in {out}", flush=True)
    try:
        result = run_deep_limit(config, out, progress=lambda line: print(line, flush=True))
    except SettingsMismatch as exc:
        print(f"occontrol deep-limit: {exc}", file=sys.stderr)
        return 2
    print()
    print(result.study.table())
    for branch in result.branches:
        print(f"\n{branch.label}: limit objective {branch.limit_objective()}")
        print(branch.table())
    if not args.no_figures:
        for path in study_figures(result, out):
            print(f"figure: {path}")
    print(f"study: {out / 'study.json'}")
    if result.failed:
        print("FAILED solves:\n  " + "\n  ".join(result.failed), file=sys.stderr)
    return 0 if result.ok else 1  # ok: every solve succeeded and the study is not flagged not converging


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
    p.add_argument("--out", default=None, help="output folder (default: the spec's out, else occontrol-results/sweep)")
    p.add_argument("--scheduler", default=None,
                   help="address of a running Dask scheduler, as tcp://host:8786 (default: a local cluster)")
    p.add_argument("--workers", type=int, default=None, help="workers of the local cluster (default 2)")
    p.add_argument("--retry-failed", action="store_true", help="run the cases recorded as failed again")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    p.set_defaults(run=_run_sweep)


def _run_sweep(args) -> int:
    from .resnet.sweep import DEEP_LIMIT, sweep_deep_limit
    from .sweep import check_cases
    from .sweep_cases import expand
    from .sweep_spec import SweepSpec, load_spec, parse_assignment
    from .sweep_summary import text_table
    try:  # every setting of every case is checked before anything runs
        spec = load_spec(args.spec) if args.spec else SweepSpec()
        for text in args.assign:
            spec.set(*parse_assignment(text))
        if args.grids is not None:
            spec.set("grids", [list(args.grids)])
        if args.workers is not None and args.workers < 1:
            raise ValueError(f"--workers: expected a positive integer, got {args.workers}")
        check_cases(expand(spec.base, spec.grid), DEEP_LIMIT.check)
    except (OSError, ValueError, TypeError) as exc:
        print(f"occontrol sweep: {exc}", file=sys.stderr)
        return 2
    result = sweep_deep_limit(spec.base, spec.grid, args.out or spec.out or "occontrol-results/sweep",
                              scheduler=args.scheduler or spec.scheduler, n_workers=args.workers or spec.n_workers or 2,
                              retry_failed=args.retry_failed, figures=not args.no_figures,
                              progress=lambda line: print(line, flush=True))
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
    from .resnet.compare import SETTINGS, CompareConfig
    from .resnet.deep_limit import DeepLimitConfig
    d, c = DeepLimitConfig(grids=(8, 16, 32, 64)), CompareConfig()
    p = sub.add_parser("compare", help="IPOPT's ladder against Adam, SGD and L-BFGS (PyTorch) on the same E_N",
                       description="For each N of the ladder, train the N-layer ResNet on the same E_N by IPOPT "
                                   "(the warm-started deep-limit ladder) and by torch.optim, from the same initial "
                                   "weights, and compare objectives, wall times, times to reach IPOPT's objective "
                                   "and accuracies; then measure |theta_N - theta_2N| per method with and without "
                                   "the H1 regulariser, from depth-consistent and i.i.d. initial weights. Needs "
                                   "the extra occontrol[torch]. Exit code 1 if any IPOPT solve failed.")
    _add_model_options(p, d)
    g = p.add_argument_group("ladder and IPOPT")
    g.add_argument("--grids", type=_grids, default=d.grids, help="layer counts N, as '8,16' or '8:64' (default 8:64)")
    g.add_argument("--strategy", default=d.strategy, choices=["gauss-newton", "exact"],
                   help="IPOPT: single shooting with a Gauss-Newton Hessian, or multiple shooting with the exact "
                        "Hessian (default %(default)s)")
    g.add_argument("--starts", type=int, default=d.n_starts,
                   help="IPOPT's random starts at the coarsest grid (default %(default)s)")
    g.add_argument("--tol", type=float, default=d.tol, help="IPOPT tolerance (default %(default)s)")
    g.add_argument("--max-iter", type=int, default=d.max_iter, help="IPOPT iterations per solve (default %(default)s)")
    g.add_argument("--max-wall-time", type=float, default=d.max_wall_time,
                   help="IPOPT wall-time limit per solve, seconds (default none)")
    g = p.add_argument_group("gradient training (torch.optim, float64)")
    g.add_argument("--methods", type=lambda s: tuple(s.split(",")), default=c.methods,
                   help="comma-separated, of adam, sgd, lbfgs (default all)")
    g.add_argument("--lr-adam", type=float, default=c.lr_adam, help="Adam learning rate (default %(default)s)")
    g.add_argument("--lr-sgd", type=float, default=c.lr_sgd, help="SGD learning rate (default %(default)s)")
    g.add_argument("--lr-lbfgs", type=float, default=c.lr_lbfgs, help="L-BFGS initial step (default %(default)s)")
    g.add_argument("--momentum", type=float, default=c.momentum, help="SGD momentum (default %(default)s)")
    g.add_argument("--batch-size", type=int, default=None,
                   help="minibatch size for Adam and SGD (default: full batch; L-BFGS is always full batch)")
    g.add_argument("--steps", type=int, default=c.steps,
                   help="budget: optimiser steps per run; 0 for none, with --seconds (default %(default)s)")
    g.add_argument("--seconds", type=float, default=None,
                   help="budget: training seconds per run (with --steps, whichever ends first)")
    g.add_argument("--record-every", type=int, default=c.record_every,
                   help="record E_N every this many steps (default %(default)s)")
    g.add_argument("--settings", type=lambda s: SETTINGS if s == "all" else tuple(s.split(",")), default=SETTINGS,
                   help=f"comma-separated, of {', '.join(SETTINGS)}, or all (default all)")
    g.add_argument("--init-seed", type=int, default=None,
                   help="seed of the initial weights (default: the start IPOPT's ladder followed)")
    g.add_argument("--threads", type=int, default=c.threads, help="torch threads while training (default %(default)s)")
    p.add_argument("--out", default="occontrol-results/compare",
                   help="output folder (default %(default)s); IPOPT's levels there are reused by a rerun")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    # settings the comparison fixes: the Euler ResNet, a warm ladder following the best start
    p.set_defaults(run=_run_compare, transcription="euler", cold=False, branches="best", prolongation="linear")


def _run_compare(args) -> int:
    from .resnet.compare import CompareConfig, compare
    from .resnet.deep_limit import SettingsMismatch
    try:
        if args.steps is not None and args.steps <= 0:
            args.steps = None  # --steps 0: a budget in seconds only
        config = CompareConfig(deep=_config_from(args), methods=args.methods, lr_adam=args.lr_adam,
                               lr_sgd=args.lr_sgd, lr_lbfgs=args.lr_lbfgs, momentum=args.momentum,
                               batch_size=args.batch_size, steps=args.steps, seconds=args.seconds,
                               record_every=args.record_every, settings=args.settings, init_seed=args.init_seed,
                               threads=args.threads)
    except (ValueError, TypeError) as exc:
        print(f"occontrol compare: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    print(f"occontrol compare: {config.deep.dataset}, N = {list(config.deep.grids)}, methods "
          f"{', '.join(config.methods)}, settings {', '.join(config.settings)}; results in {out}", flush=True)
    try:
        result = compare(config, out, progress=lambda line: print(line, flush=True), figures=not args.no_figures)
    except (SettingsMismatch, ImportError) as exc:
        print(f"occontrol compare: {exc}", file=sys.stderr)
        return 2
    from .resnet.compare_report import distance_table
    print("\nDeep limit: L2 distance between theta_N and theta_2N [H1 seminorm]")
    print(distance_table(result.distances, list(config.deep.grids)))
    print(f"table: {out / 'compare.md'}\nresults: {out / 'compare.json'}")
    if result.diverged:
        print("diverged gradient runs: " + ", ".join(result.diverged))
    if result.failed:
        print("FAILED IPOPT solves:\n  " + "\n  ".join(result.failed), file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="occontrol", description="Optimal control by discretise-then-optimise "
                                     "on CasADi and IPOPT, and the deep limit of residual networks.")
    sub = parser.add_subparsers(dest="command", required=True)
    _deep_limit_parser(sub)
    _sweep_parser(sub)
    _compare_parser(sub)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

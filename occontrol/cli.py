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
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="occontrol", description="Optimal control by discretise-then-optimise "
                                     "on CasADi and IPOPT, and the deep limit of residual networks.")
    sub = parser.add_subparsers(dest="command", required=True)
    _deep_limit_parser(sub)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The default deep-limit study end to end against PyTorch Adam, in one run.

occontrol: `run_deep_limit` with its defaults (two moons n = 200, tanh,
logistic, tau1 = 1e-3, tau2 = 1e-2, explicit Euler, N = 4, 8, ..., 256, five
random starts at N = 4, Gauss-Newton single shooting with the secant
correction, IPOPT tol 1e-10), builds included, the median of ``--repeats``
runs.
PyTorch: Adam (lr 1e-2, full batch, float64) for 3000 steps at the finest N
alone, from the same depth-consistent initial weights IPOPT's cold start uses.

Then the same ladder with ``--reference-strategy`` and ``--reference-tol``
(the defaults before issue 15: plain Gauss-Newton at IPOPT's tol 1e-8) as the
check that the faster ladder finds the same minimisers: objectives per level
to 1e-9 and the same followed start.

Library imports (scikit-learn for the data, torch for Adam) happen before
either clock starts.

Writes benchmarks/results/ladder.json and ladder.md: wall seconds of both,
their ratio (the target is >= 10), objectives, per-level iterations and
timings (mesh independence: warm levels should need no more iterations than
the coarsest).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import casadi as cs
import numpy as np
import sklearn.datasets  # noqa: F401  (imported before the clock, as torch is before Adam's)

from occontrol.io import atomic_write, write_json
from occontrol.resnet.config import LadderFields
from occontrol.resnet.deep_limit import DeepLimitConfig, rank_starts, run_deep_limit
from occontrol.resnet._torch import resolve_threads
from occontrol.resnet.gradient import GradientSettings, train_gradient
from occontrol.resnet.problem import DeepLimitProblem
from occontrol.resnet.strategy import STRATEGY_NAMES
from occontrol.resnet.train import random_network

RESULTS = Path(__file__).resolve().parent / "results"


def _branch(result) -> int:
    """The seed of the start the ladder followed."""
    order = rank_starts([s.objective for s in result.starts], [s.success for s in result.starts])
    return result.starts[order[0]].seed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", default="4,8,16,32,64,128,256", help="ladder (default %(default)s)")
    parser.add_argument("--adam-steps", type=int, default=3000, help="Adam steps (default %(default)s)")
    parser.add_argument("--strategy", default=LadderFields.strategy, choices=STRATEGY_NAMES)
    parser.add_argument("--tol", type=float, default=DeepLimitConfig.tol, help="IPOPT tolerance (default %(default)s)")
    parser.add_argument("--threads", type=int, default=GradientSettings.threads,
                        help="torch threads for Adam, 0 for the machine's cores (default %(default)s)")
    parser.add_argument("--tag", default="", help="suffix of the result files")
    parser.add_argument("--repeats", type=int, default=3, help="ladder runs; the median counts (default %(default)s)")
    parser.add_argument("--reference-strategy", default="gauss-newton", choices=STRATEGY_NAMES,
                        help="the ladder whose minimisers must be reproduced (default %(default)s)")
    parser.add_argument("--reference-tol", type=float, default=1e-8, help="its tolerance (default %(default)s)")
    args = parser.parse_args(argv)
    grids = tuple(int(g) for g in args.grids.split(","))
    config = DeepLimitConfig(grids=grids, strategy=args.strategy, tol=args.tol)

    runs = []  # the whole ladder, repeated: the median is the figure (this machine is shared)
    for rep in range(args.repeats):
        start = time.perf_counter()
        say = (lambda line: print(line, flush=True)) if rep == 0 else None
        result = run_deep_limit(config, out=None, progress=say)
        runs.append(time.perf_counter() - start)
        print(f"ladder run {rep + 1}: {runs[-1]:.2f} s", flush=True)
    ladder_seconds = float(np.median(runs))
    study = result.study

    data = result.data
    deep = DeepLimitProblem(data.X_train, data.y_train, config.model_settings())
    N = grids[-1]
    net0 = random_network(deep, N, config.seed)
    settings = GradientSettings("adam", lr=1e-2, max_steps=args.adam_steps, record_every=100,
                                 threads=args.threads)
    start = time.perf_counter()
    run = train_gradient(net0, deep.X_data, deep.Y, config.tau1, config.tau2, config.tau_w, settings,
                         progress=lambda s, t, v: print(f"adam step {s:5d}  {t:7.2f}s  E_N {v:.10g}", flush=True))
    adam_seconds = time.perf_counter() - start

    reference = run_deep_limit(replace(config, strategy=args.reference_strategy, tol=args.reference_tol), out=None)
    same = {"reference_strategy": args.reference_strategy, "reference_tol": args.reference_tol,
            "followed_seed": _branch(result), "reference_followed_seed": _branch(reference),
            "objective_differences": [abs(a.objective - b.objective)
                                      for a, b in zip(study.levels, reference.study.levels)],
            "reference_objectives": [lv.objective for lv in reference.study.levels],
            "reference_iterations": [lv.iterations for lv in reference.study.levels]}
    same["max_objective_difference"] = max(same["objective_differences"])
    same["same_minimisers"] = (same["max_objective_difference"] <= 1e-9 and len(study.levels) ==
                               len(reference.study.levels) and same["followed_seed"] == same["reference_followed_seed"])

    finest = study.levels[-1]
    levels = [{"N": lv.N, "status": lv.status, "success": lv.success, "iterations": lv.iterations,
               "build_seconds": lv.build_seconds, "solve_seconds": lv.solve_seconds, "objective": lv.objective,
               "seconds_per_iteration": lv.solve_seconds / max(lv.iterations, 1)}
              for lv in study.levels]
    warm_iters = [lv["iterations"] for lv in levels[1:]]
    doc = {"schema": 1, "benchmark": "ladder", "ladder_runs_seconds": runs, "machine": platform.platform(),
           "python": platform.python_version(),
           "casadi": cs.__version__, "config": config.to_dict(),
           "ladder": {"seconds": ladder_seconds, "success": study.success and not result.failed,
                      "failed": result.failed, "levels": levels, "starts": result.starts,
                      "finest_objective": finest.objective,
                      "build_seconds": sum(lv["build_seconds"] for lv in levels),
                      "solve_seconds": sum(lv["solve_seconds"] for lv in levels),
                      "build_le_solve_every_level": all(lv["build_seconds"] <= lv["solve_seconds"] for lv in levels),
                      "mesh_independent": all(i <= levels[0]["iterations"] for i in warm_iters)},
           "adam": {"N": N, "steps": run.steps, "seconds": adam_seconds, "train_seconds": run.seconds,
                    "threads": resolve_threads(args.threads), "objective": run.objective,
                    "initial_objective": run.history[0][2],
                    "gap_to_ipopt": run.objective - finest.objective},
           "same_as_reference": same,
           "speedup": adam_seconds / ladder_seconds, "target_speedup": 10.0}
    RESULTS.mkdir(exist_ok=True)
    name = "ladder" + (f"_{args.tag}" if args.tag else "")
    write_json(RESULTS / f"{name}.json", doc)
    lines = [f"# Deep-limit ladder vs Adam ({config.strategy}, tol {config.tol:g})", "",
             f"Command: `python benchmarks/ladder.py {' '.join(argv if argv is not None else sys.argv[1:])}`. "
             f"Load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores; the ratio is "
             "measured in one run, absolute seconds move with the load).", "",
             f"Ladder N = {list(grids)} end to end (5 starts at N = {grids[0]}, builds included), median of "
             f"{len(runs)} runs ({', '.join(f'{r:.1f}' for r in runs)} s): **{ladder_seconds:.1f} s**. "
             f"Adam, {run.steps} full-batch steps at N = {N}: **{adam_seconds:.1f} s**. "
             f"Ratio Adam / ladder: **{doc['speedup']:.2f}x** (target >= 10).", "",
             f"Finest objective: IPOPT {finest.objective:.10g} ({finest.status}); Adam {run.objective:.10g}.", "",
             f"Same minimisers as the {same['reference_strategy']} ladder at tol {same['reference_tol']:g}: "
             f"**{'yes' if same['same_minimisers'] else 'NO'}** (largest objective difference over the levels "
             f"{same['max_objective_difference']:.1e}, followed seed {same['followed_seed']} and "
             f"{same['reference_followed_seed']}).", "",
             "| N | status | iterations | build s | solve s | s / iteration | objective | reference iterations "
             "| objective difference |",
             "|---|---|---|---|---|---|---|---|---|"]
    for lv, ref_it, diff in zip(levels, same["reference_iterations"], same["objective_differences"]):
        status = lv["status"] if lv["success"] else f"FAILED: {lv['status']}"
        lines.append(f"| {lv['N']} | {status} | {lv['iterations']} | {lv['build_seconds']:.2f} | "
                     f"{lv['solve_seconds']:.2f} | {lv['seconds_per_iteration']:.3f} | {lv['objective']:.10g} | "
                     f"{ref_it} | {diff:.1e} |")
    atomic_write(RESULTS / f"{name}.md", lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n"))
    print("\n".join(lines))
    return 0 if doc["ladder"]["success"] and same["same_minimisers"] else 1


if __name__ == "__main__":
    sys.exit(main())

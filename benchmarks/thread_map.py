"""Two overheads of the Gauss-Newton iteration on a small machine, measured side by side.

1. CasADi's thread map: the per-sample score Jacobians of the Gauss-Newton callback mapped over the
   n = 200 samples of two moons at N = 4, 64, 256, three ways: serially, CasADi's thread map of single
   columns, and ``occontrol.transcription.model.mapped`` (one serial chunk per core, run on threads).
2. numpy's BLAS threads inside the callback: the N = 128 level of the default ladder, warm from the
   prolonged N = 64 minimiser, solved with the callback's numpy BLAS on one thread (the default,
   ``GaussNewtonHessian.numpy_blas_threads = 1``) and on numpy's own setting (None), alternately.

Writes benchmarks/results/thread_map.json and thread_map.md.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

import casadi as cs
import numpy as np

import occontrol as oc
from occontrol.datasets import load_dataset
from occontrol.grid import as_grid
from occontrol.io import atomic_write, write_json
from occontrol.refinement import prolonged_guess
from occontrol.resnet import DeepLimitSettings, gauss_newton
from occontrol.resnet.deep_limit import DeepLimitConfig, run_deep_limit
from occontrol.resnet.problem import DeepLimitProblem
from occontrol.resnet.strategy import as_strategy
from occontrol.transcription.model import mapped

RESULTS = Path(__file__).resolve().parent / "results"
THREADS = os.cpu_count() or 1
MAPS = {
    "serial": lambda fn, n, par, shared=(): fn.map("m", "serial", n, list(shared), []),
    "thread, one column per task": lambda fn, n, par, shared=(): fn.map(
        "m", "thread", n, list(shared), [], {"max_num_threads": THREADS}),
    "mapped (serial chunks on threads)": mapped,
}


def map_rows(repeats: int) -> list[dict]:
    data = load_dataset("moons", n=200, noise=0.2, seed=0)
    deep = DeepLimitProblem(data.X_train, data.y_train, DeepLimitSettings(tau1=1e-3, tau2=1e-2))
    tr = oc.ExplicitEuler(shooting="single", parallelization="thread")
    rows = []
    for N in (4, 64, 256):
        problem = oc.discretize(deep.ocp, tr, grid=N)
        w = np.random.default_rng(0).standard_normal(problem.lbx.size) * 0.1
        reference = None
        for name, make in MAPS.items():
            gauss_newton.mapped = make  # the callback builds its map through this name
            try:
                cb = gauss_newton.GaussNewtonHessian(problem, deep)
            finally:
                gauss_newton.mapped = mapped
            S, J = (a.copy() for a in cb._scores_and_jacobians(w))
            reference = (S, J) if reference is None else reference
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                cb._scores_and_jacobians(w)
                times.append(time.perf_counter() - start)
            rows.append({"N": N, "map": name, "milliseconds": 1e3 * float(np.median(times)),
                         "max_difference_to_serial": float(max(np.abs(S - reference[0]).max(),
                                                               np.abs(J - reference[1]).max()))})
            print(rows[-1], flush=True)
    return rows


def blas_rows(repeats: int) -> list[dict]:
    config = DeepLimitConfig(grids=(4, 8, 16, 32, 64))
    result = run_deep_limit(config, out=None)
    coarse = result.study.solutions[-1]
    deep = DeepLimitProblem(result.data.X_train, result.data.y_train, config.model_settings())
    strategy = as_strategy(config.strategy)
    guess = prolonged_guess(coarse, as_grid(128), "linear")
    rows = []
    for rep in range(repeats):
        for threads in (1, None):
            gauss_newton.GaussNewtonHessian.numpy_blas_threads = threads
            try:
                sol = oc.solve(coarse.problem.ocp, config.transcription_object(), grid=128, guess=guess,
                               solver=strategy.ipopt(config.solver()), hess_lag=strategy.hess_lag(deep))
            finally:
                gauss_newton.GaussNewtonHessian.numpy_blas_threads = 1
            rows.append({"repeat": rep, "numpy_blas_threads": "1" if threads else "numpy's own",
                         "status": sol.status, "iterations": sol.iterations, "solve_seconds": sol.solve_seconds,
                         "objective": sol.objective})
            print(rows[-1], flush=True)
    return rows


def main(argv=None) -> int:
    maps, blas = map_rows(repeats=20), blas_rows(repeats=2)
    doc = {"schema": 1, "benchmark": "thread_map", "machine": platform.platform(), "casadi": cs.__version__,
           "cores": THREADS, "load_average": os.getloadavg(), "maps": maps, "blas": blas}
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / "thread_map.json", doc)
    lines = ["# Thread maps and numpy's BLAS threads in the Gauss-Newton callback", "",
             f"Command: `python benchmarks/thread_map.py`. {THREADS} cores, load average at the end "
             f"{', '.join(f'{x:.1f}' for x in doc['load_average'])}.", "",
             "## The per-sample score Jacobians (n = 200), median of 20 calls", "",
             "| N | map | ms per call | largest difference to serial |", "|---:|---|---:|---:|"]
    lines += [f"| {r['N']} | {r['map']} | {r['milliseconds']:.2f} | {r['max_difference_to_serial']:.1e} |"
              for r in maps]
    lines += ["", "## The N = 128 level (warm from N = 64), numpy's BLAS threads in the callback", "",
              "| repeat | numpy BLAS threads | status | iterations | solve s | objective |",
              "|---:|---|---|---:|---:|---|"]
    lines += [f"| {r['repeat']} | {r['numpy_blas_threads']} | {r['status']} | {r['iterations']} | "
              f"{r['solve_seconds']:.2f} | {r['objective']:.13g} |" for r in blas]
    atomic_write(RESULTS / "thread_map.md", lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n"))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where a Gauss-Newton IPOPT iteration spends its time, against a reference revision, in one run.

Two cases: one warm fine level of the default ladder (N = 256 from the prolonged N = 128 minimiser,
two moons n = 200) and one n = 2000, N = 64 solve from the random start of seed 0 (capped at 10
iterations). Each is solved alternately with this checkout's Gauss-Newton callback and with the
callback of ``--reference`` (a git revision: its gauss_newton.py is loaded from git), twice each,
with IPOPT's timing statistics: the Hessian callback (timed inside Python), IPOPT's Lagrangian
Hessian, search direction (MUMPS), objective and gradient evaluations. On a loaded machine only the
ratios within one run mean something; CPU seconds (user + sys, from IPOPT) are given beside wall.

Writes benchmarks/results/gn_profile.json and gn_profile.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import casadi as cs

import occontrol as oc
from occontrol.datasets import load_dataset
from occontrol.grid import as_grid
from occontrol.io import atomic_write, write_json
from occontrol.refinement import prolonged_guess
from occontrol.resnet import DeepLimitSettings, gauss_newton, guess_from_network, random_network
from occontrol.resnet.deep_limit import DeepLimitConfig, run_deep_limit
from occontrol.resnet.problem import DeepLimitProblem

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent
TIMERS = {"OverallAlgorithm": "overall", "ComputeSearchDirection": "search direction (MUMPS)",
          "Lagrangian Hessian": "Lagrangian Hessian", "Objective function": "objective",
          "Objective function gradient": "gradient"}


def reference_module(rev: str):
    """gauss_newton.py of a git revision, importable on its own (relative imports made absolute)."""
    text = subprocess.run(["git", "show", f"{rev}:occontrol/resnet/gauss_newton.py"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout
    text = re.sub(r"from \.\.(\w+)", r"from occontrol.\1", text)
    text = re.sub(r"from \.(\w+)", r"from occontrol.resnet.\1", text)
    path = Path(tempfile.mkdtemp()) / "gauss_newton_reference.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("gauss_newton_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed_callback(module, clock: dict) -> None:
    """Wrap the callback's evaluation (buffer or DM) to add its wall seconds to clock['callback']."""
    cls = module.GaussNewtonHessian
    name = "eval_buffer" if "eval_buffer" in vars(cls) else "eval"
    original = getattr(cls, name)

    def wrapped(self, *args):
        start = time.perf_counter()
        try:
            return original(self, *args)
        finally:
            clock["callback"] = clock.get("callback", 0.0) + time.perf_counter() - start
    setattr(cls, name, wrapped)


def case_level256():
    config = DeepLimitConfig(grids=(4, 8, 16, 32, 64, 128))
    result = run_deep_limit(config, out=None)
    coarse = result.study.solutions[-1]
    deep = DeepLimitProblem(result.data.X_train, result.data.y_train, config.model_settings())
    return dict(ocp=coarse.problem.ocp, deep=deep, N=256, guess=prolonged_guess(coarse, as_grid(256), "linear"),
                solver=config.solver(), transcription=config.transcription_object())


def case_n2000():
    data = load_dataset("moons", n=2000, noise=0.2, seed=0)
    deep = DeepLimitProblem(data.X_train, data.y_train, DeepLimitSettings(tau1=1e-3, tau2=1e-2))
    return dict(ocp=deep.ocp, deep=deep, N=64, guess=guess_from_network(deep, random_network(deep, 64, 0)),
                solver=gauss_newton.gauss_newton_solver(oc.Ipopt(max_iter=10)),
                transcription=oc.ExplicitEuler(shooting="single", parallelization="thread"))


def solve_with_timing(case: dict, module, clock: dict) -> dict:
    """One solve with IPOPT's timing statistics read from its (C-level) standard output."""
    solver = replace(case["solver"], print_level=5,
                     options={**case["solver"].options, "print_timing_statistics": "yes"})
    clock.clear()
    with tempfile.TemporaryFile(mode="w+") as out:
        sys.stdout.flush()
        saved = os.dup(1)
        os.dup2(out.fileno(), 1)
        try:
            sol = oc.solve(case["ocp"], case["transcription"], grid=case["N"], guess=case["guess"], solver=solver,
                           hess_lag=module.gauss_newton_hessian(case["deep"]))
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        out.seek(0)
        text = out.read()
    its = max(sol.iterations, 1)
    row = {"status": sol.status, "iterations": sol.iterations, "objective": sol.objective,
           "solve_seconds": sol.solve_seconds, "seconds_per_iteration": sol.solve_seconds / its,
           "callback_wall_per_iteration": clock.get("callback", 0.0) / its}
    for key, label in TIMERS.items():
        m = re.search(r"^ *" + re.escape(key) + r"\.+: *([\d.]+) \(sys: *([\d.]+) wall: *([\d.]+)\)", text, re.M)
        if m:
            row[f"{label} wall/it"] = float(m.group(3)) / its
            row[f"{label} cpu/it"] = (float(m.group(1)) + float(m.group(2))) / its
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default="c5d9243", help="git revision of the reference callback")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    clock: dict = {}
    reference = reference_module(args.reference)
    timed_callback(gauss_newton, clock)
    timed_callback(reference, clock)
    rows = []
    for name, make in (("N=256 n=200 warm level", case_level256), ("N=64 n=2000 cold, 10 iterations", case_n2000)):
        case = make()
        for rep in range(args.repeats):
            for label, module in (("reference", reference), ("this checkout", gauss_newton)):
                row = {"case": name, "callback": label, "repeat": rep, **solve_with_timing(case, module, clock)}
                rows.append(row)
                print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    doc = {"schema": 1, "benchmark": "gn_profile", "machine": platform.platform(), "casadi": cs.__version__,
           "reference": args.reference, "load_average": os.getloadavg(), "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / "gn_profile.json", doc)
    cols = ["seconds_per_iteration", "callback_wall_per_iteration", "Lagrangian Hessian cpu/it",
            "search direction (MUMPS) wall/it", "search direction (MUMPS) cpu/it", "objective cpu/it",
            "gradient cpu/it", "overall cpu/it"]
    lines = ["# Gauss-Newton iteration profile: reference callback vs this checkout", "",
             f"Reference: `{args.reference}`. Command: `python benchmarks/gn_profile.py`. Load average at the end: "
             f"{', '.join(f'{x:.1f}' for x in doc['load_average'])} (2 cores): compare within a case, not across runs.",
             "", "| case | callback | rep | iterations | objective | " + " | ".join(cols) + " |",
             "|---|---|---|---:|---|" + "---:|" * len(cols)]
    for r in rows:
        lines.append(f"| {r['case']} | {r['callback']} | {r['repeat']} | {r['iterations']} | {r['objective']:.13g} | "
                     + " | ".join(f"{r.get(c, float('nan')):.3f}" for c in cols) + " |")
    atomic_write(RESULTS / "gn_profile.md", lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n"))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How build and solve scale with the depth N, the samples n, and the formulation.

Every case runs in its own subprocess (so peak memory is its own) on the
deep-limit problem: two moons, tanh, logistic loss, tau1 = 1e-3, tau2 = 1e-2,
explicit Euler, from the depth-consistent random start of seed 0. IPOPT is
capped at ``--max-iter`` iterations: seconds per iteration is the measure, a
capped case shows as capped (never as converged).

Sweeps:
- depth: N = 4 ... 512 at n = 200 (default formulation, and exact multiple shooting up to --exact-max-N);
- samples: n = 100 ... 10000 at N = 64 (default formulation); and n = 10000 at N = 128;
- formulations at N = 64, n = 200: single shooting + Gauss-Newton (the default), multiple shooting +
  exact Hessian, multiple shooting + limited memory, single shooting + exact Hessian, MX step
  (expand=False), threaded maps.

Writes benchmarks/results/scaling.json and scaling.md, with log-log slopes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

VARIANTS = {
    "ggn-single": {"strategy": "gauss-newton", "shooting": "single", "hessian": "exact"},
    "exact-multiple": {"strategy": "exact", "shooting": "multiple", "hessian": "exact"},
    "lbfgs-multiple": {"strategy": "exact", "shooting": "multiple", "hessian": "limited-memory"},
    "exact-single": {"strategy": "exact", "shooting": "single", "hessian": "exact"},
    "ggn-single-mx": {"strategy": "gauss-newton", "shooting": "single", "hessian": "exact", "expand": False},
    "ggn-single-thread": {"strategy": "gauss-newton", "shooting": "single", "hessian": "exact",
                          "parallelization": "thread"},
    "exact-multiple-mx": {"strategy": "exact", "shooting": "multiple", "hessian": "exact", "expand": False},
    "exact-multiple-thread": {"strategy": "exact", "shooting": "multiple", "hessian": "exact",
                              "parallelization": "thread"},
    "ggn-single-secant": {"strategy": "gauss-newton", "shooting": "single", "hessian": "exact", "secant_below": 1e-3},
    "ggn-single-thread-secant": {"strategy": "gauss-newton", "shooting": "single", "hessian": "exact",
                                 "parallelization": "thread", "secant_below": 1e-3},
}


def run_case(spec: dict) -> dict:
    """One measurement (runs inside the subprocess)."""
    import occontrol as oc
    from occontrol.datasets import load_dataset
    from occontrol.resnet import DeepLimitProblem, DeepLimitSettings, guess_from_network, random_network
    from occontrol.resnet.gauss_newton import gauss_newton_hessian, gauss_newton_solver

    variant = VARIANTS[spec["variant"]]
    data = load_dataset("moons", n=spec["n"], noise=0.2, seed=0)
    deep = DeepLimitProblem(data.X_train, data.y_train, DeepLimitSettings(tau1=1e-3, tau2=1e-2))
    N = spec["N"]
    tr = oc.ExplicitEuler(shooting=variant["shooting"], expand=variant.get("expand", True),
                          parallelization=variant.get("parallelization", "serial"))
    solver = oc.Ipopt(max_iter=spec["max_iter"], hessian=variant["hessian"])
    hess_lag = None
    if variant["strategy"] == "gauss-newton":
        if spec.get("reference"):  # the callback of another revision (benchmarks/gn_profile.py loads it from git)
            from gn_profile import reference_module
            hess_lag = reference_module(spec["reference"]).gauss_newton_hessian(deep)
        elif variant.get("secant_below") is not None:
            hess_lag = gauss_newton_hessian(deep, secant_below=variant["secant_below"])
        else:
            hess_lag = gauss_newton_hessian(deep)
        solver = gauss_newton_solver(solver)
    guess = guess_from_network(deep, random_network(deep, N, 0), with_states=variant["shooting"] == "multiple")
    start = time.perf_counter()
    sol = oc.solve(deep.ocp, tr, grid=N, guess=guess, solver=solver, hess_lag=hess_lag)
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {**spec, "status": sol.status, "success": sol.success,
            "capped": sol.status == "Maximum_Iterations_Exceeded", "iterations": sol.iterations,
            "objective": sol.objective, "build_seconds": sol.build_seconds, "solve_seconds": sol.solve_seconds,
            "seconds_per_iteration": sol.solve_seconds / max(sol.iterations, 1), "wall_seconds": wall,
            "peak_memory_mb": peak_mb, "nlp_variables": int(sol.problem.lbx.size)}


def measure(spec: dict, timeout: float) -> dict:
    """Run one case in a fresh interpreter; a crash or timeout is recorded as a failure."""
    cmd = [sys.executable, __file__, "--case", json.dumps(spec)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**spec, "status": f"timeout after {timeout:.0f} s", "success": False, "capped": False}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        return {**spec, "status": f"crashed: {out.stderr.strip().splitlines()[-1:]}", "success": False,
                "capped": False}
    return json.loads(lines[-1])


def slope(xs, ys) -> float | None:
    pts = [(x, y) for x, y in zip(xs, ys) if y is not None and y > 0]
    if len(pts) < 2:
        return None
    lx, ly = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(lx, ly, 1)[0])


def _cell(row: dict, key: str, fmt: str) -> str:
    value = row.get(key)
    return "—" if value is None else format(value, fmt)


def _state(row: dict) -> str:
    if row.get("success"):
        return "ok"
    return "capped" if row.get("capped") else f"FAILED: {row['status']}"


def table(rows: list[dict], first: str) -> list[str]:
    out = [f"| {first} | variant | status | iterations | build s | solve s | s / iteration | peak MB |",
           "|---:|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        key = r["N"] if first == "N" else r["n"]
        out.append(f"| {key} | {r['variant']} | {_state(r)} | {r.get('iterations', '—')} | "
                   f"{_cell(r, 'build_seconds', '.2f')} | {_cell(r, 'solve_seconds', '.2f')} | "
                   f"{_cell(r, 'seconds_per_iteration', '.3f')} | {_cell(r, 'peak_memory_mb', '.0f')} |")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--max-iter", type=int, default=15, help="IPOPT cap per case (default %(default)s)")
    parser.add_argument("--exact-max-N", type=int, default=128, help="largest N for exact multiple shooting")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per case (default %(default)s)")
    parser.add_argument("--gn-only", action="store_true",
                        help="only the Gauss-Newton depth and sample sweeps, with threaded maps as the study runs them")
    parser.add_argument("--max-N", type=int, default=512, help="largest N of the depth sweep (default %(default)s)")
    parser.add_argument("--max-n", type=int, default=10000, help="largest n of the sample sweep (default %(default)s)")
    parser.add_argument("--reference", default=None,
                        help="also run those sweeps with the Gauss-Newton callback of this git revision, "
                             "alternating with this checkout's (ratios in one run)")
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(json.loads(args.case))), flush=True)
        return 0

    depths = [N for N in ([4, 8, 16] if args.quick else [4, 8, 16, 32, 64, 128, 256, 512]) if N <= args.max_N]
    samples = [n for n in ([100, 200, 400] if args.quick else [100, 200, 500, 1000, 2000, 5000, 10000])
               if n <= args.max_n]
    N_form = 16 if args.quick else 64
    plan = ([{"sweep": "depth", "variant": "ggn-single", "N": N, "n": 200} for N in depths]
            + [{"sweep": "depth", "variant": "exact-multiple", "N": N, "n": 200}
               for N in depths if N <= args.exact_max_N]
            + [{"sweep": "samples", "variant": "ggn-single", "N": N_form, "n": n} for n in samples]
            + [{"sweep": "formulation", "variant": v, "N": N_form, "n": 200} for v in VARIANTS])
    if not args.quick and not args.gn_only:
        plan.append({"sweep": "large", "variant": "ggn-single", "N": 128, "n": 10000})
    if args.gn_only:
        plan = ([{"sweep": "depth", "variant": "ggn-single-thread", "N": N, "n": 200} for N in depths]
                + [{"sweep": "samples", "variant": "ggn-single-thread", "N": N_form, "n": n} for n in samples])
    if args.reference:  # each case twice in a row: the reference callback, then this checkout's
        plan = [case for spec in plan for case in ({**spec, "reference": args.reference}, spec)]
    rows = []
    for spec in plan:
        spec = {**spec, "max_iter": args.max_iter}
        row = measure(spec, args.timeout)
        rows.append(row)
        print(f"{row['sweep']:<11s} {row['variant']:<22s} N={row['N']:<4d} n={row['n']:<6d} {_state(row):<8s} "
              f"it {row.get('iterations', '-')!s:<4s} build {row.get('build_seconds', float('nan')):7.2f}s "
              f"solve {row.get('solve_seconds', float('nan')):8.2f}s "
              f"s/it {row.get('seconds_per_iteration', float('nan')):7.3f} "
              f"mem {row.get('peak_memory_mb', float('nan')):6.0f} MB", flush=True)

    def pick(sweep, variant):
        return [r for r in rows if r["sweep"] == sweep and r["variant"] == variant]
    reference_rows = [r for r in rows if r.get("reference")]
    rows = [r for r in rows if not r.get("reference")]
    gn_variant = "ggn-single-thread" if args.gn_only else "ggn-single"
    depth_ggn, depth_exact = pick("depth", gn_variant), pick("depth", "exact-multiple")
    sample_rows = pick("samples", gn_variant)
    big = [r for r in depth_ggn if r["N"] >= 16]
    summary = {
        "slope_seconds_per_iteration_in_n": slope([r["n"] for r in sample_rows],
                                                  [r.get("seconds_per_iteration") for r in sample_rows]),
        "slope_seconds_per_iteration_in_N_ggn": slope([r["N"] for r in big],
                                                      [r.get("seconds_per_iteration") for r in big]),
        "slope_seconds_per_iteration_in_N_exact_multiple": slope(
            [r["N"] for r in depth_exact if r["N"] >= 16],
            [r.get("seconds_per_iteration") for r in depth_exact if r["N"] >= 16]),
        "build_le_solve_every_depth_ggn": all(r.get("build_seconds", 1e9) <= r.get("solve_seconds", 0)
                                              for r in depth_ggn),
    }
    if reference_rows:
        ref_depth = [r for r in reference_rows if r["sweep"] == "depth" and r["N"] >= 16]
        ref_samples = [r for r in reference_rows if r["sweep"] == "samples"]
        summary["reference"] = args.reference
        summary["reference_slope_seconds_per_iteration_in_n"] = slope(
            [r["n"] for r in ref_samples], [r.get("seconds_per_iteration") for r in ref_samples])
        summary["reference_slope_seconds_per_iteration_in_N_ggn"] = slope(
            [r["N"] for r in ref_depth], [r.get("seconds_per_iteration") for r in ref_depth])
        paired = [(r, c) for r in reference_rows for c in rows if c["sweep"] == r["sweep"] and c["N"] == r["N"]
                  and c["n"] == r["n"] and c["variant"] == r["variant"]]
        summary["speedup_seconds_per_iteration"] = {f"{r['sweep']} N={r['N']} n={r['n']}": (
            r["seconds_per_iteration"] / c["seconds_per_iteration"]
            if r.get("seconds_per_iteration") and c.get("seconds_per_iteration") else None) for r, c in paired}
    from occontrol.io import atomic_write, write_json
    import casadi as cs
    doc = {"schema": 1, "benchmark": "scaling", "machine": platform.platform(), "python": platform.python_version(),
           "casadi": cs.__version__, "max_iter": args.max_iter, "rows": rows, "reference_rows": reference_rows,
           "summary": summary, "load_average": os.getloadavg(),
           "default": "ggn-single: single shooting with the Gauss-Newton Hessian (see the formulation table)"}
    RESULTS.mkdir(exist_ok=True)
    name = "scaling_quick" if args.quick else "scaling_gn" if args.gn_only else "scaling"
    write_json(RESULTS / f"{name}.json", doc)
    lines = ["# Scaling of build and solve", "",
             f"Deep-limit problem (moons, tanh, logistic, tau1 1e-3, tau2 1e-2, explicit Euler), IPOPT capped at "
             f"{args.max_iter} iterations (seconds per iteration is the measure; 'capped' is not converged). "
             "Each case in its own process; peak MB is that process's maximum resident set.", "",
             "## Depth N (n = 200)", ""] + table(depth_ggn + depth_exact, "N") + [
             "", "## Samples n (N = %d)" % N_form, ""] + table(sample_rows, "n") + [
             "", "## Formulations (N = %d, n = 200)" % N_form, ""] + table(
             [r for r in rows if r["sweep"] == "formulation"], "N") + [
             "", "## n = 10000 at N = 128", ""] + table([r for r in rows if r["sweep"] == "large"], "N") + (
             ["", f"## Reference callback ({args.reference}), run alternately with the rows above", ""]
             + table([r for r in reference_rows if r["sweep"] == "depth"], "N") + [""]
             + table([r for r in reference_rows if r["sweep"] == "samples"], "n") if reference_rows else []) + [
             "", "## Slopes (log-log least squares)", ""] + [f"- {k}: {v}" for k, v in summary.items()]
    atomic_write(RESULTS / f"{name}.md", lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""NLP build time and IPOPT solve time on the ResNet-shaped ensemble problem.

The problem (the deep-limit ResNet, d = 2, n = 200 samples):

    X' = tanh(A(t) X + b(t) 1^T),  X(0) = X0 (2 x 200, two-moons-like data, fixed seed)
    minimise  (1/n) sum_i log(1 + exp(-s_i (W X_i(1) + c)))          (logistic loss, s_i = +-1)
              + tau1 int |theta|^2 + tau2 int |theta'|^2,   theta = (A, b),  tau1 = 1e-3, tau2 = 1e-2
              + tau_w (|W|^2 + c^2),                          tau_w = 1e-2

with static classifier variables W (1 x 2) and c (E_N of ResNet.objective), transcribed by explicit Euler with
piecewise-constant controls (the ResNet exactly), multiple shooting. The weight decay
tau_w > 0 matters: the two moons are separable after the flow, and without it the loss
has no minimiser (|W| -> inf), so IPOPT wanders instead of converging. The guess is the
same small random controls and classifier for every run at a given N; states start at X0.

Runs:
- scaling: the library default ``oc.ExplicitEuler()`` and the baseline at each N;
- variants at one N (``--compare-N``): ``expand=False`` (MX step), single shooting.

The baseline is the NLP a user would write by hand: one big SX graph, an unrolled Python
loop over steps and samples, the same variables in the same order, the same guess and the
same IPOPT options. Ratios are taken against the baseline measured in the same run, because
wall times on a shared machine are noisy.

IPOPT is capped at ``--max-iter`` iterations (default 50): a run that hits the cap is shown
as FAILED, with its timings. Results go to <output>.json and <output>.md, rewritten
atomically after every run. The JSON (schema_version 1) holds the command, machine, load
averages, versions (casadi, numpy, occontrol and its git commit), problem and settings, one
record per run (variant, N, status, success, iterations, objective, build_seconds,
solve_seconds, seconds_per_iteration, cpu_seconds, nx, ng) and the ratios in "summary";
"complete" is false until the last run is written. ``--render FILE.json`` rewrites the table.
The full run took about an hour on a shared 2-CPU machine (the N = 512 solves dominate).

Usage:
    python benchmarks/build_solve.py              # N = 64 128 256 512, variants at N = 128
    python benchmarks/build_solve.py --quick      # N = 16 32, variants at 16 (under a minute)
    python benchmarks/build_solve.py --N 64 128 --compare-N 64
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import casadi as cs
import numpy as np

import occontrol as oc

SCHEMA_VERSION = 1
D, N_SAMPLES = 2, 200
TAU1, TAU2, TAU_W = 1e-3, 1e-2, 1e-2
DATA_SEED, GUESS_SEED = 0, 1
HERE = Path(__file__).resolve().parent


# ----------------------------------------------------------------------------- problem
def two_moons(n: int = N_SAMPLES, noise: float = 0.1, seed: int = DATA_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, like sklearn's make_moons: X0 (2, n) and labels s in {-1, +1}."""
    rng = np.random.default_rng(seed)
    label = np.arange(n) % 2
    angle = rng.uniform(0.0, np.pi, n)
    x = np.where(label == 0, np.cos(angle), 1.0 - np.cos(angle))
    y = np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle))
    X0 = np.vstack([x, y]) + noise * rng.normal(size=(2, n))
    return X0, 2.0 * label - 1.0


def softplus(m):
    """log(1 + exp(m)) without overflow for large m."""
    return cs.fmax(m, 0) + cs.log1p(cs.exp(-cs.fabs(m)))


def guess_values(N: int) -> dict[str, np.ndarray]:
    """Small random controls (one theta_k per layer) and classifier; the same for every variant."""
    rng = np.random.default_rng(GUESS_SEED)
    return {"A": 0.1 * rng.normal(size=(N, 4)), "b": 0.1 * rng.normal(size=(N, 2)),
            "W": 0.1 * rng.normal(size=2), "c": np.zeros(1)}


def build_ocp(X0: np.ndarray, s: np.ndarray):
    """The ensemble OCP through occontrol; returns the OCP and its symbols by name."""
    n = X0.shape[1]
    ocp = oc.OCP(t0=0.0, tf=1.0)
    X = ocp.state("X", (D, n))
    A = ocp.control("A", D * D)
    b = ocp.control("b", D)
    W = ocp.variable("W", D)
    c = ocp.variable("c")
    ocp.dynamics(X, cs.tanh(cs.reshape(A, D, D) @ X + cs.repmat(b, 1, n)))
    ocp.initial(X, X0)
    margin = cs.DM(s).T * (W.T @ X + c)
    ocp.minimize_terminal(cs.sum2(softplus(-margin)) / n + TAU_W * (cs.sumsqr(W) + c**2))
    ocp.regularize(A, l2=TAU1, h1=TAU2)
    ocp.regularize(b, l2=TAU1, h1=TAU2)
    return ocp, {"X": X, "A": A, "b": b, "W": W, "c": c}


# --------------------------------------------------------------------------- variants
def run_library(transcription: oc.Transcription, N: int, X0, s, solver: oc.Ipopt) -> dict:
    """Build and solve with ``oc.solve``; its own build/solve timers."""
    ocp, sym = build_ocp(X0, s)
    g = guess_values(N)
    sol = oc.solve(ocp, transcription, grid=N, solver=solver,
                   guess={sym["A"]: g["A"], sym["b"]: g["b"], sym["W"]: g["W"], sym["c"]: float(g["c"][0])})
    return {"status": sol.status, "success": sol.success, "iterations": sol.iterations,
            "objective": sol.objective, "build_seconds": sol.build_seconds, "solve_seconds": sol.solve_seconds,
            "nx": int(sol.problem.lbx.size), "ng": int(sol.problem.lbg.size)}


def run_baseline(N: int, X0, s, solver: oc.Ipopt) -> dict:
    """The same NLP written by hand as one big SX graph (unrolled over steps and samples)."""
    start = time.perf_counter()
    n = X0.shape[1]
    h = 1.0 / N
    nz, nu = D * n, D * D + D
    # Same layout as occontrol's: [W, c, U_0, X_1, U_1, X_2, ..., U_{N-1}, X_N]; X_k column-major.
    w = cs.SX.sym("w", D + 1 + N * (nu + nz))
    p = cs.SX.sym("p", nz)  # X0, an NLP parameter as in occontrol
    W, c = w[0:D], w[D]
    offset = D + 1
    U, Xs = [], [p]
    for _ in range(N):
        U.append(w[offset:offset + nu])
        Xs.append(w[offset + nu:offset + nu + nz])
        offset += nu + nz
    g = []
    for k in range(N):
        a, bk, x, x_next = U[k][0:4], U[k][4:6], Xs[k], Xs[k + 1]
        for i in range(n):
            x0, x1 = x[2 * i], x[2 * i + 1]
            # reshape(A, 2, 2) is column-major: [[a0, a2], [a1, a3]]
            f0 = cs.tanh(a[0] * x0 + a[2] * x1 + bk[0])
            f1 = cs.tanh(a[1] * x0 + a[3] * x1 + bk[1])
            g.append(x_next[2 * i] - (x0 + h * f0))
            g.append(x_next[2 * i + 1] - (x1 + h * f1))
    XN = Xs[N]
    loss = 0
    for i in range(n):
        margin = s[i] * (W[0] * XN[2 * i] + W[1] * XN[2 * i + 1] + c)
        loss += softplus(-margin)
    reg = TAU1 * h * sum(cs.sumsqr(u) for u in U)
    reg += TAU2 / h * sum(cs.sumsqr(U[k + 1] - U[k]) for k in range(N - 1))
    f = loss / n + TAU_W * (cs.sumsqr(W) + c**2) + reg
    plugin, options = solver.nlpsol()
    nlp_solver = cs.nlpsol("baseline", plugin, {"x": w, "p": p, "f": f, "g": cs.vertcat(*g)}, options)
    build_seconds = time.perf_counter() - start

    gv = guess_values(N)
    x0_vec = X0.ravel(order="F")
    w0 = np.concatenate([gv["W"], gv["c"]] + [np.concatenate([gv["A"][k], gv["b"][k], x0_vec]) for k in range(N)])
    start = time.perf_counter()
    result = nlp_solver(x0=w0, p=x0_vec, lbg=0.0, ubg=0.0)
    solve_seconds = time.perf_counter() - start
    stats = nlp_solver.stats()
    return {"status": str(stats["return_status"]), "success": bool(stats["success"]),
            "iterations": int(stats["iter_count"]), "objective": float(result["f"]),
            "build_seconds": build_seconds, "solve_seconds": solve_seconds,
            "function_eval_seconds": sum(v for key, v in stats.items() if key.startswith("t_wall_nlp_")),
            "nx": int(w.numel()), "ng": len(g)}


VARIANTS = {
    "default": ("oc.ExplicitEuler()  (SX step, mapped)", lambda: oc.ExplicitEuler()),
    "mx-step": ("oc.ExplicitEuler(expand=False)  (MX step, mapped)", lambda: oc.ExplicitEuler(expand=False)),
    "single": ("oc.ExplicitEuler(shooting='single')", lambda: oc.ExplicitEuler(shooting="single")),
    "baseline": ("hand-written NLP, one big SX graph (unrolled loops)", None),
}


def run_one(variant: str, N: int, X0, s, solver: oc.Ipopt) -> dict:
    """One build + solve; an exception is recorded as a failed run, not raised."""
    record = {"variant": variant, "description": VARIANTS[variant][0], "N": N,
              "load_average_before": round(os.getloadavg()[0], 2)}
    cpu = time.process_time()
    try:
        if variant == "baseline":
            record.update(run_baseline(N, X0, s, solver))
        else:
            record.update(run_library(VARIANTS[variant][1](), N, X0, s, solver))
    except Exception as exc:  # noqa: BLE001 - a benchmark reports failures, it does not stop
        record.update({"status": f"Exception: {type(exc).__name__}: {exc}".splitlines()[0], "success": False})
    # CPU seconds of this process (all threads) for build + solve: less sensitive to other load than wall time.
    record["cpu_seconds"] = time.process_time() - cpu
    if record.get("iterations"):
        record["seconds_per_iteration"] = record["solve_seconds"] / record["iterations"]
    return record


# ----------------------------------------------------------------------------- output
def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same directory and os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def machine_info() -> dict:
    info = {"platform": platform.platform(), "machine": platform.machine(), "processor": platform.processor(),
            "python": platform.python_version(), "cpu_count": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as fh:
            names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
        info["cpu_model"] = names[0] if names else None
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as fh:
            info["memory_gb"] = round(int(fh.readline().split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return info


def _find(runs: list[dict], variant: str, N: int) -> dict | None:
    return next((r for r in runs if r["variant"] == variant and r["N"] == N), None)


def _ratio(a: dict | None, b: dict | None, key: str) -> float | None:
    if a is None or b is None or a.get(key) is None or not b.get(key):
        return None
    return a[key] / b[key]


def summarise(runs: list[dict], Ns: list[int], compare_N: int) -> dict:
    """Ratios against the baseline of the same N, for the JSON and the table."""
    out = {"scaling": [], "variants": []}
    for N in Ns:
        d, b = _find(runs, "default", N), _find(runs, "baseline", N)
        both_ok = bool(d and b and d.get("success") and b.get("success"))
        out["scaling"].append({
            "N": N,
            "default_build_over_solve": (d["build_seconds"] / d["solve_seconds"]
                                         if d and d.get("solve_seconds") else None),
            "default_build_over_baseline": _ratio(d, b, "build_seconds"),
            "default_solve_over_baseline": _ratio(d, b, "solve_seconds"),
            "default_per_iteration_over_baseline": _ratio(d, b, "seconds_per_iteration"),
            "default_cpu_over_baseline": _ratio(d, b, "cpu_seconds"),
            # Same NLP, same start: the two should reach the same point (up to rounding).
            "objective_difference": abs(d["objective"] - b["objective"]) if both_ok else None,
        })
    base = _find(runs, "baseline", compare_N)
    for variant in VARIANTS:
        r = _find(runs, variant, compare_N)
        if r is not None:
            out["variants"].append({"variant": variant, "N": compare_N,
                                    "build_over_baseline": _ratio(r, base, "build_seconds"),
                                    "solve_over_baseline": _ratio(r, base, "solve_seconds"),
                                    "per_iteration_over_baseline": _ratio(r, base, "seconds_per_iteration"),
                                    "cpu_over_baseline": _ratio(r, base, "cpu_seconds")})
    return out


def _f(x: float | None, fmt: str = ".2f") -> str:
    return "—" if x is None else format(x, fmt)


def _status(r: dict) -> str:
    if not r:
        return "not run"
    if r.get("success"):
        return f"ok ({r['status']})"
    return f"**FAILED** ({r.get('status', 'not run')})"


def _objective(r: dict) -> str:
    # A failed solve's objective is not a result: do not show it.
    return _f(r.get("objective"), ".6f") if r.get("success") else "—"


def markdown(doc: dict) -> str:
    runs, cN = doc["runs"], doc["settings"]["compare_N"]
    m = doc["machine"]
    load = doc["load_average"]
    lines = [
        "# Build and solve times: ExplicitEuler, multiple shooting, 2 x 200 ensemble",
        "",
        f"Reproduce: `{doc['command'].strip()}`"
        + ("" if doc["complete"] else "  \n**Incomplete run** (still running, or stopped)."),
        "",
        f"Problem: {doc['problem']['summary']}",
        "",
        f"IPOPT: MUMPS, exact Hessian, tol {doc['settings']['tol']:g}, capped at "
        f"max_iter = {doc['settings']['max_iter']} (a capped run shows as FAILED, with its timings). "
        "*build* is transcription plus `casadi.nlpsol` (CasADi generates the derivatives there); "
        "*solve* is the IPOPT call; both wall-clock. *CPU* is the process CPU time of build + solve, "
        "less sensitive than wall time to other load on the machine. "
        "Ratios are against the hand-written one-big-SX-graph baseline (same NLP, same variable order, "
        "same start, same options) measured in the same run: below 1 means faster than the baseline.",
        "",
        f"Machine: {m.get('cpu_model') or m['processor']}, {m['cpu_count']} CPUs, {m.get('memory_gb', '?')} GB, "
        f"{m['platform']}; Python {m['python']}, CasADi {doc['versions']['casadi']}, "
        f"occontrol {doc['versions']['occontrol']} (git {doc['versions']['occontrol_git'] or '?'}). "
        f"Load average (1, 5, 15 min) at start {load['start']}, at end {load.get('end')}; "
        "per run in the JSON.",
        "",
        "## Scaling with N: library default `oc.ExplicitEuler()` against the baseline",
        "",
        "| N | NLP vars | status | iters | build s | solve s | s / iter | build / solve | CPU s "
        "| baseline status | baseline build s | baseline solve s | baseline CPU s "
        "| build / baseline | solve / baseline | CPU / baseline | objective (default − baseline) |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in doc["summary"]["scaling"]:
        N = row["N"]
        d, b = _find(runs, "default", N) or {}, _find(runs, "baseline", N) or {}
        lines.append(
            f"| {N} | {d.get('nx', '—')} | {_status(d)} | {d.get('iterations', '—')} "
            f"| {_f(d.get('build_seconds'))} | {_f(d.get('solve_seconds'))} "
            f"| {_f(d.get('seconds_per_iteration'))} | {_f(row['default_build_over_solve'])} "
            f"| {_f(d.get('cpu_seconds'), '.1f')} "
            f"| {_status(b)} | {_f(b.get('build_seconds'))} | {_f(b.get('solve_seconds'))} "
            f"| {_f(b.get('cpu_seconds'), '.1f')} "
            f"| {_f(row['default_build_over_baseline'])} | {_f(row['default_solve_over_baseline'])} "
            f"| {_f(row['default_cpu_over_baseline'])} | {_f(row['objective_difference'], '.1e')} |")
    lines += [
        "",
        f"## Formulation variants at N = {cN}",
        "",
        "| variant | status | iters | objective | build s | solve s | s / iter | CPU s "
        "| build / baseline | solve / baseline | s per iter / baseline | CPU / baseline |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in doc["summary"]["variants"]:
        r = _find(runs, row["variant"], cN)
        lines.append(
            f"| `{row['variant']}`: {r['description']} | {_status(r)} | {r.get('iterations', '—')} | {_objective(r)} "
            f"| {_f(r.get('build_seconds'))} | {_f(r.get('solve_seconds'))} "
            f"| {_f(r.get('seconds_per_iteration'))} | {_f(r.get('cpu_seconds'), '.1f')} "
            f"| {_f(row['build_over_baseline'])} | {_f(row['solve_over_baseline'])} "
            f"| {_f(row['per_iteration_over_baseline'])} | {_f(row['cpu_over_baseline'])} |")
    fn = [(r["N"], r["function_eval_seconds"], r["solve_seconds"]) for r in runs
          if r["variant"] == "baseline" and r.get("function_eval_seconds") is not None]
    if fn:
        lines += ["", "Where the solve time goes: in the baseline runs, IPOPT spent "
                  + ", ".join(f"{e:.2f} s of {s:.1f} s (N = {N})" for N, e, s in fn)
                  + " in function and derivative evaluations (IPOPT's own timers). The rest is IPOPT "
                  "itself, mostly computing search directions (factorising the KKT matrix with MUMPS, "
                  "refactorising when the inertia needs correcting), so the solve time hardly depends "
                  "on how the NLP was built."]
    lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--quick", action="store_true", help="N = 16 32, variants at N = 16")
    parser.add_argument("--N", type=int, nargs="+", help="grid sizes for the scaling runs (default 64 128 256 512)")
    parser.add_argument("--compare-N", type=int, help="N for the variant comparison (default 128, quick 16)")
    parser.add_argument("--max-iter", type=int, default=50, help="IPOPT iteration cap (default 50)")
    parser.add_argument("--render", type=Path, metavar="JSON",
                        help="only rewrite the markdown table from an existing results JSON")
    parser.add_argument("--output", type=Path, help="output path without extension (default "
                        "benchmarks/results/build_solve, or build_solve_quick with --quick)")
    args = parser.parse_args(argv)
    if args.render:
        doc = json.loads(args.render.read_text())
        if doc.get("schema_version") != SCHEMA_VERSION:
            parser.error(f"--render: expected schema_version {SCHEMA_VERSION}, got {doc.get('schema_version')}")
        doc["summary"] = summarise(doc["runs"], doc["settings"]["N"], doc["settings"]["compare_N"])
        write_atomic(args.render.with_suffix(".md"), markdown(doc))
        print(f"wrote {args.render.with_suffix('.md')}")
        return 0

    Ns = args.N or ([16, 32] if args.quick else [64, 128, 256, 512])
    if any(N < 2 for N in Ns):
        parser.error("--N: expected integers >= 2")
    compare_N = args.compare_N or (16 if args.quick else 128)
    output = args.output or HERE / "results" / ("build_solve_quick" if args.quick else "build_solve")
    solver = oc.Ipopt(max_iter=args.max_iter)
    X0, s = two_moons()

    commit, dirty = _git("rev-parse", "--short", "HEAD"), _git("status", "--porcelain", "--", "occontrol")
    doc = {
        "schema_version": SCHEMA_VERSION,
        "benchmark": "build_solve",
        "command": " ".join(["python benchmarks/build_solve.py", *(sys.argv[1:] if argv is None else argv)]),
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "complete": False,
        "machine": machine_info(),
        "load_average": {"start": [round(x, 2) for x in os.getloadavg()]},
        "versions": {"casadi": cs.__version__, "numpy": np.__version__, "occontrol": oc.__version__,
                     "occontrol_git": None if commit is None else commit + ("-dirty" if dirty else "")},
        "problem": {
            "summary": (f"X' = tanh(A X + b), X (2 x {N_SAMPLES}) from two-moons-like data (seed {DATA_SEED}), "
                        f"mean logistic loss of W X(1) + c with static W (1 x 2) and c, "
                        f"L2 tau1 = {TAU1:g} and H1 tau2 = {TAU2:g} on (A, b), weight decay "
                        f"tau_w = {TAU_W:g} on (W, c); explicit Euler, "
                        f"piecewise-constant controls, multiple shooting unless stated; "
                        f"guess: controls and W ~ 0.1 N(0, 1) (seed {GUESS_SEED}), c = 0, states at X0."),
            "d": D, "n": N_SAMPLES, "tau1": TAU1, "tau2": TAU2, "tau_w": TAU_W,
            "data_seed": DATA_SEED, "guess_seed": GUESS_SEED,
        },
        "settings": {"N": Ns, "compare_N": compare_N, "max_iter": args.max_iter, "tol": solver.tol,
                     "ipopt_options": solver.ipopt_options()},
        "runs": [],
    }

    plan = []
    for N in sorted(set(Ns) | {compare_N}):
        plan += [(v, N) for v in VARIANTS if v in ("default", "baseline") and N in Ns or N == compare_N]
    json_path, md_path = output.with_suffix(".json"), output.with_suffix(".md")

    def save() -> None:
        doc["summary"] = summarise(doc["runs"], Ns, compare_N)
        write_atomic(json_path, json.dumps(doc, indent=2) + "\n")
        write_atomic(md_path, markdown(doc))

    print(f"{len(plan)} runs, IPOPT max_iter = {args.max_iter}; writing {json_path} and {md_path}", flush=True)
    for variant, N in plan:
        r = run_one(variant, N, X0, s, solver)
        doc["runs"].append(r)
        doc["load_average"]["end"] = [round(x, 2) for x in os.getloadavg()]
        save()
        print(f"N={N:4d} {variant:9s} build {_f(r.get('build_seconds')):>7s} s  "
              f"solve {_f(r.get('solve_seconds')):>7s} s  iters {r.get('iterations', '-'):>3}  "
              f"{'ok' if r['success'] else 'FAILED'} {r['status']}", flush=True)

    doc["complete"] = True
    doc["finished"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    save()
    print(f"wrote {json_path} and {md_path}")
    return 0 if all(r["success"] for r in doc["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())

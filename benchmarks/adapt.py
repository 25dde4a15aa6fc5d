"""Adaptive grids (oc.adapt) against uniform doubling: intervals and wall time to a given objective error.

For each problem with a known optimum J*, ``oc.adapt`` runs from N0 = 8 to its tolerance; then a uniform
doubling ladder (N = 8, 16, 32, ..., each level warm-started from the previous one) runs until the TRUE error
|J_h - J*| is at most the adaptive grid's true error. Reported: the intervals of both, the true errors, the
adaptive estimate, and wall times (adapt: all rounds, each with its bisected estimate solve; uniform: the
whole ladder up to the grid that reached the error, and that grid's build + solve alone).

Problems (RK4, piecewise-constant controls, multiple shooting, IPOPT tol 1e-10):
- boundary layer: min int_0^1 x^2 + eps u^2, x' = u, x(0) = 1, eps = 1e-4: J* = sqrt(eps) tanh(1 / sqrt(eps));
- bang-bang: min int_0^3 (t - 1.3) u dt, x' = u, |u| <= 1: u = +1 then -1 at t = 1.3, J* = -(1.3^2 + 1.7^2) / 2;
- minimum time, free tf: x'' = u, |u| <= 1, (1, 0.5) to (0, 0): T* = 0.5 + 2 sqrt(1.125);
- singular arc: min int_0^2 x^2, x' = u, |u| <= 1, x(0) = x0 = 0.9 sqrt(2) / 1.35: J* = x0^3 / 3;
- smooth: min int_0^1 x^2 + u^2, x' = u, x(0) = 1: J* = tanh(1).

Writes benchmarks/results/adapt.json and adapt.md (adapt_quick.* with --quick: looser targets).
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
from pathlib import Path

import casadi as cs

import occontrol as oc
from occontrol.io import atomic_write, write_json
from occontrol.refinement import prolonged_guess

RESULTS = Path(__file__).resolve().parent / "results"
SOLVER = oc.Ipopt(tol=1e-10)
N0, MAX_UNIFORM = 8, 16384


def boundary_layer(eps: float = 1e-4):
    ocp = oc.OCP(0.0, 1.0)
    x, u = ocp.state("x"), ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2 + eps * u ** 2)
    return ocp, math.sqrt(eps) * math.tanh(1 / math.sqrt(eps))


def bang_bang(switch: float = 1.3, T: float = 3.0):
    ocp = oc.OCP(0.0, T)
    x, u = ocp.state("x"), ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(x, u)
    ocp.initial(x, 0.0)
    ocp.minimize_integral((ocp.t - switch) * u)
    return ocp, -(switch ** 2 + (T - switch) ** 2) / 2


def min_time(v0: float = 0.5):
    ocp = oc.OCP(0.0, oc.FreeTime(guess=2.0, lower=0.5, upper=10.0))
    X, u = ocp.state("X", 2), ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(X, cs.vertcat(X[1], u))
    ocp.initial(X, [1.0, v0])
    ocp.subject_to_terminal(X == 0)
    ocp.minimize_terminal(ocp.tf)
    return ocp, v0 + 2 * math.sqrt(1 + v0 ** 2 / 2)


def singular_arc(x0: float = 0.9 * math.sqrt(2) / 1.35):
    ocp = oc.OCP(0.0, 2.0)
    x, u = ocp.state("x"), ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(x, u)
    ocp.initial(x, x0)
    ocp.minimize_integral(x ** 2)
    return ocp, x0 ** 3 / 3


def smooth():
    return boundary_layer(1.0)


PROBLEMS = {"boundary layer": (boundary_layer, 1e-6, 1e-4), "bang-bang": (bang_bang, 1e-6, 1e-4),
            "minimum time (free tf)": (min_time, 1e-6, 1e-4), "singular arc": (singular_arc, 1e-6, 1e-4),
            "smooth": (smooth, 1e-7, 1e-5)}


def uniform_ladder(ocp, optimum: float, target: float) -> dict:
    """Doubling from N0, warm-started, until |J_h - J*| <= target (or MAX_UNIFORM)."""
    rows, previous, began = [], None, time.perf_counter()
    N = N0
    while N <= MAX_UNIFORM:
        guess = None if previous is None else prolonged_guess(previous, oc.Grid.uniform_grid(N), "constant")
        sol = oc.solve(ocp, oc.RK4(), grid=N, guess=guess, solver=SOLVER)
        error = abs(sol.objective - optimum)
        rows.append({"N": N, "objective": sol.objective, "true_error": error, "status": sol.status,
                     "success": sol.success, "seconds": sol.build_seconds + sol.solve_seconds})
        if not sol.success:
            break
        previous = sol
        if error <= target:
            break
        N *= 2
    last = rows[-1]
    reached = bool(last["success"] and last["true_error"] <= target)
    return {"reached": reached, "N": last["N"], "true_error": last["true_error"], "status": last["status"],
            "ladder_seconds": time.perf_counter() - began, "grid_seconds": last["seconds"], "ladder": rows}


def run(name: str, make, tol: float) -> dict:
    ocp, optimum = make()
    began = time.perf_counter()
    result = oc.adapt(ocp, oc.RK4(), grid=N0, tol=tol, solver=SOLVER, max_rounds=30, max_intervals=4096)
    adapt_seconds = time.perf_counter() - began
    sol = result.solution
    true_error = abs(sol.objective - optimum) if sol is not None else math.nan
    row = {"problem": name, "optimum": optimum, "tol": tol,
           "adapt": {"converged": result.converged, "reason": result.reason, "N": sol.N if sol else None,
                     "objective": sol.objective if sol else None, "estimate": result.error_estimate,
                     "true_error": true_error, "rounds": len(result.levels), "seconds": adapt_seconds,
                     "last_grid_seconds": (sol.build_seconds + sol.solve_seconds) if sol else None,
                     "levels": [lv.as_dict() for lv in result.levels],
                     "h_min": result.levels[-1].h_min, "h_max": result.levels[-1].h_max}}
    # uniform must reach the adaptive grid's TRUE error (not the tolerance)
    row["uniform"] = uniform_ladder(ocp, optimum, true_error) if result.converged else None
    u = row["uniform"]
    print(f"{name}: adapt N={row['adapt']['N']} ({'converged' if result.converged else 'NOT CONVERGED'}, "
          f"{len(result.levels)} rounds) est {result.error_estimate:.2e} true {true_error:.2e} "
          f"{adapt_seconds:.2f}s" + (f" | uniform N={u['N']} ({'reached' if u['reached'] else 'NOT reached'}) "
                                     f"true {u['true_error']:.2e} ladder {u['ladder_seconds']:.2f}s "
                                     f"grid {u['grid_seconds']:.2f}s" if u else ""), flush=True)
    return row


def markdown(rows: list[dict], quick: bool) -> str:
    lines = ["# Adaptive grids vs uniform doubling" + (" (quick)" if quick else ""), "",
             f"RK4, piecewise-constant controls, IPOPT tol 1e-10, N0 = {N0}. The uniform ladder doubles N "
             "(warm-started) until its TRUE error |J_h - J*| is at most the adaptive grid's. Seconds: adapt = "
             "all rounds with their bisected estimate solves; uniform = the ladder up to that grid (and that "
             "grid alone).", "",
             "| problem | tol | adapt N | rounds | estimate | true error | adapt s | uniform N | uniform true error | "
             "ladder s | grid s | intervals saved |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        a, u = r["adapt"], r["uniform"]
        status = "" if a["converged"] else " (NOT CONVERGED)"
        if u is None:
            tail = "- | - | - | - | - |"
        else:
            reached = "" if u["reached"] else " (not reached)"
            tail = (f"{u['N']}{reached} | {u['true_error']:.2e} | {u['ladder_seconds']:.2f} | "
                    f"{u['grid_seconds']:.2f} | {u['N'] / a['N']:.1f}x |")
        lines.append(f"| {r['problem']} | {r['tol']:g} | {a['N']}{status} | {a['rounds']} | {a['estimate']:.2e} | "
                     f"{a['true_error']:.2e} | {a['seconds']:.2f} | " + tail)
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="looser targets (a smoke run)")
    args = parser.parse_args(argv)
    rows = [run(name, make, quick if args.quick else tol) for name, (make, tol, quick) in PROBLEMS.items()]
    doc = {"schema": 1, "benchmark": "adapt", "machine": platform.platform(), "python": platform.python_version(),
           "casadi": cs.__version__, "occontrol": oc.__version__, "quick": args.quick,
           "transcription": oc.RK4().describe(), "ipopt_tol": SOLVER.tol, "N0": N0, "rows": rows}
    stem = "adapt_quick" if args.quick else "adapt"
    write_json(RESULTS / f"{stem}.json", doc)
    text = markdown(rows, args.quick)
    atomic_write(RESULTS / f"{stem}.md", lambda tmp: Path(tmp).write_text(text))
    print(text)
    failed = [r["problem"] for r in rows if not (r["adapt"]["converged"] and r["uniform"] and r["uniform"]["reached"])]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

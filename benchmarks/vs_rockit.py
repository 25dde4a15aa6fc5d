"""occontrol against rockit on rockit's own example problems.

Both libraries solve the same OCP with multiple shooting, one RK4 step per
control interval, N = 200, the same IPOPT options; we time everything a user
waits for (writing the problem, transcription, solver construction, solve),
best of ``--repeat`` runs, and compare objectives.

Problems (from rockit's examples/):
- hello_world.py: Van der Pol oscillator, T = 10, |u| <= 1, x1 >= -0.25;
- mpc_example.py: cart-pole swing to rest, T = 2, |F| <= 2, |pos| <= 2.

Needs ``pip install rockit-meco``. Writes benchmarks/results/vs_rockit.json and .md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import casadi as cs
import numpy as np

import occontrol as oc
from occontrol.io import write_json, atomic_write

RESULTS = Path(__file__).resolve().parent / "results"
IPOPT = {"tol": 1e-8, "print_level": 0, "sb": "yes", "linear_solver": "mumps", "max_iter": 1000}
MCART, MPEND, LENGTH, GRAVITY = 0.5, 1.0, 2.0, 9.81


def cartpole_rhs(theta, dpos, dtheta, F):
    """The cart-pole of rockit's mpc_example.py."""
    denom = MCART + MPEND - MPEND * cs.cos(theta) * cs.cos(theta)
    ddpos = (-MPEND * LENGTH * cs.sin(theta) * dtheta * dtheta
             + MPEND * GRAVITY * cs.cos(theta) * cs.sin(theta) + F) / denom
    ddtheta = (-MPEND * LENGTH * cs.cos(theta) * cs.sin(theta) * dtheta * dtheta + F * cs.cos(theta)
               + (MCART + MPEND) * GRAVITY * cs.sin(theta)) / (LENGTH * denom)
    return ddpos, ddtheta


# ------------------------------------------------------------------ occontrol
def occontrol_vdp(N: int):
    ocp = oc.OCP(0.0, 10.0)
    x = ocp.state("x", 2)
    u = ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(x, cs.vertcat((1 - x[1] ** 2) * x[0] - x[1] + u, x[0]))
    ocp.initial(x, [0.0, 1.0])
    ocp.minimize_integral(x[0] ** 2 + x[1] ** 2 + u ** 2)
    ocp.subject_to(x[0] >= -0.25)
    return oc.solve(ocp, oc.RK4(), grid=N, solver=oc.Ipopt(**_ipopt_kwargs()))


def occontrol_cartpole(N: int):
    ocp = oc.OCP(0.0, 2.0)
    X = ocp.state("X", 4)
    F = ocp.control("F", lower=-2.0, upper=2.0)
    pos, theta, dpos, dtheta = X[0], X[1], X[2], X[3]
    ddpos, ddtheta = cartpole_rhs(theta, dpos, dtheta, F)
    ocp.dynamics(X, cs.vertcat(dpos, dtheta, ddpos, ddtheta))
    ocp.initial(X, [0.5, 0.0, 0.0, 0.0])
    ocp.minimize_integral(F * 2 + 100 * pos ** 2)
    ocp.subject_to_terminal(X == 0)
    ocp.bounds(X, lower=[-2, -np.inf, -np.inf, -np.inf], upper=[2, np.inf, np.inf, np.inf])
    return oc.solve(ocp, oc.RK4(), grid=N, solver=oc.Ipopt(**_ipopt_kwargs()))


def _ipopt_kwargs() -> dict:
    return {"tol": IPOPT["tol"], "max_iter": IPOPT["max_iter"], "linear_solver": IPOPT["linear_solver"]}


# --------------------------------------------------------------------- rockit
def rockit_vdp(N: int):
    import rockit
    ocp = rockit.Ocp(T=10)
    x1, x2 = ocp.state(), ocp.state()
    u = ocp.control()
    ocp.set_der(x1, (1 - x2 ** 2) * x1 - x2 + u)
    ocp.set_der(x2, x1)
    ocp.add_objective(ocp.integral(x1 ** 2 + x2 ** 2 + u ** 2))
    ocp.subject_to(u <= 1)
    ocp.subject_to(-1 <= u)
    ocp.subject_to(x1 >= -0.25)
    ocp.subject_to(ocp.at_t0(x1) == 0)
    ocp.subject_to(ocp.at_t0(x2) == 1)
    ocp.solver("ipopt", {"ipopt": IPOPT, "print_time": False, "expand": True})
    ocp.method(rockit.MultipleShooting(N=N, M=1, intg="rk"))
    return ocp, ocp.solve()


def rockit_cartpole(N: int):
    import rockit
    ocp = rockit.Ocp(T=2.0)
    pos, theta, dpos, dtheta = ocp.state(), ocp.state(), ocp.state(), ocp.state()
    F = ocp.control()
    ddpos, ddtheta = cartpole_rhs(theta, dpos, dtheta, F)
    ocp.set_der(pos, dpos)
    ocp.set_der(theta, dtheta)
    ocp.set_der(dpos, ddpos)
    ocp.set_der(dtheta, ddtheta)
    ocp.add_objective(ocp.integral(F * 2 + 100 * pos ** 2))
    X = cs.vertcat(pos, theta, dpos, dtheta)
    ocp.subject_to(ocp.at_t0(X) == cs.vertcat(0.5, 0, 0, 0))
    ocp.subject_to(ocp.at_tf(X) == 0)
    ocp.subject_to(-2 <= (F <= 2))
    ocp.subject_to(-2 <= (pos <= 2), include_first=False)
    ocp.solver("ipopt", {"ipopt": IPOPT, "print_time": False, "expand": True})
    ocp.method(rockit.MultipleShooting(N=N, M=1, intg="rk"))
    return ocp, ocp.solve()


PROBLEMS = {"van_der_pol": (occontrol_vdp, rockit_vdp), "cart_pole": (occontrol_cartpole, rockit_cartpole)}


def measure(fn, N: int, repeat: int) -> dict:
    """Best wall time of ``repeat`` complete runs, with the last run's outcome."""
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(N)
        times.append(time.perf_counter() - start)
    return {"seconds": min(times), "all_seconds": times, "result": out}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=200, help="control intervals (default %(default)s)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per library, best taken (default %(default)s)")
    args = parser.parse_args(argv)
    try:
        import rockit  # noqa: F401
    except ImportError:
        print("vs_rockit: needs rockit: pip install rockit-meco", file=sys.stderr)
        return 2
    rows = []
    for name, (ours, theirs) in PROBLEMS.items():
        mine = measure(ours, args.N, args.repeat)
        other = measure(theirs, args.N, args.repeat)
        sol = mine["result"]
        rocp, rsol = other["result"]
        r_stats = rsol.stats
        r_obj = float(rsol.value(rocp.objective))
        r_ok = bool(r_stats["success"])
        rel = abs(sol.objective - r_obj) / max(abs(r_obj), 1e-12)
        row = {"problem": name, "N": args.N,
               "occontrol": {"seconds": mine["seconds"], "all_seconds": mine["all_seconds"],
                             "objective": sol.objective, "status": sol.status, "success": sol.success,
                             "iterations": sol.iterations, "build_seconds": sol.build_seconds,
                             "solve_seconds": sol.solve_seconds},
               "rockit": {"seconds": other["seconds"], "all_seconds": other["all_seconds"], "objective": r_obj,
                          "status": r_stats["return_status"], "success": r_ok,
                          "iterations": int(r_stats["iter_count"])},
               "speedup": other["seconds"] / mine["seconds"], "objective_rel_diff": rel,
               "objectives_agree_1e-6": bool(rel <= 1e-6)}
        rows.append(row)
        print(f"{name}: occontrol {mine['seconds']:.3f}s ({sol.status}, {sol.iterations} it, J={sol.objective:.10g})"
              f"  rockit {other['seconds']:.3f}s ({r_stats['return_status']}, {r_stats['iter_count']} it, "
              f"J={r_obj:.10g})  speedup {row['speedup']:.2f}x  rel diff {rel:.1e}", flush=True)
    doc = {"schema": 1, "benchmark": "vs_rockit", "machine": platform.platform(), "python": platform.python_version(),
           "casadi": cs.__version__, "rockit": __import__("rockit").__version__ if hasattr(__import__("rockit"),
                                                                                          "__version__") else None,
           "ipopt_options": IPOPT, "transcription": "multiple shooting, RK4, one step per interval",
           "timing": f"best of {args.repeat} complete runs (problem, transcription, solver construction, solve)",
           "rows": rows}
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / "vs_rockit.json", doc)
    lines = ["# occontrol vs rockit", "", f"Multiple shooting, RK4, N = {args.N}, same IPOPT options "
             f"(tol {IPOPT['tol']}, MUMPS). Seconds: best of {args.repeat} complete runs.", "",
             "| problem | occontrol s | rockit s | speedup | occontrol objective | rockit objective | rel diff | "
             "status (ours / rockit) | iterations |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        o, k = r["occontrol"], r["rockit"]
        lines.append(f"| {r['problem']} | {o['seconds']:.3f} | {k['seconds']:.3f} | {r['speedup']:.2f}x | "
                     f"{o['objective']:.10g} | {k['objective']:.10g} | {r['objective_rel_diff']:.1e} | "
                     f"{o['status']} / {k['status']} | {o['iterations']} / {k['iterations']} |")
    atomic_write(RESULTS / "vs_rockit.md", lambda tmp: Path(tmp).write_text("\n".join(lines) + "\n"))
    failed = [r["problem"] for r in rows if not (r["occontrol"]["success"] and r["rockit"]["success"])]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

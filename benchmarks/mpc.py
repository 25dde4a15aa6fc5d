"""Closed-loop MPC: occontrol against rockit and do-mpc, step times side by side.

The same receding-horizon controller is run by three tools on the same
problem: the cart-pole of rockit's examples/mpc_example.py (cart 0.5 kg,
pendulum 1 kg, length 2 m; theta = 0 is upright, unstable), stabilised from
``X0`` to rest at the origin. Horizon T = 2 s, N intervals (default 20), one
sampling period T / N per closed-loop step, |F| <= F_MAX, the quadratic stage
cost ``x' Q x + R F^2`` integrated over the horizon plus ``x(T)' P x(T)``.

The same NLP in all three tools: Radau collocation of degree 3, one element
per control interval, piecewise-constant control; the running cost is the
Radau quadrature of the collocation points (occontrol's ``minimize_integral``,
rockit's ``ocp.integral``; do-mpc sums its stage cost at the interval starts,
so there the integral is a quadrature state ``c' = L`` collocated with the
others and the cost is its final value ``c(T)``, which is the same number).
The same IPOPT options (``IPOPT`` below) and the same warm-start policy as
far as each tool allows, in two modes (``--warm``, default both, one table
each). ``primal``: every controller starts IPOPT from its own previous
solution (occontrol as it is; rockit via ``set_initial(sol.value_variables())``;
do-mpc does it itself in ``make_step``). ``primal-dual``: every tool gets
IPOPT's multiplier warm start (``WARM_IPOPT`` added to the options) and its
previous multipliers; occontrol also shifts its previous solution by one
interval (``Solution.shifted``), which the peers do not offer. Two rockit
controllers are timed: ``rockit`` (the loop of mpc_example.py: set_value,
solve, sample) and ``rockit-fn`` (``Opti.to_function``, rockit's advice in
examples/repeated_solve.py for repeated solves); two occontrol ones:
``occontrol-expand`` (``oc.Ipopt(expand=True)``, the NLP expanded to SX as rockit's
``expand=True`` and do-mpc's SX model are; the documented advice for MPC, so the
main row and the reference of the differences) and ``occontrol`` (``oc.Ipopt()``).

Closed loop: K steps from the same initial state; the plant is the same model
integrated by casadi's cvodes (one object shared by all, called outside the
timed region). A step time is the controller's call only: set the state (and
guess), solve, read the first control. Reported per tool: median, worst and
mean step, their ratios to the faster peer's (the peer with the smaller median
step), IPOPT iterations, failed solves (counted, never hidden), the largest
difference of the first controls and of the closed-loop states from
occontrol-expand's, the part of each step spent outside IPOPT's own wall time
(``t_wall_total``; for occontrol the solver call's) and, for occontrol, the
share of the step spent before the solver call (``Solution.build_seconds``).
A section lists the size of the NLP each tool hands IPOPT.

Needs ``pip install rockit-meco do-mpc``. Writes benchmarks/results/mpc.json and .md.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import casadi as cs
import numpy as np

import occontrol as oc
from occontrol.io import atomic_write, write_json

RESULTS = Path(__file__).resolve().parent / "results"
IPOPT = {"tol": 1e-8, "print_level": 0, "sb": "yes", "linear_solver": "mumps", "max_iter": 500}
# --warm primal-dual: IPOPT starts from the given multipliers too; the options occontrol's
# multiplier warm start sets (oc.Ipopt.nlpsol(warm_start=True)), given to every tool
WARM_IPOPT = {"warm_start_init_point": "yes", "warm_start_bound_push": 1e-9, "warm_start_mult_bound_push": 1e-9,
              "mu_init": 1e-6}


def _example() -> Any:
    """examples/mpc.py, whose cart-pole (model, horizon, bounds, weights) this benchmark shares; loaded
    by its path because this file is named mpc.py too."""
    path = Path(__file__).resolve().parents[1] / "examples" / "mpc.py"
    spec = importlib.util.spec_from_file_location("occontrol_examples_mpc", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


_EXAMPLE = _example()
cartpole_ode = _EXAMPLE.cartpole_ode  # x' = f(x, F) of rockit's mpc_example.py (any casadi type)
T_HORIZON, F_MAX = _EXAMPLE.T_HORIZON, _EXAMPLE.F_MAX
X0 = _EXAMPLE.X_START  # pos [m], theta [rad], dpos, dtheta
Q, R, P = _EXAMPLE.Q, _EXAMPLE.R, _EXAMPLE.P


def stage_cost(X, F):
    return sum(Q[i] * X[i] ** 2 for i in range(4)) + R * F ** 2


def terminal_cost(X):
    return sum(P[i] * X[i] ** 2 for i in range(4))


def make_plant(dt: float) -> cs.Function:
    """x(t + dt) from x(t) under a constant F: cvodes, tolerances 1e-10 (shared by all controllers)."""
    x, F = cs.MX.sym("x", 4), cs.MX.sym("F")
    return cs.integrator("plant", "cvodes", {"x": x, "p": F, "ode": cartpole_ode(x, F)}, 0.0, dt,
                         {"abstol": 1e-10, "reltol": 1e-10})


@dataclass
class StepInfo:
    """What a controller reports about its last solve (read outside the timed call)."""

    success: bool
    status: str
    iterations: int
    ipopt_seconds: float  # IPOPT's own t_wall_total
    build_seconds: float = float("nan")  # occontrol: the re-solve's work before the solver call


# ------------------------------------------------------------------ occontrol
class OccontrolMPC:
    """occontrol: the OCP compiled once with the initial state as a parameter; each step re-solves.

    ``expand``: ``oc.Ipopt(expand=True)``, the whole NLP expanded to SX as rockit's (``expand: True``)
    and do-mpc's (built in SX) are; otherwise the default (an MX graph of mapped SX functions).
    """

    def __init__(self, N: int, shift: bool, expand: bool, dual: bool = False) -> None:
        ocp = oc.OCP(0.0, T_HORIZON)
        X = ocp.state("X", 4)
        F = ocp.control("F", lower=-F_MAX, upper=F_MAX)
        x0 = ocp.parameter("x0", 4)
        ocp.dynamics(X, cartpole_ode(X, F))
        ocp.initial(X, x0)
        ocp.minimize_integral(stage_cost(X, F))
        ocp.minimize_terminal(terminal_cost(X))
        solver = oc.Ipopt(tol=IPOPT["tol"], max_iter=IPOPT["max_iter"], linear_solver=IPOPT["linear_solver"],
                          expand=expand)
        self.name = "occontrol-expand" if expand else "occontrol"
        self.F, self.x0, self.shift, self.dual = F, x0, shift, dual
        self.controller = oc.compile(ocp, oc.Collocation(degree=3, scheme="radau"), grid=N, solver=solver)
        if dual:  # build the multiplier warm-start instance too before the loop, as the peers build theirs
            self.controller._instance(True)
        self.sol: Any = None

    def step(self, x: np.ndarray) -> float:
        guess = None if self.sol is None else (self.sol.shifted(1) if self.shift else self.sol)
        self.sol = self.controller.solve(parameters={self.x0: x}, guess=guess,
                                         multipliers=self.dual and guess is not None)
        return float(self.sol.value(self.F)[0])

    def info(self) -> StepInfo:
        s = self.sol
        # oc.Ipopt keeps no t_wall_total (print_time off): the wall time of the solver call, which
        # holds IPOPT's and CasADi's argument conversion (about 0.5 ms here, measured with record_time)
        return StepInfo(s.success, s.status, s.iterations, s.solve_seconds, s.build_seconds)


# --------------------------------------------------------------------- rockit
def _rockit_ocp(N: int, dual: bool):
    import rockit
    ocp = rockit.Ocp(T=T_HORIZON)
    states = [ocp.state() for _ in range(4)]
    X = cs.vertcat(*states)
    F = ocp.control(1, order=0)
    x0 = ocp.parameter(4)
    rhs = cartpole_ode(X, F)
    for i, s in enumerate(states):
        ocp.set_der(s, rhs[i])
    ocp.add_objective(ocp.integral(stage_cost(X, F)))
    ocp.add_objective(ocp.at_tf(terminal_cost(X)))
    ocp.subject_to(ocp.at_t0(X) == x0)
    ocp.subject_to(-F_MAX <= (F <= F_MAX))
    ipopt = {**IPOPT, **WARM_IPOPT} if dual else dict(IPOPT)
    ocp.solver("ipopt", {"ipopt": ipopt, "print_time": False, "record_time": True, "expand": True})
    ocp.method(rockit.DirectCollocation(N=N, M=1, degree=3, scheme="radau"))
    ocp.set_value(x0, X0)
    ocp.set_initial(X, X0)
    return ocp, X, F, x0


def _opti_stats(stats: dict) -> StepInfo:
    return StepInfo(bool(stats.get("success", False)), str(stats.get("return_status", "unknown")),
                    int(stats.get("iter_count", 0)), float(stats.get("t_wall_total", np.nan)))


class RockitMPC:
    """rockit as in its mpc_example.py: set_value, solve, sample; warm start from the previous solution
    (and its multipliers with ``dual``)."""

    name = "rockit"

    def __init__(self, N: int, dual: bool = False) -> None:
        self.dual = dual
        self.ocp, self.X, self.F, self.x0 = _rockit_ocp(N, dual)
        self.ocp._transcribe()  # build outside the loop, as the first solve would
        self.opti = self.ocp._method.opti
        self.sol: Any = None

    def step(self, x: np.ndarray) -> float:
        if self.sol is not None:
            cs.Opti.set_initial(self.opti, self.sol.sol.value_variables())
            if self.dual:
                cs.Opti.set_initial(self.opti, self.opti.lam_g, self.sol.sol.value(self.opti.lam_g))
        self.ocp.set_value(self.x0, x)
        self.sol = self.ocp.solve_limited()
        return float(self.sol.sample(self.F, grid="control")[1][0])

    def info(self) -> StepInfo:
        return _opti_stats(self.sol.stats)


class RockitFunctionMPC:
    """rockit's fast path for repeated solves: one casadi Function (x0, w guess, lam_g guess) -> (F0, w, lam_g);
    the multipliers are used only with ``dual`` (IPOPT's warm_start_init_point)."""

    name = "rockit-fn"

    def __init__(self, N: int, dual: bool = False) -> None:
        ocp, X, F, x0 = _rockit_ocp(N, dual)
        ocp._transcribe()
        opti = ocp._method.opti
        w, lam = opti.x, opti.lam_g
        u0 = ocp.sample(F, grid="control")[1][0]
        self.fn = opti.to_function("mpc", [ocp.value(x0), w, lam], [u0, w, lam])
        self.w = np.asarray(opti.value(w, opti.initial())).ravel()
        self.lam = np.zeros(lam.shape[0])

    def step(self, x: np.ndarray) -> float:
        u0, self.w, self.lam = self.fn(x, self.w, self.lam)
        return float(u0)

    def info(self) -> StepInfo:
        return _opti_stats(self.fn.stats())


# --------------------------------------------------------------------- do-mpc
class DoMpcMPC:
    """do-mpc: collocation radau/3/1, the running cost as a quadrature state; make_step warm-starts itself."""

    name = "do-mpc"

    def __init__(self, N: int, dual: bool = False) -> None:
        import do_mpc
        model = do_mpc.model.Model("continuous")
        states = [model.set_variable("_x", name) for name in ("pos", "theta", "dpos", "dtheta")]
        model.set_variable("_x", "cost")
        F = model.set_variable("_u", "F")
        X = cs.vertcat(*states)
        rhs = cartpole_ode(X, F)
        for i, name in enumerate(("pos", "theta", "dpos", "dtheta")):
            model.set_rhs(name, rhs[i])
        model.set_rhs("cost", stage_cost(X, F))
        model.setup()
        mpc = do_mpc.controller.MPC(model)
        mpc.settings.n_horizon = N
        mpc.settings.t_step = T_HORIZON / N
        mpc.settings.state_discretization = "collocation"
        mpc.settings.collocation_type = "radau"
        mpc.settings.collocation_deg = 3
        mpc.settings.collocation_ni = 1
        mpc.settings.store_full_solution = False
        ipopt = {**IPOPT, **WARM_IPOPT} if dual else IPOPT
        mpc.settings.nlpsol_opts = {**{f"ipopt.{k}": v for k, v in ipopt.items()}, "print_time": False,
                                    "record_time": True}
        Xm = cs.vertcat(*(model.x[name] for name in ("pos", "theta", "dpos", "dtheta")))
        mpc.set_objective(mterm=model.x["cost"] + terminal_cost(Xm), lterm=cs.DM(0))
        mpc.set_rterm(F=0.0)
        mpc.bounds["lower", "_u", "F"] = -F_MAX
        mpc.bounds["upper", "_u", "F"] = F_MAX
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mpc.setup()
        mpc.x0 = np.append(X0, 0.0)
        mpc.set_initial_guess()
        self.mpc = mpc

    def step(self, x: np.ndarray) -> float:
        return float(self.mpc.make_step(np.append(x, 0.0).reshape(-1, 1))[0, 0])

    def info(self) -> StepInfo:
        return _opti_stats(self.mpc.solver_stats)


# ---------------------------------------------------------------- closed loop
@dataclass
class Run:
    """One controller's closed loop."""

    name: str
    build_seconds: float
    step_seconds: list[float] = field(default_factory=list)
    controls: list[float] = field(default_factory=list)
    states: list[np.ndarray] = field(default_factory=list)
    infos: list[StepInfo] = field(default_factory=list)


def closed_loops(makers: list[Callable[[], Any]], plant: cs.Function, K: int) -> list[Run]:
    """K steps of every controller with the plant from X0, in lockstep (step k of every tool, then
    step k + 1), so that a change of the machine's load hits all tools alike; only the controller's
    call is timed."""
    controllers, runs = [], []
    for make in makers:
        start = time.perf_counter()
        controllers.append(make())
        runs.append(Run(controllers[-1].name, time.perf_counter() - start, states=[X0.copy()]))
    for _ in range(K):
        for controller, run in zip(controllers, runs):
            x = run.states[-1]
            t = time.perf_counter()
            u = controller.step(x)
            run.step_seconds.append(time.perf_counter() - t)
            run.controls.append(u)
            run.infos.append(controller.info())
            run.states.append(np.asarray(plant(x0=x, p=u)["xf"]).ravel())
    return runs


def summary(run: Run, ref: Run | None) -> dict:
    """The row of one tool (``ref``: occontrol-expand's run, for the differences)."""
    steps = np.array(run.step_seconds)
    failed = [k for k, i in enumerate(run.infos) if not i.success]
    row = {"tool": run.name, "build_seconds": run.build_seconds, "median_step": float(np.median(steps)),
           "worst_step": float(steps.max()), "mean_step": float(steps.mean()),
           "median_step_after_first": float(np.median(steps[1:])) if steps.size > 1 else None,
           "iterations_median": statistics.median(i.iterations for i in run.infos),
           "iterations_max": max(i.iterations for i in run.infos),
           "failed_steps": failed, "statuses": sorted({i.status for i in run.infos}),
           "step_seconds": run.step_seconds, "controls": run.controls,
           "final_state": [float(v) for v in run.states[-1]]}
    ipopt = np.array([i.ipopt_seconds for i in run.infos])
    row["outside_ipopt_share_median"] = float(np.median((steps - ipopt) / steps))
    row["ipopt_median"] = float(np.median(ipopt))
    build = np.array([i.build_seconds for i in run.infos])
    row["build_share_median"] = float(np.median(build / steps)) if np.isfinite(build).all() else None
    if ref is not None:
        row["max_control_diff"] = float(np.max(np.abs(np.array(run.controls) - np.array(ref.controls))))
        row["max_state_diff"] = float(np.max(np.abs(np.array(run.states) - np.array(ref.states))))
    return row


def _version(module: str) -> str | None:
    try:
        return str(importlib.import_module(module).__version__)
    except (ImportError, AttributeError):
        return None


MODES = {
    "primal": "IPOPT's options as above; every tool starts from its previous solution (primal only); "
              "occontrol from the previous solution as it is",
    "primal-dual": "IPOPT's options plus WARM_IPOPT (warm_start_init_point and the pushes and mu_init "
                   "occontrol's multiplier warm start uses) for every tool; every tool starts from its previous "
                   "solution and multipliers (rockit: set_initial of x and lam_g, rockit-fn: x and lam_g in and "
                   "out of the Function, do-mpc: its own lam_x/lam_g); occontrol from the previous solution "
                   "shifted by one interval (Solution.shifted, multipliers too) with multipliers=True",
}


def run_mode(mode: str, N: int, K: int) -> dict:
    """One table: every tool's closed loop in lockstep under one warm-start ``mode``."""
    dual = mode == "primal-dual"
    plant = make_plant(T_HORIZON / N)
    # occontrol-expand (oc.Ipopt(expand=True), the documented advice for MPC) is the main row and the
    # reference of the differences; occontrol (the default oc.Ipopt()) is shown too
    makers = [lambda: OccontrolMPC(N, dual, True, dual), lambda: OccontrolMPC(N, dual, False, dual),
              lambda: RockitMPC(N, dual), lambda: RockitFunctionMPC(N, dual), lambda: DoMpcMPC(N, dual)]
    runs = closed_loops(makers, plant, K)
    rows = [summary(runs[0], None)] + [summary(r, runs[0]) for r in runs[1:]]
    ours = [r for r in rows if r["tool"].startswith("occontrol")]
    peers = [r for r in rows if not r["tool"].startswith("occontrol")]
    for r in rows:
        r["median_over"] = {o["tool"]: r["median_step"] / o["median_step"] for o in ours}
    faster = min(peers, key=lambda r: r["median_step"])
    for r in rows:
        r["median_over_faster_peer"] = r["median_step"] / faster["median_step"]
        r["worst_over_faster_peer"] = r["worst_step"] / faster["worst_step"]
    print(f"-- {mode}: {MODES[mode]}")
    for r in rows:
        print(f"{r['tool']:>16}: median {1e3 * r['median_step']:7.2f} ms  worst {1e3 * r['worst_step']:7.2f} ms  "
              f"mean {1e3 * r['mean_step']:7.2f} ms  it {r['iterations_median']} ({r['iterations_max']})  "
              f"/{faster['tool']} {r['median_over_faster_peer']:.2f}  failed {len(r['failed_steps'])}  "
              f"dF0 {r.get('max_control_diff', 0):.1e}  "
              f"dx {r.get('max_state_diff', 0):.1e}  outside IPOPT {100 * r['outside_ipopt_share_median']:.1f} %"
              + ("" if r["build_share_median"] is None else f"  build {100 * r['build_share_median']:.2f} %"),
              flush=True)
    speedups = {o["tool"]: faster["median_step"] / o["median_step"] for o in ours}
    for tool, speedup in speedups.items():
        print(f"faster peer {faster['tool']}: median step {speedup:.2f}x {tool}'s")
    return {"mode": mode, "description": MODES[mode],
            "ipopt_options": {**IPOPT, **WARM_IPOPT} if dual else IPOPT, "faster_peer": faster["tool"],
            "speedup_vs_faster_peer": speedups, "all_succeeded": not any(r["failed_steps"] for r in rows),
            "rows": rows}


def _nlp_row(tool: str, solver: cs.Function, lbx, ubx, lbg, ubg, x0_variable: bool) -> dict:
    """Sizes of the NLP behind a CasADi nlpsol instance and its bounds."""
    jac = solver.get_function("nlp_jac_g").sparsity_out(1)
    hess = solver.get_function("nlp_hess_l").sparsity_out(0)
    lbx, ubx, lbg, ubg = (np.asarray(cs.DM(v), dtype=float).ravel() for v in (lbx, ubx, lbg, ubg))
    return {"tool": tool, "variables": int(lbx.size), "constraints": int(lbg.size),
            "equalities": int(np.sum(lbg == ubg)),
            "bounded_variables": int(np.sum(np.isfinite(lbx) | np.isfinite(ubx))),
            "jac_g_nnz": int(jac.nnz()), "hess_l_nnz": int(hess.nnz()), "x0_variable": x0_variable}


def nlp_sizes(N: int) -> list[dict]:
    """The NLP each tool hands IPOPT (built as the closed loops build them)."""
    rows = []
    for expand in (True, False):
        ctrl = OccontrolMPC(N, shift=False, expand=expand)
        pr = ctrl.controller.problem
        rows.append(_nlp_row(ctrl.name, ctrl.controller._instance(False), pr.lbx, pr.ubx, pr.lbg, pr.ubg, False))
    ocp, X, F, x0 = _rockit_ocp(N, False)
    ocp._transcribe()
    opti = ocp._method.opti
    solver = cs.nlpsol("rockit", "ipopt", {"x": opti.x, "f": opti.f, "g": opti.g, "p": opti.p},
                       {"expand": True, "print_time": False, "ipopt": {"print_level": 0, "sb": "yes"}})
    lbg = cs.evalf(cs.substitute(opti.lbg, opti.p, cs.DM(opti.value(opti.p))))
    ubg = cs.evalf(cs.substitute(opti.ubg, opti.p, cs.DM(opti.value(opti.p))))
    inf = np.full(opti.nx, np.inf)
    rows.append(_nlp_row("rockit, rockit-fn", solver, -inf, inf, lbg, ubg, True))
    dm = DoMpcMPC(N).mpc
    rows.append(_nlp_row("do-mpc", dm.S, dm._lb_opt_x, dm._ub_opt_x, dm.nlp_cons_lb, dm.nlp_cons_ub, True))
    return rows


def write_results(doc: dict) -> None:
    RESULTS.mkdir(exist_ok=True)
    write_json(RESULTS / "mpc.json", doc)
    c = doc["config"]
    lines = ["# Closed-loop MPC: occontrol, rockit, do-mpc", "",
             f"Cart-pole stabilised from x0 = {c['x0']}, T = {c['T']} s, N = {c['N']}, K = {c['K']} steps, "
             f"|F| <= {c['F_max']}; Radau collocation degree 3, one element per interval, constant controls. "
             "Step = set the state (and guess), solve, read the first control; the tools run in lockstep. "
             "occontrol-expand is oc.Ipopt(expand=True) (the NLP in SX, as rockit's expand=True and do-mpc's "
             "SX model; the advice for MPC, the main row), occontrol the default oc.Ipopt(). "
             "Outside IPOPT: (step - IPOPT's t_wall_total) / step; for occontrol, whose oc.Ipopt "
             "keeps no t_wall_total, (step - the solver call) / step, a slight underestimate (the call "
             "includes CasADi's conversion of the arguments). Build share: occontrol's work before the solver "
             "call (Solution.build_seconds) / step. "
             f"Machine: {doc['machine']} (2 cores shared with other jobs: absolute times move with the load, "
             "the lockstep keeps the ratios comparable).", ""]
    for m in doc["modes"]:
        lines += [f"## Warm start: {m['mode']}", "", m["description"] + ".", "",
                  f"IPOPT options: `{m['ipopt_options']}`", "",
                  f"| tool | median ms | worst ms | mean ms | median / {m['faster_peer']} | "
                  f"worst / {m['faster_peer']} | IPOPT ms (median) | iterations median (max) | failed | "
                  "build share (median) | outside IPOPT (median share) | max abs dF0 vs occontrol-expand | "
                  "max abs dx vs occontrol-expand |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in m["rows"]:
            diff = ("" if "max_control_diff" not in r else f"{r['max_control_diff']:.1e}")
            dx = ("" if "max_state_diff" not in r else f"{r['max_state_diff']:.1e}")
            build = "" if r.get("build_share_median") is None else f"{100 * r['build_share_median']:.2f} %"
            lines.append(f"| {r['tool']} | {1e3 * r['median_step']:.2f} | {1e3 * r['worst_step']:.2f} | "
                         f"{1e3 * r['mean_step']:.2f} | {r['median_over_faster_peer']:.2f} | "
                         f"{r['worst_over_faster_peer']:.2f} | {1e3 * r['ipopt_median']:.2f} | "
                         f"{r['iterations_median']} ({r['iterations_max']}) | {len(r['failed_steps'])} | {build} | "
                         f"{100 * r['outside_ipopt_share_median']:.1f} % | {diff} | {dx} |")
        speedups = ", ".join(f"{v:.2f}x {k}'s" for k, v in m["speedup_vs_faster_peer"].items())
        lines += ["", f"Faster peer at the median: {m['faster_peer']}; its median step is {speedups}. "
                  f"All solves succeeded: {m['all_succeeded']}.", ""]
    if doc.get("nlp"):
        lines += ["## The NLP IPOPT sees", "",
                  "Sizes of the NLP each tool hands IPOPT (from the solver's own nlp_jac_g and nlp_hess_l; "
                  "rockit and rockit-fn share one NLP). Bounded variables: entries of x with a finite bound; "
                  "x(0) a variable: whether the measured state is a decision variable with equality "
                  "constraints rather than a parameter.", "",
                  "| tool | variables | constraints | of them equalities | bounded variables | nnz jac_g | "
                  "nnz hess_l (upper triangle) | x(0) a variable |", "|---|---|---|---|---|---|---|---|"]
        for r in doc["nlp"]:
            lines.append(f"| {r['tool']} | {r['variables']} | {r['constraints']} | {r['equalities']} | "
                         f"{r['bounded_variables']} | {r['jac_g_nnz']} | {r['hess_l_nnz']} | "
                         f"{'yes' if r['x0_variable'] else 'no'} |")
        ours = next(r for r in doc["nlp"] if r["tool"] == "occontrol-expand")
        peer = next(r for r in doc["nlp"] if r["tool"].startswith("rockit"))
        lines += ["", f"occontrol-expand's NLP against rockit's: {peer['variables'] - ours['variables']} fewer "
                  f"variables, {peer['constraints'] - ours['constraints']} fewer constraints, "
                  f"{peer['jac_g_nnz'] - ours['jac_g_nnz']} fewer Jacobian entries, the same Hessian pattern "
                  f"({ours['hess_l_nnz']} against {peer['hess_l_nnz']} entries). The column 'IPOPT ms' above "
                  "compares the solver's own time (occontrol: the solver call, which also converts the "
                  "arguments): where it is equal, the step cannot be much faster than the peer's.", ""]
    atomic_write(RESULTS / "mpc.md", lambda tmp: Path(tmp).write_text("\n".join(lines)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=20, help="control intervals over the horizon (default %(default)s)")
    parser.add_argument("--K", type=int, default=50, help="closed-loop steps (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="K = 10")
    parser.add_argument("--warm", choices=[*MODES, "both"], default="both",
                        help="warm-start policy (default %(default)s: one table each)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    K = 10 if args.quick else args.K
    if args.N < 2 or K < 1:
        parser.error("--N must be >= 2 and --K >= 1")
    try:
        import do_mpc  # noqa: F401
        import rockit  # noqa: F401
    except ImportError:
        print("mpc: needs rockit and do-mpc: pip install rockit-meco do-mpc", file=sys.stderr)
        return 2
    nlp = nlp_sizes(args.N)
    for r in nlp:
        print(f"NLP {r['tool']:>18}: {r['variables']} variables, {r['constraints']} constraints "
              f"({r['equalities']} equalities), {r['bounded_variables']} bounded variables, nnz jac_g "
              f"{r['jac_g_nnz']}, nnz hess_l {r['hess_l_nnz']}, x(0) a variable: {r['x0_variable']}", flush=True)
    modes = [run_mode(m, args.N, K) for m in (MODES if args.warm == "both" else [args.warm])]
    all_ok = all(m["all_succeeded"] for m in modes)
    print(f"all solves succeeded: {all_ok}")
    doc = {"schema": 1, "benchmark": "mpc", "machine": platform.platform(), "python": platform.python_version(),
           "versions": {m: _version(m) for m in ("casadi", "rockit", "do_mpc", "occontrol")},
           "config": {"problem": "cart-pole (rockit mpc_example.py) stabilised at the upright rest",
                      "x0": X0.tolist(), "T": T_HORIZON, "N": args.N, "K": K, "F_max": F_MAX,
                      "Q": Q.tolist(), "R": R, "P": P.tolist(),
                      "transcription": "Radau collocation, degree 3, one element per interval, constant controls",
                      "plant": "casadi cvodes, abstol = reltol = 1e-10, one sampling period T/N per step"},
           "all_succeeded": all_ok, "nlp": nlp, "modes": modes}
    if not args.no_write:
        write_results(doc)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Closed-loop model predictive control of the cart-pole, plant simulated by occontrol.

The cart-pole of rockit's examples/mpc_example.py (theta = 0 is the upright,
unstable, equilibrium) starts at pos = 0.5 m, theta = 0.3 rad, at rest. Every
sampling period dt = T / N the controller solves

    minimise  int_0^T (x' Q x + R F^2) dt + x(T)' P x(T)
    subject to  the cart-pole dynamics,  x(0) = the measured state,  |F| <= F_MAX

on the horizon T = 2 s (Radau collocation of degree 3, N intervals), applies
the first control for one period and starts again. The OCP is compiled once
with the measured state as a parameter (``ocp.parameter``) and ``oc.Ipopt(expand=True)``
(the NLP expanded to SX: cheaper re-solves); each step is
``controller.solve(parameters={x0: x}, guess=previous solution)``. The plant
is the same model integrated by ``oc.simulate`` (cvodes) under the applied
control. The figure shows the closed-loop states and the applied control.

Run: python examples/mpc.py [--N 20] [--K 50] [--shift] [--out mpc.png]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import Any

import casadi as cs
import numpy as np

import occontrol as oc
from occontrol.plot import new_figure, save_figure

MCART, MPEND, LENGTH, GRAVITY = 0.5, 1.0, 2.0, 9.81
T_HORIZON, F_MAX = 2.0, 10.0
X_START = np.array([0.5, 0.3, 0.0, 0.0])  # pos [m], theta [rad], dpos [m/s], dtheta [rad/s]
Q, R = np.array([1.0, 10.0, 0.1, 0.1]), 0.01
P = 10.0 * Q
STATE_NAMES = ("pos [m]", "theta [rad]", "dpos [m/s]", "dtheta [rad/s]")


def cartpole_ode(X: Any, F: Any) -> cs.MX:
    """The cart-pole of rockit's mpc_example.py: x' = f(x, F)."""
    theta, dpos, dtheta = X[1], X[2], X[3]
    denom = MCART + MPEND - MPEND * cs.cos(theta) ** 2
    ddpos = (-MPEND * LENGTH * cs.sin(theta) * dtheta ** 2 + MPEND * GRAVITY * cs.cos(theta) * cs.sin(theta)
             + F) / denom
    ddtheta = (-MPEND * LENGTH * cs.cos(theta) * cs.sin(theta) * dtheta ** 2 + F * cs.cos(theta)
               + (MCART + MPEND) * GRAVITY * cs.sin(theta)) / (LENGTH * denom)
    return cs.vertcat(dpos, dtheta, ddpos, ddtheta)


def horizon_ocp(x0: Any = None) -> tuple[oc.OCP, cs.MX, cs.MX, cs.MX | None]:
    """The OCP over one horizon; x(0) is the parameter ``x0`` (returned) unless numbers are given."""
    ocp = oc.OCP(0.0, T_HORIZON)
    X = ocp.state("X", 4)
    F = ocp.control("F", lower=-F_MAX, upper=F_MAX)
    ocp.dynamics(X, cartpole_ode(X, F))
    p = ocp.parameter("x0", 4) if x0 is None else None
    ocp.initial(X, p if x0 is None else x0)
    ocp.minimize_integral(sum(Q[i] * X[i] ** 2 for i in range(4)) + R * F ** 2)
    ocp.minimize_terminal(sum(P[i] * X[i] ** 2 for i in range(4)))
    return ocp, X, F, p


def problem() -> oc.OCP:
    """One horizon from X_START, as a plain OCP (for occontrol solve examples/mpc.py:problem --transcription
    collocation --grid 20)."""
    return horizon_ocp(X_START)[0]


def transcription() -> oc.Transcription:
    return oc.Collocation(degree=3, scheme="radau")


class Plant:
    """The cart-pole integrated over one sampling period by ``oc.simulate`` (cvodes)."""

    def __init__(self, dt: float) -> None:
        self.ocp = oc.OCP(0.0, dt)
        self.X = self.ocp.state("X", 4)
        self.F = self.ocp.control("F")
        self.ocp.dynamics(self.X, cartpole_ode(self.X, self.F))
        self.dt = dt

    def step(self, x: np.ndarray, u: float) -> np.ndarray:
        traj = oc.simulate(self.ocp, {self.F: np.array([u])}, [0.0, self.dt], x0={self.X: x}, integrator="cvodes")
        return np.asarray(traj.value(self.X))[-1]


@dataclass
class ClosedLoop:
    """The closed-loop record: times, states (K + 1, 4), applied controls (K,), and every solve
    (a Solution of ``ocp``, whose state is ``X`` and control ``F``)."""

    ocp: oc.OCP
    X: cs.MX
    F: cs.MX
    N: int
    t: np.ndarray
    states: np.ndarray
    controls: np.ndarray
    solutions: list = field(default_factory=list)

    @property
    def failed(self) -> list[int]:
        """Steps whose solve failed (their control was still applied: the loop does not stop)."""
        return [k for k, s in enumerate(self.solutions) if not s.success]


def closed_loop(N: int = 20, K: int = 50, shift: bool = False, tol: float = 1e-8) -> ClosedLoop:
    """Run K steps of MPC from X_START; the OCP is compiled once.

    Parameters
    ----------
    N : int
        Control intervals over the horizon; the sampling period is T / N.
    K : int
        Closed-loop steps.
    shift : bool
        Warm-start from the previous solution shifted by one interval (else as it is).
    tol : float
        IPOPT's tolerance.
    """
    ocp, X, F, x0 = horizon_ocp()
    # expand=True: the NLP in SX, a longer compile and cheaper evaluations in every re-solve
    controller = oc.compile(ocp, transcription(), grid=N, solver=oc.Ipopt(tol=tol, expand=True))
    plant = Plant(T_HORIZON / N)
    x, sol = X_START.copy(), None
    states, controls, solutions = [x], [], []
    for _ in range(K):
        guess = None if sol is None else (sol.shifted(1) if shift else sol)
        sol = controller.solve(parameters={x0: x}, guess=guess)
        u = float(np.asarray(sol.value(F))[0])
        x = plant.step(x, u)
        states.append(x)
        controls.append(u)
        solutions.append(sol)
    return ClosedLoop(ocp, X, F, N, np.arange(K + 1) * plant.dt, np.array(states), np.array(controls), solutions)


def figure(run: ClosedLoop):
    """The closed-loop states and the applied (piecewise-constant) control."""
    fig = new_figure(figsize=(8, 6), layout="constrained")
    ax_pos, ax_vel, ax_u = fig.subplots(3, 1, sharex=True)
    for i, ax in ((0, ax_pos), (1, ax_pos), (2, ax_vel), (3, ax_vel)):
        ax.plot(run.t, run.states[:, i], label=STATE_NAMES[i])
    ax_u.stairs(run.controls, run.t, baseline=None, label="F [N] applied")
    ax_u.axhline(F_MAX, color="grey", lw=0.8, ls="--")
    ax_u.axhline(-F_MAX, color="grey", lw=0.8, ls="--")
    for ax in (ax_pos, ax_vel, ax_u):
        ax.legend(loc="upper right")
        ax.grid(alpha=0.3)
    ax_u.set_xlabel("t [s]")
    fig.suptitle(f"Cart-pole MPC, T = {T_HORIZON} s, N = {run.N}")
    return fig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=20, help="intervals over the horizon (default %(default)s)")
    parser.add_argument("--K", type=int, default=50, help="closed-loop steps (default %(default)s)")
    parser.add_argument("--shift", action="store_true", help="warm-start from the shifted previous solution")
    parser.add_argument("--out", default="mpc.png", help="figure file (default %(default)s)")
    args = parser.parse_args(argv)
    run = closed_loop(args.N, args.K, args.shift)
    iterations = [s.iterations for s in run.solutions]
    print(f"Cart-pole MPC, N = {args.N}, {args.K} steps of {T_HORIZON / args.N:g} s")
    print(f"  final state  {np.array2string(run.states[-1], precision=5)}  (|x| = "
          f"{np.linalg.norm(run.states[-1]):.2e})")
    print(f"  IPOPT iterations per step: median {np.median(iterations):g}, max {max(iterations)}")
    save_figure(figure(run), args.out)
    print(f"  figure       {args.out}")
    if run.failed:
        print(f"FAILED solves at steps {run.failed}: "
              f"{sorted({run.solutions[k].status for k in run.failed})}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Minimum-time double integrator: a free final time and a bang-bang control.

    minimise  T   subject to  x'' = u,  |u| <= 1,
              x(0) = 1, x'(0) = 0,  x(T) = 0, x'(T) = 0.

The optimal control is u = -1 then +1, switching at t = 1; T* = 2.
Run: python examples/min_time.py [--N 50] [--transcription rk4] [--plot FILE]
 or: occontrol refine examples/min_time.py:problem   (occontrol solve ... --grid 50)
"""

import sys

import casadi as cs
import numpy as np
from _common import TRANSCRIPTIONS, arguments, report

import occontrol as oc


def problem() -> oc.OCP:
    """The OCP (also for the command line: occontrol refine examples/min_time.py:problem)."""
    return _build()[0]


def _build() -> tuple[oc.OCP, cs.MX]:
    # The grid lives on [0, 1] and is scaled by the free final time.
    ocp = oc.OCP(t0=0.0, tf=oc.FreeTime(guess=1.0, lower=0.1, upper=10.0))
    x = ocp.state("x", 2)              # position, velocity
    u = ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(x, cs.vertcat(x[1], u))
    ocp.initial(x, [1.0, 0.0])
    ocp.subject_to_terminal(x == 0)
    ocp.minimize_terminal(ocp.tf)
    return ocp, u


def main() -> int:
    args = arguments(__doc__, default_N=50)
    ocp, u = _build()
    sol = oc.solve(ocp, TRANSCRIPTIONS[args.transcription], grid=args.N)

    controls = sol.value(u)
    switch = sol.t[np.argmax(controls > 0)] if (controls > 0).any() else float("nan")
    return report(f"Minimum time, {args.transcription}, N = {args.N}", sol, 2.0,
                  extra=(f"final time tf = {sol.tf:.10f}",
                         f"switch     u turns positive at t = {switch:.4f}  (exact 1)"), plot=args.plot)


if __name__ == "__main__":
    sys.exit(main())

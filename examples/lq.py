"""Linear-quadratic problem with a known optimum.

    minimise  int_0^1 (x^2 + u^2) dt   subject to  x' = u,  x(0) = 1.

The Riccati solution gives the optimal cost tanh(1) = 0.761594...
Run: python examples/lq.py [--N 64] [--transcription rk4] [--plot FILE]
 or: occontrol refine examples/lq.py:problem --grids 8:256   (occontrol solve ... --grid 64)
"""

import sys

import numpy as np
from _common import TRANSCRIPTIONS, arguments, report

import occontrol as oc


def problem() -> oc.OCP:
    """The OCP (also for the command line: occontrol refine examples/lq.py:problem)."""
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x**2 + u**2)
    return ocp


def main() -> int:
    args = arguments(__doc__, default_N=64)
    sol = oc.solve(problem(), TRANSCRIPTIONS[args.transcription], grid=args.N)
    return report(f"LQ, {args.transcription}, N = {args.N}", sol, np.tanh(1.0), "tanh 1", plot=args.plot)


if __name__ == "__main__":
    sys.exit(main())

"""Bryson-Denham problem: a double integrator with a state constraint.

    minimise  1/2 int_0^1 u^2 dt   subject to  x'' = u,
              x(0) = 0, x'(0) = 1,  x(1) = 0, x'(1) = -1,  x(t) <= 1/9.

The constraint is active on an arc; the optimal cost is 4 (= 4 / (9 * (1/9))).
Run: python examples/bryson_denham.py [--N 100] [--transcription rk4] [--plot FILE]
 or: occontrol refine examples/bryson_denham.py:problem   (occontrol solve ... --grid 100)
"""

import sys

import casadi as cs
from _common import TRANSCRIPTIONS, arguments, report

import occontrol as oc


def problem() -> oc.OCP:
    """The OCP (also for the command line: occontrol refine examples/bryson_denham.py:problem)."""
    return _build()[0]


def _build() -> tuple[oc.OCP, cs.MX]:
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x", 2)              # position, velocity
    u = ocp.control("u")
    ocp.dynamics(x, cs.vertcat(x[1], u))
    ocp.initial(x, [0.0, 1.0])
    ocp.subject_to_terminal(x == cs.vertcat(0.0, -1.0))
    ocp.subject_to(x[0] <= 1 / 9)      # path constraint: at the nodes (and collocation points)
    ocp.minimize_integral(0.5 * u**2)
    return ocp, x


def main() -> int:
    args = arguments(__doc__, default_N=100)
    ocp, x = _build()
    sol = oc.solve(ocp, TRANSCRIPTIONS[args.transcription], grid=args.N)

    return report(f"Bryson-Denham, {args.transcription}, N = {args.N}", sol, 4.0,
                  extra=(f"max x(t)   {sol.value(x)[:, 0].max():.6f}  (bound 1/9 = {1 / 9:.6f})",), plot=args.plot)


if __name__ == "__main__":
    sys.exit(main())

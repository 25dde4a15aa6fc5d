"""Minimum-time double integrator: a free final time and a bang-bang control.

    minimise  T   subject to  x'' = u,  |u| <= 1,
              x(0) = 1, x'(0) = 0,  x(T) = 0, x'(T) = 0.

The optimal control is u = -1 then +1, switching at t = 1; T* = 2.
Run: python examples/min_time.py [--N 50] [--transcription rk4]
"""

import argparse
import sys

import casadi as cs
import numpy as np

import occontrol as oc

TRANSCRIPTIONS = {
    "euler": oc.ExplicitEuler(),
    "heun": oc.Heun(),
    "rk4": oc.RK4(),
    "rk4-single": oc.RK4(shooting="single"),
    "radau": oc.Collocation(degree=3, scheme="radau"),
    "legendre": oc.Collocation(degree=3, scheme="legendre"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=50, help="number of grid intervals (default 50)")
    parser.add_argument("--transcription", choices=TRANSCRIPTIONS, default="rk4")
    args = parser.parse_args()

    # The grid lives on [0, 1] and is scaled by the free final time.
    ocp = oc.OCP(t0=0.0, tf=oc.FreeTime(guess=1.0, lower=0.1, upper=10.0))
    x = ocp.state("x", 2)              # position, velocity
    u = ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(x, cs.vertcat(x[1], u))
    ocp.initial(x, [1.0, 0.0])
    ocp.subject_to_terminal(x == 0)
    ocp.minimize_terminal(ocp.tf)

    sol = oc.solve(ocp, TRANSCRIPTIONS[args.transcription], grid=args.N)

    exact = 2.0
    controls = sol.value(u)
    switch = sol.t[np.argmax(controls > 0)] if (controls > 0).any() else float("nan")
    print(f"Minimum time, {args.transcription}, N = {args.N}")
    print(f"  objective  {sol.objective:.10f}  (final time tf = {sol.tf:.10f})")
    print(f"  optimum    {exact:.10f}")
    print(f"  error      {sol.objective - exact:+.3e}")
    print(f"  switch     u turns positive at t = {switch:.4f}  (exact 1)")
    print(f"  status     {sol.status}  ({sol.iterations} iterations, "
          f"build {sol.build_seconds:.3f} s, solve {sol.solve_seconds:.3f} s)")
    if not sol.success:
        print(f"FAILED: {sol.status}; the numbers above are not a result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

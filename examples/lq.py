"""Linear-quadratic problem with a known optimum.

    minimise  int_0^1 (x^2 + u^2) dt   subject to  x' = u,  x(0) = 1.

The Riccati solution gives the optimal cost tanh(1) = 0.761594...
Run: python examples/lq.py [--N 64] [--transcription rk4]
"""

import argparse
import sys

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
    parser.add_argument("--N", type=int, default=64, help="number of grid intervals (default 64)")
    parser.add_argument("--transcription", choices=TRANSCRIPTIONS, default="rk4")
    args = parser.parse_args()

    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x**2 + u**2)

    sol = oc.solve(ocp, TRANSCRIPTIONS[args.transcription], grid=args.N)

    exact = np.tanh(1.0)
    print(f"LQ, {args.transcription}, N = {args.N}")
    print(f"  objective  {sol.objective:.10f}")
    print(f"  optimum    {exact:.10f}  (tanh 1)")
    print(f"  error      {sol.objective - exact:+.3e}")
    print(f"  status     {sol.status}  ({sol.iterations} iterations, "
          f"build {sol.build_seconds:.3f} s, solve {sol.solve_seconds:.3f} s)")
    if not sol.success:
        print(f"FAILED: {sol.status}; the numbers above are not a result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

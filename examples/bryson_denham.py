"""Bryson-Denham problem: a double integrator with a state constraint.

    minimise  1/2 int_0^1 u^2 dt   subject to  x'' = u,
              x(0) = 0, x'(0) = 1,  x(1) = 0, x'(1) = -1,  x(t) <= 1/9.

The constraint is active on an arc; the optimal cost is 4 (= 4 / (9 * (1/9))).
Run: python examples/bryson_denham.py [--N 100] [--transcription rk4]
"""

import argparse
import sys

import casadi as cs

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
    parser.add_argument("--N", type=int, default=100, help="number of grid intervals (default 100)")
    parser.add_argument("--transcription", choices=TRANSCRIPTIONS, default="rk4")
    args = parser.parse_args()

    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x", 2)              # position, velocity
    u = ocp.control("u")
    ocp.dynamics(x, cs.vertcat(x[1], u))
    ocp.initial(x, [0.0, 1.0])
    ocp.subject_to_terminal(x == cs.vertcat(0.0, -1.0))
    ocp.subject_to(x[0] <= 1 / 9)      # path constraint, enforced at the grid nodes
    ocp.minimize_integral(0.5 * u**2)

    sol = oc.solve(ocp, TRANSCRIPTIONS[args.transcription], grid=args.N)

    exact = 4.0
    print(f"Bryson-Denham, {args.transcription}, N = {args.N}")
    print(f"  objective  {sol.objective:.10f}")
    print(f"  optimum    {exact:.10f}")
    print(f"  error      {sol.objective - exact:+.3e}")
    print(f"  max x(t)   {sol.value(x)[:, 0].max():.6f}  (bound 1/9 = {1 / 9:.6f})")
    print(f"  status     {sol.status}  ({sol.iterations} iterations, "
          f"build {sol.build_seconds:.3f} s, solve {sol.solve_seconds:.3f} s)")
    if not sol.success:
        print(f"FAILED: {sol.status}; the numbers above are not a result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

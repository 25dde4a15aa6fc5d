"""What the examples share: choosing the transcription on the command line,
and printing the objective next to the known optimum."""

import argparse
import sys

import occontrol as oc

from occontrol.transcription.registry import SCHEME_NAMES, make_transcription

# the registered schemes (euler, heun, rk4, collocation: Radau of degree 3), and two variants
TRANSCRIPTIONS = {
    **{name: make_transcription(name) for name in SCHEME_NAMES},
    "rk4-single": make_transcription("rk4", shooting="single"),
    "radau": make_transcription("collocation"),
    "legendre": make_transcription("collocation", scheme="legendre"),
}


def arguments(doc: str, default_N: int) -> argparse.Namespace:
    """--N, --transcription and --plot."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--N", type=int, default=default_N, help=f"number of grid intervals (default {default_N})")
    parser.add_argument("--transcription", choices=TRANSCRIPTIONS, default="rk4")
    parser.add_argument("--plot", metavar="FILE", help="save the solution's states and controls (sol.plot()) to FILE")
    return parser.parse_args()


def report(title: str, sol: oc.Solution, exact: float, exact_label: str = "", extra: tuple = (),
           plot: str | None = None) -> int:
    """Print the comparison (and save sol.plot() to ``plot``); return the exit code (1 when the solve failed)."""
    if plot:
        figure = sol.plot()
        figure.suptitle(title)
        figure.savefig(plot, dpi=100, bbox_inches="tight")
    print(title)
    print(f"  objective  {sol.objective:.10f}")
    print(f"  optimum    {exact:.10f}" + (f"  ({exact_label})" if exact_label else ""))
    print(f"  error      {sol.objective - exact:+.3e}")
    for line in extra:
        print(f"  {line}")
    print(f"  status     {sol.status}  ({sol.iterations} iterations, "
          f"build {sol.build_seconds:.3f} s, solve {sol.solve_seconds:.3f} s)")
    if not sol.success:
        print(f"FAILED: {sol.status}; the numbers above are not a result", file=sys.stderr)
        return 1
    return 0

"""occontrol: optimal control by discretise-then-optimise, on CasADi and IPOPT."""

from importlib import metadata as _metadata

from .grid import Grid
from .problem import OCP, FreeTime
from .refine import ConvergenceStudy, doubling, refine
from .solution import Solution
from .solver import CasadiSolver, Ipopt, discretize, solve
from .sweep import SweepResult, SweepTask, sweep
from .transcription import (
    RK4, ButcherTableau, Collocation, DiscreteProblem, ExplicitEuler, ExplicitRungeKutta, Heun, Transcription)

try:  # the installed distribution's metadata is the one source of the version
    __version__ = _metadata.version("occontrol")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["OCP", "FreeTime", "Grid", "ConvergenceStudy", "doubling", "refine", "Solution", "Ipopt",
           "CasadiSolver", "solve", "discretize", "RK4", "ButcherTableau", "Collocation", "DiscreteProblem",
           "ExplicitEuler", "ExplicitRungeKutta", "Heun", "Transcription", "sweep", "SweepTask", "SweepResult",
           "__version__"]

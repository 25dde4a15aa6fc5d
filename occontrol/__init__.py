"""occontrol: optimal control by discretise-then-optimise, on CasADi and IPOPT."""

from .grid import Grid
from .problem import OCP, FreeTime
from .refine import ConvergenceStudy, doubling, refine
from .solution import Solution
from .solver import CasadiSolver, Ipopt, discretize, solve
from .sweep import SweepResult, SweepTask, sweep
from .transcription import (
    RK4, ButcherTableau, Collocation, DiscreteProblem, ExplicitEuler, ExplicitRungeKutta, Heun, Transcription)

__version__ = "0.1.0"

__all__ = ["OCP", "FreeTime", "Grid", "ConvergenceStudy", "doubling", "refine", "Solution", "Ipopt",
           "CasadiSolver", "solve", "discretize", "RK4", "ButcherTableau", "Collocation", "DiscreteProblem",
           "ExplicitEuler", "ExplicitRungeKutta", "Heun", "Transcription", "sweep", "SweepTask", "SweepResult",
           "__version__"]

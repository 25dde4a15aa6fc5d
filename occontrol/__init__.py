"""occontrol: optimal control by discretise-then-optimise, on CasADi and IPOPT.

The names below are imported on first use: ``occontrol --help`` and usage
errors then answer without importing CasADi.
"""

from __future__ import annotations

import importlib
from importlib import metadata as _metadata
from typing import TYPE_CHECKING, Any

try:  # the installed distribution's metadata is the one source of the version
    __version__ = _metadata.version("occontrol")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

_EXPORTS = {"OCP": "problem", "FreeTime": "problem", "Grid": "grid", "ConvergenceStudy": "refinement",
            "doubling": "refinement", "refine": "refinement",
            "StartPolicy": "refinement", "Reporter": "refinement", "Solution": "solution", "Ipopt": "solver",
            "CasadiSolver": "solver", "solve": "solver", "discretize": "solver", "compile": "solver",
            "CompiledProblem": "solver", "sweep": "sweeps",
            "SweepTask": "sweeps", "SweepResult": "sweeps",
            "simulate": "simulation", "Trajectory": "simulation",
            **{name: "datasets" for name in ("DATASETS", "Dataset", "load_dataset")},
            **{name: "transcription" for name in ("RK4", "ButcherTableau", "Collocation", "DiscreteProblem",
                                                  "ExplicitEuler", "ExplicitRungeKutta", "Heun", "Ralston",
                                                  "Transcription")}}

__all__ = [*_EXPORTS, "__version__"]

if TYPE_CHECKING:  # what the lazy loader hands out, for type checkers and IDEs
    from .grid import Grid  # noqa: F401
    from .problem import OCP, FreeTime  # noqa: F401
    from .refinement import ConvergenceStudy, Reporter, StartPolicy, doubling, refine  # noqa: F401
    from .solution import Solution  # noqa: F401
    from .solver import CasadiSolver, CompiledProblem, Ipopt, compile, discretize, solve  # noqa: F401
    from .datasets import DATASETS, Dataset, load_dataset  # noqa: F401
    from .simulation import Trajectory, simulate  # noqa: F401
    from .sweeps import SweepResult, SweepTask, sweep  # noqa: F401
    from .transcription import (RK4, ButcherTableau, Collocation, DiscreteProblem, ExplicitEuler,  # noqa: F401
                                ExplicitRungeKutta, Heun, Ralston, Transcription)  # noqa: F401


def _load(name: str) -> Any:
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = _load(name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))

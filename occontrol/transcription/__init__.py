"""Transcriptions: (OCP, grid) -> DiscreteProblem, one file per family."""

from .collocation import Collocation
from .discrete import DiscreteProblem, Transcription
from .model import ModelFunctions
from .runge_kutta import RK4, ButcherTableau, ExplicitEuler, ExplicitRungeKutta, Heun, Ralston

__all__ = ["Collocation", "DiscreteProblem", "Transcription", "ModelFunctions", "RK4",
           "ButcherTableau", "ExplicitEuler", "ExplicitRungeKutta", "Heun", "Ralston"]

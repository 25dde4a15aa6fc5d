"""Transcriptions: (OCP, grid) -> DiscreteProblem, one file per family.

The names are imported on first use, so that :mod:`.registry` (scheme names,
read by the command line) is importable without CasADi.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

_EXPORTS = {"Collocation": "collocation", "DiscreteProblem": "discrete", "Transcription": "discrete",
            "ModelFunctions": "model", "RK4": "runge_kutta", "ButcherTableau": "runge_kutta",
            "ExplicitEuler": "runge_kutta", "ExplicitRungeKutta": "runge_kutta", "Heun": "runge_kutta",
            "Ralston": "runge_kutta",
            "SCHEME_NAMES": "registry", "make_transcription": "registry"}

__all__ = list(_EXPORTS)

if TYPE_CHECKING:
    from .collocation import Collocation  # noqa: F401
    from .discrete import DiscreteProblem, Transcription  # noqa: F401
    from .model import ModelFunctions  # noqa: F401
    from .registry import SCHEME_NAMES, make_transcription  # noqa: F401
    from .runge_kutta import RK4, ButcherTableau, ExplicitEuler, ExplicitRungeKutta, Heun, Ralston  # noqa: F401


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())

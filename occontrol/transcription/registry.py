"""One registry of scheme names: ``"euler"``, ``"heun"``, ``"ralston"``, ``"rk4"``,
``"collocation"`` -> the transcription class that builds it.

The names are plain strings and the classes are imported on first use, so
the command line can offer ``choices=SCHEME_NAMES`` without importing CasADi.
The command line, the deep-limit study, the estimator and the examples all
read their scheme names from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .._checks import as_choice

if TYPE_CHECKING:
    from .discrete import Transcription

__all__ = ["SCHEMES", "SCHEME_NAMES", "EXPLICIT_SCHEMES", "scheme_factory", "make_transcription"]

# name -> (module, class, fixed keyword arguments)
SCHEMES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "euler": ("runge_kutta", "ExplicitEuler", {}),
    "heun": ("runge_kutta", "Heun", {}),
    "ralston": ("runge_kutta", "Ralston", {}),
    "rk4": ("runge_kutta", "RK4", {}),
    "collocation": ("collocation", "Collocation", {"degree": 3, "scheme": "radau"}),
}
SCHEME_NAMES: tuple[str, ...] = tuple(SCHEMES)
# the schemes with an explicit Butcher tableau (one step per interval)
EXPLICIT_SCHEMES: tuple[str, ...] = ("euler", "heun", "ralston", "rk4")


def scheme_factory(name: str) -> Any:
    """The transcription class registered as ``name`` (imported now).

    Raises
    ------
    ValueError
        ``name`` is not a registered scheme.
    """
    as_choice(name, "scheme", SCHEME_NAMES)
    module, cls, _ = SCHEMES[name]
    return getattr(importlib.import_module(f".{module}", __package__), cls)


def make_transcription(name: str, **options: Any) -> Transcription:
    """The transcription ``name`` with its registered settings and ``options``
    (``shooting``, ``parallelization``, ... as the class takes them).

    >>> make_transcription("heun", shooting="single")  # doctest: +SKIP
    Heun(scheme='heun', shooting='single', ...)
    """
    factory = scheme_factory(name)
    return factory(**{**SCHEMES[name][2], **options})

"""Activation functions sigma, each in CasADi (for the NLP) and numpy (for
the plain forward pass), written with the same operations so the two agree
to rounding."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import casadi as cs
import numpy as np

from .._checks import as_choice

__all__ = ["Activation", "ACTIVATIONS", "get_activation", "softplus_cs", "softplus_np"]

# Width of the smoothing in smooth_relu(x) = (x + sqrt(x^2 + eps^2)) / 2.
SMOOTH_RELU_EPS = 0.1


@dataclass(frozen=True)
class Activation:
    """sigma in two implementations; ``smooth`` is False where IPOPT may struggle.

    Attributes
    ----------
    name : str
        The name used in settings and on the command line.
    casadi : callable
        sigma of a CasADi expression, elementwise.
    numpy : callable
        sigma of an ndarray, elementwise (the forward pass of ``ResNet``).
    smooth : bool
        False for ``relu``, whose kink may stall a Newton-type solver.
    """

    name: str
    casadi: Callable
    numpy: Callable[[np.ndarray], np.ndarray]
    smooth: bool = True


def softplus_cs(x: Any) -> Any:
    """softplus(x) = log(1 + e^x) of a CasADi expression, elementwise.

    Written as max(x, 0) + log1p(e^-|x|), which does not overflow and is smooth overall.

    Parameters
    ----------
    x : casadi.SX or casadi.MX
        The argument.

    Returns
    -------
    casadi.SX or casadi.MX
        softplus of each element, the same operations as :func:`softplus_np`.
    """
    return cs.fmax(x, 0) + cs.log1p(cs.exp(-cs.fabs(x)))


def softplus_np(x: np.ndarray) -> np.ndarray:
    """softplus(x) = log(1 + e^x) of an array, elementwise, as max(x, 0) + log1p(e^-|x|).

    Parameters
    ----------
    x : ndarray
        The argument.

    Returns
    -------
    ndarray
        softplus of each element, the same operations as :func:`softplus_cs`.
    """
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", cs.tanh, np.tanh),
    "sigmoid": Activation("sigmoid", lambda x: 1 / (1 + cs.exp(-x)), lambda x: 1 / (1 + np.exp(-x))),
    "softplus": Activation("softplus", softplus_cs, softplus_np),
    "smooth_relu": Activation(
        "smooth_relu",
        lambda x: (x + cs.sqrt(x * x + SMOOTH_RELU_EPS ** 2)) / 2,
        lambda x: (x + np.sqrt(x * x + SMOOTH_RELU_EPS ** 2)) / 2),
    "relu": Activation("relu", lambda x: cs.fmax(x, 0), lambda x: np.maximum(x, 0), smooth=False),
}
"""The activations by name: tanh, sigmoid, softplus, smooth_relu (a smooth max(x, 0)) and relu (not smooth)."""


def get_activation(name: str) -> Activation:
    """The activation called ``name``; warns for the non-smooth ReLU."""
    act = ACTIVATIONS[as_choice(name, "activation", ACTIVATIONS)]
    if not act.smooth:
        warnings.warn(f"activation {name!r} is not differentiable at 0; IPOPT assumes smooth functions "
                      "and may stall. Consider 'smooth_relu' or 'softplus'.", stacklevel=3)
    return act

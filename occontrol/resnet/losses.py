"""Losses of the scores S = W X(T) + c, per sample and averaged, in CasADi
and numpy.

- ``logistic``: binary labels y in {0, 1}, one score per sample,
  loss = log(1 + e^s) - y s.
- ``softmax``: K classes, one-hot targets, loss = logsumexp(s) - s_y.
- ``squared``: regression targets, loss = |s - y|^2 (so the mean is the MSE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import casadi as cs
import numpy as np

from .._checks import as_choice
from .activations import softplus_cs, softplus_np

__all__ = ["Loss", "LOSSES", "get_loss"]


def _logsumexp_cs(S):
    m = S[0, :]
    for k in range(1, S.shape[0]):
        m = cs.fmax(m, S[k, :])
    # shifting by the column max keeps exp finite; the value does not depend on the shift
    return m + cs.log(cs.sum1(cs.exp(S - cs.repmat(m, S.shape[0], 1))))


def _logsumexp_np(S):
    m = S.max(axis=0)
    return m + np.log(np.sum(np.exp(S - m), axis=0))


@dataclass(frozen=True)
class Loss:
    """A loss over samples: ``casadi(S, Y)`` and ``numpy(S, Y)`` return the mean
    over the n columns of the scores S (K x n) against targets Y (K x n).

    Attributes
    ----------
    name : str
        The name used in settings and on the command line.
    casadi : callable
        ``(S, Y) -> mean loss`` on CasADi expressions.
    numpy : callable
        The same on ndarrays.
    classification : bool
        Whether the targets are class labels (logistic, softmax) or values (squared).
    """

    name: str
    casadi: Callable
    numpy: Callable
    classification: bool


def _logistic_cs(S, Y):
    return cs.sum2(softplus_cs(S) - Y * S) / S.shape[1]


def _logistic_np(S, Y):
    return float(np.mean(softplus_np(S) - Y * S))


def _softmax_cs(S, Y):
    return cs.sum2(_logsumexp_cs(S) - cs.sum1(Y * S)) / S.shape[1]


def _softmax_np(S, Y):
    return float(np.mean(_logsumexp_np(S) - np.sum(Y * S, axis=0)))


def _squared_cs(S, Y):
    return cs.sum2(cs.sum1((S - Y) ** 2)) / S.shape[1]


def _squared_np(S, Y):
    return float(np.mean(np.sum((S - Y) ** 2, axis=0)))


LOSSES: dict[str, Loss] = {
    "logistic": Loss("logistic", _logistic_cs, _logistic_np, classification=True),
    "softmax": Loss("softmax", _softmax_cs, _softmax_np, classification=True),
    "squared": Loss("squared", _squared_cs, _squared_np, classification=False),
}
"""The losses by name: logistic (two classes), softmax cross-entropy (K classes), squared error (regression)."""


def get_loss(name: str) -> Loss:
    return LOSSES[as_choice(name, "loss", LOSSES)]

"""What the gradient-vs-optimal-control comparison measures besides E_N: the
two initialisations, exact distances between the theta(t) of two networks,
the gradient norm at given weights, and where a training run stopped moving."""

from __future__ import annotations

import math

import numpy as np

from ..._checks import as_choice, as_positive_int
from ...grid import Grid, interval_function_distance
from ..gradient import GradientRun
from ..network import ResNet
from ...refinement import Distances
from ..problem import DeepLimitProblem
from .._torch import import_torch
from ..train import fit_classifier, random_network

__all__ = ["iid_network", "initial_network", "theta_distance", "gradient_norm", "constant_from"]


def iid_network(deep: DeepLimitProblem, N: int, seed: int) -> ResNet:
    """The i.i.d. per-layer initialisation usual in ML.

    A_k has independent N(0, 1/m) entries and b_k independent N(0, 1) entries,
    independently for every layer k (and for every N: the draw is seeded by
    (seed, N)). These are the marginals of :func:`random_network`, so the two
    initialisations differ only in how theta is correlated in depth. (W, c)
    are fitted by scikit-learn to the features this flow produces, exactly as
    in :func:`random_network`, so neither start is handicapped by a poor
    classifier.
    """
    N = as_positive_int(N, "N")
    rng = np.random.default_rng([seed, N])
    m, K, h = deep.m, deep.K, deep.settings.horizon / N
    A = rng.normal(scale=1 / np.sqrt(m), size=(N, m, m))
    b = rng.normal(size=(N, m))
    probe = ResNet(A, b, np.zeros((K, m)), np.zeros(K), h, deep.settings.activation, deep.lift,
                   deep.settings.loss, deep.classes)
    W, c = fit_classifier(deep, probe.forward(deep.X_data).T)
    return ResNet(A, b, W, c, h, deep.settings.activation, deep.lift, deep.settings.loss, deep.classes)


def initial_network(deep: DeepLimitProblem, N: int, seed: int, init: str) -> ResNet:
    """'consistent': :func:`random_network`; 'iid': :func:`iid_network`."""
    if as_choice(init, "init", ("consistent", "iid")) == "consistent":
        return random_network(deep, N, seed)
    return iid_network(deep, N, seed)


def theta_distance(a: ResNet, b: ResNet, horizon: float = 1.0) -> Distances:
    """||theta_a - theta_b|| as functions of t on [0, horizon], exactly as the refinement study.

    L2 and sup of the piecewise-constant functions (the ResNet view); H1
    seminorm of the difference of the piecewise-linear interpolants through
    the interval midpoints (the view of :func:`occontrol.refinement.control_distance`).
    """
    ta = Grid.uniform_grid(a.N).times(0.0, horizon)
    tb = Grid.uniform_grid(b.N).times(0.0, horizon)
    out = interval_function_distance(ta, a.theta, tb, b.theta)
    return Distances(out["l2"], out["sup"], out["h1"])


def gradient_norm(net: ResNet, X: np.ndarray, Y: np.ndarray, tau1: float, tau2: float, tau_w: float) -> float:
    """|grad E_N| over all weights (A, b, W, c) by torch autograd: the same stationarity
    measure for every method, IPOPT included."""
    torch = import_torch()
    model = net.to_torch()
    value = model.objective(torch.tensor(X), torch.tensor(np.asarray(Y, float).T), tau1, tau2, tau_w)
    value.backward()
    return float(math.sqrt(sum(float(torch.sum(p.grad ** 2)) for p in model.parameters())))


def constant_from(run: GradientRun) -> int | None:
    """The step from which the recorded E_N never changed again, if before the last record.

    torch's L-BFGS, stepped one iteration at a time, keeps a direction whose
    line search failed and fails the same way at every later step; E_N then
    stays exactly constant. A run that converged to rounding stops moving
    too: the gradient norm of the row tells the two apart.
    """
    values = [v for _, _, v in run.history]
    i = len(values) - 1
    while i > 0 and values[i - 1] == values[-1]:
        i -= 1
    return run.history[i][0] if i < len(values) - 1 else None

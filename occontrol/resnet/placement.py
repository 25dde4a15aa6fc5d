"""Adaptive layer placement for the deep-limit ladder (issue 13 §3).

The indicator is the ResNet's own: the variation of theta(t). Each level's
layers are placed so that every layer carries an equal share of

    int_0^T ( |theta'(t)| + floor * V / T ) dt,     V = int_0^T |theta'(t)| dt,

measured on the previous level's network: theta'(t) is the slope of the
piecewise-linear interpolant through the layer midpoints (the H1 view of
the regulariser, continued linearly over the half layers at both ends), |.| the
Euclidean norm over the components of theta. The floor keeps layers where
theta(t) is flat (with ``floor`` = 1 the flat part and the variation carry
half of the layers each).

This is not the general error indicator of a discretised OCP (dual-weighted
defects); it says where the trained weights change, which is where a
piecewise-constant theta(t) on few layers is least accurate.
"""

from __future__ import annotations

import numpy as np

from .._checks import as_finite_float, as_positive_int
from ..grid import Grid, interval_midpoints
from .network import ResNet

__all__ = ["variation_density", "variation_equidistributed_grid"]


def variation_density(net: ResNet) -> tuple[np.ndarray, np.ndarray]:
    """|theta'(t)| of the midpoint interpolant: breakpoints (0, midpoints, T) and the constant value on
    each of the N + 1 pieces between them."""
    mids = interval_midpoints(net.nodes)
    breaks = np.concatenate([[0.0], mids, [net.T]])
    if net.N == 1:
        return breaks, np.zeros(2)
    slopes = np.linalg.norm(np.diff(net.theta, axis=0), axis=1) / np.diff(mids)
    # the end half layers continue the first and last segments (as interval_function_distance does)
    return breaks, np.concatenate([[slopes[0]], slopes, [slopes[-1]]])


def variation_equidistributed_grid(net: ResNet, N: int, floor: float = 1.0) -> Grid:
    """N layers on [0, T], each carrying an equal share of the variation of ``net``'s theta(t) plus a floor.

    Parameters
    ----------
    net : ResNet
        The previous level's network (any grid).
    N : int
        Number of layers of the new grid.
    floor : float
        Weight > 0 of the uniform part, relative to the mean variation V / T; a
        theta(t) without variation (V = 0) gives the uniform grid.

    Returns
    -------
    Grid
        The new layers (normalised on [0, 1], as every Grid; ``grid.times(0, T)`` gives them on [0, T]).
    """
    N = as_positive_int(N, "N")
    floor = as_finite_float(floor, "floor")
    if floor <= 0:
        raise ValueError(f"floor: expected a weight > 0 of the uniform part, got {floor}")
    breaks, density = variation_density(net)
    T = net.T
    variation = float(np.sum(density * np.diff(breaks)))
    if variation == 0.0:
        return Grid.uniform_grid(N)
    rho = density + floor * variation / T
    F = np.concatenate([[0.0], np.cumsum(rho * np.diff(breaks))])  # piecewise linear, strictly increasing
    nodes = np.interp(np.linspace(0.0, F[-1], N + 1), F, breaks)  # F^-1 of equal shares, exact
    nodes[0], nodes[-1] = 0.0, T
    return Grid(nodes / T)

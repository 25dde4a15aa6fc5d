"""Adaptive layer placement for the deep-limit ladder (issue 13 §3).

Two placements, both equidistributing a density on [0, T] plus a floor:

- by the error indicators (:func:`indicator_equidistributed_grid`, the
  ladder's ``adaptive`` placement): the per-layer indicators eta_k of
  :func:`occontrol.estimate_error` on the previous level, read as an error
  density; see that function for the rule;
- by the variation of theta(t) (:func:`variation_equidistributed_grid`, the
  ``variation`` placement), below.

The variation placement: each level's
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

__all__ = ["variation_density", "variation_equidistributed_grid", "indicator_density",
           "indicator_equidistributed_grid"]


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


def indicator_density(nodes: np.ndarray, indicators: np.ndarray, order: float) -> np.ndarray:
    """The placement density of error indicators, piecewise constant on the old layers.

    With eta_k the error of layer k of length h_k and a scheme of order p, the
    local error of a layer of length h scales like h^(p+1) * e(t), so the error
    density is e_k = eta_k / h_k^(p+1); a new layer of length h carries an error
    (h * e^(1/(p+1)))^(p+1), equal for every new layer when each carries an
    equal share of int e(t)^(1/(p+1)) dt. Returns rho_k = e_k^(1/(p+1)) =
    eta_k^(1/(p+1)) / h_k.
    """
    steps = np.diff(nodes)
    return indicators ** (1.0 / (order + 1.0)) / steps


def indicator_equidistributed_grid(nodes, indicators, N: int, order: float, floor: float = 0.25) -> Grid:
    """N layers on [nodes[0], nodes[-1]] equidistributing the error density of the previous level's indicators.

    The density is rho(t) = (eta_k / h_k^(p+1))^(1/(p+1)) on old layer k
    (:func:`indicator_density`: equal shares of int rho dt give every new
    layer the same predicted local error h^(p+1) * rho^(p+1)), plus a floor
    ``floor * R / T`` with R = int rho dt, so that no region is starved: a
    fraction floor / (1 + floor) of the layers is spread uniformly, and no new
    layer is longer than (1 + 1 / floor) T / N. Indicators that are all zero
    give the uniform grid.

    Parameters
    ----------
    nodes : array_like, shape (M + 1,)
        The previous level's layer boundaries, strictly increasing.
    indicators : array_like, shape (M,)
        Its per-layer error indicators eta_k >= 0 (``ErrorEstimate.indicators``).
    N : int
        Number of layers of the new grid.
    order : float
        The order p > 0 of the scheme's error (``ErrorEstimate.order``).
    floor : float
        Weight > 0 of the uniform part, relative to the mean density R / T.

    Returns
    -------
    Grid
        The new layers, normalised on [0, 1] (``grid.times(nodes[0], nodes[-1])`` gives them on the horizon).
    """
    N = as_positive_int(N, "N")
    floor = as_finite_float(floor, "floor")
    if floor <= 0:
        raise ValueError(f"floor: expected a weight > 0 of the uniform part, got {floor}")
    order = as_finite_float(order, "order")
    if order <= 0:
        raise ValueError(f"order: expected the scheme's order p > 0, got {order}")
    nodes = np.asarray(nodes, dtype=float)
    if nodes.ndim != 1 or nodes.size < 2 or not np.all(np.isfinite(nodes)) or np.any(np.diff(nodes) <= 0):
        raise ValueError(f"nodes: expected at least two strictly increasing finite layer boundaries, got {nodes}")
    eta = np.asarray(indicators, dtype=float)
    if eta.shape != (nodes.size - 1,):
        raise ValueError(f"indicators: expected one per layer, shape ({nodes.size - 1},), got shape {eta.shape}")
    if not np.all(np.isfinite(eta)) or np.any(eta < 0):
        raise ValueError(f"indicators: expected finite values >= 0 (a failed estimate has none), got {eta}")
    rho = indicator_density(nodes, eta, order)
    steps = np.diff(nodes)
    total = float(np.sum(rho * steps))
    if total == 0.0:
        return Grid.uniform_grid(N)
    t0, T = nodes[0], nodes[-1]
    rho = rho + floor * total / (T - t0)
    F = np.concatenate([[0.0], np.cumsum(rho * steps)])  # piecewise linear, strictly increasing
    new = np.interp(np.linspace(0.0, F[-1], N + 1), F, nodes)  # F^-1 of equal shares, exact
    new[0], new[-1] = t0, T
    return Grid((new - t0) / (T - t0))

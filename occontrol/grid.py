"""Time grids: uniform or given nodes, mapped onto the horizon [t0, tf]."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_finite_array, as_positive_int

__all__ = ["Grid", "as_grid"]


class Grid:
    """A mesh of N intervals, stored normalised on [0, 1].

    Parameters
    ----------
    nodes : array_like, shape (N + 1,)
        Strictly increasing node positions, in any units: they are mapped
        affinely onto the horizon, so ``Grid([0, 0.5, 2])`` on [0, 4] has
        nodes 0, 1, 4. With a free final time the horizon is scaled by tf.
    """

    def __init__(self, nodes: Any) -> None:
        arr = as_finite_array(nodes, "nodes")
        if arr.ndim != 1 or arr.size < 2:
            raise ValueError(f"nodes: expected a 1-D array of at least 2 nodes, got shape {arr.shape}")
        if not np.all(np.diff(arr) > 0):
            raise ValueError("nodes: expected strictly increasing nodes")
        with np.errstate(over="ignore", invalid="ignore"):
            self.tau = (arr - arr[0]) / (arr[-1] - arr[0])
        self.tau[-1] = 1.0
        # Increasing nodes can still overflow or merge when mapped onto [0, 1].
        if not (np.isfinite(self.tau).all() and np.all(np.diff(self.tau) > 0)):
            raise ValueError("nodes: spacing not representable after scaling onto [0, 1]; "
                             "expected nodes of comparable magnitude")
        self.uniform = False

    @classmethod
    def uniform_grid(cls, N: int) -> "Grid":
        """N equal intervals."""
        N = as_positive_int(N, "N")
        grid = cls(np.arange(N + 1, dtype=float))
        grid.uniform = True
        return grid

    @property
    def N(self) -> int:
        """Number of intervals."""
        return self.tau.size - 1

    @property
    def dtau(self) -> np.ndarray:
        """Normalised interval lengths, shape (N,); exactly 1/N when uniform."""
        if self.uniform:
            return np.full(self.N, 1.0 / self.N)
        return np.diff(self.tau)

    def times(self, t0: float, tf: float) -> np.ndarray:
        """Node times on [t0, tf], shape (N + 1,)."""
        if self.uniform:
            # k * h with h = (tf - t0) / N exactly, so that Euler steps are the ResNet's.
            t = t0 + np.arange(self.N + 1) * ((tf - t0) / self.N)
            t[-1] = tf
            return t
        return t0 + (tf - t0) * self.tau

    def steps(self, t0: float, tf: float) -> np.ndarray:
        """Interval lengths on [t0, tf], shape (N,); exactly (tf - t0) / N when uniform."""
        if self.uniform:
            return np.full(self.N, (tf - t0) / self.N)
        return (tf - t0) * np.diff(self.tau)

    def refined(self, factor: int = 2) -> "Grid":
        """Each interval split into ``factor`` equal parts."""
        factor = as_positive_int(factor, "factor")
        if self.uniform:
            return Grid.uniform_grid(self.N * factor)
        sub = np.linspace(0.0, 1.0, factor + 1)[:-1]
        nodes = (self.tau[:-1, None] + np.diff(self.tau)[:, None] * sub).ravel()
        return Grid(np.append(nodes, 1.0))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Grid) and self.N == other.N and np.array_equal(self.tau, other.tau)

    def __hash__(self) -> int:
        return hash(self.tau.tobytes())

    def __repr__(self) -> str:
        return f"Grid.uniform_grid({self.N})" if self.uniform else f"Grid(N={self.N})"


def as_grid(grid: Any) -> Grid:
    """An int N (uniform) or a :class:`Grid`."""
    if isinstance(grid, Grid):
        return grid
    if isinstance(grid, bool) or not isinstance(grid, (int, np.integer)):
        raise TypeError(f"grid: expected an int N >= 1 or an oc.Grid, got {grid!r}")
    if grid < 1:
        raise ValueError(f"grid: expected N >= 1 intervals, got {grid}")
    return Grid.uniform_grid(int(grid))

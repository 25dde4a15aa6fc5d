"""Time grids: uniform or given nodes, mapped onto the horizon [t0, tf]."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._checks import as_choice, as_finite_array, as_positive_int

__all__ = ["Grid", "as_grid", "piecewise_constant_distance", "piecewise_linear_distance", "interval_midpoints",
           "interval_function_distance",
           "prolong"]


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
            # k * h with h = (tf - t0) / N exactly: every step of a uniform grid is the same float.
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


# --------------------------------------------------------------------------
# Grid functions: distances computed exactly on the union of two grids, and
# prolongation from one grid to another.


def _as_rows(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values.reshape(values.shape[0], -1)


def piecewise_constant_distance(nodes_a: np.ndarray, values_a: np.ndarray, nodes_b: np.ndarray,
                                values_b: np.ndarray) -> dict[str, float]:
    """L2 and sup distance of two piecewise-constant functions on [t0, tf].

    Parameters
    ----------
    nodes_a, nodes_b : ndarray, shape (N_a + 1,), (N_b + 1,)
        Grid nodes; both grids must span the same interval.
    values_a, values_b : ndarray, shape (N_a, ...), (N_b, ...)
        One value (any shape, compared with the Euclidean norm) per interval.

    Both functions are constant on every interval of the union grid, so the
    integrals are exact sums.
    """
    va, vb = _as_rows(values_a), _as_rows(values_b)
    union = np.union1d(nodes_a, nodes_b)
    mid = (union[:-1] + union[1:]) / 2
    ia = np.clip(np.searchsorted(nodes_a, mid, side="right") - 1, 0, va.shape[0] - 1)
    ib = np.clip(np.searchsorted(nodes_b, mid, side="right") - 1, 0, vb.shape[0] - 1)
    sq = np.sum((va[ia] - vb[ib]) ** 2, axis=1)
    return {"l2": float(np.sqrt(np.sum(np.diff(union) * sq))), "sup": float(np.sqrt(sq.max()))}


def piecewise_linear_distance(points_a: np.ndarray, values_a: np.ndarray, points_b: np.ndarray,
                              values_b: np.ndarray, t0: float, tf: float,
                              extrapolate: bool = False) -> dict[str, float]:
    """L2, sup and H1-seminorm distance of two piecewise-linear interpolants on [t0, tf].

    Each function interpolates its (points, values) linearly. Beyond its first
    and last point it is constant (as numpy.interp), or with ``extrapolate``
    the end segments are continued as straight lines (a single point is a
    constant either way). On every interval of the union of all breakpoints
    and [t0, tf] the difference is linear, so int |d|^2 = dt/3 (a^2 + a.b + b^2),
    the sup is attained at a breakpoint and the derivative is constant.
    """
    va, vb = _as_rows(values_a), _as_rows(values_b)
    points_a, points_b = np.asarray(points_a, dtype=float), np.asarray(points_b, dtype=float)
    union = np.union1d(np.union1d(points_a, points_b), [t0, tf])
    union = union[(union >= t0) & (union <= tf)]
    interp = _interp_extrapolate if extrapolate else _interp_constant
    da = np.column_stack([interp(union, points_a, col) for col in va.T])
    db = np.column_stack([interp(union, points_b, col) for col in vb.T])
    d = da - db
    dt = np.diff(union)
    left, right = d[:-1], d[1:]
    l2 = np.sum(dt / 3 * np.sum(left ** 2 + left * right + right ** 2, axis=1))
    h1 = np.sum(np.sum((right - left) ** 2, axis=1) / dt)
    return {"l2": float(np.sqrt(max(l2, 0.0))), "sup": float(np.sqrt(np.max(np.sum(d ** 2, axis=1)))),
            "h1": float(np.sqrt(h1))}


def interval_function_distance(nodes_a: np.ndarray, values_a: np.ndarray, nodes_b: np.ndarray,
                               values_b: np.ndarray) -> dict[str, float]:
    """Distances of two per-interval functions (theta_k on [t_k, t_k+1)).

    'l2' and 'sup' are those of the piecewise-constant functions. 'h1' is the
    H1 seminorm, on the whole of [t0, tf], of the difference of the
    piecewise-linear interpolants through the interval midpoints (the view in
    which the discrete H1 term sum |theta_k+1 - theta_k|^2 / h is an integral),
    each continued linearly over the half intervals before its first and after
    its last midpoint. Held constant there instead, the two interpolants of
    grids N and 2N would differ in slope by O(1) on a stretch of length O(h),
    capping the observed order of the H1 distance at 1/2 whatever the method;
    continued linearly they differ by O(h) everywhere for a smooth theta(t), so
    the observed order is the method's (1 for piecewise-constant samples).
    """
    pc = piecewise_constant_distance(nodes_a, values_a, nodes_b, values_b)
    pl = piecewise_linear_distance(interval_midpoints(nodes_a), values_a, interval_midpoints(nodes_b), values_b,
                                   nodes_a[0], nodes_a[-1], extrapolate=True)
    return {"l2": pc["l2"], "sup": pc["sup"], "h1": pl["h1"]}


def interval_midpoints(nodes: np.ndarray) -> np.ndarray:
    """Midpoints of the intervals: where a piecewise-constant value is anchored for the H1 view."""
    nodes = np.asarray(nodes, dtype=float)
    return (nodes[:-1] + nodes[1:]) / 2


def _interp_constant(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """np.interp: linear inside [xp[0], xp[-1]], constant outside."""
    return np.interp(x, xp, fp)


def _interp_extrapolate(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """np.interp inside [xp[0], xp[-1]], linear extrapolation of the end segments outside
    (a constant when there is a single point)."""
    out = np.interp(x, xp, fp)
    if xp.size < 2:
        return out
    left, right = x < xp[0], x > xp[-1]
    out[left] = fp[0] + (x[left] - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0])
    out[right] = fp[-1] + (x[right] - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    return out


def prolong(nodes_from: np.ndarray, values: np.ndarray, nodes_to: np.ndarray, kind: str = "constant",
            at_nodes: bool = False) -> np.ndarray:
    """Carry grid values onto another grid.

    Parameters
    ----------
    nodes_from, nodes_to : ndarray
        Source and target grid nodes on the same interval.
    values : ndarray, shape (N_from, ...) per interval, or (N_from + 1, ...) per node
    kind : {'constant', 'linear'}
        'constant': the piecewise-constant function, sampled at the target
        midpoints (exact for nested grids). 'linear': the piecewise-linear
        interpolant through the source anchors (midpoints for interval values,
        nodes for nodal values), sampled at the target anchors.
    at_nodes : bool
        Whether ``values`` (and the result) are nodal rather than per interval.
    """
    as_choice(kind, "kind", ("constant", "linear"))
    values = np.asarray(values, dtype=float)
    rows = _as_rows(values)
    src = np.asarray(nodes_from, float) if at_nodes else interval_midpoints(nodes_from)
    dst = np.asarray(nodes_to, float) if at_nodes else interval_midpoints(nodes_to)
    if kind == "constant" and not at_nodes:
        k = np.clip(np.searchsorted(nodes_from, dst, side="right") - 1, 0, rows.shape[0] - 1)
        out = rows[k]
    elif kind == "linear" and not at_nodes and src.size > 1:
        # interval values anchor at midpoints: extend the end segments linearly to the
        # half intervals at t0 and tf, so that a linear theta(t) is carried exactly
        out = np.column_stack([_interp_extrapolate(dst, src, col) for col in rows.T])
    else:  # nodal values, or a single interval
        out = np.column_stack([np.interp(dst, src, col) for col in rows.T])
    return out.reshape((dst.size,) + values.shape[1:])

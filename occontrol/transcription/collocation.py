"""Direct collocation on Radau or Legendre points.

Per interval, the state is a polynomial of degree d through the node state
and d collocation states; the dynamics hold at the collocation points. One
per-interval function is built and mapped over the grid.
"""

from __future__ import annotations

import casadi as cs
import numpy as np

from .._checks import as_choice, as_positive_int
from .discrete import Transcription, BuildContext
from .layout import Block, NodeValues, Sampling

__all__ = ["Collocation"]


def _lagrange_basis(points: np.ndarray, j: int) -> np.poly1d:
    basis = np.poly1d([1.0])
    for r, pr in enumerate(points):
        if r != j:
            basis *= np.poly1d([1.0, -pr]) / (points[j] - pr)
    return basis


def _lagrange_coefficients(tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the Lagrange bases through ``tau`` (0 and the d collocation points):
    C[j, r] = basis_j'(tau_r) and D[j] = basis_j(1); and the quadrature weights
    B[j] = int_0^1 of the basis through the collocation points alone (the
    d-point rule: the basis through 0 as well gives the start point a
    non-zero weight for Radau degree 1, which is not the scheme's rule)."""
    n = tau.size
    C, D = np.zeros((n, n)), np.zeros(n)
    for j in range(n):
        basis = _lagrange_basis(tau, j)
        # basis_j(1) in product form, not from the expanded polynomial: with a point at tau = 1
        # (Radau) it is exactly 0 or 1, so z_end is that point alone and the continuity rows of
        # the Jacobian hold no round-off entries (2 nonzeros per row instead of d + 2)
        D[j] = np.prod([(1.0 - pr) / (tau[j] - pr) for r, pr in enumerate(tau) if r != j]) + 0.0  # no -0.0
        C[j] = np.polyder(basis)(tau)
    B = np.array([np.polyint(_lagrange_basis(tau[1:], j))(1.0) for j in range(n - 1)])
    return C, D, B


class Collocation(Transcription):
    """Collocation of a given degree on Radau IIA or Gauss-Legendre points.

    Parameters
    ----------
    degree : int
        Number of collocation points per interval, 1 to 5.
    scheme : {'radau', 'legendre'}
        Collocation points.
    controls : {'constant', 'linear'}
        Piecewise-constant or piecewise-linear controls.
    expand : bool
        Expand the per-interval function to SX before mapping it.
    parallelization : {'serial', 'thread'}
        Evaluation of the maps over the grid and the ensemble columns.
    """

    family = "collocation"

    def __init__(self, degree: int = 3, scheme: str = "radau", controls: str = "constant",
                 expand: bool = True, parallelization: str = "serial") -> None:
        super().__init__(controls, parallelization, expand)
        self.degree = as_positive_int(degree, "degree")
        if self.degree > 5:
            raise ValueError(f"degree: expected 1 to 5, got {degree}")
        self.scheme = as_choice(scheme, "scheme", ("radau", "legendre"))
        self.tau = np.array([0.0] + list(cs.collocation_points(self.degree, self.scheme)))
        self.C, self.D, self.B = _lagrange_coefficients(self.tau)

    def describe(self) -> dict:
        return {**super().describe(), "degree": self.degree, "scheme": self.scheme, "expand": self.expand}

    def __repr__(self) -> str:
        return f"Collocation(degree={self.degree}, scheme={self.scheme!r}, controls={self.controls!r})"

    def interval_function(self, model) -> cs.Function:
        """(z_k, Xc[nz x d], u0, u1, p, t, h, tf) -> (defects[nz x d], z at interval end, quadrature)."""
        d = self.degree
        z = cs.MX.sym("z", model.nz)
        Xc = cs.MX.sym("Xc", model.nz, d)
        u0, u1 = cs.MX.sym("u0", model.nu), cs.MX.sym("u1", model.nu)
        p, t, h, tf = cs.MX.sym("p", model.np), cs.MX.sym("t"), cs.MX.sym("h"), cs.MX.sym("tf")
        points = cs.horzcat(z, Xc)
        # Stage controls and times, then the dynamics at all d points with one mapped call.
        taus = cs.DM(self.tau[1:]).T
        if self.controls == "constant":
            U = cs.repmat(u0, 1, d)
        else:
            U = cs.repmat(u0, 1, d) + cs.mtimes(u1 - u0, taus)
        T = t + h * taus
        F = model.f.map(d)(Xc, U, p, T, tf)
        L = model.running.map(d)(Xc, U, p, T, tf)
        slopes = cs.mtimes(points, cs.DM(self.C[:, 1:]))  # column j: sum_r C[r, j] x_r
        defects = h * F - slopes
        z_end = cs.mtimes(points, cs.DM(self.D))
        quad = h * cs.mtimes(L, cs.DM(self.B))
        fn = cs.Function("collocation_interval", [z, Xc, u0, u1, p, t, h, tf], [defects, z_end, quad],
                         ["z", "Xc", "u0", "u1", "p", "t", "h", "tf"], ["defects", "z_end", "q"])
        return fn.expand() if self.expand else fn

    def _dynamics(self, ctx: BuildContext) -> tuple[cs.MX, cs.MX, "CollocationDenseOutput"]:
        model, N, d = ctx.model, ctx.grid.N, self.degree
        b = ctx.builder
        Xc = ctx.node_states("Xc", Sampling.COLLOCATION_POINTS, N * d, per_interval=d)
        points_block = b.blocks[-1]
        Z = ctx.node_states("Z", Sampling.LATER_NODES, N, per_interval=1)
        states = cs.horzcat(ctx.z0, Z)
        u_left, u_right = ctx.control_intervals()
        interval = self.interval_function(model)
        defects, z_end, quad = self.map(interval, N)(states[:, :-1], Xc, u_left, u_right, ctx.P,
                                               ctx.T[:, :-1], ctx.H, ctx.tf)
        b.constrain("collocation", defects, 0.0, 0.0)
        b.constrain("dynamics", Z - z_end, 0.0, 0.0)
        ctx.path_points = self._inner_points(ctx, Xc, u_left, u_right)
        return states, cs.sum2(quad), CollocationDenseOutput(self.tau, points_block)

    def inner_taus(self) -> np.ndarray:
        """Indices j of the collocation points strictly inside an interval (tau_j < 1).

        The Radau point tau = 1 is the next node (the continuity constraint
        makes them equal), so it gets no second copy of a path constraint.
        """
        return np.flatnonzero(self.tau[1:] < 1.0)

    def _inner_points(self, ctx: BuildContext, Xc: cs.MX, u_left: cs.MX, u_right: cs.MX):
        """States, controls and times at the inner collocation points, interval by interval."""
        N, d, inner = ctx.grid.N, self.degree, self.inner_taus()
        m = inner.size
        if m == 0:
            return None
        cols = (np.arange(N)[:, None] * d + inner[None, :]).ravel().tolist()
        # Selection matrices: column k*m + j picks interval k, weighted by tau_j for the slope part.
        rows = np.repeat(np.arange(N), m)
        E0 = cs.DM(cs.Sparsity.triplet(N, N * m, rows.tolist(), list(range(N * m))), 1.0)
        Etau = cs.DM(cs.Sparsity.triplet(N, N * m, rows.tolist(), list(range(N * m))),
                     np.tile(self.tau[1:][inner], N).tolist())
        U = cs.mtimes(u_left, E0)
        if self.controls == "linear":
            U = U + cs.mtimes(u_right - u_left, Etau)
        T = cs.mtimes(ctx.T[:, :-1], E0) + cs.mtimes(ctx.H, Etau)
        return Xc[:, cols], U, T

    def collocation_times(self, t: np.ndarray) -> np.ndarray:
        """Times of the collocation points, shape (N * d,), interval by interval."""
        h = np.diff(t)
        return (t[:-1, None] + h[:, None] * self.tau[None, 1:]).ravel()

    def sample_times(self, sampling: Sampling, t: np.ndarray) -> np.ndarray:
        """As :meth:`Transcription.sample_times`, and the collocation points."""
        if sampling is Sampling.COLLOCATION_POINTS:
            return self.collocation_times(t)
        return super().sample_times(sampling, t)


class CollocationDenseOutput:
    """States between the nodes from the collocation polynomial of each interval.

    Parameters
    ----------
    tau : ndarray, shape (d + 1,)
        0 and the collocation points in [0, 1].
    points : Block
        The block of states at the collocation points.
    """

    def __init__(self, tau: np.ndarray, points: Block) -> None:
        self.tau, self.points = tau, points

    def states(self, values: NodeValues, k: np.ndarray, s: np.ndarray) -> np.ndarray:
        """The collocation polynomial of interval k at t_k + s; shape (nz, len(k))."""
        d = self.tau.size - 1
        Xc = np.reshape(values.w[self.points.positions], self.points.shape, order="F")
        h = values.t[k + 1] - values.t[k]
        sigma = s / h
        out = np.empty((values.states.shape[0], len(k)))
        for i, (kk, sg) in enumerate(zip(k, sigma)):
            basis = np.array([np.prod([(sg - self.tau[r]) / (self.tau[j] - self.tau[r])
                                       for r in range(d + 1) if r != j]) for j in range(d + 1)])
            pts = np.column_stack([values.states[:, kk], Xc[:, kk * d:(kk + 1) * d]])
            out[:, i] = pts @ basis
        return out

"""A generalised Gauss-Newton Hessian for the single-shooting ResNet NLP.

The objective is (1/n) sum_i loss(s_i(v), y_i) + R(v), with v = (theta_0..
theta_{N-1}, W, c) and s_i the scores of sample i. Its GGN matrix is

    G = (1/n) sum_i J_i^T H_i J_i + Hess R,

with J_i = ds_i/dv (one reverse sweep per score, mapped over the samples)
and H_i the Hessian of the loss in the scores, positive semidefinite for
every loss here. The sum is formed in numpy inside a CasADi Callback, which
IPOPT receives through the core's ``hess_lag`` hook.

The callback works on buffers: the per-sample Jacobians are written by
CasADi straight into a preallocated numpy array, the Gram matrix is one
BLAS ``syrk`` (upper triangle only), and the nonzeros IPOPT asks for (the
upper triangle in the NLP's variable order) are one gather through an index
computed once, written into CasADi's output buffer. At N = 256, n = 200
(1539 variables) the DM conversions and dense scatters this replaces were
more than half of the callback's time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import casadi as cs
import numpy as np
from scipy.linalg.blas import dsyrk
from threadpoolctl import ThreadpoolController

from ..solver import Ipopt
from ..transcription.discrete import DiscreteProblem
from ..transcription.model import mapped
from ..transcription.runge_kutta import ExplicitRungeKutta
from .network import rk_layer
from .problem import DeepLimitProblem

__all__ = ["GaussNewtonHessian", "gauss_newton_hessian", "gauss_newton_solver"]


def _sample_step(deep: DeepLimitProblem, tableau, nu: int) -> cs.Function:
    """One RK step of one sample under piecewise-constant theta: (x[m], u[nu], h) -> x_next."""
    m = deep.m
    x, u, h = cs.SX.sym("x", m), cs.SX.sym("u", nu), cs.SX.sym("h")
    A, b = cs.reshape(u[:m * m], m, m), u[m * m:]
    x_next = rk_layer(x, lambda z: deep.activation.casadi(A @ z + b), h, tableau)
    return cs.Function("sample_step", [x, u, h], [x_next])


def _regularizer_hessian(deep: DeepLimitProblem, steps: np.ndarray, nv: int, nu: int) -> np.ndarray:
    """Hessian of the regulariser and weight decay in the compact variables (vec U, W, c)."""
    st, N = deep.settings, steps.size
    D = np.diff(np.eye(N), axis=0)
    if np.all(steps == steps[0]):  # uniform: the same matrix, term for term, as before h_k existed
        h = float(steps[0])
        per_component = 2 * st.tau1 * h * np.eye(N) + 2 * st.tau2 / h * D.T @ D
    else:
        spacing = (steps[1:] + steps[:-1]) / 2
        per_component = 2 * st.tau1 * np.diag(steps) + 2 * st.tau2 * D.T @ (D / spacing[:, None])
    reg = np.zeros((nv, nv))
    reg[:N * nu, :N * nu] = np.kron(per_component, np.eye(nu))
    reg[N * nu:, N * nu:] = 2 * st.tau_w * np.eye(nv - N * nu)
    return reg


class GaussNewtonHessian(cs.Callback):
    """(w, p, lam_f, lam_g) -> upper triangle of lam_f * G, dense, in the NLP's variable order.

    Parameters
    ----------
    problem : DiscreteProblem
        Single shooting of an explicit Runge-Kutta scheme, piecewise-constant controls.
    deep : DeepLimitProblem
        The data, loss and regulariser weights.
    secant_below : float or None
        None: the GGN matrix alone. A number: once the gradient's largest entry is below it,
        each call adds a symmetric rank-one (SR1) secant estimate of the curvature the GGN
        leaves out, sum_i (dloss/ds_i) Hess s_i, from the score Jacobians at consecutive
        iterates (a structured quasi-Newton method, Dennis and Walker's form: y = sum_i
        (J_i(v+) - J_i(v))^T g_i(v+)). GGN steps converge linearly near a minimiser (16 to 24
        IPOPT iterations from the previous level's prolonged minimiser); the corrected matrix
        approaches the exact Hessian along the steps taken, and the tail is superlinear. The
        gradient, hence the minimiser IPOPT stops at, is the same. The memory lives in this
        object: :func:`occontrol.solve` builds a fresh one per solve; :meth:`reset` clears it.

    Notes
    -----
    numpy's BLAS runs on ``numpy_blas_threads`` threads (1) while a call runs, the caller's setting
    restored after: its workers, left spinning after the Gram product, slowed the factorisation
    IPOPT runs next. Set the class attribute to None to leave numpy's setting alone.
    """

    #: threads of numpy's BLAS inside a call (None: numpy's own setting; see __init__)
    numpy_blas_threads: int | None = 1

    def __init__(self, problem: DiscreteProblem, deep: DeepLimitProblem,
                 secant_below: float | None = None) -> None:
        cs.Callback.__init__(self)
        if secant_below is not None and (isinstance(secant_below, bool) or not isinstance(secant_below, (int, float))
                                         or not secant_below > 0):
            raise ValueError(f"secant_below: expected a positive number or None, got {secant_below!r}")
        self.secant_below = None if secant_below is None else float(secant_below)
        tr = problem.transcription
        if not (isinstance(tr, ExplicitRungeKutta) and tr.shooting == "single" and tr.controls == "constant"):
            raise ValueError("strategy: the Gauss-Newton Hessian needs an explicit Runge-Kutta transcription "
                             "with shooting='single' and controls='constant'")
        if problem.lbg.size:
            raise ValueError("strategy: the Gauss-Newton Hessian assumes no constraints besides bounds")
        N, m, K = problem.N, deep.m, deep.K
        nu = m * m + m
        u_index, p_index = problem.index.controls, problem.index.statics
        self.order = np.concatenate([u_index, p_index])  # compact v -> position in w
        self.nx = problem.lbx.size
        if self.order.size != self.nx:
            raise ValueError("strategy: the Gauss-Newton Hessian expects only controls and parameters "
                             "as decision variables")
        steps = problem.grid.steps(problem.ocp.t0, problem.ocp.fixed_tf)  # h_k; exactly T / N when uniform

        # Per-sample scores and their Jacobian in the compact variables v.
        v = cs.MX.sym("v", N * nu + K * m + K)
        U = cs.reshape(v[:N * nu], nu, N)
        W = cs.reshape(v[N * nu:N * nu + K * m], K, m)
        c = v[N * nu + K * m:]
        x0 = cs.MX.sym("x0", m)
        roll = _sample_step(deep, tr.tableau, nu).mapaccum("rollout", N)
        xN = roll(x0, U, cs.DM(steps).T)[:, -1]  # layer k steps by h_k
        s = W @ xN + c
        # densified, so that the mapped output's nonzeros are the dense K x (n nv) block, column-major
        # expanded to SX: one sample's rollout and reverse sweep is a flat instruction list, about 4x
        # faster than the MX graph per call at N = 256 (the map then runs that list n times)
        per_sample = cs.Function("score_jacobian", [x0, v], [s, cs.densify(cs.jacobian(s, v))]).expand()
        self._jac = mapped(per_sample, deep.n, tr.parallelization, shared=(1,))  # v shared by the samples
        self._x0 = cs.DM(deep.lift @ deep.X_data.T)
        self.Y = deep.Y
        self.n, self.K, self.nv = deep.n, K, v.numel()
        self.loss = deep.loss

        # Hessian of the loss in the scores of one sample, as a function of (s, y).
        s1, y1 = cs.SX.sym("s", K), cs.SX.sym("y", K)
        loss1 = self.loss.casadi(cs.reshape(s1, K, 1), cs.reshape(y1, K, 1))
        self._loss_hess = cs.Function("loss_hess", [s1, y1], [cs.hessian(loss1, s1)[0]]).map(deep.n)
        self._loss_grad = cs.Function("loss_grad", [s1, y1], [cs.gradient(loss1, s1)]).map(deep.n)

        # The regulariser and weight decay are quadratic, so their Hessian is constant, on vec(U):
        # tau1 sum h_k |theta_k|^2 + tau2 sum |theta_{k+1} - theta_k|^2 / ((h_k + h_{k+1}) / 2)
        # (the H1 difference over the distance of the interval midpoints, OCP.regularize).
        self._reg_hessian = _regularizer_hessian(deep, steps, self.nv, nu)
        self._n_p = problem.parameters.size
        self._upper = cs.Sparsity.upper(self.nx)
        self._gather, self._reg_values = self._output_index()
        self._buffers()
        # numpy's BLAS runs on one thread inside the callback: its worker threads, woken by the
        # Gram product, keep spinning after it returns and slow IPOPT's factorisation (MUMPS, on
        # CasADi's own BLAS) that follows; single-threaded, the N = 128 level took 0.9 s against 1.2
        # to 1.9 s on two cores, the same iterations (benchmarks/thread_map.py)
        self._blas = ThreadpoolController().select(user_api="blas")
        self.reset()
        self.construct("gauss_newton_hessian", {})

    def reset(self) -> None:
        """Forget the secant memory (the next call is a plain GGN step again)."""
        self._A = np.zeros((self.nv, self.nv)) if self.secant_below is not None else None
        self._previous: tuple[np.ndarray, np.ndarray] | None = None
        self._secant_on = False
        self.secant_updates = 0

    def _output_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Where each output nonzero lives in the compact upper triangle, and the regulariser's part of it.

        The output is the upper triangle in w's order, column-major: for column j the rows i <= j,
        i.e. numpy's row-major lower triangle (i, j) swapped. Entry (i, j) is compact (a, b) =
        (pos[i], pos[j]); syrk fills the compact upper triangle, so it is read at (min, max), whose
        offset in the Fortran-ordered result is min + max * nv.
        """
        pos = np.empty(self.nx, dtype=np.intp)
        pos[self.order] = np.arange(self.nx)
        cols, rows = np.tril_indices(self.nx)  # row-major lower (j, i) == column-major upper (i, j)
        a, b = pos[rows], pos[cols]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        return lo + hi * self.nv, self._reg_hessian[lo, hi]

    def _buffers(self) -> None:
        """Preallocated outputs of the mapped score Jacobian, and a CasADi buffer evaluation that fills them."""
        self._S = np.zeros(self.K * self.n)
        self._J = np.zeros(self.K * self.n * self.nv)  # column-major K x (n nv): sample i is columns i nv ...
        self._v = np.zeros(self.nv)
        x0 = np.asarray(self._x0, dtype=float).ravel(order="F")
        self._x0_flat = x0
        buffer: Any  # CasADi's stubs give set_arg/set_res the C signature (pointer, size); Python passes a memoryview
        buffer, self._jac_eval = self._jac.buffer()
        buffer.set_arg(0, self._x0_flat.data)
        buffer.set_arg(1, self._v.data)
        buffer.set_res(0, self._S.data)
        buffer.set_res(1, self._J.data)
        self._jac_buffer = buffer  # kept: the evaluation reads through it

    def get_n_in(self) -> int:
        return 4

    def get_n_out(self) -> int:
        return 1

    def get_sparsity_in(self, i: int) -> cs.Sparsity:
        sizes = (self.nx, self._n_p, 1, 0)
        return cs.Sparsity.dense(sizes[i], 1)

    def get_sparsity_out(self, i: int) -> cs.Sparsity:
        return self._upper

    def _scores_and_jacobians(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scores S (K x n) and per-sample Jacobians (n, K, nv) at w, written by CasADi into our arrays."""
        self._v[:] = w[self.order]
        self._jac_eval()
        S = self._S.reshape(self.K, self.n, order="F")
        # map() stacks per-sample blocks side by side: J is K x (n nv), column-major.
        Ji = self._J.reshape(self.K, self.nv, self.n, order="F").transpose(2, 0, 1)
        return S, Ji

    def _gram_upper(self, w: np.ndarray) -> np.ndarray:
        """(1/n) sum_i J_i^T H_i J_i, upper triangle filled, compact order, Fortran-ordered (nv, nv)."""
        S, Ji = self._scores_and_jacobians(w)
        Hs = np.asarray(self._loss_hess(S, self.Y)).reshape(self.K, self.K, self.n, order="F").transpose(2, 0, 1)
        # H_i = V diag(lam) V^T (PSD); stack sqrt(lam) V^T J_i over the samples, then one product.
        if self.K == 1:  # no eigen-decomposition for a scalar
            R = np.sqrt(np.clip(Hs[:, 0, :], 0, None) / self.n) * Ji[:, 0, :]
        else:
            lam, V = np.linalg.eigh(Hs)
            R = (np.sqrt(np.clip(lam, 0, None) / self.n)[:, :, None]
                 * np.einsum("nkj,nkv->njv", V, Ji)).reshape(-1, self.nv)
        # R is C-ordered (n K, nv): R.T is Fortran-ordered, so syrk reads it without a copy.
        return dsyrk(1.0, R.T)

    def upper_values(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The output nonzeros (upper triangle of G in w's order, column-major), not scaled by lam_f."""
        values = np.take(self._gram_upper(w).T.reshape(-1), self._gather, out=out)
        values += self._reg_values
        return values

    def matrix(self, w: np.ndarray) -> np.ndarray:
        """The full GGN matrix (not scaled by lam_f) at the decision vector w."""
        full = np.zeros((self.nx, self.nx))
        cols, rows = np.tril_indices(self.nx)
        full[rows, cols] = self.upper_values(np.asarray(w, dtype=float).ravel())
        full[cols, rows] = full[rows, cols]
        return full

    def gradient(self, w: np.ndarray) -> np.ndarray:
        """The objective's gradient in the compact variables v at w (the regulariser is a homogeneous
        quadratic, so its gradient is its Hessian times v)."""
        S, Ji = self._scores_and_jacobians(np.asarray(w, dtype=float).ravel())
        return self._gradient(S, Ji)

    def _gradient(self, S: np.ndarray, Ji: np.ndarray) -> np.ndarray:
        g = np.asarray(self._loss_grad(S, self.Y)).reshape(self.K, self.n, order="F").T / self.n  # (n, K)
        return np.einsum("nk,nkv->v", g, Ji) + self._reg_hessian @ self._v

    def _secant_update(self) -> None:
        """SR1 update of the residual-curvature estimate from the previous call's point to this one.

        Reads the scores and Jacobians the GGN evaluation just wrote (at the current v)."""
        S = self._S.reshape(self.K, self.n, order="F")
        Ji = self._J.reshape(self.K, self.nv, self.n, order="F").transpose(2, 0, 1)
        g = np.asarray(self._loss_grad(S, self.Y)).reshape(self.K, self.n, order="F").T / self.n
        if not self._secant_on:
            grad = np.einsum("nk,nkv->v", g, Ji) + self._reg_hessian @ self._v
            self._secant_on = bool(np.max(np.abs(grad)) < self.secant_below)
        previous, self._previous = self._previous, (self._v.copy(), Ji.copy())
        A = self._A
        if A is None or previous is None or not self._secant_on:
            return
        step = self._v - previous[0]
        y = np.einsum("nk,nkv->v", g, Ji - previous[1])  # (J(v+) - J(v))^T g(v+): T(v+) step, to first order
        r = y - A @ step
        rs = float(r @ step)
        # the usual SR1 safeguard: skip a pair whose denominator is tiny against |r| |step|
        if abs(rs) > 1e-8 * np.linalg.norm(r) * np.linalg.norm(step) and rs != 0.0:
            A += np.outer(r, r) / rs  # in place; outer(r, r) is exactly symmetric
            self.secant_updates += 1

    def _values(self, w: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The output nonzeros at w, the secant correction included (and updated) when enabled."""
        values = self.upper_values(w, out=out)
        if self._A is not None:
            self._secant_update()
            if self.secant_updates:
                values += self._A.reshape(-1)[self._gather]  # symmetric: either triangle's offset
        return values

    def has_eval_buffer(self) -> bool:
        return True

    def eval_buffer(self, arg, res) -> int:
        # the inputs and the output as numpy views of CasADi's own buffers: no DM on either side
        w = np.frombuffer(arg[0], dtype=np.float64)
        lam_f = float(np.frombuffer(arg[2], dtype=np.float64)[0])
        out = np.frombuffer(res[0], dtype=np.float64)
        with self._blas.limit(limits=self.numpy_blas_threads):
            self._values(w, out=out)
        out *= lam_f
        return 0

    def eval(self, arg):
        w = np.asarray(arg[0], dtype=float).ravel()
        with self._blas.limit(limits=self.numpy_blas_threads):
            return [cs.DM(self._upper, float(arg[2]) * self._values(w))]


def gauss_newton_solver(solver: Ipopt | None) -> Ipopt:
    """IPOPT options for Gauss-Newton steps: the watchdog is off.

    The watchdog accepts full trial steps to escape the Maratos effect of
    exact Newton steps; with a GGN matrix that is nearly singular where tanh
    saturates, those steps were seen to run off to |W| ~ 1e27
    (Diverging_Iterates on 2 of 10 random starts on two moons, 0 of 10
    without it).
    """
    solver = Ipopt() if solver is None else solver
    if not isinstance(solver, Ipopt) or "watchdog_shortened_iter_trigger" in solver.options:
        return solver
    return replace(solver, options={**solver.options, "watchdog_shortened_iter_trigger": 0})


def gauss_newton_hessian(deep: DeepLimitProblem, secant_below: float | None = None):
    """A ``hess_lag`` argument for :func:`occontrol.solve`: builds the GGN Callback for the problem
    (``secant_below``: see :class:`GaussNewtonHessian`)."""
    holder = []

    def build(problem: DiscreteProblem) -> cs.Function:
        cb = GaussNewtonHessian(problem, deep)
        holder.append(cb)  # the Callback must outlive the solver
        return cb

    def build_secant(problem: DiscreteProblem) -> cs.Function:  # its own name: solver fingerprints differ
        cb = GaussNewtonHessian(problem, deep, secant_below=secant_below)
        holder.append(cb)
        return cb
    chosen = build if secant_below is None else build_secant
    chosen.keep_alive = holder  # type: ignore[attr-defined]
    return chosen

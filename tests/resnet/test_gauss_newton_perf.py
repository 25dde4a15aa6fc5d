"""The buffered Gauss-Newton callback against the implementation it replaced.

The reference below is the previous ``GaussNewtonHessian.matrix`` kept verbatim in spirit: the
mapped score Jacobian called on DMs, an eigen-decomposition of every loss Hessian, one dense
``R.T @ R`` and a dense scatter into w's order. The new callback (CasADi buffers, ``syrk`` on the
upper triangle, one precomputed gather, an SX-expanded Jacobian) must give the same matrix to
1e-12 relative, through ``matrix``, through CasADi's buffer evaluation and through ``eval``.
Independent references for the matrix itself (torch autograd, CasADi's exact Hessian at zero
residual) are in test_training.py, test_strategy.py and test_nonuniform_layers.py.
"""

from __future__ import annotations

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from occontrol.datasets import load_dataset
from occontrol.resnet.gauss_newton import GaussNewtonHessian
from occontrol.resnet.problem import DeepLimitProblem, DeepLimitSettings
from occontrol.resnet.strategy import GaussNewton
from occontrol.resnet.train import guess_from_network, random_network


def reference_matrix(cb: GaussNewtonHessian, w: np.ndarray) -> np.ndarray:
    """The previous implementation: DM calls, eigh for every sample, R.T @ R, np.ix_ scatter."""
    v = w[cb.order]
    S, J = cb._jac(cb._x0, v)
    S = np.asarray(S)
    Ji = np.asarray(J).reshape(cb.K, cb.nv, cb.n, order="F").transpose(2, 0, 1)
    Hs = np.asarray(cb._loss_hess(S, cb.Y)).reshape(cb.K, cb.K, cb.n, order="F").transpose(2, 0, 1)
    lam, V = np.linalg.eigh(Hs)
    R = np.sqrt(np.clip(lam, 0, None) / cb.n)[:, :, None] * np.einsum("nkj,nkv->njv", V, Ji)
    R = R.reshape(-1, cb.nv)
    full = np.zeros((cb.nx, cb.nx))
    full[np.ix_(cb.order, cb.order)] = R.T @ R + cb._reg_hessian
    return full


def _problem(loss: str, grid, scheme: str = "euler", n: int = 24):
    if loss == "softmax":
        ds = load_dataset("blobs", n=n, seed=1)
        y = ds.y_train
    else:
        ds = load_dataset("moons", n=n, seed=1)
        y = ds.y_train if loss == "logistic" else np.column_stack([np.sin(ds.X_train[:, 0]), ds.y_train])
    settings = DeepLimitSettings(width=3, loss=loss, tau1=1e-2, tau2=3e-2, tau_w=1e-3)
    deep = DeepLimitProblem(ds.X_train, y, settings)
    problem = oc.discretize(deep.ocp, GaussNewton().transcription_for(scheme), grid=grid)
    N = problem.N
    w = problem.initial_point(guess_from_network(deep, random_network(deep, N, seed=3), with_states=False))
    return deep, problem, w


CASES = [("logistic", 6, "euler"), ("softmax", 5, "euler"), ("squared", 4, "heun"),
         ("logistic", oc.Grid([0.0, 0.1, 0.25, 0.5, 0.6, 1.0]), "rk4")]


@pytest.mark.parametrize("loss, grid, scheme", CASES, ids=["logistic", "softmax", "squared-heun", "nonuniform-rk4"])
def test_new_callback_equals_the_reference(loss, grid, scheme):
    deep, problem, w = _problem(loss, grid, scheme)
    cb = GaussNewtonHessian(problem, deep)
    ref = reference_matrix(cb, w)
    scale = np.abs(ref).max()
    assert scale > 1e-3  # not vacuous
    assert np.array_equal(ref, ref.T)
    G = cb.matrix(w)
    assert np.max(np.abs(G - ref)) <= 1e-12 * scale
    assert np.array_equal(G, G.T)

    # through CasADi: the buffer evaluation (what IPOPT calls) and eval, scaled by lam_f
    lam_f = 0.37
    out = cb(w, problem.parameters, lam_f, cs.DM(0, 1))
    assert out.sparsity() == cs.Sparsity.upper(w.size)
    assert np.max(np.abs(np.asarray(cs.DM(out).full()) - lam_f * np.triu(ref))) <= 1e-12 * scale
    dm = cb.eval([cs.DM(w), cs.DM(problem.parameters), cs.DM(lam_f), cs.DM(0, 1)])[0]
    assert np.max(np.abs(np.asarray(dm.full()) - lam_f * np.triu(ref))) <= 1e-12 * scale


def test_repeated_calls_at_different_points_do_not_leak_state():
    """The callback reuses its buffers: a second point gives that point's matrix, and the first
    point again gives the first matrix exactly."""
    deep, problem, w = _problem("softmax", 4)
    cb = GaussNewtonHessian(problem, deep)
    w2 = w + 0.1 * np.random.default_rng(0).standard_normal(w.size)
    G1, G2, G1_again = cb.matrix(w), cb.matrix(w2), cb.matrix(w)
    assert np.array_equal(G1, G1_again)
    assert np.max(np.abs(G2 - reference_matrix(cb, w2))) <= 1e-12 * np.abs(G2).max()
    assert np.max(np.abs(G2 - G1)) > 1e-6  # the points differ


def test_serial_and_threaded_maps_give_the_same_matrix():
    deep, problem, w = _problem("logistic", 5)
    serial = oc.discretize(deep.ocp, oc.ExplicitEuler(shooting="single"), grid=5)
    G_thread = GaussNewtonHessian(problem, deep).matrix(w)
    G_serial = GaussNewtonHessian(serial, deep).matrix(w)
    assert problem.transcription.parallelization == "thread"
    assert np.max(np.abs(G_thread - G_serial)) <= 1e-14 * np.abs(G_serial).max()

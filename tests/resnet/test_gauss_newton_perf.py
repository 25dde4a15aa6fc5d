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
from occontrol.resnet.strategy import GaussNewton, SecantGaussNewton, as_strategy
from occontrol.resnet.train import guess_from_network, random_network

from .helpers import small_deep_problem


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
    deep = small_deep_problem(loss, n=n)
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


# ---------------------------------------------------------------- the secant (structured SR1) correction

def test_gradient_is_casadis_gradient_of_the_nlp_objective():
    """The callback's own gradient (which switches the secant correction on) against CasADi's
    differentiation of the NLP objective, reordered into the compact variables."""
    deep, problem, w = _problem("softmax", 4)
    cb = GaussNewtonHessian(problem, deep)
    f, x, p = problem.nlp["f"], problem.nlp["x"], problem.nlp["p"]
    grad = np.asarray(cs.Function("g", [x, p], [cs.gradient(f, x)])(w, problem.parameters)).ravel()
    ours = cb.gradient(w)
    assert np.abs(grad).max() > 1e-3
    assert np.max(np.abs(ours - grad[cb.order])) <= 1e-12 * np.abs(grad).max()


def test_secant_update_satisfies_the_secant_equation_and_adds_to_the_ggn():
    """After calls at w1 and w2 the correction A obeys A s = y with s = v2 - v1 and
    y = sum_i (J_i(v2) - J_i(v1))^T g_i(v2) (Jacobians from the reference DM path), and the
    output is the reference GGN plus A."""
    deep, problem, w1 = _problem("logistic", 5)
    cb = GaussNewtonHessian(problem, deep, secant_below=1e30)  # on from the first call
    w2 = w1 + 0.05 * np.random.default_rng(1).standard_normal(w1.size)
    p, none = problem.parameters, cs.DM(0, 1)
    first = np.asarray(cs.DM(cb(w1, p, 1.0, none)).full())
    assert cb.secant_updates == 0 and np.max(np.abs(first - np.triu(reference_matrix(cb, w1)))) <= 1e-12 * np.abs(
        first).max()  # one point: no pair yet, the plain GGN
    second = np.asarray(cs.DM(cb(w2, p, 1.0, none)).full())
    assert cb.secant_updates == 1

    def jac(w):
        S, J = cb._jac(cb._x0, w[cb.order])
        return np.asarray(S), np.asarray(J).reshape(cb.K, cb.nv, cb.n, order="F").transpose(2, 0, 1)
    (_, J1), (S2, J2) = jac(w1), jac(w2)
    g2 = np.asarray(cb._loss_grad(S2, cb.Y)).reshape(cb.K, cb.n, order="F").T / cb.n
    y = np.einsum("nk,nkv->v", g2, J2 - J1)
    step = (w2 - w1)[cb.order]
    A = cb._A
    assert np.array_equal(A, A.T) and np.abs(y).max() > 1e-6
    assert np.max(np.abs(A @ step - y)) <= 1e-10 * np.abs(y).max()
    # the output, in w's order: the GGN at w2 plus A
    A_w = np.zeros_like(A)
    A_w[np.ix_(cb.order, cb.order)] = A
    expected = np.triu(reference_matrix(cb, w2) + A_w)
    assert np.max(np.abs(second - expected)) <= 1e-12 * np.abs(expected).max()
    cb.reset()
    assert cb.secant_updates == 0 and not cb._A.any()
    again = np.asarray(cs.DM(cb(w2, p, 1.0, none)).full())
    assert np.max(np.abs(again - np.triu(reference_matrix(cb, w2)))) <= 1e-12 * np.abs(again).max()


def test_secant_waits_for_a_small_gradient():
    """Far from a minimiser (gradient above the threshold) no correction is made."""
    deep, problem, w1 = _problem("logistic", 4)
    cb = GaussNewtonHessian(problem, deep, secant_below=1e-12)
    assert np.abs(cb.gradient(w1)).max() > 1e-6
    p, none = problem.parameters, cs.DM(0, 1)
    for scale in (0.0, 0.01, 0.02):
        w = w1 + scale
        out = np.asarray(cs.DM(cb(w, p, 1.0, none)).full())
        assert np.max(np.abs(out - np.triu(reference_matrix(cb, w)))) <= 1e-12 * np.abs(out).max()
    assert cb.secant_updates == 0


@pytest.mark.parametrize("bad", [0, -1.0, "1e-3", True, float("nan")])
def test_bad_secant_threshold_is_refused(bad):
    deep, problem, _ = _problem("logistic", 3)
    with pytest.raises(ValueError, match="^secant_below: expected a positive number or None"):
        GaussNewtonHessian(problem, deep, secant_below=bad)
    with pytest.raises(ValueError, match="^secant_below: expected a positive number or None"):
        GaussNewton(secant_below=bad)


def test_strategy_carries_the_threshold():
    assert GaussNewton() == GaussNewton(None) and GaussNewton(1e-3) != GaussNewton()
    assert SecantGaussNewton() == SecantGaussNewton(1e-3) and SecantGaussNewton(1e-3) != GaussNewton(1e-3)
    assert as_strategy("gauss-newton-secant") == SecantGaussNewton() and as_strategy("gauss-newton") == GaussNewton()
    assert hash(GaussNewton(None)) == hash(GaussNewton(None)) and repr(SecantGaussNewton()) == \
        "SecantGaussNewton(secant_below=0.001)"
    deep, problem, _ = _problem("logistic", 3)
    assert GaussNewton().hess_lag(deep)(problem).secant_below is None
    assert SecantGaussNewton().hess_lag(deep)(problem).secant_below == 1e-3
    assert GaussNewton(2e-3).hess_lag(deep)(problem).secant_below == 2e-3
    # the plain and the secant Hessians are told apart by a study's level fingerprints
    assert GaussNewton().hess_lag(deep).__qualname__ != SecantGaussNewton().hess_lag(deep).__qualname__
    assert SecantGaussNewton().ipopt(None).options == GaussNewton().ipopt(None).options


def test_secant_and_plain_gauss_newton_reach_the_same_minimum():
    """The correction changes the steps, not the stationarity test: the same minimiser (to IPOPT's
    tolerance) from the same start, on two moons with a warm-ish start (a solved coarse level)."""
    ds = load_dataset("moons", n=100, seed=0)
    deep = DeepLimitProblem(ds.X_train, ds.y_train, DeepLimitSettings(tau1=1e-3, tau2=1e-2))
    tr = GaussNewton().transcription_for("euler")
    solver = GaussNewton().ipopt(oc.Ipopt(max_iter=500))
    coarse = oc.solve(deep.ocp, tr, grid=4, guess=guess_from_network(deep, random_network(deep, 4, 0)),
                      solver=solver, hess_lag=GaussNewton(None).hess_lag(deep))
    assert coarse.success
    from occontrol.grid import as_grid
    from occontrol.refinement import prolonged_guess
    guess = prolonged_guess(coarse, as_grid(16), "linear")
    plain = oc.solve(deep.ocp, tr, grid=16, guess=guess, solver=solver, hess_lag=GaussNewton().hess_lag(deep))
    secant = oc.solve(deep.ocp, tr, grid=16, guess=guess, solver=solver, hess_lag=SecantGaussNewton().hess_lag(deep))
    assert plain.success and secant.success
    assert abs(plain.objective - secant.objective) <= 1e-9
    assert np.max(np.abs(plain.w - secant.w)) <= 1e-3 * max(1.0, np.abs(plain.w).max())


def test_numpy_blas_runs_on_one_thread_inside_the_callback_only():
    """The callback limits numpy's BLAS to numpy_blas_threads while it runs (its spinning worker
    threads slowed MUMPS), and leaves the caller's setting as it was."""
    from threadpoolctl import threadpool_info, threadpool_limits
    deep, problem, w = _problem("logistic", 6)
    cb = GaussNewtonHessian(problem, deep)
    seen = []
    original = cb._values

    def blas_threads():
        return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    def spy(*args, **kwargs):
        seen.append(blas_threads())
        return original(*args, **kwargs)
    cb._values = spy
    with threadpool_limits(2, user_api="blas"):
        before = blas_threads()
        values = cb(w, cs.DM(0, 1), 1.0, cs.DM(0, 1))
        after = blas_threads()
    assert seen and seen[0] and set(seen[0].values()) == {1}
    assert after and after == before
    np.testing.assert_allclose(np.asarray(cs.densify(values)), np.triu(cb.matrix(w)), rtol=1e-12, atol=1e-15)

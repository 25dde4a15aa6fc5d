"""ResNets on non-uniform grids (issue 13 §3): per-layer steps h_k in the network, its weights
files, the regulariser with midpoint distances, and the Gauss-Newton strategy on such grids."""

from __future__ import annotations

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from occontrol.datasets import load_dataset
from occontrol.guess import initial_guess
from occontrol.io import write_npz
from occontrol.resnet import ResNet
from occontrol.resnet.gauss_newton import GaussNewtonHessian
from occontrol.resnet.problem import DeepLimitProblem, DeepLimitSettings
from occontrol.resnet.strategy import GaussNewton
from occontrol.resnet.train import guess_from_network, network_from_solution, random_network, solve_layers

# five layers of steps 0.1, 0.15, 0.25, 0.1, 0.4 on [0, 1]
GRID = oc.Grid([0.0, 0.1, 0.25, 0.5, 0.6, 1.0])
STEPS = np.array([0.1, 0.15, 0.25, 0.1, 0.4])


def _moons(n: int = 20, **settings) -> DeepLimitProblem:
    ds = load_dataset("moons", n=n, seed=0)
    return DeepLimitProblem(ds.X_train, ds.y_train, DeepLimitSettings(**settings))


def _euler_loop(net: ResNet, X: np.ndarray) -> np.ndarray:
    """The residual network written out: X_{k+1} = X_k + h_k tanh(A_k X_k + b_k), states (N + 1, m, n)."""
    Z = net.lift @ X.T
    out = [Z]
    for k in range(net.N):
        Z = Z + STEPS[k] * np.tanh(net.A[k] @ Z + net.b[k][:, None])
        out.append(Z)
    return np.stack(out)


def _h1_by_hand(theta: np.ndarray, steps: np.ndarray, tau1: float, tau2: float) -> tuple[float, float]:
    """tau1 sum_k h_k |theta_k|^2 and tau2 sum_k |theta_{k+1} - theta_k|^2 / d_k with d_k the distance
    of the midpoints of layers k and k + 1 (DESIGN.md's H1 term on a non-uniform grid)."""
    mid = np.cumsum(steps) - steps / 2
    l2 = sum(steps[k] * theta[k] @ theta[k] for k in range(len(steps)))
    h1 = sum((theta[k + 1] - theta[k]) @ (theta[k + 1] - theta[k]) / (mid[k + 1] - mid[k])
             for k in range(len(steps) - 1))
    return tau1 * l2, tau2 * h1


@pytest.fixture(scope="module")
def deep():
    return _moons(tau1=0.3, tau2=0.7, tau_w=1e-3)


@pytest.fixture(scope="module")
def net(deep):
    return random_network(deep, GRID.N, seed=0).resample(GRID)


def test_the_network_stores_its_steps(net):
    assert net.steps == pytest.approx(STEPS, abs=1e-15)
    assert not net.uniform
    assert net.nodes == pytest.approx([0.0, 0.1, 0.25, 0.5, 0.6, 1.0], abs=1e-15)
    with pytest.raises(ValueError, match="^h: this network has non-uniform steps"):
        _ = net.h
    assert "non-uniform" in repr(net)


def test_forward_pass_is_the_euler_loop_and_the_ocp_states(deep, net):
    """Three implementations of the same map: ResNet.trajectory, a written-out numpy loop, and
    the single-shooting Euler transcription of the OCP on the same grid."""
    traj = net.trajectory(deep.X_data)
    assert np.max(np.abs(traj - _euler_loop(net, deep.X_data))) < 1e-14
    pr = oc.discretize(deep.ocp, oc.ExplicitEuler(shooting="single"), grid=GRID)
    nodes, parts = pr.evaluate(pr.initial_point(guess_from_network(deep, net, with_states=False)))
    states = nodes.states.reshape(deep.m, deep.n, GRID.N + 1, order="F").transpose(2, 0, 1)
    assert np.max(np.abs(states - traj)) < 1e-13
    # the network's E_N is the NLP's objective, part by part
    mine = net.objective(deep.X_data, deep.Y, 0.3, 0.7, 1e-3)
    assert mine.reg_l2 == pytest.approx(parts["reg_l2"], rel=1e-13)
    assert mine.reg_h1 == pytest.approx(parts["reg_h1"], rel=1e-13)
    assert mine.loss + mine.weight_decay == pytest.approx(parts["terminal"], rel=1e-13)


def test_regulariser_is_the_h1_form_with_midpoint_distances(net):
    by_hand = _h1_by_hand(net.theta, STEPS, 0.3, 0.7)
    assert net.regularization(0.3, 0.7) == pytest.approx(by_hand, rel=1e-13)
    # not the uniform formula with the mean step: the test can tell them apart
    h = 0.2
    uniform = 0.7 / h * np.sum(np.diff(net.theta, axis=0) ** 2)
    assert abs(by_hand[1] - uniform) > 1e-3 * by_hand[1]


def test_weights_files_carry_the_steps(net, tmp_path):
    net.save(tmp_path / "w.npz")
    back = ResNet.load(tmp_path / "w.npz")
    assert np.array_equal(back.steps, net.steps) and not back.uniform
    X = np.random.default_rng(1).normal(size=(7, 2))
    assert np.array_equal(back.decision_function(X), net.decision_function(X))


def test_an_old_weights_file_without_steps_loads_as_uniform(deep, tmp_path):
    old = random_network(deep, 4, seed=1)
    arrays = old.to_arrays()
    del arrays["steps"]  # a file written before per-layer steps existed: a scalar h only
    write_npz(tmp_path / "old.npz", **arrays)
    back = ResNet.load(tmp_path / "old.npz")
    assert back.uniform and back.h == old.h and np.array_equal(back.steps, np.full(4, old.h))


def test_bad_steps_are_refused(net):
    args = (net.A, net.b, net.W, net.c)
    with pytest.raises(ValueError, match=r"^h: expected a step or 5 per-layer steps"):
        ResNet(*args, np.ones(4))
    with pytest.raises(ValueError, match=r"^h: expected positive per-layer steps"):
        ResNet(*args, [0.1, 0.2, 0.0, 0.3, 0.4])
    with pytest.raises(ValueError, match=r"^h: .*NaN"):
        ResNet(*args, [0.1, 0.2, np.nan, 0.3, 0.4])


def test_torch_export_refuses_non_uniform_steps(net):
    pytest.importorskip("torch")
    with pytest.raises(ValueError, match="^net: the PyTorch export needs a network with uniform steps"):
        net.to_torch()


def test_gauss_newton_matrix_is_the_exact_hessian_at_zero_residual():
    """On a non-uniform grid, where the residuals vanish (squared loss, targets = the network's
    own scores) the GGN plus the regulariser's Hessian is the NLP's exact Hessian, which CasADi
    differentiates independently: the per-layer steps and the midpoint H1 weights enter both."""
    ds = load_dataset("moons", n=20, seed=0)
    settings = DeepLimitSettings(loss="squared", tau1=0.3, tau2=0.7, tau_w=1e-3)
    probe = DeepLimitProblem(ds.X_train, ds.y_train.astype(float), settings)
    net = random_network(probe, GRID.N, seed=1).resample(GRID)
    net = ResNet(net.A, net.b, net.W, net.c, net.steps, loss="squared")
    deep = DeepLimitProblem(ds.X_train, net.decision_function(ds.X_train), settings)
    problem = oc.discretize(deep.ocp, GaussNewton().transcription_for("euler"), grid=GRID)
    w = initial_guess(problem, guess_from_network(deep, net, with_states=False))
    f, x, p = problem.nlp["f"], problem.nlp["x"], problem.nlp["p"]
    H = np.asarray(cs.Function("H", [x, p], [cs.hessian(f, x)[0]])(w, problem.parameters))
    G = GaussNewtonHessian(problem, deep).matrix(w)
    assert np.abs(H).max() > 1e-3
    assert np.max(np.abs(G - H)) < 1e-10 * np.abs(H).max()


def test_exact_and_gauss_newton_reach_the_same_minimum_on_a_non_uniform_grid():
    deep = _moons(n=40, tau1=1e-3, tau2=1e-2, tau_w=1e-3)
    ref = solve_layers(deep, GRID, guess=random_network(deep, GRID.N, seed=3).resample(GRID), strategy="exact")
    assert ref.status == "Solve_Succeeded"
    net = network_from_solution(deep, ref)
    assert net.steps == pytest.approx(STEPS, abs=1e-15)
    rng = np.random.default_rng(0)  # a start near that minimiser, so both solves stay in its basin
    start = ResNet(net.A + 0.05 * rng.normal(size=net.A.shape), net.b + 0.05 * rng.normal(size=net.b.shape),
                   net.W, net.c, net.steps, net.activation, net.lift, net.loss, net.classes)
    sols = {s: solve_layers(deep, GRID, guess=start, strategy=s) for s in ("gauss-newton", "exact")}
    assert all(s.success for s in sols.values()), {k: s.status for k, s in sols.items()}
    assert sols["gauss-newton"].problem.transcription.shooting == "single"
    f_gn, f_ex = sols["gauss-newton"].objective, sols["exact"].objective
    assert f_gn == pytest.approx(f_ex, abs=1e-9)
    assert f_ex == pytest.approx(ref.objective, abs=1e-9)
    nets = {k: network_from_solution(deep, s) for k, s in sols.items()}
    assert np.max(np.abs(nets["gauss-newton"].theta - nets["exact"].theta)) < 1e-4
    # the network read back evaluates to the NLP's objective (steps h_k in the forward pass and regulariser)
    assert nets["exact"].objective(deep.X_data, deep.Y, 1e-3, 1e-2, 1e-3).objective == pytest.approx(f_ex, rel=1e-10)


def test_a_file_whose_h_and_steps_disagree_is_refused(net, tmp_path):
    arrays = net.to_arrays()
    arrays["steps"] = arrays["steps"][::-1]
    write_npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=r"^ResNet.load: .* is not a ResNet file \(h: the file's h and steps disagree"):
        ResNet.load(tmp_path / "bad.npz")

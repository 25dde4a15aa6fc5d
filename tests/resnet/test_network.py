"""The ResNet weights object: .npz round trip, predictions, reading it back
from a Solution, and the lift of features into a wider state."""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy.special import expit, softmax
from sklearn.metrics import r2_score

import occontrol as oc
from occontrol.datasets import load_dataset
from occontrol.resnet import (DeepLimitProblem, DeepLimitSettings, ResNet, guess_from_network,
                              network_from_solution, random_network, solve_layers)


def random_resnet(N=5, m=3, d=2, K=3, loss="softmax", classes=None, scheme="euler", activation="tanh", seed=0):
    rng = np.random.default_rng(seed)
    lift = np.linalg.qr(rng.normal(size=(m, d)))[0]
    return ResNet(rng.normal(size=(N, m, m)), rng.normal(size=(N, m)), rng.normal(size=(K, m)),
                  rng.normal(size=K), 1.0 / N, activation, lift, loss, classes, scheme)


FIELDS = ("A", "b", "W", "c", "lift")


# ------------------------------------------------------------------------ io
@pytest.mark.parametrize("net", [
    random_resnet(),
    random_resnet(K=1, loss="logistic", classes=np.array(["no", "yes"]), activation="softplus"),
    random_resnet(K=2, loss="squared", scheme="rk4", activation="smooth_relu"),
    random_resnet(K=3, classes=np.array([-1.5, 0.25, 7.0]), scheme="heun", activation="sigmoid"),
], ids=["softmax", "logistic-str-classes", "squared-rk4", "float-classes-heun"])
def test_save_load_round_trip_is_bit_identical(tmp_path, net):
    path = tmp_path / "deeper" / "net.npz"
    net.save(path)
    assert sorted(os.listdir(path.parent)) == ["net.npz"]  # atomic write leaves no temporary file
    back = ResNet.load(path)
    for name in FIELDS:
        a, b = getattr(net, name), getattr(back, name)
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    assert back.h == net.h and type(back.h) is float
    assert (back.activation, back.loss, back.scheme) == (net.activation, net.loss, net.scheme)
    if net.classes is None:
        assert back.classes is None
    else:
        assert back.classes.dtype == net.classes.dtype and np.array_equal(back.classes, net.classes)
    X = np.random.default_rng(1).normal(size=(17, net.lift.shape[1]))
    assert back.decision_function(X).tobytes() == net.decision_function(X).tobytes()
    assert np.array_equal(back.predict(X), net.predict(X))
    # and a second save of the loaded network is the same file content
    back.save(tmp_path / "again.npz")
    with np.load(path) as one, np.load(tmp_path / "again.npz") as two:
        assert sorted(one.files) == sorted(two.files)
        for key in one.files:
            assert one[key].tobytes() == two[key].tobytes()


# --------------------------------------------------------------- predictions
def test_softmax_predictions_are_consistent():
    classes = np.array([10, 20, 30])
    net = random_resnet(classes=classes)
    X = np.random.default_rng(2).normal(size=(50, 2))
    S = net.decision_function(X)
    P = net.predict_proba(X)
    assert S.shape == P.shape == (50, 3)
    assert np.all((P >= 0) & (P <= 1))
    assert np.allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert np.allclose(P, softmax(S, axis=1), rtol=0, atol=1e-15)
    pred = net.predict(X)
    assert np.array_equal(pred, classes[np.argmax(P, axis=1)])
    assert len(set(pred)) > 1  # a non-degenerate check
    y = np.where(np.arange(50) % 2 == 0, pred, classes[0])
    assert net.score(X, y) == pytest.approx(np.mean(pred == y))
    # without classes the labels are indices
    plain = ResNet(net.A, net.b, net.W, net.c, net.h, net.activation, net.lift, "softmax")
    assert np.array_equal(plain.predict(X), np.argmax(P, axis=1))


def test_logistic_predictions_are_consistent():
    net = random_resnet(K=1, loss="logistic", classes=np.array(["neg", "pos"]))
    X = np.random.default_rng(3).normal(size=(40, 2))
    s = net.decision_function(X)
    assert s.shape == (40, 1)
    P = net.predict_proba(X)
    assert P.shape == (40, 2)
    assert np.allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert np.allclose(P[:, 1], expit(s[:, 0]), rtol=0, atol=1e-15)
    pred = net.predict(X)
    assert np.array_equal(pred, np.array(["neg", "pos"])[np.argmax(P, axis=1)])
    assert np.array_equal(pred == "pos", s[:, 0] > 0)
    assert net.score(X, pred) == 1.0


def test_regression_predictions_and_r2():
    net = random_resnet(K=1, loss="squared")
    X = np.random.default_rng(4).normal(size=(30, 2))
    pred = net.predict(X)
    assert pred.shape == (30,)
    assert np.array_equal(pred, net.decision_function(X)[:, 0])
    y = pred + np.random.default_rng(5).normal(scale=0.3, size=30)
    assert net.score(X, y) == pytest.approx(r2_score(y, pred), abs=1e-14)
    with pytest.raises(ValueError, match="predict_proba"):
        net.predict_proba(X)

    multi = random_resnet(K=2, loss="squared")
    P = multi.predict(X)
    assert P.shape == (30, 2)
    Y = P + np.random.default_rng(6).normal(scale=[0.1, 1.0], size=(30, 2))
    # ResNet.score pools the outputs: variance-weighted R^2 (sklearn's estimators average uniformly)
    assert multi.score(X, Y) == pytest.approx(r2_score(Y, P, multioutput="variance_weighted"), abs=1e-14)


# --------------------------------------------------------- from a Solution
@pytest.mark.parametrize("loss, K", [("logistic", 1), ("softmax", 3), ("squared", 2)])
def test_network_from_solution_shapes(loss, K):
    if loss == "softmax":
        ds = load_dataset("blobs", n=30, seed=0)
        y = ds.y_train
    else:
        ds = load_dataset("moons", n=30, seed=0)
        y = ds.y_train if loss == "logistic" else np.column_stack([ds.X_train[:, 0], ds.y_train])
    deep = DeepLimitProblem(ds.X_train, y, DeepLimitSettings(width=4, loss=loss, horizon=2.0))
    N = 6
    sol = solve_layers(deep, N, guess=random_network(deep, N, seed=0), solver=oc.Ipopt(max_iter=3))
    net = network_from_solution(deep, sol)
    assert (deep.m, deep.K) == (4, K)
    assert net.A.shape == (N, 4, 4) and net.b.shape == (N, 4)
    assert net.W.shape == (K, 4) and net.c.shape == (K,)
    assert net.lift.shape == (4, 2) and np.array_equal(net.lift, deep.lift)
    assert net.h == pytest.approx(2.0 / N, rel=1e-15)
    assert (net.N, net.width, net.activation, net.loss, net.scheme) == (N, 4, "tanh", loss, "euler")
    if loss == "squared":
        assert net.classes is None
    else:
        assert np.array_equal(net.classes, np.unique(y))
    # the weights are the solution's, column-major as the OCP declares them
    assert np.array_equal(np.stack([a.ravel(order="F") for a in net.A]),
                          np.reshape(sol.value(deep.A), (N, 16)))
    assert np.array_equal(net.W.ravel(order="F"), np.ravel(sol.value(deep.W)))
    # and putting it back as a guess reproduces the decision vector
    w = sol.problem.initial_point(guess_from_network(deep, net, with_states=False))
    assert np.array_equal(w, sol.w)


def test_network_from_solution_keeps_the_scheme_and_refuses_collocation():
    ds = load_dataset("moons", n=20, seed=0)
    deep = DeepLimitProblem(ds.X_train, ds.y_train, DeepLimitSettings())
    start = random_network(deep, 3, seed=0)
    sol = solve_layers(deep, 3, guess=start, transcription=oc.Heun(shooting="single"),
                      solver=oc.Ipopt(max_iter=5))
    net = network_from_solution(deep, sol)
    assert net.scheme == "heun"
    states = np.reshape(sol.value(deep.state), (4, deep.m, deep.n))
    assert np.max(np.abs(states - net.trajectory(ds.X_train))) <= 1e-12
    coll = oc.solve(deep.ocp, oc.Collocation(), grid=3, guess=guess_from_network(deep, start),
                    solver=oc.Ipopt(max_iter=1))
    with pytest.raises(ValueError, match="solution"):
        network_from_solution(deep, coll)


@pytest.mark.parametrize("transcription", [oc.Collocation(), oc.ExplicitEuler(controls="linear")],
                         ids=["collocation", "euler-linear-controls"])
def test_solve_layers_accepts_any_transcription(transcription):
    ds = load_dataset("moons", n=20, seed=0)
    deep = DeepLimitProblem(ds.X_train, ds.y_train, DeepLimitSettings(tau_w=0.0))
    sol = solve_layers(deep, 3, transcription=transcription, solver=oc.Ipopt(max_iter=1))
    assert isinstance(sol, oc.Solution) and sol.N == 3


# --------------------------------------------------------------------- lifts
def test_random_lift_has_orthonormal_columns_and_is_seeded():
    ds = load_dataset("moons", n=30, seed=0)
    deep = DeepLimitProblem(ds.X_train, ds.y_train, DeepLimitSettings(width=5, lift="random", lift_seed=3))
    L = deep.lift
    assert L.shape == (5, 2)
    assert np.allclose(L.T @ L, np.eye(2), rtol=0, atol=1e-14)
    assert not np.allclose(L, np.eye(5, 2))
    again = DeepLimitProblem(ds.X_train, ds.y_train, DeepLimitSettings(width=5, lift="random", lift_seed=3))
    other = DeepLimitProblem(ds.X_train, ds.y_train, DeepLimitSettings(width=5, lift="random", lift_seed=4))
    assert np.array_equal(again.lift, L) and not np.allclose(other.lift, L)
    # the OCP's initial state is the lifted data, and so is the network's first state
    pr = oc.discretize(deep.ocp, oc.ExplicitEuler(shooting="single"), grid=2)
    assert np.allclose(np.reshape(pr.parameters, (5, deep.n), order="F"), L @ ds.X_train.T, rtol=0, atol=1e-15)
    net = random_network(deep, 2, seed=0)
    assert np.allclose(net.trajectory(ds.X_train)[0], L @ ds.X_train.T, rtol=0, atol=1e-15)
    # lengths and inner products of the features are kept
    Z0 = L @ ds.X_train.T
    assert np.allclose(Z0.T @ Z0, ds.X_train @ ds.X_train.T, rtol=0, atol=1e-12)


def test_padding_for_width_greater_than_d():
    ds = load_dataset("moons", n=40, seed=0)
    deep = DeepLimitProblem(ds.X_train, ds.y_train, DeepLimitSettings(width=4, tau_w=1e-3))
    assert (deep.d, deep.m) == (2, 4)
    assert np.array_equal(deep.lift, np.eye(4, 2))
    pr = oc.discretize(deep.ocp, oc.ExplicitEuler(shooting="single"), grid=4)
    Z0 = np.reshape(pr.parameters, (4, deep.n), order="F")
    assert np.array_equal(Z0[:2], ds.X_train.T) and np.array_equal(Z0[2:], np.zeros((2, deep.n)))
    # solved to convergence (47 iterations here): the score of an iteration-limited iterate moves with the machine
    sol = solve_layers(deep, 4, guess=random_network(deep, 4, seed=0), strategy="exact",
                       solver=oc.Ipopt(max_iter=1000))
    assert sol.success, sol.status
    net = network_from_solution(deep, sol)
    traj = net.trajectory(ds.X_train)
    assert np.array_equal(traj[0][2:], np.zeros((2, deep.n)))
    assert np.abs(traj[-1][2:]).max() > 1e-3  # the extra dimensions are used by the flow
    assert net.score(ds.X_train, ds.y_train) > 0.9
    # a ResNet refuses features of the wrong width
    with pytest.raises(ValueError, match="X"):
        net.forward(np.zeros((3, 4)))

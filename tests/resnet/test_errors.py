"""Bad inputs to the deep-limit application: each gives a ValueError or
TypeError whose message names the argument (DESIGN.md conventions), raised
before any NLP is built."""

from __future__ import annotations

import numpy as np
import pytest

import occontrol as oc
from occontrol.datasets import load_dataset
from occontrol.resnet import (DeepLimitProblem, DeepLimitSettings, ResNet, multistart, random_network,
                              solve_layers)
from occontrol.resnet.estimator import ODEResNetClassifier, ODEResNetRegressor


@pytest.fixture(scope="module")
def data():
    ds = load_dataset("moons", n=20, seed=0)
    return ds.X_train, ds.y_train


@pytest.fixture(scope="module")
def deep(data):
    return DeepLimitProblem(*data, DeepLimitSettings())


def test_the_no_nlp_guard_works(deep, no_nlp):
    with pytest.raises(AssertionError, match="an NLP was built"):
        solve_layers(deep, 2, solver=oc.Ipopt(max_iter=0))


# ----------------------------------------------------------------- the data
def test_feature_label_length_mismatch(data):
    X, y = data
    with pytest.raises(ValueError, match=r"^y: expected 20 labels") as info:
        DeepLimitProblem(X, y[:-1])
    assert "19" in str(info.value)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ODEResNetClassifier().fit(X, y[:-1])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_features(data, bad):
    X, y = data
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match=r"^X: contains (NaN|inf)"):
        DeepLimitProblem(X, y)
    with pytest.raises(ValueError, match=r"Input X contains (NaN|infinity)"):
        ODEResNetClassifier().fit(X, y)


def test_non_finite_labels_and_targets(data):
    X, y = data
    y_bad = np.where(np.arange(len(y)) == 0, np.nan, y.astype(float))
    with pytest.raises(ValueError, match=r"^y: "):
        DeepLimitProblem(X, y_bad)
    with pytest.raises(ValueError, match=r"^y: "):
        DeepLimitProblem(X, y_bad, DeepLimitSettings(loss="squared"))


def test_features_must_be_a_matrix(data):
    X, y = data
    with pytest.raises(ValueError, match=r"^X: expected features of shape \(n, d\)"):
        DeepLimitProblem(X[:, 0], y)


# ---------------------------------------------------------------- settings
@pytest.mark.parametrize("name", ["tau1", "tau2", "tau_w"])
@pytest.mark.parametrize("value", [-1e-3, -np.inf, np.nan])
def test_negative_or_non_finite_tau(name, value):
    with pytest.raises(ValueError, match=rf"^{name}: expected"):
        DeepLimitSettings(**{name: value})


@pytest.mark.parametrize("name", ["tau1", "tau2", "tau_w"])
def test_negative_tau_in_the_estimator(data, name, no_nlp):
    with pytest.raises(ValueError, match=rf"^{name}: expected a number >= 0"):
        ODEResNetClassifier(**{name: -1.0}).fit(*data)


def test_tau_must_be_a_number():
    with pytest.raises(TypeError, match=r"^tau1: expected a real number"):
        DeepLimitSettings(tau1="0.1")


def test_unknown_activation(data, no_nlp):
    with pytest.raises(ValueError, match=r"^activation: expected one of .*'tanh'.*got 'gelu'"):
        DeepLimitSettings(activation="gelu")
    with pytest.raises(ValueError, match=r"^activation: .*got 'gelu'"):
        ODEResNetClassifier(activation="gelu").fit(*data)
    with pytest.raises(ValueError, match=r"^activation: .*got 'gelu'"):
        ResNet(np.zeros((2, 2, 2)), np.zeros((2, 2)), np.zeros((1, 2)), np.zeros(1), 0.5, activation="gelu")


def test_unknown_loss():
    with pytest.raises(ValueError, match=r"^loss: expected one of .*'logistic'.*got 'hinge'"):
        DeepLimitSettings(loss="hinge")
    with pytest.raises(ValueError, match=r"^loss: .*got 'hinge'"):
        ResNet(np.zeros((2, 2, 2)), np.zeros((2, 2)), np.zeros((1, 2)), np.zeros(1), 0.5, loss="hinge")


def test_other_bad_settings():
    with pytest.raises(ValueError, match=r"^horizon: expected T > 0"):
        DeepLimitSettings(horizon=0.0)
    with pytest.raises(ValueError, match=r"^lift: expected one of"):
        DeepLimitSettings(lift="qr")
    with pytest.raises(ValueError, match=r"^width: expected an integer >= 1"):
        DeepLimitSettings(width=0)
    with pytest.raises(TypeError, match=r"^settings: expected DeepLimitSettings"):
        DeepLimitProblem(np.zeros((4, 2)), [0, 1, 0, 1], {"tau1": 1.0})


# ------------------------------------------------------------------ labels
@pytest.mark.parametrize("loss", ["logistic", "softmax"])
def test_a_single_class(data, loss):
    X, _ = data
    with pytest.raises(ValueError, match=r"^y: .*at least two classes, got 1"):
        DeepLimitProblem(X, np.zeros(len(X), dtype=int), DeepLimitSettings(loss=loss))


def test_a_single_class_in_the_estimator(data, no_nlp):
    X, _ = data
    with pytest.raises(ValueError, match=r"^y: .*at least two classes"):
        ODEResNetClassifier().fit(X, np.full(len(X), "only"))


def test_logistic_loss_with_three_classes(data):
    X, _ = data
    with pytest.raises(ValueError, match=r"^y: the logistic loss is binary, got 3 classes.*softmax"):
        DeepLimitProblem(X, np.arange(len(X)) % 3, DeepLimitSettings(loss="logistic"))


# ------------------------------------------------------------------- width
def test_width_smaller_than_the_features(data, no_nlp):
    X, y = data
    with pytest.raises(ValueError, match=r"^width: expected m >= d = 2 features, got 1"):
        DeepLimitProblem(X, y, DeepLimitSettings(width=1))
    with pytest.raises(ValueError, match=r"^width: "):
        DeepLimitProblem(X, y, DeepLimitSettings(width=1, lift="random"))
    with pytest.raises(ValueError, match=r"^width: "):
        ODEResNetClassifier(width=1).fit(X, y)


# ------------------------------------------------------------------ layers
@pytest.mark.parametrize("N, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)])
def test_number_of_layers_in_solve_layers_and_random_network(deep, N, error, no_nlp):
    with pytest.raises(error, match=r"^N: expected an integer >= 1"):
        solve_layers(deep, N)
    with pytest.raises(error, match=r"^N: expected an integer >= 1"):
        random_network(deep, N, seed=0)
    with pytest.raises(error, match=r"^N: expected an integer >= 1"):
        multistart(deep, N, n_starts=1)


@pytest.mark.parametrize("estimator", [ODEResNetClassifier, ODEResNetRegressor])
@pytest.mark.parametrize("n_layers, error", [(0, ValueError), (2.5, TypeError)])
def test_number_of_layers_in_the_estimator(data, estimator, n_layers, error, no_nlp):
    X, y = data
    with pytest.raises(error, match="n_layers"):
        estimator(n_layers=n_layers).fit(X, y.astype(float) if estimator is ODEResNetRegressor else y)


def test_the_estimator_refuses_bad_n_layers_before_any_nlp(data, no_nlp):
    """Whatever the message names, n_layers = 0 is refused before an NLP is built."""
    with pytest.raises(ValueError, match="expected an integer >= 1, got 0"):
        ODEResNetClassifier(n_layers=0).fit(*data)


def test_other_solve_arguments(deep, data, no_nlp):
    with pytest.raises(ValueError, match=r"^strategy: expected one of 'gauss-newton', 'exact'"):
        solve_layers(deep, 2, strategy="newton")
    with pytest.raises(ValueError, match=r"^n_starts: expected an integer >= 1"):
        multistart(deep, 2, n_starts=0)
    with pytest.raises(ValueError, match=r"^guess: a ResNet guess must have N = 3 layers, got 2"):
        solve_layers(deep, 3, guess=random_network(deep, 2, seed=0))
    with pytest.raises(ValueError, match=r"^transcription: expected one of"):
        ODEResNetClassifier(transcription="euler2").fit(*data)
    with pytest.raises(ValueError, match=r"^strategy: "):
        ODEResNetClassifier(strategy="newton").fit(*data)
    with pytest.raises(ValueError, match=r"^n_starts: "):
        ODEResNetClassifier(n_starts=0).fit(*data)


def test_resnet_arguments():
    A, b, W, c = np.zeros((2, 3, 3)), np.zeros((2, 3)), np.zeros((1, 3)), np.zeros(1)
    with pytest.raises(ValueError, match=r"^A: expected shape \(N, m, m\)"):
        ResNet(np.zeros((2, 3, 2)), b, W, c, 0.5)
    with pytest.raises(ValueError, match=r"^b: "):
        ResNet(A, np.zeros((3, 3)), W, c, 0.5)
    with pytest.raises(ValueError, match=r"^W: expected shape \(K, 3\)"):
        ResNet(A, b, np.zeros((1, 2)), c, 0.5)
    with pytest.raises(ValueError, match=r"^c: "):
        ResNet(A, b, W, np.zeros(2), 0.5)
    with pytest.raises(ValueError, match=r"^scheme: expected one of"):
        ResNet(A, b, W, c, 0.5, scheme="rk5")
    with pytest.raises(ValueError, match=r"^lift: expected shape \(3, d\)"):
        ResNet(A, b, W, c, 0.5, lift=np.eye(2))
    net = ResNet(A, b, W, c, 0.5, lift=np.eye(3, 2))
    with pytest.raises(ValueError, match=r"^X: expected shape \(n, 2\)"):
        net.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"^X: contains NaN"):
        net.forward(np.full((4, 2), np.nan))


def test_unknown_dataset():
    with pytest.raises(ValueError, match=r"^name: expected one of .*'moons'.*got 'mnist'"):
        load_dataset("mnist")

"""The scikit-learn estimators: sklearn's own estimator checks, and use in
Pipeline, GridSearchCV and cross_val_score.

Skipped checks: none is skipped or marked xfail here. scikit-learn 1.9
itself skips, in this environment,

- ``check_array_api_input`` (both estimators): needs the environment
  variable SCIPY_ARRAY_API=1 (and an array-API library) set before
  scipy is imported;
- ``check_classifier_data_not_an_array`` / ``check_regressor_data_not_an_array``:
  pandas is not installed.

The estimator checks run with max_iter=30, where some fits stop at the
iteration limit (a ConvergenceWarning). The checks that assert a score
(``check_classifiers_train``, ``check_regressors_train``) pass already at the
start point (max_iter=0: the random flow with (W, c) fitted by scikit-learn;
tests/resnet/test_trust_resnet.py checks it), and IPOPT's line search only lowers the objective from there,
so they do not depend on where a machine's IPOPT stops.

Runtime measured here: about 45 s of CPU for the whole file (the regressor's
``check_regressors_train`` variants are the slowest, 4-10 s each); no check
is marked slow.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_moons
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from occontrol.resnet import ResNet
from occontrol.resnet.estimator import ODEResNetClassifier, ODEResNetRegressor


@parametrize_with_checks([ODEResNetClassifier(n_layers=2, n_starts=1, max_iter=30),
                          ODEResNetRegressor(n_layers=2, n_starts=1, max_iter=30)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def moons_raw():
    """Two moons with badly scaled features (the scaler has work to do) and string labels."""
    X, y = make_moons(60, noise=0.15, random_state=0)
    X = X * np.array([40.0, 0.05]) + np.array([300.0, -2.0])
    return X, np.where(y == 1, "upper", "lower")


def small_classifier(**kw):
    # solved to convergence (a ConvergenceWarning fails these tests): the scores asserted below are
    # those of minimisers, not of wherever an iteration limit stops IPOPT on a given machine
    return ODEResNetClassifier(**{"n_layers": 4, "n_starts": 1, "max_iter": 1000, **kw})


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
def test_pipeline_with_standard_scaler(moons_raw):
    X, y = moons_raw
    pipe = make_pipeline(StandardScaler(), small_classifier()).fit(X, y)
    clf = pipe[-1]
    assert isinstance(clf.network_, ResNet) and clf.network_.N == 4
    assert list(clf.classes_) == ["lower", "upper"]
    assert clf.n_features_in_ == 2
    assert pipe.score(X, y) >= 0.85
    Xs = pipe[0].transform(X)
    # the pipeline predicts with the fitted network on the scaled features
    assert np.array_equal(pipe.predict(X), clf.network_.predict(Xs))
    P = pipe.predict_proba(X)
    assert np.allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert np.array_equal(clf.classes_[np.argmax(P, axis=1)], pipe.predict(X))
    assert np.array_equal(pipe.decision_function(X) > 0, pipe.predict(X) == "upper")
    # the reported objective is the network's E_N on the scaled data (estimator default tau_w = 1e-4)
    Y = (y == "upper").astype(float)[None, :]
    E = clf.network_.objective(Xs, Y, clf.tau1, clf.tau2, clf.tau_w)["objective"]
    assert E == pytest.approx(clf.objective_, abs=1e-12)


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_over_tau2(moons_raw):
    X, y = moons_raw
    pipe = make_pipeline(StandardScaler(), small_classifier())
    search = GridSearchCV(pipe, {"oderesnetclassifier__tau2": [1e-3, 1e-1]}, cv=2).fit(X, y)
    assert search.best_params_["oderesnetclassifier__tau2"] in (1e-3, 1e-1)
    scores = search.cv_results_["mean_test_score"]
    assert scores.shape == (2,) and np.all(np.isfinite(scores)) and scores.max() >= 0.7
    assert search.best_estimator_[-1].tau2 == search.best_params_["oderesnetclassifier__tau2"]
    assert search.score(X, y) >= 0.8
    # the grid value really reaches the problem: tau2 changes the fitted network
    nets = [clone(pipe).set_params(oderesnetclassifier__tau2=t).fit(X, y)[-1].network_ for t in (1e-3, 1e-1)]
    assert not np.allclose(nets[0].theta, nets[1].theta)


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
def test_cross_val_score(moons_raw):
    X, y = moons_raw
    scores = cross_val_score(make_pipeline(StandardScaler(), small_classifier()), X, y, cv=3)
    assert scores.shape == (3,)
    assert np.all((scores >= 0) & (scores <= 1))
    assert scores.mean() >= 0.75


@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
def test_multiclass_uses_softmax_and_regressor_handles_two_targets():
    rng = np.random.default_rng(0)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    y = np.repeat([7, 8, 9], 15)
    X = centers[y - 7] + rng.normal(scale=0.6, size=(45, 2))
    clf = small_classifier(tau_w=1e-3).fit(X, y)
    assert clf.network_.loss == "softmax" and clf.network_.W.shape == (3, 2)
    assert set(clf.predict(X)) <= {7, 8, 9} and clf.score(X, y) >= 0.9
    assert clf.predict_proba(X).shape == (45, 3)

    T = np.column_stack([np.sin(X[:, 0]), X[:, 1] / 3])
    reg = ODEResNetRegressor(n_layers=4, n_starts=1, max_iter=1000, width=3).fit(X, T)
    assert reg.network_.loss == "squared" and reg.network_.W.shape == (2, 3)
    assert reg.predict(X).shape == (45, 2)
    assert reg.score(X, T) > 0.5


def test_params_round_trip():
    clf = ODEResNetClassifier(n_layers=3, tau1=0.5, activation="softplus", transcription="rk4")
    params = clf.get_params()
    assert params["n_layers"] == 3 and params["activation"] == "softplus" and params["transcription"] == "rk4"
    assert set(params) >= {"n_layers", "tau1", "tau2", "tau_w", "activation", "width", "horizon",
                           "transcription", "strategy", "n_starts", "random_state", "tol", "max_iter"}
    other = clone(clf).set_params(n_layers=5, tau2=0.2)
    assert (other.n_layers, other.tau2, other.tau1) == (5, 0.2, 0.5)

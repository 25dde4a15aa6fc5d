"""Bad input to the ResNet application refused by name,
failed solves that say so in every object and file, and scikit-learn's
conventions for the estimators (ConvergenceWarning, random_state, warm_start,
verbose).

The starting points are read with ``max_iter=0``: IPOPT then returns its
starting point unchanged, so what a fit starts from is observed directly.
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import occontrol as oc
from occontrol.datasets import load_dataset
from occontrol.resnet import (DeepLimitProblem, DeepLimitSettings, FailedFitWarning, ResNet, multistart,
                              network_from_solution, random_network, solve_layers)
from occontrol.resnet.estimator import ODEResNetClassifier, ODEResNetRegressor


@pytest.fixture(scope="module")
def moons():
    ds = load_dataset("moons", n=40, seed=0)
    return ds.X_train, ds.y_train


def small_net(h=0.5, **kw) -> ResNet:
    rng = np.random.default_rng(0)
    return ResNet(rng.normal(size=(2, 2, 2)), rng.normal(size=(2, 2)), rng.normal(size=(1, 2)), [0.1], h, **kw)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("h, error, match", [
    (-1, ValueError, r"^h: expected a positive finite step"),
    (0.0, ValueError, r"^h: expected a positive finite step"),
    (float("nan"), ValueError, r"^h: expected a finite number"),
    (float("inf"), ValueError, r"^h: expected a finite number"),
    ("0.5", TypeError, r"^h: expected a real number"),
    (None, TypeError, r"^h: expected a real number"),
])
def test_resnet_refuses_a_step_that_is_not_positive_and_finite(h, error, match):
    with pytest.raises(error, match=match):
        small_net(h=h)


@pytest.mark.parametrize("y, error, match", [
    (5, ValueError, r"^y: expected 40 labels .* got the scalar 5"),
    (None, TypeError, r"^y: expected 40 labels .* got None"),
    ("ab", TypeError, r"^y: expected 40 labels .* got 'ab'"),
    ([[0, 1], [1]], ValueError, r"^y: expected 40 labels .* got a ragged sequence"),
    (np.zeros(19), ValueError, r"^y: expected 40 labels .* got 19"),
])
def test_deep_limit_problem_refuses_labels_that_are_not_one_per_sample(moons, no_nlp, y, error, match):
    X, _ = moons
    with pytest.raises(error, match=match):
        DeepLimitProblem(X, y)


def _foreign_files(tmp):
    (tmp / "garbage.npz").write_bytes(b"not a zip archive at all" * 4)
    np.save(tmp / "array.npy", np.ones(3))
    np.savez(tmp / "other.npz", x=np.ones(3))
    with open(tmp / "pickled.npz", "wb") as f:
        pickle.dump({"A": 1}, f)
    arrays = small_net().to_arrays()
    arrays["h"] = np.float64(-0.5)  # a ResNet file whose contents are invalid
    np.savez(tmp / "bad_h.npz", **arrays)
    return {"garbage.npz": "not a readable .npz", "array.npy": "not an .npz", "other.npz": "no A, b, W",
            "pickled.npz": "not a readable .npz", "bad_h.npz": "h: expected a positive"}


def test_load_refuses_a_foreign_or_corrupt_file_by_its_path(tmp_path):
    for name, reason in _foreign_files(tmp_path).items():
        path = tmp_path / name
        with pytest.raises(ValueError, match=r"^ResNet.load: ") as info:
            ResNet.load(path)
        msg = str(info.value)
        assert f"{path} is not a ResNet file" in msg and reason in msg, msg
        assert "allow_pickle" not in msg  # never invite unpickling a file of unknown origin
    with pytest.raises(FileNotFoundError):
        ResNet.load(tmp_path / "missing.npz")


# ------------------------------------------------------------- failed solves
def test_a_network_says_whether_its_solve_failed_in_the_object_and_the_file(moons, tmp_path):
    X, y = moons
    deep = DeepLimitProblem(X, y, DeepLimitSettings(tau_w=1e-3))
    failed = solve_layers(deep, 3, guess=random_network(deep, 3, seed=0), solver=oc.Ipopt(max_iter=1))
    assert not failed.success
    net = network_from_solution(deep, failed)
    assert (net.status, net.success) == ("Maximum_Iterations_Exceeded", False)
    assert repr(net).endswith("FAILED") and "Maximum_Iterations_Exceeded" in repr(net)
    net.save(tmp_path / "failed.npz")
    back = ResNet.load(tmp_path / "failed.npz")
    assert (back.status, back.success) == ("Maximum_Iterations_Exceeded", False)
    assert np.array_equal(back.theta, net.theta) and np.array_equal(back.W, net.W)

    ok = solve_layers(deep, 3, guess=random_network(deep, 3, seed=0), strategy="exact")
    assert ok.success, ok.status
    good = network_from_solution(deep, ok)
    good.save(tmp_path / "ok.npz")
    assert (ResNet.load(tmp_path / "ok.npz").success, good.status) == (True, ok.status)
    assert "FAILED" not in repr(good)
    # given weights come from no solve: neither failed nor converged, and the file says nothing
    given = small_net()
    given.save(tmp_path / "given.npz")
    assert (ResNet.load(tmp_path / "given.npz").status, ResNet.load(tmp_path / "given.npz").success) == (None, None)
    with pytest.raises(TypeError, match=r"^success: "):
        small_net(success="yes")


def test_multistart_does_not_hand_back_a_failed_network_silently(moons):
    X, y = moons
    deep = DeepLimitProblem(X, y, DeepLimitSettings(tau_w=1e-3))
    with pytest.warns(FailedFitWarning, match="no start converged.*Maximum_Iterations_Exceeded"):
        result = multistart(deep, 3, n_starts=2, seed=0, solver=oc.Ipopt(max_iter=1))
    assert result.success is False and result.status == "Maximum_Iterations_Exceeded"
    assert result.network.success is False and "FAILED" in repr(result.network)
    # with a converging start there is no warning, and the network says it converged
    with warnings.catch_warnings():
        warnings.simplefilter("error", FailedFitWarning)
        good = multistart(deep, 3, n_starts=1, seed=0, strategy="exact")
    assert good.success and good.network.success is True


# ------------------------------------------------------- scikit-learn conventions
def clf(**kw):
    return ODEResNetClassifier(**{"n_layers": 3, "n_starts": 1, "tau_w": 1e-3, "strategy": "exact", **kw})


def test_a_fit_that_does_not_converge_raises_convergence_warning(moons):
    X, y = moons
    with pytest.warns(ConvergenceWarning, match="Maximum_Iterations_Exceeded") as record:
        est = clf(max_iter=1).fit(X, y)
    assert est.success_ is False and est.status_ == "Maximum_Iterations_Exceeded"
    assert est.network_.success is False
    assert not any(issubclass(w.category, FailedFitWarning) for w in record)  # one warning, sklearn's
    with pytest.warns(ConvergenceWarning):
        ODEResNetRegressor(n_layers=2, n_starts=1, max_iter=1).fit(X, np.sin(X[:, 0]))
    # a converged fit warns about nothing
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = clf(max_iter=1000).fit(X, y)
    assert est.success_ and est.network_.success


def _start_theta(X, y, random_state):
    """theta of the start a fit begins from (max_iter=0: IPOPT returns it unchanged)."""
    with pytest.warns(ConvergenceWarning):
        return clf(max_iter=0, random_state=random_state).fit(X, y).network_.theta


def test_random_state_follows_sklearn(moons):
    X, y = moons
    deep = DeepLimitProblem(X, y, DeepLimitSettings(tau_w=1e-3))
    # an int is the seed of the first start (random_network's)
    assert np.array_equal(_start_theta(X, y, 7), random_network(deep, 3, seed=7).theta)
    # a RandomState is accepted and consumed: equal states give equal starts, a used one another start
    a, b = np.random.RandomState(3), np.random.RandomState(3)
    first = _start_theta(X, y, a)
    assert np.array_equal(first, _start_theta(X, y, b))
    assert not np.array_equal(first, _start_theta(X, y, a))
    # None draws fresh starts at every fit (numpy's global RandomState)
    np.random.seed(12345)
    draws = [_start_theta(X, y, None) for _ in range(3)]
    assert not np.array_equal(draws[0], draws[1]) and not np.array_equal(draws[1], draws[2])
    for bad, error in (("seed", ValueError), (-1, ValueError), (True, TypeError)):
        with pytest.raises(error, match=r"^random_state: expected"):
            clf(random_state=bad).fit(X, y)


def test_warm_start_continues_the_previous_fit_at_another_depth(moons):
    X, y = moons
    est = clf(n_layers=4, max_iter=1000).fit(X, y)
    assert est.success_
    coarse = est.network_
    Y = (y == coarse.classes[1]).astype(float)[None, :]
    taus = (est.tau1, est.tau2, est.tau_w)

    # the warm fit starts exactly at the previous network carried to 8 layers (max_iter=0 shows the start)
    est.set_params(n_layers=8, warm_start=True, max_iter=0)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    start = coarse.resampled(8)
    assert np.array_equal(est.network_.theta, start.theta) and np.array_equal(est.network_.W, coarse.W)
    assert est.objective_ == pytest.approx(start.objective(X, Y, *taus)["objective"], rel=1e-12)
    # resampled carries theta(t) linearly: an exactly linear theta is reproduced at any N
    lin = ResNet(np.zeros((4, 2, 2)), np.outer((np.arange(4) + 0.5) / 4, [1.0, -2.0]), coarse.W, coarse.c, 0.25)
    assert np.allclose(lin.resampled(8).b, np.outer((np.arange(8) + 0.5) / 8, [1.0, -2.0]), rtol=0, atol=1e-14)

    # solved from there it converges, lower than its start, and the start was already close:
    # the prolonged minimiser is nearer the 8-layer minimum than a random start is to its own
    est.set_params(max_iter=1000).fit(X, y)
    warm = est.objective_
    assert est.success_ and est.network_.N == 8
    assert warm <= start.objective(X, Y, *taus)["objective"]
    cold = clf(n_layers=8, max_iter=1000, random_state=0).fit(X, y)
    assert cold.success_
    cold_start = random_network(DeepLimitProblem(X, y, DeepLimitSettings(tau_w=1e-3)), 8, seed=0)
    assert (start.objective(X, Y, *taus)["objective"] - warm
            < cold_start.objective(X, Y, *taus)["objective"] - cold.objective_)

    # at the same depth the warm fit starts at the minimiser and stays there
    again = est.objective_
    est.fit(X, y)
    assert est.success_ and est.objective_ == pytest.approx(again, rel=1e-9)

    # warm_start=False starts afresh from random_state's start, whatever was fitted before
    est.set_params(warm_start=False, max_iter=0)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    assert np.array_equal(est.network_.theta, cold_start.theta)


def test_warm_start_refuses_other_classes(moons):
    X, y = moons
    est = clf(max_iter=50, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    y3 = np.arange(len(y)) % 3
    with pytest.raises(ValueError, match=r"^warm_start: the previous fit does not match"):
        est.fit(X, y3)


def test_verbose_prints_one_line_per_solve(moons, capsys):
    X, y = moons
    clf(n_starts=2, max_iter=1000, verbose=1).fit(X, y)
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert len(lines) == 2, lines
    assert [ln.split(":")[0] for ln in lines] == ["start seed=0", "start seed=1"]
    assert all("N=3" in ln and "objective=" in ln and "iterations=" in ln for ln in lines)
    clf(n_starts=2, max_iter=1000).fit(X, y)
    assert capsys.readouterr().out == ""


def test_sklearn_score_checks_pass_at_the_start_point():
    """test_estimator.py runs scikit-learn's checks with max_iter=30, where some fits stop at the
    limit. Its score checks pass already at the start (max_iter=0), and IPOPT only lowers the
    objective from there: they hold wherever a machine's IPOPT stops."""
    from sklearn.utils.estimator_checks import check_classifiers_train, check_regressors_train
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_classifiers_train("ODEResNetClassifier", ODEResNetClassifier(n_layers=2, n_starts=1, max_iter=0))
        check_regressors_train("ODEResNetRegressor", ODEResNetRegressor(n_layers=2, n_starts=1, max_iter=0))

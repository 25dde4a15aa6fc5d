"""scikit-learn estimators: an N-layer ResNet trained as the discretised
optimal-control problem, usable in pipelines, GridSearchCV and
cross_val_score."""

from __future__ import annotations

import numbers
import warnings
from dataclasses import fields
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from .._checks import as_choice, as_positive_int
from ..solver import Ipopt
from ..transcription.registry import EXPLICIT_SCHEMES
from .config import LadderFields, ModelFields, SolverFields
from .network import ResNet
from .problem import DeepLimitProblem, DeepLimitSettings
from .strategy import HessianStrategy, as_strategy
from .train import FailedFitWarning, fit_from, multistart

__all__ = ["ODEResNetClassifier", "ODEResNetRegressor"]

def _same_classes(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(a, b))


class _ODEResNetBase(BaseEstimator):
    """Shared fitting: settings -> DeepLimitProblem -> multi-start solve -> ResNet."""

    _loss_for_targets: str = ""

    # defaults are the study's (config.py) except tau_w > 0, so that separable data has a minimiser,
    # fewer starts and iterations, and the fixed defaults scikit-learn's signature needs
    def __init__(self, n_layers: int = 16, tau1: float = ModelFields.tau1, tau2: float = ModelFields.tau2,
                 tau_w: float = 1e-4, activation: str = ModelFields.activation, width: int | None = ModelFields.width,
                 horizon: float = ModelFields.horizon, transcription: str = LadderFields.transcription,
                 strategy: str | HessianStrategy = LadderFields.strategy, n_starts: int = 3,
                 random_state: int | np.random.RandomState | None = 0, tol: float = SolverFields.tol,
                 max_iter: int = 500, warm_start: bool = False, verbose: int = 0) -> None:
        self.n_layers = n_layers
        self.tau1 = tau1
        self.tau2 = tau2
        self.tau_w = tau_w
        self.activation = activation
        self.width = width
        self.horizon = horizon
        self.transcription = transcription
        self.strategy = strategy
        self.n_starts = n_starts
        self.random_state = random_state
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.verbose = verbose

    def _seed(self) -> int:
        """The first start's seed: an int as given (so results are reproducible by number),
        otherwise drawn from ``check_random_state`` (None: numpy's global RandomState)."""
        rs = self.random_state
        if isinstance(rs, bool):
            raise TypeError(f"random_state: expected None, an int or a numpy.random.RandomState, got {rs!r}")
        try:
            state = check_random_state(rs)  # also sklearn's range check of an int (0 <= seed < 2**32)
        except ValueError as exc:
            raise ValueError(f"random_state: expected None, an int in [0, 2**32) or a numpy.random.RandomState, "
                             f"got {rs!r}") from exc
        if isinstance(rs, numbers.Integral):
            return int(rs)
        return int(state.randint(np.iinfo(np.int32).max))

    def _warm_network(self, deep: DeepLimitProblem) -> ResNet | None:
        """The previous fit's network, when ``warm_start`` and it fits this problem."""
        if not self.warm_start or not hasattr(self, "network_"):
            return None
        net = self.network_
        same = (net.width == deep.m and net.lift.shape == deep.lift.shape and net.W.shape[0] == deep.K
                and net.loss == deep.settings.loss and net.activation == deep.settings.activation
                and _same_classes(net.classes, deep.classes))
        if not same:
            raise ValueError("warm_start: the previous fit does not match this data and these settings "
                             "(features, width, classes, loss or activation changed); "
                             "set warm_start=False to start afresh")
        return net

    def _fit(self, X, y, loss: str):
        as_positive_int(self.n_layers, "n_layers")
        as_choice(self.transcription, "transcription", EXPLICIT_SCHEMES)  # the layer map of a ResNet
        strategy = as_strategy(self.strategy)
        model = {f.name: getattr(self, f.name) for f in fields(ModelFields) if f.name != "loss"}
        settings = DeepLimitSettings(loss=loss, **model)
        deep = DeepLimitProblem(X, y, settings)
        kwargs: dict[str, Any] = {"solver": Ipopt(tol=self.tol, max_iter=self.max_iter), "strategy": strategy,
                                  "scheme": self.transcription}
        progress = print if self.verbose and self.verbose > 0 else None
        previous = self._warm_network(deep)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FailedFitWarning)  # reported below as sklearn's ConvergenceWarning
            if previous is not None:
                result = fit_from(deep, previous, self.n_layers, progress=progress, **kwargs)
            else:
                result = multistart(deep, self.n_layers, n_starts=self.n_starts, seed=self._seed(),
                                    progress=progress, **kwargs)
        if not result.success:
            warnings.warn(f"{type(self).__name__}: IPOPT did not converge ({result.status} after "
                          f"{result.best.iterations} iterations); raise max_iter, n_starts or tol. "
                          "success_ is False.", ConvergenceWarning, stacklevel=3)
        self.network_: ResNet = result.network
        self.status_ = result.best.status
        self.success_ = result.best.success
        self.objective_ = result.best.objective
        self.n_iter_ = result.best.iterations
        return self

    def _network(self) -> ResNet:
        check_is_fitted(self, "network_")
        return self.network_


class ODEResNetClassifier(ClassifierMixin, _ODEResNetBase):
    """Classifier: logistic loss for two classes, softmax cross-entropy for more.

    Parameters
    ----------
    n_layers : int
        N, the number of residual layers (grid intervals).
    tau1, tau2 : float
        L2 and H1 regularisation weights on theta(t): tau1 int |theta|^2 dt + tau2 int |theta'|^2 dt,
        on N layers of step h = T / N: tau1 h sum_k |theta_k|^2 + tau2 / h sum_k |theta_{k+1} - theta_k|^2.
    tau_w : float
        Weight decay on the classifier; > 0 by default so separable data has a minimiser.
    activation : str
        'tanh', 'sigmoid', 'softplus', 'smooth_relu' or 'relu'.
    width : int or None
        State width m >= d (zero-padded features); None for m = d.
    horizon : float
        Depth T of the continuous network.
    transcription : {'euler', 'heun', 'ralston', 'rk4'}
        The layer map; 'euler' is the ResNet.
    strategy : {'gauss-newton-secant', 'gauss-newton', 'exact'} or HessianStrategy
        Single shooting with a Gauss-Newton Hessian (the default adds a secant
        correction near the minimiser), or multiple shooting with the exact
        Hessian, for every scheme (:mod:`occontrol.resnet.strategy`).
    n_starts : int
        Random non-constant starts; the lowest objective wins.
    random_state : int, numpy.random.RandomState or None
        An int is the seed of the first start (start i has seed + i); a
        RandomState, or None (numpy's global one), draws that seed, so that
        None gives different starts at every fit (scikit-learn's convention).
        The default 0 makes fits reproducible.
    tol, max_iter : float, int
        IPOPT's tolerance (the study's 1e-10 by default) and iteration limit.
        A fit that does not converge issues
        ``sklearn.exceptions.ConvergenceWarning`` and sets ``success_`` False.
    warm_start : bool
        When True and already fitted, ``fit`` makes one solve starting from the
        previous network, carried to the current ``n_layers`` if it changed
        (theta(t) prolonged linearly, :meth:`ResNet.resampled`) instead of
        random starts (``n_starts`` and ``random_state`` are then unused):
        continuing a fit at another depth. The data must have the same
        features and classes.
    verbose : int
        > 0 prints one line per IPOPT solve (start, status, objective, iterations).

    Attributes
    ----------
    network_ : ResNet
    classes_ : ndarray
    status_ : str
        IPOPT's status of the chosen start; ``success_`` says whether it converged.
    """

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        loss = "logistic" if self.classes_.size == 2 else "softmax"
        return self._fit(X, y, loss)

    def decision_function(self, X):
        X = validate_data(self, X, dtype=np.float64, reset=False)
        S = self._network().decision_function(X)
        return S[:, 0] if S.shape[1] == 1 else S

    def predict_proba(self, X):
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._network().predict_proba(X)

    def predict(self, X):
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._network().predict(X)


class ODEResNetRegressor(RegressorMixin, _ODEResNetBase):
    """Regressor: mean squared error of the scores W X(T) + c.

    Parameters
    ----------
    n_layers, tau1, tau2, tau_w, activation, width, horizon, transcription, strategy, n_starts
        As for :class:`ODEResNetClassifier`.
    random_state, tol, max_iter, warm_start, verbose
        As for :class:`ODEResNetClassifier`.

    Attributes
    ----------
    network_ : ResNet
    status_ : str
        IPOPT's status of the chosen start; ``success_`` says whether it converged.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y of shape (n, K) fits K scores
        return tags

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, multi_output=True)
        return self._fit(X, y, "squared")

    def predict(self, X):
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._network().predict(X)

"""Training a residual network posed as a continuous OCP (its deep limit):

    X_i'(t) = sigma(A(t) X_i(t) + b(t)),  X_i(0) = L x_i   (L: lift to width m)
    minimise (1/n) sum_i loss(W X_i(T) + c, y_i) + tau1 int |theta|^2
             + tau2 int |theta'|^2 + tau_w (|W|^2 + |c|^2)

The data enter as the initial value of one m x n matrix state whose
columns share the controls theta = (A, b); W and c are static variables.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import casadi as cs
import numpy as np

from .._checks import as_choice, as_finite_array, as_finite_float, as_positive_int
from ..problem import OCP
from .activations import ACTIVATIONS, get_activation
from .config import ModelFields
from .losses import get_loss

__all__ = ["DeepLimitSettings", "DeepLimitProblem", "lift_matrix"]

LIFTS = ("pad", "random")


@dataclass(frozen=True)
class DeepLimitSettings(ModelFields):
    """Model settings of the deep-limit problem (names and defaults: :class:`~occontrol.resnet.config.ModelFields`,
    plus the lift).

    Parameters
    ----------
    width : int or None
        State width m >= d; None means m = d.
    activation : str
        'tanh' (default), 'sigmoid', 'softplus', 'smooth_relu' or 'relu'.
    loss : str
        'logistic' (binary), 'softmax' (K classes) or 'squared' (regression).
    tau1, tau2 : float
        Weights of int |theta|^2 and int |theta'|^2.
    tau_w : float
        Weight decay on the classifier, tau_w (|W|^2 + |c|^2).
    horizon : float
        T, the depth of the continuous network; h = T / N.
    lift : {'pad', 'random'}
        How features enter a wider state: zero-padded, or through a fixed
        matrix with orthonormal columns drawn from ``lift_seed``.
    lift_seed : int
        Seed of the random lift (unused for ``'pad'``).
    """

    lift: str = "pad"
    lift_seed: int = 0

    def __post_init__(self) -> None:
        if self.width is not None:
            as_positive_int(self.width, "width")
        get_loss(self.loss)
        as_choice(self.activation, "activation", ACTIVATIONS)
        for name in ("tau1", "tau2", "tau_w"):
            as_finite_float(getattr(self, name), name, minimum=0.0)
        if as_finite_float(self.horizon, "horizon") <= 0:
            raise ValueError(f"horizon: expected T > 0, got {self.horizon}")
        as_choice(self.lift, "lift", LIFTS)
        as_positive_int(self.lift_seed, "lift_seed", minimum=0)

    def to_dict(self) -> dict:
        return asdict(self)


def lift_matrix(d: int, m: int, kind: str = "pad", seed: int = 0) -> np.ndarray:
    """The fixed m x d matrix taking features to the state: [I; 0] or orthonormal columns."""
    if m < d:
        raise ValueError(f"width: expected m >= d = {d} features, got {m}")
    if kind == "pad" or m == d:
        return np.eye(m, d)
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(m, d)))
    return q


def encode_targets(y, loss_name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Targets as a K x n matrix, and the sorted class labels for classification."""
    loss = get_loss(loss_name)
    if not loss.classification:
        Y = as_finite_array(y, "y")
        if Y.ndim == 1:
            Y = Y[None, :]
        elif Y.ndim == 2:
            Y = Y.T
        else:
            raise ValueError(f"y: expected targets of shape (n,) or (n, K), got {Y.shape}")
        return Y, None
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y: expected a 1-D array of class labels, got shape {y.shape}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise ValueError("y: labels contain NaN or inf")
    classes, index = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"y: a classification loss needs at least two classes, got {classes.size} class")
    if loss_name == "logistic":
        if classes.size != 2:
            raise ValueError(f"y: the logistic loss is binary, got {classes.size} classes; use loss='softmax'")
        return index[None, :].astype(float), classes
    return np.eye(classes.size)[:, index], classes


class DeepLimitProblem:
    """The continuous training problem for data (X, y) as an :class:`occontrol.OCP`.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Features.
    y : array_like, shape (n,) or (n, K)
        Class labels, or regression targets for the squared loss.
    settings : DeepLimitSettings

    Attributes
    ----------
    ocp : OCP
    state : casadi.MX
        The m x n state X(t).
    A, b : casadi.MX
        Controls: A as a column-major m*m vector, b an m-vector.
    W, c : casadi.MX
        Classifier parameters: W as a column-major K*m vector, c a K-vector.
    """

    def __init__(self, X, y, settings: DeepLimitSettings | None = None) -> None:
        settings = DeepLimitSettings() if settings is None else settings
        if not isinstance(settings, DeepLimitSettings):
            raise TypeError(f"settings: expected DeepLimitSettings, got {type(settings).__name__}")
        X = as_finite_array(X, "X")
        if X.ndim != 2 or X.shape[0] < 1:
            raise ValueError(f"X: expected features of shape (n, d), got {X.shape}")
        expected = f"y: expected {X.shape[0]} labels or targets (one per row of X) in an array, got"
        if y is None or isinstance(y, (str, bytes)):
            raise TypeError(f"{expected} {y!r}")
        try:
            shape = np.shape(y)
        except ValueError as exc:  # ragged nested sequences
            raise ValueError(f"{expected} a ragged sequence") from exc
        if len(shape) == 0:
            raise ValueError(f"{expected} the scalar {y!r}")
        if shape[0] != X.shape[0]:
            raise ValueError(f"{expected} {shape[0]}")
        self.settings = settings
        self.activation = get_activation(settings.activation)
        self.loss = get_loss(settings.loss)
        self.Y, self.classes = encode_targets(y, settings.loss)
        self.X_data = X
        n, d = X.shape
        m = settings.width or d
        self.lift = lift_matrix(d, m, settings.lift, settings.lift_seed)
        self.n, self.d, self.m, self.K = n, d, m, self.Y.shape[0]
        self._build()

    def _build(self) -> None:
        s, n, m, K = self.settings, self.n, self.m, self.K
        ocp = OCP(t0=0.0, tf=s.horizon)
        X = ocp.state("X", (m, n))
        A = ocp.control("A", m * m)
        b = ocp.control("b", m)
        W = ocp.variable("W", K * m)
        c = ocp.variable("c", K)
        ocp.dynamics(X, self.activation.casadi(cs.reshape(A, m, m) @ X + cs.repmat(b, 1, n)))
        ocp.initial(X, self.lift @ self.X_data.T)
        scores = cs.reshape(W, K, m) @ X + cs.repmat(c, 1, n)
        ocp.minimize_terminal(self.loss.casadi(scores, cs.DM(self.Y)))
        if s.tau_w > 0:
            ocp.minimize_terminal(s.tau_w * (cs.sumsqr(W) + cs.sumsqr(c)))
        ocp.regularize(A, l2=s.tau1, h1=s.tau2)
        ocp.regularize(b, l2=s.tau1, h1=s.tau2)
        self.ocp, self.state, self.A, self.b, self.W, self.c = ocp, X, A, b, W, c

    @property
    def class_index(self) -> np.ndarray:
        """Training class of each sample as 0..K-1 (classification losses only), shape (n,)."""
        return np.argmax(self.Y, axis=0) if self.Y.shape[0] > 1 else self.Y[0].astype(int)

    def describe(self) -> dict:
        """JSON-safe description: settings and data sizes."""
        return {**self.settings.to_dict(), "n": self.n, "d": self.d, "m": self.m, "K": self.K}

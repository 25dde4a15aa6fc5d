"""The discrete network: N residual layers X <- X + h sigma(A_k X + b_k), then
scores W X + c. A plain numpy object, built from a Solution, saved as .npz,
exportable to PyTorch."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit

from .._checks import as_choice, as_finite_array, as_finite_float, as_positive_int
from ..io import write_npz
from ..records import KeyedRecord
from ._layers import SCHEMES, rk_layer
from .activations import ACTIVATIONS
from .losses import get_loss

if TYPE_CHECKING:
    from .torch_export import TorchResNet

__all__ = ["ResNet", "ObjectiveParts", "SCHEMES", "rk_layer"]

# arrays every ResNet file has (classes, scheme, status and success are optional)
_REQUIRED = ("A", "b", "W", "c", "h", "activation", "lift", "loss")


@dataclass(frozen=True)
class ObjectiveParts(KeyedRecord):
    """E_N and its parts (:meth:`ResNet.objective`); read by attribute, or by key (``parts["objective"]``).

    Attributes
    ----------
    objective : float
        E_N, the sum of the four parts.
    loss : float
        The mean loss over the samples.
    reg_l2, reg_h1 : float
        tau1 h sum |theta_k|^2 and tau2 / h sum |theta_{k+1} - theta_k|^2.
    weight_decay : float
        tau_w (|W|^2 + |c|^2).
    """

    objective: float
    loss: float
    reg_l2: float
    reg_h1: float
    weight_decay: float


class ResNet:
    """A trained (or given) residual network.

    Parameters
    ----------
    A : ndarray, shape (N, m, m)
    b : ndarray, shape (N, m)
    W : ndarray, shape (K, m)
    c : ndarray, shape (K,)
    h : float
        Step (layer spacing) T / N.
    activation : str
    lift : ndarray, shape (m, d), optional
        Fixed input map; identity when omitted.
    loss : str
        'logistic', 'softmax' or 'squared': fixes how scores become predictions.
    classes : ndarray, optional
        Class labels for ``predict`` (default 0..K-1, or 0/1 for logistic).
    scheme : {'euler', 'heun', 'ralston', 'rk4'}
        The layer map: one step of this scheme with theta_k held constant.
        'euler' is the residual layer X + h sigma(A_k X + b_k).
    status : str, optional
        IPOPT's status of the solve these weights come from (None: given weights, no solve).
    success : bool, optional
        Whether that solve converged. A network read from a failed solve has
        ``success`` False and says FAILED in its repr; both are saved and loaded.
    """

    def __init__(self, A: Any, b: Any, W: Any, c: Any, h: float, activation: str = "tanh",
                 lift: Any = None, loss: str = "logistic", classes: Any = None, scheme: str = "euler",
                 status: str | None = None, success: bool | None = None) -> None:
        self.A = as_finite_array(A, "A")
        if self.A.ndim != 3 or self.A.shape[1] != self.A.shape[2]:
            raise ValueError(f"A: expected shape (N, m, m), got {self.A.shape}")
        N, m, _ = self.A.shape
        self.b = as_finite_array(b, "b", (N, m))
        self.W = as_finite_array(W, "W")
        if self.W.ndim != 2 or self.W.shape[1] != m:
            raise ValueError(f"W: expected shape (K, {m}), got {self.W.shape}")
        self.c = as_finite_array(c, "c", (self.W.shape[0],))
        self.h = as_finite_float(h, "h")
        if self.h <= 0:
            raise ValueError(f"h: expected a positive finite step T / N, got {self.h}")
        as_choice(activation, "activation", ACTIVATIONS)
        self.activation = activation
        self.lift = np.eye(m) if lift is None else as_finite_array(lift, "lift")
        if self.lift.ndim != 2 or self.lift.shape[0] != m:
            raise ValueError(f"lift: expected shape ({m}, d), got {self.lift.shape}")
        self.loss = get_loss(loss).name
        self.classes = None if classes is None else np.asarray(classes)
        self.scheme = as_choice(scheme, "scheme", SCHEMES)
        if status is not None and not isinstance(status, str):
            raise TypeError(f"status: expected IPOPT's status string or None, got {status!r}")
        if success is not None and not isinstance(success, (bool, np.bool_)):
            raise TypeError(f"success: expected True, False or None, got {success!r}")
        self.status = status
        self.success = None if success is None else bool(success)

    # --------------------------------------------------------------- shapes
    @property
    def N(self) -> int:
        return self.A.shape[0]

    @property
    def width(self) -> int:
        return self.A.shape[1]

    @property
    def theta(self) -> np.ndarray:
        """theta_k = (vec A_k column-major, b_k) per layer, shape (N, m*m + m)."""
        return np.hstack([self.A.transpose(0, 2, 1).reshape(self.N, -1), self.b])

    def resampled(self, N: int, kind: str = "linear") -> "ResNet":
        """The same depth T = N h carried to ``N`` layers: theta(t) prolonged by
        :func:`occontrol.grid.prolong` (``kind`` 'linear': the interpolant through the
        layer midpoints, continued linearly to the ends; 'constant': piecewise
        constant), (W, c) and everything else unchanged. New weights: no solve status."""
        from ..grid import prolong

        N = as_positive_int(N, "N")
        T = self.N * self.h
        theta = prolong(np.linspace(0.0, T, self.N + 1), self.theta, np.linspace(0.0, T, N + 1), kind=kind)
        m = self.width
        A = theta[:, :m * m].reshape(N, m, m).transpose(0, 2, 1)  # column-major vec -> matrix
        return ResNet(A, theta[:, m * m:], self.W, self.c, T / N, self.activation, self.lift, self.loss,
                      self.classes, self.scheme)

    # --------------------------------------------------------------- forward
    def trajectory(self, X: Any) -> np.ndarray:
        """States after every layer, shape (N + 1, m, n), for features X of shape (n, d)."""
        X = as_finite_array(X, "X")
        if X.ndim != 2 or X.shape[1] != self.lift.shape[1]:
            raise ValueError(f"X: expected shape (n, {self.lift.shape[1]}), got {X.shape}")
        sigma = ACTIVATIONS[self.activation].numpy
        Z = self.lift @ X.T
        out = [Z]
        for A, b in zip(self.A, self.b):
            Z = rk_layer(Z, lambda V, A=A, b=b: sigma(A @ V + b[:, None]), self.h, self.scheme)
            out.append(Z)
        return np.stack(out)

    def forward(self, X: Any) -> np.ndarray:
        """Final states X(T), shape (m, n)."""
        return self.trajectory(X)[-1]

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores W X(T) + c, shape (n, K)."""
        return (self.W @ self.forward(X) + self.c[:, None]).T

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n, K) (two columns for logistic)."""
        S = self.decision_function(X)
        if self.loss == "logistic":
            p = expit(S[:, 0])
            return np.column_stack([1 - p, p])
        if self.loss == "softmax":
            E = np.exp(S - S.max(axis=1, keepdims=True))
            return E / E.sum(axis=1, keepdims=True)
        raise ValueError("predict_proba: a regression network (loss='squared') has no probabilities")

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (classification) or predicted targets (regression)."""
        if self.loss == "squared":
            S = self.decision_function(X)
            return S[:, 0] if S.shape[1] == 1 else S
        index = np.argmax(self.predict_proba(X), axis=1)
        return index if self.classes is None else self.classes[index]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (classification) or R^2 (regression)."""
        pred = self.predict(X)
        y = np.asarray(y)
        if self.loss != "squared":
            return float(np.mean(pred == y))
        resid = np.sum((y - pred) ** 2)
        return float(1 - resid / np.sum((y - y.mean(axis=0)) ** 2))

    def objective(self, X: Any, Y: np.ndarray, tau1: float, tau2: float, tau_w: float = 0.0) -> ObjectiveParts:
        """E_N and its parts, for targets Y of shape (K, n) (as encoded for the loss).

        E_N = (1/n) sum_i loss(W X_i(T) + c, y_i) + tau1 h sum_k |theta_k|^2
        + tau2 / h sum_k |theta_{k+1} - theta_k|^2 + tau_w (|W|^2 + |c|^2), with
        theta_k = (A_k, b_k) the weights of layer k and X_i(T) the final state of sample i:
        the discrete objective of the deep-limit OCP under explicit Runge-Kutta.

        Returns :class:`ObjectiveParts` (objective, loss, reg_l2, reg_h1,
        weight_decay; read by attribute, or by key as the dict it was).
        """
        S = self.W @ self.forward(X) + self.c[:, None]
        loss = get_loss(self.loss).numpy(S, np.asarray(Y, dtype=float))
        theta = self.theta
        reg_l2 = tau1 * self.h * float(np.sum(theta ** 2))
        reg_h1 = tau2 / self.h * float(np.sum(np.diff(theta, axis=0) ** 2))
        decay = tau_w * float(np.sum(self.W ** 2) + np.sum(self.c ** 2))
        return ObjectiveParts(loss + reg_l2 + reg_h1 + decay, loss, reg_l2, reg_h1, decay)

    # ------------------------------------------------------------------- io
    def to_arrays(self) -> dict:
        out = {"A": self.A, "b": self.b, "W": self.W, "c": self.c, "h": np.float64(self.h),
               "activation": np.str_(self.activation), "lift": self.lift, "loss": np.str_(self.loss),
               "scheme": np.str_(self.scheme)}
        if self.classes is not None:
            out["classes"] = self.classes
        if self.status is not None:
            out["status"] = np.str_(self.status)
        if self.success is not None:
            out["success"] = np.bool_(self.success)
        return out

    def save(self, path: str | os.PathLike) -> None:
        """Write an .npz atomically (temp file, then rename)."""
        write_npz(path, **self.to_arrays())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ResNet":
        """Read a file written by :meth:`save`; anything else raises ValueError naming the path."""
        try:
            data = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            # numpy's own message would suggest allow_pickle=True: never for a file of unknown origin
            raise ValueError(f"ResNet.load: {os.fspath(path)} is not a ResNet file "
                             f"(not a readable .npz archive: {type(exc).__name__})") from exc
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(f"ResNet.load: {os.fspath(path)} is not a ResNet file (a single array, not an .npz)")
        with data:
            missing = [k for k in _REQUIRED if k not in data.files]
            if missing:
                raise ValueError(f"ResNet.load: {os.fspath(path)} is not a ResNet file (no {', '.join(missing)})")
            try:
                return cls(data["A"], data["b"], data["W"], data["c"], float(data["h"]), str(data["activation"]),
                           data["lift"], str(data["loss"]), data["classes"] if "classes" in data else None,
                           str(data["scheme"]) if "scheme" in data else "euler",
                           str(data["status"]) if "status" in data else None,
                           bool(data["success"]) if "success" in data else None)
            except (ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile) as exc:
                raise ValueError(f"ResNet.load: {os.fspath(path)} is not a ResNet file ({exc})") from exc

    def to_torch(self) -> "TorchResNet":
        """An equivalent float64 ``torch.nn.Module`` (needs the extra occontrol[torch])."""
        from .torch_export import TorchResNet  # the optional dependency, imported when asked for
        return TorchResNet(self)

    @classmethod
    def from_torch(cls, module: "TorchResNet") -> "ResNet":
        """The network of a module's current weights (the inverse of :meth:`to_torch`).

        Parameters
        ----------
        module : TorchResNet
            A module made by :meth:`to_torch`, trained or not.

        Raises
        ------
        ValueError
            Non-finite weights (a diverged training run).
        """
        def array(tensor: Any) -> np.ndarray:
            return tensor.detach().numpy().copy()
        return cls(array(module.A), array(module.b), array(module.W), array(module.c), module.h,
                   module.activation_name, array(module.lift), module.loss_name, module.classes, module.scheme)

    def __repr__(self) -> str:
        solve = "" if self.status is None else f", status={self.status!r}"
        failed = " FAILED" if self.success is False else ""
        return (f"ResNet(N={self.N}, width={self.width}, K={self.W.shape[0]}, h={self.h:.6g}, "
                f"activation={self.activation!r}, loss={self.loss!r}, scheme={self.scheme!r}{solve}){failed}")

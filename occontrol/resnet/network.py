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
from ..grid import Grid, as_grid, interval_midpoints, prolong
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
    h : float or array_like, shape (N,)
        Step (layer spacing) T / N of every layer, or one step h_k per layer
        (a non-uniform grid: layer k is X + h_k sigma(A_k X + b_k), still a
        residual network). Steps that are all equal make a uniform network.
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

    def __init__(self, A: Any, b: Any, W: Any, c: Any, h: Any, activation: str = "tanh",
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
        self.steps, self.uniform = _layer_steps(h, N)
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
    def h(self) -> float:
        """The step T / N of a uniform network (a non-uniform one has :attr:`steps` only)."""
        if not self.uniform:
            raise ValueError("h: this network has non-uniform steps h_k; read net.steps")
        return float(self.steps[0])

    @property
    def nodes(self) -> np.ndarray:
        """Layer boundaries t_0 = 0 < t_1 < ... < t_N = T, shape (N + 1,)."""
        if self.uniform:
            return np.arange(self.N + 1) * self.steps[0]  # k h exactly, as Grid.times
        return np.concatenate([[0.0], np.cumsum(self.steps)])

    @property
    def T(self) -> float:
        """The depth T = sum_k h_k."""
        return float(self.nodes[-1])

    @property
    def theta(self) -> np.ndarray:
        """theta_k = (vec A_k column-major, b_k) per layer, shape (N, m*m + m)."""
        return np.hstack([self.A.transpose(0, 2, 1).reshape(self.N, -1), self.b])

    def resampled(self, N: int, kind: str = "linear") -> "ResNet":
        """The same depth T = N h carried to ``N`` layers: theta(t) prolonged by
        :func:`occontrol.grid.prolong` (``kind`` 'linear': the interpolant through the
        layer midpoints, continued linearly to the ends; 'constant': piecewise
        constant), (W, c) and everything else unchanged. New weights: no solve status."""
        N = as_positive_int(N, "N")
        T = self.T
        source = np.linspace(0.0, T, self.N + 1) if self.uniform else self.nodes
        theta = prolong(source, self.theta, np.linspace(0.0, T, N + 1), kind=kind)
        return self._with_theta(theta, T / N)

    def _with_theta(self, theta: np.ndarray, steps: Any) -> "ResNet":
        """A network with these per-layer theta rows and steps, the rest as here (no solve status)."""
        m, N = self.width, theta.shape[0]
        A = theta[:, :m * m].reshape(N, m, m).transpose(0, 2, 1)  # column-major vec -> matrix
        return ResNet(A, theta[:, m * m:], self.W, self.c, steps, self.activation, self.lift, self.loss,
                      self.classes, self.scheme)

    @property
    def grid(self) -> Grid:
        """The layer grid: uniform, or the nodes :attr:`nodes` (normalised on [0, 1] as every Grid)."""
        return Grid.uniform_grid(self.N) if self.uniform else Grid(self.nodes)

    def theta_at(self, t: Any) -> np.ndarray:
        """theta(t), the piecewise-constant function of the network: the theta row of the layer containing t.

        Layer k holds on [t_k, t_{k+1}): at an interior node t_k the value is that of
        the layer starting there (right-continuous), at t = T that of the last layer.
        A t within 1e-12 T of a node counts as on it, so rounding in the node
        positions does not decide between two layers.

        Parameters
        ----------
        t : float or array_like, shape (n,)
            Times in [0, T].

        Returns
        -------
        ndarray, shape (m*m + m,) for a scalar t, else (n, m*m + m)
        """
        times = as_finite_array(t, "t")
        if times.ndim > 1:
            raise ValueError(f"t: expected a time or a 1-D array of times, got shape {times.shape}")
        T = self.T
        if np.any(times < 0) or np.any(times > T):
            raise ValueError(f"t: expected times in [0, T] = [0, {T:.6g}], got {times.min():.6g} .. "
                             f"{times.max():.6g}")
        nodes = self.nodes
        k = np.clip(np.searchsorted(nodes, times + 1e-12 * T, side="right") - 1, 0, self.N - 1)
        return self.theta[k]

    def resample(self, grid: Any) -> "ResNet":
        """The same theta(t) on other layers: N uniform layers (an int) or the layers of an ``oc.Grid``.

        Each new layer takes theta(t) at its midpoint (:meth:`theta_at`); the depth T,
        (W, c), the activation, lift, loss and scheme are unchanged. On a grid that
        refines this one (every old node a new node) the function theta(t) is carried
        exactly; on a coarser one each new layer takes the value at its midpoint (a
        sample, not an average). The forward map changes with the layers (Euler with
        other steps is another map); theta(t) is what is kept. On this network's own
        grid the weights and steps are returned unchanged. New weights: no solve status.

        Parameters
        ----------
        grid : int or Grid
            N >= 1 uniform layers, or a grid (mapped onto [0, T]).
        """
        grid = as_grid(grid)
        if grid == self.grid:
            return self._with_theta(self.theta, self.steps[0] if self.uniform else self.steps)
        T = self.T
        theta = self.theta_at(interval_midpoints(grid.times(0.0, T)))
        return self._with_theta(theta, T / grid.N if grid.uniform else grid.steps(0.0, T))

    # --------------------------------------------------------------- forward
    def trajectory(self, X: Any) -> np.ndarray:
        """States after every layer, shape (N + 1, m, n), for features X of shape (n, d)."""
        X = as_finite_array(X, "X")
        if X.ndim != 2 or X.shape[1] != self.lift.shape[1]:
            raise ValueError(f"X: expected shape (n, {self.lift.shape[1]}), got {X.shape}")
        sigma = ACTIVATIONS[self.activation].numpy
        Z = self.lift @ X.T
        out = [Z]
        for A, b, h in zip(self.A, self.b, self.steps):
            Z = rk_layer(Z, lambda V, A=A, b=b: sigma(A @ V + b[:, None]), float(h), self.scheme)
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
        the discrete objective of the deep-limit OCP under explicit Runge-Kutta
        (non-uniform steps: the regulariser of :meth:`regularization`).

        Returns :class:`ObjectiveParts` (objective, loss, reg_l2, reg_h1,
        weight_decay; read by attribute, or by key as the dict it was).
        """
        S = self.W @ self.forward(X) + self.c[:, None]
        loss = get_loss(self.loss).numpy(S, np.asarray(Y, dtype=float))
        reg_l2, reg_h1 = self.regularization(tau1, tau2)
        decay = tau_w * float(np.sum(self.W ** 2) + np.sum(self.c ** 2))
        return ObjectiveParts(loss + reg_l2 + reg_h1 + decay, loss, reg_l2, reg_h1, decay)

    def regularization(self, tau1: float, tau2: float) -> tuple[float, float]:
        """(tau1 int |theta|^2, tau2 int |theta'|^2) of the per-layer theta, as the OCP discretises them.

        tau1 sum_k h_k |theta_k|^2 and tau2 sum_k |theta_{k+1} - theta_k|^2 / ((h_k + h_{k+1}) / 2):
        the H1 difference over the distance of the layer midpoints
        (:meth:`occontrol.OCP.regularize`); on a uniform grid tau1 h sum_k |theta_k|^2
        and tau2 / h sum_k |theta_{k+1} - theta_k|^2.
        """
        theta = self.theta
        if self.uniform:  # the uniform forms, term for term as before non-uniform steps existed
            h = float(self.steps[0])
            return (tau1 * h * float(np.sum(theta ** 2)), tau2 / h * float(np.sum(np.diff(theta, axis=0) ** 2)))
        spacing = (self.steps[1:] + self.steps[:-1]) / 2
        return (tau1 * float(np.sum(self.steps * np.sum(theta ** 2, axis=1))),
                tau2 * float(np.sum(np.sum(np.diff(theta, axis=0) ** 2, axis=1) / spacing)))

    # ------------------------------------------------------------------- io
    def to_arrays(self) -> dict:
        """The arrays of a weights file: 'steps' always; 'h' the step of a uniform network, else the
        steps too (so that a reader that knows only a scalar h refuses the file rather than misreading it)."""
        h = np.float64(self.steps[0]) if self.uniform else self.steps
        out = {"A": self.A, "b": self.b, "W": self.W, "c": self.c, "h": h, "steps": self.steps,
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
                steps = _file_steps(data)
                return cls(data["A"], data["b"], data["W"], data["c"], steps, str(data["activation"]),
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
            return tensor.detach().cpu().double().numpy().copy()  # from any device and dtype
        return cls(array(module.A), array(module.b), array(module.W), array(module.c), module.h,
                   module.activation_name, array(module.lift), module.loss_name, module.classes, module.scheme)

    def __repr__(self) -> str:
        solve = "" if self.status is None else f", status={self.status!r}"
        failed = " FAILED" if self.success is False else ""
        step = f"h={self.h:.6g}" if self.uniform else f"T={self.T:.6g}, non-uniform steps"
        return (f"ResNet(N={self.N}, width={self.width}, K={self.W.shape[0]}, {step}, "
                f"activation={self.activation!r}, loss={self.loss!r}, scheme={self.scheme!r}{solve}){failed}")


def _layer_steps(h: Any, N: int) -> tuple[np.ndarray, bool]:
    """(steps, uniform) from a scalar step or N per-layer steps, all positive and finite."""
    if np.ndim(h) == 0:
        step = as_finite_float(h.item() if isinstance(h, np.ndarray) else h, "h")
        if step <= 0:
            raise ValueError(f"h: expected a positive finite step T / N, got {step}")
        return np.full(N, step), True
    steps = as_finite_array(h, "h")
    if steps.shape != (N,):
        raise ValueError(f"h: expected a step or {N} per-layer steps (one per layer of A), got shape {steps.shape}")
    if not np.all(steps > 0):
        raise ValueError(f"h: expected positive per-layer steps, got minimum {steps.min()}")
    return steps, bool(np.all(steps == steps[0]))


def _file_steps(data: Any) -> Any:
    """The steps of a weights file: 'steps' (checked against 'h', which must say the same), or
    the scalar 'h' alone of a file written before per-layer steps existed (uniform)."""
    h = np.asarray(data["h"])
    if "steps" not in data:
        return float(h)
    steps = np.asarray(data["steps"])
    if h.ndim == 0:
        _layer_steps(h, 1)  # a scalar h is checked as such, whatever steps say
        agree = bool(steps.ndim == 1 and steps.size > 0 and np.all(steps == h))
    else:
        agree = bool(h.shape == steps.shape and np.array_equal(h, steps))
    if not agree:
        raise ValueError("h: the file's h and steps disagree")
    return float(h) if h.ndim == 0 else steps

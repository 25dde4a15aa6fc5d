"""The ResNet as a float64 ``torch.nn.Module`` (optional extra occontrol[torch]).

Activations and losses use the same formulas as the CasADi and numpy
versions, so the three agree to rounding. Importing this module imports
torch: :meth:`ResNet.to_torch` imports it when asked for a module, and
:meth:`ResNet.from_torch` reads one back, so this module never imports the
network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from ._layers import rk_layer
from ._torch import import_torch
from .activations import SMOOTH_RELU_EPS

if TYPE_CHECKING:
    from .network import ResNet

__all__ = ["TorchResNet", "import_torch"]

torch = import_torch()
_Module: Any = torch.nn.Module  # the base class, typed loosely: torch's own types are optional


def _activation(name: str) -> Callable[[Any], Any]:
    if name == "tanh":
        return torch.tanh
    if name == "sigmoid":
        return lambda x: 1 / (1 + torch.exp(-x))
    if name == "softplus":
        return lambda x: torch.clamp(x, min=0) + torch.log1p(torch.exp(-torch.abs(x)))
    if name == "smooth_relu":
        return lambda x: (x + torch.sqrt(x * x + SMOOTH_RELU_EPS ** 2)) / 2
    if name == "relu":
        return torch.relu
    raise ValueError(f"activation: no PyTorch version of {name!r}")


def _loss(name: str) -> Callable[[Any, Any], Any]:
    """Mean loss over samples of scores S (n, K) against targets Y (n, K)."""
    if name == "logistic":
        def logistic(S, Y):
            return torch.mean(torch.clamp(S, min=0) + torch.log1p(torch.exp(-torch.abs(S))) - Y * S)
        return logistic
    if name == "softmax":
        return lambda S, Y: torch.mean(torch.logsumexp(S, dim=1) - torch.sum(Y * S, dim=1))
    if name == "squared":
        return lambda S, Y: torch.mean(torch.sum((S - Y) ** 2, dim=1))
    raise ValueError(f"loss: no PyTorch version of {name!r}")


class TorchResNet(_Module):
    """X <- X + h sigma(X A_k^T + b_k) for N layers, then scores X W^T + c (rows are samples).

    Parameters
    ----------
    net : ResNet
        The weights to start from (copied): parameters A (N, m, m), b (N, m),
        W (K, m), c (K,), in float64.
    """

    def __init__(self, net: "ResNet") -> None:
        if not net.uniform:
            raise ValueError("net: the PyTorch export needs a network with uniform steps; "
                             "resample it first (net.resample(N))")
        super().__init__()
        f64 = torch.float64
        self.A = torch.nn.Parameter(torch.tensor(net.A, dtype=f64))
        self.b = torch.nn.Parameter(torch.tensor(net.b, dtype=f64))
        self.W = torch.nn.Parameter(torch.tensor(net.W, dtype=f64))
        self.c = torch.nn.Parameter(torch.tensor(net.c, dtype=f64))
        self.register_buffer("lift", torch.tensor(net.lift, dtype=f64))
        self.h = float(net.h)
        self.activation_name, self.loss_name, self.scheme = net.activation, net.loss, net.scheme
        self.classes = net.classes
        self.sigma = _activation(net.activation)
        self.loss_fn = _loss(net.loss)

    def final_states(self, X: Any) -> Any:
        """States after the last layer, shape (n, m): rows are samples, as usual in PyTorch."""
        Z = X @ self.lift.T
        for A, b in zip(self.A, self.b):
            Z = rk_layer(Z, lambda V, A=A, b=b: self.sigma(V @ A.T + b), self.h, self.scheme)
        return Z

    def forward(self, X: Any) -> Any:
        """Scores of the samples X, shape (n, K)."""
        return self.final_states(X) @ self.W.T + self.c

    def objective(self, X: Any, Y: Any, tau1: float, tau2: float, tau_w: float = 0.0) -> Any:
        """E_N (as in :meth:`occontrol.resnet.ResNet.objective`) for targets Y of shape (n, K), differentiable."""
        theta = torch.cat([self.A.transpose(1, 2).reshape(self.A.shape[0], -1), self.b], dim=1)
        loss = self.loss_fn(self.forward(X), Y)
        reg = tau1 * self.h * torch.sum(theta ** 2) + tau2 / self.h * torch.sum((theta[1:] - theta[:-1]) ** 2)
        return loss + reg + tau_w * (torch.sum(self.W ** 2) + torch.sum(self.c ** 2))

    def finite(self) -> bool:
        """Whether every weight is finite (False: training diverged)."""
        return all(bool(torch.isfinite(p.detach()).all()) for p in self.parameters())

"""The ResNet as a float64 ``torch.nn.Module`` (optional extra occontrol[torch]).

Activations and losses use the same formulas as the CasADi and numpy
versions, so the three agree to rounding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .activations import SMOOTH_RELU_EPS

if TYPE_CHECKING:
    from .network import ResNet

__all__ = ["to_torch_module", "import_torch"]


def import_torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("PyTorch is needed here: pip install 'occontrol[torch]'") from exc
    return torch


def _activation(name: str):
    torch = import_torch()
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


def _loss(name: str):
    """Mean loss over samples of scores S (n, K) against targets Y (n, K)."""
    torch = import_torch()
    if name == "logistic":
        def logistic(S, Y):
            return torch.mean(torch.clamp(S, min=0) + torch.log1p(torch.exp(-torch.abs(S))) - Y * S)
        return logistic
    if name == "softmax":
        return lambda S, Y: torch.mean(torch.logsumexp(S, dim=1) - torch.sum(Y * S, dim=1))
    if name == "squared":
        return lambda S, Y: torch.mean(torch.sum((S - Y) ** 2, dim=1))
    raise ValueError(f"loss: no PyTorch version of {name!r}")


def to_torch_module(net: "ResNet"):
    """A ``torch.nn.Module`` with parameters A (N, m, m), b (N, m), W (K, m), c (K,)."""
    torch = import_torch()

    class TorchResNet(torch.nn.Module):
        """X <- X + h sigma(X A_k^T + b_k) for N layers, then scores X W^T + c (rows are samples)."""

        def __init__(self) -> None:
            super().__init__()
            f64 = torch.float64
            self.A = torch.nn.Parameter(torch.tensor(net.A, dtype=f64))
            self.b = torch.nn.Parameter(torch.tensor(net.b, dtype=f64))
            self.W = torch.nn.Parameter(torch.tensor(net.W, dtype=f64))
            self.c = torch.nn.Parameter(torch.tensor(net.c, dtype=f64))
            self.register_buffer("lift", torch.tensor(net.lift, dtype=f64))
            self.h = float(net.h)
            self.activation_name, self.loss_name, self.scheme = net.activation, net.loss, net.scheme
            self.sigma = _activation(net.activation)
            self.loss_fn = _loss(net.loss)

        def final_states(self, X):
            """States after the last layer, shape (n, m): rows are samples, as usual in PyTorch."""
            from .network import rk_layer
            Z = X @ self.lift.T
            for A, b in zip(self.A, self.b):
                Z = rk_layer(Z, lambda V, A=A, b=b: self.sigma(V @ A.T + b), self.h, self.scheme)
            return Z

        def forward(self, X):
            return self.final_states(X) @ self.W.T + self.c

        def objective(self, X, Y, tau1: float, tau2: float, tau_w: float = 0.0):
            """E_N of DESIGN.md for targets Y of shape (n, K), as a differentiable scalar."""
            theta = torch.cat([self.A.transpose(1, 2).reshape(self.A.shape[0], -1), self.b], dim=1)
            loss = self.loss_fn(self.forward(X), Y)
            reg = tau1 * self.h * torch.sum(theta ** 2) + tau2 / self.h * torch.sum((theta[1:] - theta[:-1]) ** 2)
            return loss + reg + tau_w * (torch.sum(self.W ** 2) + torch.sum(self.c ** 2))

        def to_resnet(self) -> "ResNet":
            from .network import ResNet
            return ResNet(self.A.detach().numpy().copy(), self.b.detach().numpy().copy(),
                          self.W.detach().numpy().copy(), self.c.detach().numpy().copy(), self.h,
                          self.activation_name, self.lift.numpy().copy(), self.loss_name, net.classes,
                          self.scheme)

    return TorchResNet()

"""Gradient training of the very same discrete problem E_N in PyTorch (float64 by default):
Adam, SGD with momentum, or L-BFGS with a strong-Wolfe line search, full
batch or minibatch, within a budget of steps or seconds."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from .._checks import as_choice, as_finite_float, as_positive_int
from .config import OPTIMIZERS
from .network import ResNet
from ._torch import DTYPES, check_device, import_torch, resolve_threads, torch_device, torch_dtype

__all__ = ["GradientSettings", "GradientRun", "train_gradient", "OPTIMIZERS"]



@dataclass(frozen=True)
class GradientSettings:
    """How to train.

    Parameters
    ----------
    optimizer : {'adam', 'sgd', 'lbfgs'}
        torch.optim.Adam, SGD (with ``momentum``), or LBFGS with
        line_search_fn='strong_wolfe' (one L-BFGS iteration per step; full batch).
    lr : float
        Learning rate (L-BFGS: initial step length, 1 is usual).
    momentum : float
        SGD momentum.
    batch_size : int or None
        Minibatch size; None is full batch.
    max_steps : int or None
        Budget in optimiser steps.
    max_seconds : float or None
        Budget in seconds of training (evaluations for the history excluded).
    record_every : int
        Record the full-batch objective every this many steps.
    seed : int
        Seeds the minibatch order.
    threads : int
        PyTorch intra-op threads while training; 0 (the default) for the
        machine's cores, torch's own default. Measured here (2 cores, 300 Adam
        steps at N = 256, n = 200): one and two threads take the same time on a
        quiet machine (7.1 to 11.8 s against 8.3 to 10.3 s); on a loaded one
        (load average 12 to 16) one thread was 10 to 18 times faster, so pass 1
        on a shared machine.
    device : {'cpu', 'cuda'}
        Where torch trains; 'cuda' only when torch sees a CUDA device.
    dtype : {'float64', 'float32'}
        torch's arithmetic (IPOPT's is float64; E_N is reported in float64 either way
        by the network it returns).
    """

    optimizer: str = "adam"
    lr: float = 1e-2
    momentum: float = 0.9
    batch_size: int | None = None
    max_steps: int | None = 3000
    max_seconds: float | None = None
    record_every: int = 10
    seed: int = 0
    threads: int = 0
    device: str = "cpu"
    dtype: str = "float64"

    def __post_init__(self) -> None:
        as_choice(self.optimizer, "optimizer", OPTIMIZERS)
        if as_finite_float(self.lr, "lr") <= 0:
            raise ValueError(f"lr: expected a positive learning rate, got {self.lr}")
        as_finite_float(self.momentum, "momentum", minimum=0.0)
        if self.batch_size is not None:
            as_positive_int(self.batch_size, "batch_size")
            if self.optimizer == "lbfgs":
                raise ValueError("batch_size: L-BFGS with a line search needs the full batch (batch_size=None)")
        if self.max_steps is None and self.max_seconds is None:
            raise ValueError("max_steps, max_seconds: give at least one budget")
        if self.max_steps is not None:
            as_positive_int(self.max_steps, "max_steps")
        if self.max_seconds is not None and as_finite_float(self.max_seconds, "max_seconds") <= 0:
            raise ValueError(f"max_seconds: expected a positive budget, got {self.max_seconds}")
        as_positive_int(self.record_every, "record_every")
        resolve_threads(self.threads)
        check_device(self.device)
        as_choice(self.dtype, "dtype", DTYPES)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GradientRun:
    """A finished training run.

    Attributes
    ----------
    network : ResNet
        The final weights.
    history : list of (step, seconds, objective)
        Full-batch E_N during training; seconds count training time only.
    objective : float
        Final full-batch E_N (NaN if training diverged).
    """

    network: ResNet
    history: list[tuple[int, float, float]]
    objective: float
    steps: int
    seconds: float
    settings: GradientSettings
    diverged: bool = False

    def time_to_reach(self, target: float, rel: float) -> float | None:
        """Training seconds until E_N <= target + rel |target|, or None if never."""
        bound = target + rel * abs(target)
        for _, seconds, value in self.history:
            if value <= bound:
                return seconds
        return None


def train_gradient(net: ResNet, X: np.ndarray, Y: np.ndarray, tau1: float, tau2: float, tau_w: float = 0.0,
                   settings: GradientSettings | None = None,
                   progress: Callable[[int, float, float], None] | None = None) -> GradientRun:
    """Minimise E_N (:meth:`ResNet.objective`, IPOPT's discrete objective) over the weights of ``net`` by torch.optim.

    Parameters
    ----------
    net : ResNet
        The initial weights (not modified).
    X : ndarray, shape (n, d)
        Training features.
    Y : ndarray, shape (K, n)
        Targets as encoded for the loss (``DeepLimitProblem.Y``).
    tau1, tau2, tau_w : float
        Regularisation weights, as in the OCP.
    settings : GradientSettings
    progress : callable, optional
        Called as progress(step, seconds, objective) at every record.
    """
    torch = import_torch()
    settings = GradientSettings() if settings is None else settings
    threads = torch.get_num_threads()
    torch.set_num_threads(resolve_threads(settings.threads))
    try:
        return _train(torch, net, X, Y, tau1, tau2, tau_w, settings, progress)
    finally:
        torch.set_num_threads(threads)


def _train(torch, net, X, Y, tau1, tau2, tau_w, settings, progress) -> GradientRun:
    device, dtype = torch_device(torch, settings.device), torch_dtype(torch, settings.dtype)
    model = net.to_torch().to(device=device, dtype=dtype)
    Xt = torch.tensor(np.asarray(X, dtype=float), dtype=dtype, device=device)
    Yt = torch.tensor(np.asarray(Y, dtype=float).T, dtype=dtype, device=device)
    n = Xt.shape[0]
    params = list(model.parameters())
    if settings.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=settings.lr)
    elif settings.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=settings.lr, momentum=settings.momentum)
    else:
        # max_iter=1: one L-BFGS iteration per step; max_eval must then be given, or torch
        # sets it to 1 and the strong-Wolfe search can never shorten a rejected step
        opt = torch.optim.LBFGS(params, lr=settings.lr, max_iter=1, max_eval=25, history_size=50,
                                line_search_fn="strong_wolfe")
    generator = torch.Generator().manual_seed(settings.seed)

    def full_objective() -> float:
        with torch.no_grad():
            return float(model.objective(Xt, Yt, tau1, tau2, tau_w))

    history = [(0, 0.0, full_objective())]
    if progress:
        progress(*history[0])
    batches: list = []
    clock, step, diverged = 0.0, 0, False
    while True:
        if settings.max_steps is not None and step >= settings.max_steps:
            break
        if settings.max_seconds is not None and clock >= settings.max_seconds:
            break
        start = time.perf_counter()
        if settings.batch_size is None:
            def closure():
                opt.zero_grad()
                value = model.objective(Xt, Yt, tau1, tau2, tau_w)
                value.backward()
                return value
            opt.step(closure)
        else:
            if not batches:
                batches = list(torch.randperm(n, generator=generator).split(settings.batch_size))
            idx = batches.pop()
            opt.zero_grad()
            # the batch loss is a mean, so its gradient estimates the full one; the regulariser is exact
            value = model.objective(Xt[idx], Yt[idx], tau1, tau2, tau_w)
            value.backward()
            opt.step()
        clock += time.perf_counter() - start
        step += 1
        if step % settings.record_every == 0 or (settings.max_steps is not None and step == settings.max_steps):
            value = full_objective()
            history.append((step, clock, value))
            if progress:
                progress(step, clock, value)
            if not math.isfinite(value):
                diverged = True
                break
    if history[-1][0] != step:
        history.append((step, clock, full_objective()))
    final = history[-1][2]
    if model.finite():
        network = ResNet.from_torch(model)
    else:  # the weights went non-finite between two records: keep the start, say diverged
        network, final = net, float("nan")
    return GradientRun(network, history, final if math.isfinite(final) else float("nan"), step, clock,
                       settings, diverged=diverged or not math.isfinite(final))

"""Depth transfer: every trained network of a ladder run at every depth of it.

A network trained with N layers defines theta(t), a piecewise-constant
function on [0, T] (:meth:`ResNet.theta_at`). Resampled onto M layers
(:meth:`ResNet.resample`, theta(t) at the new layer midpoints) it runs at
depth M. If the trained weights approximate one continuous-time network,
E (the study's objective, on the training data) and the test accuracy of the
N-trained network change little with M once N and M are large; a network
trained shallow shows where it breaks when run deep, and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..records import KeyedRecord, markdown_table
from .network import ResNet

__all__ = ["DepthTransfer", "depth_transfer"]


@dataclass
class DepthTransfer(KeyedRecord):
    """The matrices trained_N x run_N of a ladder (study.json's ``depth_transfer``).

    Attributes
    ----------
    trained : list of int
        Depths whose solve converged, one row each (a failed level is no result:
        it is listed in ``excluded``).
    run : list of int
        Depths the networks are run at, one column each (the ladder's grids).
    objective : list of list of float
        E of the trained network resampled to the run depth: the mean training
        loss plus the study's regulariser (tau1, tau2) and weight decay, on the
        run depth's layers. The diagonal is each level's own objective.
    loss : list of list of float
        The mean training loss alone (E without the regulariser). Run deeper,
        a piecewise-constant theta(t) keeps its jumps while the layer spacing
        shrinks, so the discrete H1 term tau2 sum |jump|^2 / h grows like the
        run depth; the loss shows what the forward map alone does.
    test_accuracy : list of list of float
        Accuracy (R^2 for regression) on the held-out data.
    excluded : list of int
        Trained depths left out because their solve failed.
    sampling : str
        How theta(t) is carried to the run depth.
    """

    trained: list[int]
    run: list[int]
    objective: list[list[float]]
    loss: list[list[float]]
    test_accuracy: list[list[float]]
    excluded: list[int] = field(default_factory=list)
    sampling: str = "theta(t) piecewise constant, sampled at the midpoints of the run depth's layers"

    def tables(self) -> str:
        """Markdown: the objective, loss and test-accuracy matrices, rows trained N, columns run N."""
        head = ["trained N \\ run N", *map(str, self.run)]
        parts = []
        for title, matrix, fmt in (("objective E", self.objective, "{:.6g}"),
                                   ("training loss (E without the regulariser)", self.loss, "{:.6g}"),
                                   ("test accuracy", self.test_accuracy, "{:.4f}")):
            rows = [[str(N), *(fmt.format(v) for v in row)] for N, row in zip(self.trained, matrix)]
            parts.append(f"Depth transfer, {title} (each trained network run at every depth):\n\n"
                         + markdown_table(head, rows))
        if self.excluded:
            parts.append("Not run (failed solves): N = " + ", ".join(map(str, self.excluded)))
        return "\n\n".join(parts)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DepthTransfer":
        """The record of study.json's ``depth_transfer`` (strict JSON writes non-finite floats as null)."""
        def matrix(rows: Any) -> list[list[float]]:
            return [[np.nan if v is None else float(v) for v in row] for row in rows]
        return cls([int(n) for n in data["trained"]], [int(n) for n in data["run"]], matrix(data["objective"]),
                   matrix(data["loss"]), matrix(data["test_accuracy"]), [int(n) for n in data.get("excluded", [])],
                   data.get("sampling", cls.sampling))


def depth_transfer(networks: Mapping[int, ResNet], run: list[int], X: np.ndarray, Y: np.ndarray,
                   X_test: np.ndarray, y_test: np.ndarray, tau1: float, tau2: float, tau_w: float = 0.0,
                   excluded: list[int] | None = None) -> DepthTransfer:
    """Every network run at every depth of ``run``.

    Parameters
    ----------
    networks : dict {N: ResNet}
        The trained networks (converged levels only).
    run : list of int
        The depths to run them at.
    X, Y : ndarray
        Training features (n, d) and targets (K, n) as encoded for the loss.
    X_test, y_test : ndarray
        Held-out features and labels (or targets).
    tau1, tau2, tau_w : float
        The study's regulariser and weight decay.
    excluded : list of int, optional
        Trained depths left out (failed), recorded as such.
    """
    trained = sorted(networks)
    objective, loss, accuracy = [], [], []
    for N in trained:
        nets = [networks[N].resample(M) for M in run]
        parts = [net.objective(X, Y, tau1, tau2, tau_w) for net in nets]
        objective.append([p.objective for p in parts])
        loss.append([p.loss for p in parts])
        accuracy.append([net.score(X_test, y_test) for net in nets])
    return DepthTransfer(trained, list(run), objective, loss, accuracy, sorted(excluded or []))

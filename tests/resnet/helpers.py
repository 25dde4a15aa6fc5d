"""Small deep-limit problems and studies shared by the ResNet tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from occontrol.datasets import load_dataset
from occontrol.resnet.deep_limit import DeepLimitConfig, DeepLimitResult, run_deep_limit
from occontrol.resnet.problem import DeepLimitProblem, DeepLimitSettings

# a three-level ladder on a noisy, small two moons: fast, and its levels still differ
TINY = DeepLimitConfig(n=60, noise=0.35, grids=(4, 8, 16), n_starts=1)


def small_deep_problem(loss: str, activation: str = "tanh", n: int = 20) -> DeepLimitProblem:
    """Width 3, every loss: blobs (three classes) for softmax, two moons for logistic, two targets of
    the moons' features for squared."""
    if loss == "softmax":
        ds = load_dataset("blobs", n=n, seed=1)
        y = ds.y_train
    else:
        ds = load_dataset("moons", n=n, seed=1)
        y = ds.y_train if loss == "logistic" else np.column_stack([np.sin(ds.X_train[:, 0]), ds.y_train])
    settings = DeepLimitSettings(width=3, activation=activation, loss=loss, tau1=1e-2, tau2=3e-2, tau_w=1e-3)
    return DeepLimitProblem(ds.X_train, y, settings)


def placed_study(tmp_path_factory, placement: str) -> tuple[DeepLimitResult, Path]:
    """TINY with a placed ladder beside the uniform one, in a fresh folder; it must succeed."""
    out = tmp_path_factory.mktemp(f"placement_{placement}")
    result = run_deep_limit(TINY, out, placement=placement)
    assert result.success, result.failed
    return result, out

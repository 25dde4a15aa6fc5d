"""The settings of the deep-limit study and of the gradient comparison, as
plain dataclasses: names and defaults only, no checks, nothing heavy
imported. :class:`~occontrol.resnet.deep_limit.DeepLimitConfig` and
:class:`~occontrol.resnet.compare.CompareConfig` add the checks on top; the
command line reads its defaults from here, so that ``occontrol --help`` and
usage errors answer without importing CasADi, scikit-learn or torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..datasets import SHAPES
from ..transcription.registry import SCHEME_NAMES

__all__ = ["DeepLimitFields", "CompareFields", "TRANSCRIPTIONS", "ACTIVATION_NAMES", "LOSS_NAMES", "LOSS_CHOICES",
           "BRANCHES", "OPTIMIZERS", "SETTINGS", "COMPARE_GRIDS", "resolve_loss"]

# the names of the registries whose entries import CasADi (tests/test_strategy.py checks they agree):
# ACTIVATIONS (activations.py) and LOSSES (losses.py); schemes come from the transcription registry
TRANSCRIPTIONS = SCHEME_NAMES
ACTIVATION_NAMES = ("tanh", "sigmoid", "softplus", "smooth_relu", "relu")
LOSS_NAMES = ("logistic", "softmax", "squared")
LOSS_CHOICES = ("auto", *LOSS_NAMES)
BRANCHES = ("best", "all")
OPTIMIZERS = ("adam", "sgd", "lbfgs")
SETTINGS = ("h1-consistent", "h1-iid", "noh1-consistent", "noh1-iid")
COMPARE_GRIDS = (8, 16, 32, 64)


@dataclass(frozen=True)
class DeepLimitFields:
    """Every setting of a deep-limit study; the defaults are the built-in main job.

    ``loss='auto'`` is the logistic loss for a dataset of two classes and the
    softmax loss for more (every bundled dataset is a classification set).
    """

    dataset: str = "moons"
    n: int = 200
    noise: float = 0.2
    seed: int = 0
    activation: str = "tanh"
    loss: str = "auto"
    tau1: float = 1e-3
    tau2: float = 1e-2
    tau_w: float = 0.0
    width: int | None = None
    horizon: float = 1.0
    grids: tuple[int, ...] = (4, 8, 16, 32, 64, 128, 256)
    transcription: str = "euler"
    strategy: str = "gauss-newton"
    warm: bool = True
    n_starts: int = 5
    branches: str = "best"
    prolongation: str = "linear"
    tol: float = 1e-8
    max_iter: int = 1000
    max_wall_time: float | None = None


@dataclass(frozen=True)
class CompareFields:
    """The gradient-training settings of a comparison.

    ``deep`` (the problem and IPOPT's ladder) is a DeepLimitConfig, whose
    default CompareConfig supplies; it is declared here to keep its place as
    the first field.
    """

    deep: Any = None
    methods: tuple[str, ...] = OPTIMIZERS
    lr_adam: float = 1e-2
    lr_sgd: float = 0.1
    lr_lbfgs: float = 1.0
    momentum: float = 0.9
    batch_size: int | None = None
    steps: int | None = 3000
    seconds: float | None = None
    record_every: int = 10
    settings: tuple[str, ...] = SETTINGS
    init_seed: int | None = None
    threads: int = 1


def resolve_loss(loss: str, dataset: str) -> str:
    """The loss to use: 'auto' picks logistic (two classes) or softmax (more).

    Raises
    ------
    ValueError
        An unknown loss, or the binary logistic loss on a dataset of more than two classes.
    """
    if loss not in LOSS_CHOICES:
        raise ValueError(f"loss: expected one of {', '.join(map(repr, LOSS_CHOICES))}, got {loss!r}")
    classes = SHAPES[dataset][1]
    if loss == "auto":
        return "logistic" if classes == 2 else "softmax"
    if loss == "logistic" and classes > 2:
        raise ValueError(f"loss: 'logistic' is for two classes, and dataset {dataset!r} has {classes}; "
                         "use softmax (or auto)")
    return loss

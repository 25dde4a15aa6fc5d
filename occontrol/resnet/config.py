"""The settings of the deep-limit study and of the gradient comparison, as
plain dataclasses: names and defaults only, no checks, nothing heavy
imported. :class:`~occontrol.resnet.deep_limit.DeepLimitConfig` and
:class:`~occontrol.resnet.CompareConfig` add the checks on top; the
command line reads its defaults from here, so that ``occontrol --help`` and
usage errors answer without importing CasADi, scikit-learn or torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .._checks import as_choice
from ..datasets import DATASETS, SHAPES
from ..transcription.registry import SCHEME_NAMES
from .strategy import STRATEGY_NAMES

__all__ = ["DeepLimitFields", "DataFields", "ModelFields", "LadderFields", "SolverFields", "setting",
           "CompareFields", "TRANSCRIPTIONS", "ACTIVATION_NAMES", "LOSS_NAMES", "LOSS_CHOICES", "BRANCHES",
           "PROLONGATIONS", "OPTIMIZERS", "SETTINGS", "COMPARE_GRIDS", "resolve_loss"]

# the names of the registries whose entries import CasADi (tests/test_strategy.py checks they agree):
# ACTIVATIONS (activations.py) and LOSSES (losses.py); schemes come from the transcription registry
TRANSCRIPTIONS = SCHEME_NAMES
ACTIVATION_NAMES = ("tanh", "sigmoid", "softplus", "smooth_relu", "relu")
LOSS_NAMES = ("logistic", "softmax", "squared")
LOSS_CHOICES = ("auto", *LOSS_NAMES)
BRANCHES = ("best", "all")
PROLONGATIONS = ("linear", "constant")  # occontrol.grid.prolong's kinds
OPTIMIZERS = ("adam", "sgd", "lbfgs")
SETTINGS = ("h1-consistent", "h1-iid", "noh1-consistent", "noh1-iid")
COMPARE_GRIDS = (8, 16, 32, 64)


def setting(default: Any, help: str, *, parse: tuple = (), choices: tuple[str, ...] | None = None,
            option: str | None = None) -> Any:
    """A dataclass field whose metadata the command line reads to make its option.

    Parameters
    ----------
    default
        The field's default (also the option's).
    help : str
        The option's help text (argparse's ``%(default)s`` may appear in it).
    parse : tuple
        How the command line reads the value: ``("integer", minimum)``,
        ``("number", minimum)``, ``("positive",)`` (a finite number > 0),
        ``("grids",)``, ``("names", choices)`` (comma-separated names among
        ``choices``, or ``all``), or ``()`` for a string.
    choices : tuple of str, optional
        The allowed names.
    option : str, optional
        The option when it is not ``--<name with dashes>``; ``--cold`` for
        ``warm`` is a switch that sets it False.
    """
    return field(default=default, metadata={"help": help, "parse": parse, "choices": choices, "option": option})


@dataclass(frozen=True)
class DataFields:
    """The data of a study: a scikit-learn dataset, its size, noise and seed; or a data file
    (``dataset`` a .csv or .npz path, see :mod:`occontrol.userdata`) and its target column."""

    dataset: str = setting("moons", "scikit-learn dataset (default %(default)s)", choices=DATASETS)
    n: int = setting(200, "training samples of a synthetic set (default %(default)s)", parse=("integer", 2))
    noise: float = setting(0.2, "noise of a synthetic set (default %(default)s)", parse=("number", 0.0))
    seed: int = setting(0, "seeds the data, the split and the first start (default %(default)s)",
                        parse=("integer", 0))
    target: str | None = setting(None, "with --data: the CSV's target column (default: the last column)")


@dataclass(frozen=True)
class ModelFields:
    """The model settings shared by :class:`~occontrol.resnet.problem.DeepLimitSettings`, the study and
    the estimators (one set of names and defaults)."""

    activation: str = setting("tanh", "sigma (default %(default)s)", choices=ACTIVATION_NAMES)
    loss: str = setting("logistic", "loss of the scores W X(T) + c (default %(default)s)", choices=LOSS_NAMES)
    tau1: float = setting(1e-3, "weight of int |theta|^2 (default %(default)s)", parse=("number", 0.0))
    tau2: float = setting(1e-2, "weight of int |theta'|^2 (default %(default)s)", parse=("number", 0.0))
    tau_w: float = setting(0.0, "weight decay on (W, c) (default %(default)s)", parse=("number", 0.0))
    width: int | None = setting(None, "state width m >= d (default: d)", parse=("integer", 1))
    horizon: float = setting(1.0, "depth T (default %(default)s)", parse=("positive",))


@dataclass(frozen=True)
class LadderFields:
    """The ladder of a study: grids, scheme, Hessian strategy, starts and branches."""

    grids: tuple[int, ...] = setting((4, 8, 16, 32, 64, 128, 256),
                                     "layer counts N, as '4,8,16' or '4:256' for doubling (default 4:256)",
                                     parse=("grids",))
    transcription: str = setting("euler", "euler is the ResNet exactly (default %(default)s)", choices=SCHEME_NAMES)
    strategy: str = setting("gauss-newton-secant", "single shooting with a Gauss-Newton Hessian (with a secant "
                            "correction near the minimiser: -secant), or multiple shooting with the exact Hessian "
                            "(default %(default)s)", choices=STRATEGY_NAMES)
    warm: bool = setting(True, "start every level cold instead of warm from the previous level", option="--cold")
    n_starts: int = setting(5, "random non-constant starts at the coarsest grid (default %(default)s)",
                            parse=("integer", 1), option="--starts")
    branches: str = setting("best", "follow the best start up the ladder, or every start (default %(default)s)",
                            choices=BRANCHES)
    prolongation: str = setting("linear", "how theta is carried to the finer grid (default %(default)s)",
                                choices=PROLONGATIONS)


@dataclass(frozen=True)
class SolverFields:
    """IPOPT's settings of a study (names of :class:`occontrol.Ipopt`'s; its defaults but ``tol``).

    ``tol`` is 1e-10 where IPOPT's is 1e-8: the study reports differences between levels (H1
    distances to three digits), and at 1e-8 the solve error (1e-5 in the weights) moved one of the
    default study's printed distances across a rounding boundary; at 1e-10 every printed digit is
    the exact minimiser's, and the secant strategy gets there in fewer iterations than plain
    Gauss-Newton needs for 1e-8.
    """

    tol: float = setting(1e-10, "IPOPT tolerance (default %(default)s)", parse=("positive",))
    max_iter: int = setting(1000, "IPOPT iteration limit per solve (default %(default)s)", parse=("integer", 0))
    max_wall_time: float | None = setting(None, "IPOPT wall-time limit per solve, seconds (default none)",
                                          parse=("positive",))


@dataclass(frozen=True)
class DeepLimitFields(SolverFields, LadderFields, ModelFields, DataFields):
    """Every setting of a deep-limit study; the defaults are the built-in main job.

    Composed of :class:`DataFields`, :class:`ModelFields`, :class:`LadderFields`
    and :class:`SolverFields` (in that order), flat so that settings.json and
    the sweep keep one name per setting. Only ``loss`` differs from the
    model's default: ``'auto'`` is the logistic loss for a dataset of two
    classes and the softmax loss for more (every bundled dataset is a
    classification set).
    """

    loss: str = setting("auto", "loss of the scores W X(T) + c; auto: logistic for two classes, softmax for more, "
                        "squared for real targets (default %(default)s)", choices=("auto", *LOSS_NAMES))


@dataclass(frozen=True)
class CompareFields:
    """The gradient-training settings of a comparison.

    ``deep`` (the problem and IPOPT's ladder) is a DeepLimitConfig, whose
    default CompareConfig supplies; it is declared here to keep its place as
    the first field.
    """

    deep: Any = None
    methods: tuple[str, ...] = setting(OPTIMIZERS, "comma-separated, of adam, sgd, lbfgs (default all)",
                                       parse=("names", OPTIMIZERS))
    lr_adam: float = setting(1e-2, "Adam learning rate (default %(default)s)", parse=("positive",))
    lr_sgd: float = setting(0.1, "SGD learning rate (default %(default)s)", parse=("positive",))
    lr_lbfgs: float = setting(1.0, "L-BFGS initial step (default %(default)s)", parse=("positive",))
    momentum: float = setting(0.9, "SGD momentum (default %(default)s)", parse=("number", 0.0))
    batch_size: int | None = setting(None, "minibatch size for Adam and SGD (default: full batch; L-BFGS is "
                                     "always full batch)", parse=("integer", 1))
    steps: int | None = setting(3000, "budget: optimiser steps per run; 0 for none, with --seconds "
                                "(default %(default)s)", parse=("integer", 0))
    seconds: float | None = setting(None, "budget: training seconds per run (with --steps, whichever ends first)",
                                    parse=("positive",))
    record_every: int = setting(10, "record E_N every this many steps (default %(default)s)", parse=("integer", 1))
    settings: tuple[str, ...] = setting(SETTINGS, f"comma-separated, of {', '.join(SETTINGS)}, or all "
                                        "(default all)", parse=("names", SETTINGS))
    init_seed: int | None = setting(None, "seed of the initial weights (default: the start IPOPT's ladder "
                                    "followed)", parse=("integer", 0))
    threads: int = setting(0, "torch threads while training, 0 for the machine's cores (default %(default)s); "
                           "1 is fastest on a loaded machine (see the README)", parse=("integer", 0))
    device: str = setting("cpu", "where torch trains: cpu, or cuda when torch sees one (default %(default)s)",
                          choices=("cpu", "cuda"))
    dtype: str = setting("float64", "torch's arithmetic (default %(default)s, IPOPT's)",
                         choices=("float64", "float32"))


def resolve_loss(loss: str, dataset: str, classes: int | None = None) -> str:
    """The loss to use: 'auto' picks logistic (two classes), softmax (more) or squared (real targets).

    ``classes`` is the number of classes of the data (0 for real targets); by default that of the
    built-in ``dataset``.

    Raises
    ------
    ValueError
        An unknown loss, the binary logistic loss on a dataset of more than two classes, or a
        classification loss on real targets.
    """
    as_choice(loss, "loss", LOSS_CHOICES)
    classes = SHAPES[dataset][1] if classes is None else classes
    if loss == "auto":
        return "squared" if classes == 0 else "logistic" if classes == 2 else "softmax"
    if classes == 0 and loss != "squared":
        raise ValueError(f"loss: {loss!r} needs class labels, and the targets of {dataset!r} are real numbers; "
                         "use squared (or auto)")
    if loss == "logistic" and classes > 2:
        raise ValueError(f"loss: 'logistic' is for two classes, and dataset {dataset!r} has {classes}; "
                         "use softmax (or auto)")
    return loss

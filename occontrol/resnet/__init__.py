"""The deep-limit ResNet application: training posed as an ODE-constrained
optimal-control problem and solved with the general occontrol layers.

The names below are imported on first use, so that importing a light
submodule (``occontrol.resnet.config``, read by the command line) does not
import CasADi.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_getattr

_EXPORTS = {"ACTIVATIONS": "activations", "Activation": "activations", "LOSSES": "losses", "Loss": "losses",
            "ResNet": "network", "HessianStrategy": "strategy", "ExactHessian": "strategy",
            "GaussNewton": "strategy", "DeepLimitProblem": "problem", "DeepLimitSettings": "problem",
            "ODEResNetClassifier": "estimator", "ODEResNetRegressor": "estimator", "compare": "comparison",
            "CompareConfig": "comparison", "CompareResult": "comparison", "sweep_deep_limit": "sweep",
            "load_weights": "deep_limit", "DepthTransfer": "depth_transfer",
            "variation_equidistributed_grid": "placement", "indicator_equidistributed_grid": "placement",
            "PlacementStudy": "placement_study",
            **{name: "train" for name in ("STRATEGIES", "FailedFitWarning", "FitResult", "UnboundedClassifierWarning",
                                          "guess_from_network", "multistart", "network_from_solution",
                                          "random_network", "solve_layers")}}

__all__ = list(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:  # what the lazy loader hands out, for type checkers, IDEs and the API reference (griffe)
    from .activations import ACTIVATIONS, Activation  # noqa: F401
    from .comparison import CompareConfig, CompareResult, compare  # noqa: F401
    from .deep_limit import load_weights  # noqa: F401
    from .depth_transfer import DepthTransfer  # noqa: F401
    from .estimator import ODEResNetClassifier, ODEResNetRegressor  # noqa: F401
    from .losses import LOSSES, Loss  # noqa: F401
    from .network import ResNet  # noqa: F401
    from .placement import indicator_equidistributed_grid, variation_equidistributed_grid  # noqa: F401
    from .placement_study import PlacementStudy  # noqa: F401
    from .problem import DeepLimitProblem, DeepLimitSettings  # noqa: F401
    from .strategy import ExactHessian, GaussNewton, HessianStrategy  # noqa: F401
    from .sweep import sweep_deep_limit  # noqa: F401
    from .train import (STRATEGIES, FailedFitWarning, FitResult, UnboundedClassifierWarning,  # noqa: F401
                        guess_from_network, multistart, network_from_solution, random_network,  # noqa: F401
                        solve_layers)  # noqa: F401

"""The deep-limit ResNet application: training posed as an ODE-constrained
optimal-control problem and solved with the general occontrol layers.

The names below are imported on first use, so that importing a light
submodule (``occontrol.resnet.config``, read by the command line) does not
import CasADi.
"""

from __future__ import annotations

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

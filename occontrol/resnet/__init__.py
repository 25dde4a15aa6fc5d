"""The deep-limit ResNet application: training posed as an ODE-constrained
optimal-control problem and solved with the general occontrol layers."""

from .activations import ACTIVATIONS, Activation
from .losses import LOSSES, Loss
from .network import ResNet
from .problem import DeepLimitProblem, DeepLimitSettings
from .train import (STRATEGIES, FailedFitWarning, FitResult, UnboundedClassifierWarning, guess_from_network,
                    multistart, network_from_solution, random_network, solve_layers)

__all__ = ["ACTIVATIONS", "Activation", "LOSSES", "Loss", "ResNet", "DeepLimitProblem", "DeepLimitSettings",
           "STRATEGIES", "FitResult", "FailedFitWarning", "UnboundedClassifierWarning", "guess_from_network",
           "multistart", "network_from_solution", "random_network", "solve_layers"]

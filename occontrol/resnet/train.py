"""Solving the deep-limit problem on a grid: strategies, starting guesses,
multi-start, and reading the network back from a Solution."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .._checks import as_positive_int
from ..grid import Grid
from ..solution import Solution
from ..solver import CasadiSolver, Ipopt, solve
from ..transcription.discrete import Transcription
from ..transcription.runge_kutta import ExplicitRungeKutta
from .network import SCHEMES, ResNet
from .problem import DeepLimitProblem
from .strategy import STRATEGY_NAMES, HessianStrategy, as_strategy

__all__ = ["STRATEGIES", "UnboundedClassifierWarning", "FailedFitWarning", "network_from_solution",
           "guess_from_network", "random_network", "solve_layers", "multistart", "fit_from", "FitResult",
           "fit_classifier", "training_labels"]

# the names of the Hessian strategies (occontrol.resnet.strategy), kept here for existing imports
STRATEGIES = STRATEGY_NAMES
"""The names of the Hessian strategies, 'gauss-newton' and 'exact' (:mod:`occontrol.resnet.strategy`)."""

class UnboundedClassifierWarning(RuntimeWarning):
    """The classifier weights grow without bound; add weight decay (tau_w > 0)."""


class FailedFitWarning(RuntimeWarning):
    """No start of a multi-start fit converged: the network returned is of a failed solve."""


def network_from_solution(deep: DeepLimitProblem, sol: Solution, scheme: str | None = None) -> ResNet:
    """The N-layer ResNet whose weights are the solution's controls and parameters.

    The layer map is the transcription's own (Euler, Heun or RK4). For another
    transcription (collocation, say) give ``scheme``: its piecewise-constant
    controls are then read into a network of that scheme, an approximation.

    Parameters
    ----------
    deep : DeepLimitProblem
        The problem the solution is of.
    sol : Solution
        A solve with piecewise-constant controls on a uniform grid.
    scheme : {'euler', 'heun', 'ralston', 'rk4'} or None
        The layer map; None for the transcription's own.
    """
    tr = sol.problem.transcription
    if tr.controls != "constant":
        raise ValueError(f"solution: a ResNet needs piecewise-constant controls, got {tr!r}")
    if scheme is None:
        if not (isinstance(tr, ExplicitRungeKutta) and tr.tableau.name in SCHEMES):
            raise ValueError("solution: a ResNet is read from an explicit Euler, Heun or RK4 transcription "
                             f"(or give scheme=), got {tr!r}")
        scheme = tr.tableau.name
    N, m, K = sol.N, deep.m, deep.K
    A = np.stack([np.reshape(row, (m, m), order="F") for row in np.reshape(sol.value(deep.A), (N, m * m))])
    b = np.reshape(sol.value(deep.b), (N, m))
    W = np.reshape(np.atleast_1d(sol.value(deep.W)), (K, m), order="F")
    c = np.atleast_1d(sol.value(deep.c)).astype(float)
    steps = sol.problem.grid.steps(sol.problem.ocp.t0, sol.tf)  # per layer; exactly T / N when uniform
    h = float(steps[0]) if sol.problem.grid.uniform else steps
    return ResNet(A, b, W, c, h, deep.settings.activation, deep.lift, deep.settings.loss, deep.classes,
                  scheme=scheme, status=sol.status, success=sol.success)


def guess_from_network(deep: DeepLimitProblem, net: ResNet, with_states: bool = True) -> dict:
    """A ``guess`` dict for :func:`occontrol.solve` that puts the NLP exactly at ``net``'s weights.

    With ``with_states`` the node states are the network's own forward pass,
    so multiple shooting starts feasible.

    Parameters
    ----------
    deep : DeepLimitProblem
        The problem whose symbols the guess is keyed by.
    net : ResNet
        The network, with as many layers as the grid the guess is for.
    with_states : bool
        Also give the node states (the forward pass of the training data).
    """
    m = net.width
    guess = {deep.A: np.stack([a.ravel(order="F") for a in net.A]), deep.b: net.b,
             deep.W: net.W.ravel(order="F"), deep.c: net.c}
    if with_states:
        guess[deep.state] = net.trajectory(deep.X_data)
    if m * m == 1:
        guess[deep.A] = guess[deep.A][:, 0]
    if m == 1:
        guess[deep.b] = guess[deep.b][:, 0]
    return guess


def random_network(deep: DeepLimitProblem, N: int, seed: int, scale: float = 1.0, knots: int = 4) -> ResNet:
    """A random starting network that is neither 0 nor constant in depth.

    theta(t) is drawn at ``knots`` points of [0, T] (standard normal, times
    ``scale`` / sqrt(m) for A) and interpolated linearly, so the start is a
    discretisation of one smooth theta(t) whatever N is. (W, c) are then fitted
    to the features this flow produces, by scikit-learn, so that the start is
    not dominated by a poor classifier. theta = 0 with a fitted classifier is an
    exact stationary point (the trivial branch); starts must avoid it.

    Parameters
    ----------
    deep : DeepLimitProblem
        The problem (width, horizon, activation, loss, training data).
    N : int
        The number of layers.
    seed : int
        Seed of the random knots.
    scale : float
        Standard deviation of the knot values (divided by sqrt(m) for A).
    knots : int
        Number of knots on [0, T].
    """
    N = as_positive_int(N, "N")
    rng = np.random.default_rng(seed)
    m, T = deep.m, deep.settings.horizon
    h = T / N
    t_knots = np.linspace(0.0, T, knots)
    A_knots = rng.normal(scale=scale / np.sqrt(m), size=(knots, m, m))
    b_knots = rng.normal(scale=scale, size=(knots, m))
    mid = (np.arange(N) + 0.5) * h
    A = np.stack([np.stack([np.interp(mid, t_knots, A_knots[:, i, j]) for j in range(m)], axis=-1)
                  for i in range(m)], axis=1)
    b = np.stack([np.interp(mid, t_knots, b_knots[:, i]) for i in range(m)], axis=-1)
    K = deep.K
    probe = ResNet(A, b, np.zeros((K, m)), np.zeros(K), h, deep.settings.activation, deep.lift,
                   deep.settings.loss, deep.classes)
    features = probe.forward(deep.X_data).T
    W, c = fit_classifier(deep, features)
    return ResNet(A, b, W, c, h, deep.settings.activation, deep.lift, deep.settings.loss, deep.classes)


def fit_classifier(deep: DeepLimitProblem, features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The output layer (W, c) fitted to fixed features by scikit-learn.

    Parameters
    ----------
    deep : DeepLimitProblem
        Gives the loss (squared: ridge regression on the targets; logistic or
        softmax: logistic regression on the class indices), the targets and K.
    features : ndarray, shape (n, m)
        The final states of the training samples, one row per sample.

    Returns
    -------
    W : ndarray, shape (K, m)
    c : ndarray, shape (K,)
    """
    from sklearn.linear_model import LogisticRegression, Ridge

    K = deep.K
    if deep.settings.loss == "squared":
        model = Ridge(alpha=1e-3).fit(features, deep.Y.T)
        return np.reshape(model.coef_, (K, -1)), np.reshape(model.intercept_, K)
    labels = deep.class_index
    model = LogisticRegression(C=10.0, max_iter=1000).fit(features, labels)
    coef, icpt = model.coef_, model.intercept_
    if deep.settings.loss == "softmax" and K == 2:  # sklearn gives one row for two classes
        coef, icpt = np.vstack([-coef / 2, coef / 2]), np.array([-icpt[0] / 2, icpt[0] / 2])
    return coef, icpt


def solve_layers(deep: DeepLimitProblem, N: int | Grid, *, guess: Any = None,
                 strategy: str | HessianStrategy = "gauss-newton", scheme: str = "euler",
                 transcription: Transcription | None = None, solver: Ipopt | CasadiSolver | None = None,
                 warm_start_multipliers: bool = False) -> Solution:
    """Solve the N-layer problem once.

    Parameters
    ----------
    deep : DeepLimitProblem
    N : int or Grid
        Number of layers (uniform grid intervals), or the grid of the layers
        (non-uniform steps h_k: layer k is X + h_k sigma(A_k X + b_k)).
    guess : ResNet, Solution or dict, optional
        Starting point; a ResNet is used with its forward-pass states.
    strategy : HessianStrategy or {'gauss-newton', 'exact'}
        How the NLP is solved (:mod:`occontrol.resnet.strategy`): single
        shooting with the generalised Gauss-Newton Hessian, or multiple
        shooting with the exact Hessian. Ignored when ``transcription`` is
        given (then the exact Hessian is used).
    scheme : {'euler', 'heun', 'ralston', 'rk4', 'collocation'}
        The scheme the strategy transcribes (default explicit Euler, which is
        the ResNet exactly).
    transcription : Transcription, optional
        Any transcription, solved with the exact Hessian as given.
    solver : Ipopt or CasadiSolver, optional
        Solver options; the strategy sets its own on top of them.
    warm_start_multipliers : bool
        With a Solution as ``guess``, start IPOPT from its multipliers too.
    """
    grid: int | Grid = N if isinstance(N, Grid) else as_positive_int(N, "N")
    N = grid.N if isinstance(grid, Grid) else grid
    chosen = as_strategy(strategy)
    if isinstance(guess, ResNet):
        if guess.N != N:
            raise ValueError(f"guess: a ResNet guess must have N = {N} layers, got {guess.N}")
        guess = guess_from_network(deep, guess)
    hess_lag = None
    if transcription is None:
        transcription = chosen.transcription_for(scheme)
        hess_lag = chosen.hess_lag(deep)
        solver = chosen.ipopt(solver)
    sol = solve(deep.ocp, transcription, grid=grid, guess=guess, solver=solver, hess_lag=hess_lag,
                warm_start_multipliers=warm_start_multipliers)
    check_classifier_growth(deep, sol)
    return sol


def check_classifier_growth(deep: DeepLimitProblem, sol: Solution) -> str | None:
    """Warn (and return the message) when the loss has no minimiser: W runs off to infinity.

    Without weight decay, if the final features of every training sample are
    classified correctly, scaling (W, c) by any factor > 1 lowers every
    sample's loss while leaving the regulariser unchanged, so the infimum 0 is
    never attained and IPOPT only stops because the gradient underflows its
    tolerance, at an arbitrary |W|.
    """
    if not deep.loss.classification or deep.settings.tau_w > 0:
        return None
    # the final states of this very transcription, whatever it is
    K, m = deep.K, deep.m
    W = np.reshape(np.atleast_1d(sol.value(deep.W)), (K, m), order="F")
    c = np.atleast_1d(sol.value(deep.c))
    scores = W @ np.reshape(np.asarray(sol.value(deep.state))[-1], (m, deep.n)) + c[:, None]
    predicted = (scores[0] > 0).astype(int) if K == 1 else np.argmax(scores, axis=0)
    if not np.array_equal(predicted, deep.class_index):
        return None
    norm = float(np.linalg.norm(W))
    msg = (f"the flow separates the training data, so the {deep.settings.loss} loss has no minimiser: "
           f"|W| grows without bound (|W| = {norm:.3g} when IPOPT stopped with {sol.status}). "
           "Add weight decay, e.g. tau_w=1e-4.")
    warnings.warn(msg, UnboundedClassifierWarning, stacklevel=3)
    return msg


def training_labels(deep: DeepLimitProblem) -> np.ndarray:
    """Training labels in the network's own label set.

    Parameters
    ----------
    deep : DeepLimitProblem
        The problem whose training samples are labelled.

    Returns
    -------
    ndarray, shape (n,)
        The class indices, mapped to ``deep.classes`` when the data had their own labels
        (the targets, for the squared loss).
    """
    if not deep.loss.classification:  # regression: the targets themselves
        return deep.Y[0] if deep.Y.shape[0] == 1 else deep.Y.T
    index = deep.class_index
    return index if deep.classes is None else deep.classes[index]


@dataclass
class FitResult:
    """The best of several starts, and every start's solution.

    ``success`` and ``status`` are the best start's; when no start converged
    they say so, and so does ``network`` (its ``success`` is False, its repr
    says FAILED, and both are saved with it). ``seeds`` are the random starts'
    (empty for :func:`fit_from`).

    Attributes
    ----------
    best : Solution
        The start with the lowest successful objective (the lowest objective when none succeeded).
    network : ResNet
        The network read from ``best``.
    starts : list of Solution
        Every start's solution, in the order of ``seeds``.
    seeds : list of int
        The seeds of the random starts.
    """

    best: Solution
    network: ResNet
    starts: list[Solution]
    seeds: list[int]

    @property
    def success(self) -> bool:
        return bool(self.best.success)

    @property
    def status(self) -> str:
        return self.best.status


def multistart(deep: DeepLimitProblem, N: int, n_starts: int = 4, seed: int = 0,
               progress: Callable[[str], None] | None = None, **kwargs: Any) -> FitResult:
    """Solve from ``n_starts`` random non-constant starts; keep the lowest successful objective.

    If no start succeeds the lowest objective is returned with its failed status
    (``success`` False on the result and on its network) and a
    :class:`FailedFitWarning` is issued: it is never presented as converged.

    Parameters
    ----------
    deep : DeepLimitProblem
        The problem.
    N : int
        The number of layers.
    n_starts : int
        The number of random starts (:func:`random_network`).
    seed : int
        Start i uses seed + i.
    progress : callable or None
        Receives one line per solve.
    **kwargs
        Passed to :func:`solve_layers` (strategy, scheme, solver, ...).
    """
    n_starts = as_positive_int(n_starts, "n_starts")
    seeds = [seed + i for i in range(n_starts)]
    sols = []
    for s in seeds:
        sol = solve_layers(deep, N, guess=random_network(deep, N, s), **kwargs)
        sols.append(sol)
        if progress is not None:
            progress(_progress_line(f"start seed={s}", sol))
    return _best_of(deep, sols, seeds)


def fit_from(deep: DeepLimitProblem, net: ResNet, N: int, progress: Callable[[str], None] | None = None,
             **kwargs: Any) -> FitResult:
    """One solve of the N-layer problem from ``net`` carried to N layers (:meth:`ResNet.resampled`,
    linear): continuing a fit at another depth. Failure is reported as by :func:`multistart`."""
    start = net if net.N == N else net.resampled(as_positive_int(N, "N"))
    sol = solve_layers(deep, N, guess=start, **kwargs)
    if progress is not None:
        progress(_progress_line(f"warm start from N={net.N}", sol))
    return _best_of(deep, [sol], [])


def _progress_line(label: str, sol: Solution) -> str:
    return (f"{label}: N={sol.N} {sol.status}{'' if sol.success else ' (FAILED)'} objective={sol.objective:.6g} "
            f"iterations={sol.iterations} ({sol.solve_seconds:.2f} s)")


def _best_of(deep: DeepLimitProblem, sols: list[Solution], seeds: list[int]) -> FitResult:
    ok = [s for s in sols if s.success] or sols
    best = min(ok, key=lambda s: s.objective if np.isfinite(s.objective) else np.inf)
    if not best.success:
        warnings.warn(f"no start converged: the best network is of a failed solve ({best.status}); "
                      "raise max_iter or n_starts", FailedFitWarning, stacklevel=3)
    return FitResult(best, network_from_solution(deep, best), sols, seeds)

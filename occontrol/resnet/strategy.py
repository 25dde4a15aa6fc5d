"""Hessian strategies of the deep-limit NLP, as objects.

A strategy knows which transcription it needs for a scheme, builds the
``hess_lag`` argument of :func:`occontrol.solve` and sets the IPOPT options
it requires:

- :class:`ExactHessian`: multiple shooting (explicit schemes) or collocation,
  CasADi's exact Hessian of the Lagrangian, IPOPT as given.
- :class:`GaussNewton`: single shooting with piecewise-constant controls,
  the generalised Gauss-Newton matrix of
  :mod:`occontrol.resnet.gauss_newton`, IPOPT's watchdog off. It works with
  every explicit Runge-Kutta scheme (Euler, Heun, RK4 or any explicit
  tableau): Heun with Gauss-Newton is single-shooting Heun with the GGN
  Hessian of Heun's own layer map; collocation is refused.
- :class:`SecantGaussNewton` (``"gauss-newton-secant"``, the deep-limit
  study's default): the same, plus,
  near a minimiser (gradient below ``secant_below``), an SR1 secant estimate
  of the curvature the GGN leaves out. The tail turns superlinear: about half
  the iterations on warm-started fine levels, the same minimisers.

The strings ``"gauss-newton"`` and ``"exact"`` are accepted wherever a
strategy is and mapped through :data:`STRATEGIES` (:func:`as_strategy`).
Nothing heavy is imported here until a strategy is used, so the command
line reads :data:`STRATEGY_NAMES` cheaply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._checks import as_choice
from ..transcription.registry import EXPLICIT_SCHEMES, SCHEME_NAMES, make_transcription

if TYPE_CHECKING:
    from ..solver import CasadiSolver, Ipopt
    from ..transcription.discrete import Transcription
    from ..transcription.runge_kutta import ButcherTableau
    from .problem import DeepLimitProblem

__all__ = ["HessianStrategy", "ExactHessian", "GaussNewton", "SecantGaussNewton", "STRATEGIES", "STRATEGY_NAMES",
           "as_strategy"]


class HessianStrategy:
    """How the deep-limit NLP is solved: transcription, Hessian and IPOPT options.

    Subclasses set ``name`` and override the three methods.
    """

    name: str = ""

    def transcription_for(self, scheme: str | ButcherTableau) -> Transcription:
        """The transcription of ``scheme`` (a registered name or an explicit tableau) this strategy solves."""
        raise NotImplementedError

    def hess_lag(self, deep: DeepLimitProblem) -> Any:
        """The ``hess_lag`` argument of :func:`occontrol.solve` (None: CasADi's exact Hessian)."""
        return None

    def ipopt(self, solver: Ipopt | CasadiSolver | None) -> Ipopt | CasadiSolver | None:
        """``solver`` with the options this strategy requires."""
        return solver

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _explicit(scheme: str | ButcherTableau, **options: Any) -> Transcription:
    """An explicit Runge-Kutta transcription of a registered name or a tableau."""
    if isinstance(scheme, str):
        return make_transcription(scheme, **options)
    from ..transcription.runge_kutta import ButcherTableau, ExplicitRungeKutta
    if not isinstance(scheme, ButcherTableau):
        raise TypeError(f"transcription: expected a scheme name or an oc.ButcherTableau, got {scheme!r}")
    return ExplicitRungeKutta(scheme, **options)


def _check_scheme(scheme: Any) -> None:
    if isinstance(scheme, str):
        as_choice(scheme, "transcription", SCHEME_NAMES)


class ExactHessian(HessianStrategy):
    """CasADi's exact Hessian; explicit schemes by multiple shooting, collocation as registered."""

    name = "exact"

    def transcription_for(self, scheme: str | ButcherTableau) -> Transcription:
        _check_scheme(scheme)
        if scheme == "collocation":
            return make_transcription("collocation")
        return _explicit(scheme, shooting="multiple")


class GaussNewton(HessianStrategy):
    """The generalised Gauss-Newton Hessian under single shooting of any explicit Runge-Kutta scheme.

    Parameters
    ----------
    secant_below : float or None
        None (the default): the GGN matrix alone. A number: once the objective's gradient (largest
        entry) is below it, the GGN matrix gets an SR1 secant estimate of the residual curvature it
        omits (:class:`~occontrol.resnet.gauss_newton.GaussNewtonHessian`); see
        :class:`SecantGaussNewton`.
    """

    name = "gauss-newton"

    def __init__(self, secant_below: float | None = None) -> None:
        if secant_below is not None and (isinstance(secant_below, bool) or not isinstance(secant_below, (int, float))
                                         or not secant_below > 0):
            raise ValueError(f"secant_below: expected a positive number or None, got {secant_below!r}")
        self.secant_below = None if secant_below is None else float(secant_below)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GaussNewton) and type(self) is type(other) and self.secant_below == other.secant_below

    def __hash__(self) -> int:
        return hash((type(self), self.secant_below))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(secant_below={self.secant_below!r})"

    def transcription_for(self, scheme: str | ButcherTableau) -> Transcription:
        _check_scheme(scheme)
        if isinstance(scheme, str) and scheme not in EXPLICIT_SCHEMES:
            raise ValueError(f"strategy: 'gauss-newton' needs an explicit scheme; use strategy='exact' "
                             f"with transcription={scheme!r}")
        # threaded maps measured 1.6x faster per Gauss-Newton iteration (benchmarks/scaling.py)
        return _explicit(scheme, shooting="single", parallelization="thread")

    def hess_lag(self, deep: DeepLimitProblem) -> Any:
        from .gauss_newton import gauss_newton_hessian
        return gauss_newton_hessian(deep, secant_below=self.secant_below)

    def ipopt(self, solver: Ipopt | CasadiSolver | None) -> Ipopt | CasadiSolver | None:
        from ..solver import Ipopt
        from .gauss_newton import gauss_newton_solver
        if solver is not None and not isinstance(solver, Ipopt):  # another solver: its options as given
            return solver
        return gauss_newton_solver(solver)


class SecantGaussNewton(GaussNewton):
    """Gauss-Newton with the SR1 secant correction of the residual curvature near a minimiser.

    Same transcription and IPOPT options as :class:`GaussNewton`; the Hessian is the GGN matrix
    plus, once the gradient's largest entry is below ``secant_below``, a symmetric rank-one
    estimate of sum_i (dloss/ds_i) Hess s_i built from the score Jacobians at consecutive
    iterates. The gradient, hence where IPOPT stops, is unchanged; the linear tail of the GGN
    iteration becomes superlinear. On the default deep-limit ladder (benchmarks/ladder.py) the
    warm levels N = 8 ... 256 took 19, 12, 10, 9, 9, 8 iterations against 45, 24, 21, 16, 18, 20,
    objectives equal to 1e-13. Switched on from the first iteration it made the cold random
    starts slower (up to 171 iterations against 79 to 113), hence the threshold.

    At IPOPT's tol = 1e-8 its minimisers differ from the plain GGN's by the solve error (1e-5 in
    the weights), which moved one H1 distance of the default study across a rounding boundary
    (0.01775044 at tol = 1e-11); with tol = 1e-10 the default study's table is the plain GGN's
    to every digit shown, in fewer iterations than the plain GGN needs at 1e-8.
    """

    name = "gauss-newton-secant"

    def __init__(self, secant_below: float | None = 1e-3) -> None:
        super().__init__(secant_below)


STRATEGIES: dict[str, type[HessianStrategy]] = {"gauss-newton": GaussNewton, "exact": ExactHessian,
                                                "gauss-newton-secant": SecantGaussNewton}
STRATEGY_NAMES: tuple[str, ...] = tuple(STRATEGIES)


def as_strategy(value: str | HessianStrategy, name: str = "strategy") -> HessianStrategy:
    """A :class:`HessianStrategy` from itself or its registered name.

    Raises
    ------
    ValueError
        An unknown name (the message names ``name`` and the choices).
    """
    if isinstance(value, HessianStrategy):
        return value
    return STRATEGIES[as_choice(value, name, STRATEGY_NAMES, alternative="a HessianStrategy")]()

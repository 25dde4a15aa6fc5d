"""Explicit Runge-Kutta transcriptions, single or multiple shooting.

One step function is built for the whole OCP (ensemble columns inside it
go through ``Function.map``) and applied over the N intervals with
``Function.map`` (multiple shooting) or ``Function.mapaccum`` (single
shooting), so the NLP graph does not grow with N.
"""

from __future__ import annotations

from dataclasses import dataclass
import casadi as cs
import numpy as np

from .._checks import as_choice
from .discrete import Transcription, BuildContext
from .layout import NodeValues, Sampling
from .model import ModelFunctions

__all__ = ["ButcherTableau", "ExplicitRungeKutta", "ExplicitEuler", "Heun", "Ralston", "RK4"]


@dataclass(frozen=True)
class ButcherTableau:
    """An explicit Runge-Kutta scheme: stages c, weights b, strictly lower-triangular A.

    Parameters
    ----------
    A : tuple of tuples of float, shape (s, s)
        The stage coefficients; strictly lower-triangular (explicit).
    b : tuple of float, length s
        The weights.
    c : tuple of float, length s
        The nodes.
    name : str
        A label, recorded with the solutions.
    """

    A: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    c: tuple[float, ...]
    name: str = "custom"

    def __post_init__(self) -> None:
        A = np.asarray(self.A, dtype=float)
        b = np.asarray(self.b, dtype=float)
        c = np.asarray(self.c, dtype=float)
        s = b.size
        if b.ndim != 1 or s < 1:
            raise ValueError(f"tableau b: expected a non-empty vector of weights, got {self.b!r}")
        if A.shape != (s, s) or c.shape != (s,):
            raise ValueError(f"tableau: expected A of shape ({s}, {s}) and c of length {s}, "
                             f"got A {A.shape} and c {c.shape}")
        if not (np.isfinite(A).all() and np.isfinite(b).all() and np.isfinite(c).all()):
            raise ValueError("tableau: entries must be finite")
        if np.any(np.triu(A) != 0):
            raise ValueError("tableau A: an explicit scheme needs a strictly lower-triangular A")
        if not np.isclose(b.sum(), 1.0):
            raise ValueError(f"tableau b: weights must sum to 1 for consistency, got {b.sum()}")

    @property
    def stages(self) -> int:
        return len(self.b)


EULER = ButcherTableau(A=((0.0,),), b=(1.0,), c=(0.0,), name="euler")
HEUN = ButcherTableau(A=((0.0, 0.0), (1.0, 0.0)), b=(0.5, 0.5), c=(0.0, 1.0), name="heun")
RALSTON = ButcherTableau(A=((0.0, 0.0), (2 / 3, 0.0)), b=(0.25, 0.75), c=(0.0, 2 / 3), name="ralston")
RK4_TABLEAU = ButcherTableau(
    A=((0.0, 0.0, 0.0, 0.0), (0.5, 0.0, 0.0, 0.0), (0.0, 0.5, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0)),
    b=(1 / 6, 1 / 3, 1 / 3, 1 / 6), c=(0.0, 0.5, 0.5, 1.0), name="rk4")
# the named explicit tableaus, by name (the ResNet layer maps read them too)
TABLEAUS = {t.name: t for t in (EULER, HEUN, RALSTON, RK4_TABLEAU)}


def weighted_sum(weights, terms):
    """sum w_i t_i skipping zero weights; a unit weight multiplies nothing (keeps Euler exact)."""
    out = None
    for w, term in zip(weights, terms):
        if w == 0.0:
            continue
        piece = term if w == 1.0 else w * term
        out = piece if out is None else out + piece
    return out


class RungeKuttaDenseOutput:
    """States between the nodes as a partial step of the scheme from the node before.

    Parameters
    ----------
    step : casadi.Function
        The transcription's step function (see :meth:`ExplicitRungeKutta.step_function`).
    controls : {'constant', 'linear'}
        The control kind, to give the partial step its controls.
    """

    def __init__(self, step: cs.Function, controls: str) -> None:
        self.step, self.controls = step, controls

    def states(self, values: NodeValues, k: np.ndarray, s: np.ndarray) -> np.ndarray:
        """A partial step of length s from node k; shape (nz, len(k))."""
        z = values.states[:, k]
        U = values.controls
        t = values.t[k]
        if self.controls == "constant":
            u0 = u1 = U[:, np.minimum(k, U.shape[1] - 1)]
        else:
            h = values.t[k + 1] - t
            u0 = U[:, k]
            u1 = u0 + (s / h) * (U[:, k + 1] - u0)
        out = self.step.map(len(k))(z, u0, u1, values.statics, t[None, :], s[None, :], values.tf)[0]
        return np.asarray(out)


class ExplicitRungeKutta(Transcription):
    """Explicit Runge-Kutta transcription from a Butcher tableau.

    A named scheme is a subclass that sets the class attribute ``tableau``
    (see :class:`Heun`); it then takes no tableau argument.

    Parameters
    ----------
    tableau : ButcherTableau
        The scheme; only for this class itself, not for its named subclasses.
    shooting : {'multiple', 'single'}
        Multiple shooting keeps the node states as variables linked by
        equality constraints; single shooting eliminates them.
    controls : {'constant', 'linear'}
        Piecewise-constant or piecewise-linear controls.
    expand : bool
        Expand the step function to SX before mapping it over the grid
        (measured faster to build and to evaluate; see benchmarks/).
    parallelization : {'serial', 'thread'}
        Evaluation of the maps over the grid and the ensemble columns.
    """

    family = "runge-kutta"
    tableau: ButcherTableau  # a class attribute of the named schemes

    def __init__(self, tableau: ButcherTableau | None = None, shooting: str = "multiple",
                 controls: str = "constant", expand: bool = True, parallelization: str = "serial") -> None:
        super().__init__(controls, parallelization, expand)
        own = getattr(type(self), "tableau", None)
        if tableau is None:
            tableau = own
        elif own is not None:
            raise TypeError(f"tableau: {type(self).__name__} carries its own tableau; "
                            f"use oc.ExplicitRungeKutta(tableau) for another one")
        if not isinstance(tableau, ButcherTableau):
            raise TypeError(f"tableau: expected an oc.ButcherTableau, got {tableau!r}")
        self.tableau = tableau
        self.shooting = as_choice(shooting, "shooting", ("multiple", "single"))

    def describe(self) -> dict:
        return {**super().describe(), "scheme": self.tableau.name, "shooting": self.shooting,
                "expand": self.expand}

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(scheme={self.tableau.name!r}, shooting={self.shooting!r}, "
                f"controls={self.controls!r})")

    # ------------------------------------------------------------- one step
    def step_function(self, model: ModelFunctions) -> cs.Function:
        """(z, u0, u1, p, t, h, tf) -> (z after one step of length h, running-cost quadrature).

        u0 and u1 are the controls at the start and end of the step; the stage
        controls are u0 for piecewise-constant controls, u0 + c_i (u1 - u0) else.
        """
        tab = self.tableau
        z = cs.MX.sym("z", model.nz)
        u0, u1 = cs.MX.sym("u0", model.nu), cs.MX.sym("u1", model.nu)
        p, t, h, tf = cs.MX.sym("p", model.np), cs.MX.sym("t"), cs.MX.sym("h"), cs.MX.sym("tf")
        k: list[cs.MX] = []
        q: list[cs.MX] = []
        for i in range(tab.stages):
            incr = weighted_sum(tab.A[i][:i], k[:i])
            zi = z if incr is None else z + h * incr
            ci = tab.c[i]
            ui = u0 if (self.controls == "constant" or ci == 0.0) else u0 + ci * (u1 - u0)
            ti = t if ci == 0.0 else t + ci * h
            k.append(model.f(zi, ui, p, ti, tf))
            q.append(model.running(zi, ui, p, ti, tf))
        z_next = z + h * weighted_sum(tab.b, k)
        quad = h * weighted_sum(tab.b, q)
        step = cs.Function("rk_step", [z, u0, u1, p, t, h, tf], [z_next, quad],
                           ["z", "u0", "u1", "p", "t", "h", "tf"], ["z_next", "q"])
        return step.expand() if self.expand else step

    # ------------------------------------------------------------ the grid
    def _dynamics(self, ctx: BuildContext) -> tuple[cs.MX, cs.MX, RungeKuttaDenseOutput]:
        model, N = ctx.model, ctx.grid.N
        step = self.step_function(model)
        u_left, u_right = ctx.control_intervals()
        if self.shooting == "multiple":
            Z = ctx.node_states("Z", Sampling.LATER_NODES, N, per_interval=1)
            states = cs.horzcat(ctx.z0, Z)
            z_next, quad = self.map(step, N)(states[:, :-1], u_left, u_right, ctx.P, ctx.T[:, :-1], ctx.H, ctx.tf)
            ctx.builder.constrain("dynamics", Z - z_next, 0.0, 0.0)
        else:
            rolled, quad = step.mapaccum("rollout", N)(ctx.z0, u_left, u_right, ctx.P, ctx.T[:, :-1],
                                                       ctx.H, ctx.tf)
            states = cs.horzcat(ctx.z0, rolled)
            ctx.state_bounds_on(rolled, "state_bounds")
        return states, cs.sum2(quad), RungeKuttaDenseOutput(step, self.controls)


class ExplicitEuler(ExplicitRungeKutta):
    """Explicit Euler, x_{k+1} = x_k + h_k f(t_k, x_k, u_k) (first order).

    Parameters
    ----------
    tableau, shooting, controls, expand, parallelization
        As for :class:`ExplicitRungeKutta`; ``tableau`` is this scheme's own (another is refused).
    """

    tableau = EULER


class Heun(ExplicitRungeKutta):
    """Heun's second-order method (explicit trapezoid).

    Parameters
    ----------
    tableau, shooting, controls, expand, parallelization
        As for :class:`ExplicitRungeKutta`; ``tableau`` is this scheme's own (another is refused).
    """

    tableau = HEUN


class Ralston(ExplicitRungeKutta):
    """Ralston's second-order method (c = (0, 2/3), b = (1/4, 3/4)), least error bound of its family.

    Parameters
    ----------
    tableau, shooting, controls, expand, parallelization
        As for :class:`ExplicitRungeKutta`; ``tableau`` is this scheme's own (another is refused).
    """

    tableau = RALSTON


class RK4(ExplicitRungeKutta):
    """The classical fourth-order Runge-Kutta method.

    Parameters
    ----------
    tableau, shooting, controls, expand, parallelization
        As for :class:`ExplicitRungeKutta`; ``tableau`` is this scheme's own (another is refused).
    """

    tableau = RK4_TABLEAU

"""Problems with known continuous optima, for the error-estimate and adaptation tests (and benchmarks/adapt.py
builds the same ones).

- smooth LQ: min int_0^1 x^2 + u^2, x' = u, x(0) = 1: J* = tanh(1);
- boundary layer: min int_0^1 x^2 + eps u^2, x' = u, x(0) = 1: the Riccati solution P(t) = sqrt(eps) tanh((1 - t)
  / sqrt(eps)) of -P' = 1 - P^2 / eps, P(1) = 0 gives J* = P(0) = sqrt(eps) tanh(1 / sqrt(eps));
- singular arc: min int_0^2 x^2, x' = u, |u| <= 1, x(0) = 1: u = -1 on [0, 1], then 0: J* = int_0^1 (1 - t)^2 = 1/3;
- bang-bang minimum time: x'' = u, |u| <= 1, from (1, v0) to (0, 0): u = -1 then +1; the switch is where the
  u = -1 parabola x = 1 + (v0^2 - v^2) / 2 meets the u = +1 one x = v^2 / 2, at v = -sqrt(1 + v0^2 / 2), reached
  at t = v0 - v; the last arc takes -v more: T* = v0 + 2 sqrt(1 + v0^2 / 2) (2 for v0 = 0).
"""

from __future__ import annotations

import math

import casadi as cs

import occontrol as oc


def boundary_layer(eps: float) -> tuple[oc.OCP, float]:
    """min int_0^1 x^2 + eps u^2, x' = u, x(0) = 1 and its optimum sqrt(eps) tanh(1 / sqrt(eps))."""
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2 + eps * u ** 2)
    return ocp, math.sqrt(eps) * math.tanh(1.0 / math.sqrt(eps))


def smooth() -> tuple[oc.OCP, float]:
    """The boundary-layer problem with eps = 1: J* = tanh(1)."""
    return boundary_layer(1.0)


def singular_arc() -> tuple[oc.OCP, float]:
    """min int_0^2 x^2, x' = u, |u| <= 1, x(0) = 1: J* = 1/3."""
    ocp = oc.OCP(0.0, 2.0)
    x = ocp.state("x")
    u = ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2)
    return ocp, 1.0 / 3.0


def min_time(v0: float = 0.0) -> tuple[oc.OCP, float]:
    """Minimum time for x'' = u, |u| <= 1, from (1, v0) to rest at 0: T* = v0 + 2 sqrt(1 + v0^2 / 2)."""
    ocp = oc.OCP(0.0, oc.FreeTime(guess=2.0, lower=0.5, upper=10.0))
    X = ocp.state("X", 2)
    u = ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(X, cs.vertcat(X[1], u))
    ocp.initial(X, [1.0, v0])
    ocp.subject_to_terminal(X == 0)
    ocp.minimize_terminal(ocp.tf)
    return ocp, v0 + 2.0 * math.sqrt(1.0 + v0 ** 2 / 2.0)


def bang_bang(switch: float = 1.3, T: float = 3.0) -> tuple[oc.OCP, float]:
    """min int_0^T (t - switch) u dt, x' = u, |u| <= 1: u = +1 before the switch, -1 after, so
    J* = -int_0^T |t - switch| dt = -(switch^2 + (T - switch)^2) / 2."""
    ocp = oc.OCP(0.0, T)
    x = ocp.state("x")
    u = ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(x, u)
    ocp.initial(x, 0.0)
    ocp.minimize_integral((ocp.t - switch) * u)
    return ocp, -(switch ** 2 + (T - switch) ** 2) / 2

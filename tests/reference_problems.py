"""Problems with known optima shared by the tests."""

import math

import casadi as cs
import numpy as np

import occontrol as oc

# min int_0^1 (x^2 + u^2) dt, x' = u, x(0) = 1: the Riccati solution gives tanh(1)
LQ_OPTIMUM = math.tanh(1.0)


def lq_problem():
    """The LQ problem; returns (ocp, x, u)."""
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2 + u ** 2)
    return ocp, x, u


def swing_up():
    """Pendulum swing-up: nonlinear, control bounds, terminal constraints (IPOPT needs ~15 iterations)."""
    ocp = oc.OCP(t0=0.0, tf=3.0)
    x = ocp.state("x", 2)
    u = ocp.control("u", lower=-2.0, upper=2.0)
    ocp.dynamics(x, cs.vertcat(x[1], -cs.sin(x[0]) + u))
    ocp.initial(x, [0.0, 0.0])
    ocp.minimize_integral(0.1 * u ** 2)
    ocp.subject_to_terminal(x == cs.DM([np.pi, 0.0]))
    return ocp, x, u

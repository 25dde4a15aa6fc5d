"""Problems with known optima shared by the tests."""

import math

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

"""Plain helpers shared by the error tests (usable inside Hypothesis tests, where fixtures are not):
a valid LQ problem, a problem with every kind of symbol, the guard against building an NLP, symbols of another
OCP, and the strategies of the property-based tests.

Each error test checks the exception type and that the message names the offending argument
(``pytest.raises(..., match=...)``). Errors that can only surface in ``solve``/``discretize`` run with
``casadi.nlpsol`` (and, where the error concerns the OCP, the grid or the transcription,
``Transcription.discretize`` too) replaced by a function that fails the test (the ``no_nlp`` and ``no_graph``
fixtures), so "before any NLP is built" is checked, not assumed.
"""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import casadi as cs
import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

import occontrol as oc
from occontrol.transcription.discrete import Transcription

# Built once, before any test patches casadi.nlpsol: Ipopt() checks its options with a toy nlpsol.
IPOPT = oc.Ipopt()


NAN, INF = float("nan"), float("inf")


ARG_ERRORS = (ValueError, TypeError)


# ----------------------------------------------------------------- helpers
def lq() -> tuple[oc.OCP, cs.MX, cs.MX]:
    """min int x^2 + u^2, x' = u, x(0) = 1: a complete, valid problem."""
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u", lower=-2.0, upper=2.0)
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2 + u ** 2)
    return ocp, x, u


def unit_min_time(lower: float, upper: float) -> tuple[oc.OCP, cs.MX, cs.MX]:
    """Minimum time to x(tf) = 1 from x(0) = 0 with x' = u, |u| <= 1 (tf* = 1), tf in [lower, upper]."""
    ocp = oc.OCP(0.0, oc.FreeTime(guess=1.0, lower=lower, upper=upper))
    x = ocp.state("x")
    u = ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(x, u)
    ocp.initial(x, 0.0)
    ocp.subject_to_terminal(x == 1.0)
    ocp.minimize_terminal(ocp.tf)
    return ocp, x, u


def mixed() -> tuple[oc.OCP, dict[str, cs.MX]]:
    """A vector state, a matrix state, a control and a static variable."""
    ocp = oc.OCP(t0=0.0, tf=2.0)
    x = ocp.state("x", 2)
    M = ocp.state("M", (2, 3))
    u = ocp.control("u")
    p = ocp.variable("p", lower=0.0, upper=5.0)
    ocp.dynamics(x, cs.vertcat(x[1], u))
    ocp.dynamics(M, -p * M)
    ocp.initial(x, [1.0, 0.0])
    ocp.minimize_integral(cs.sumsqr(x) + u ** 2 + cs.sumsqr(M))
    ocp.minimize_terminal((p - 1) ** 2)
    return ocp, {"x": x, "M": M, "u": u, "p": p}


def log_parameter_ocp() -> tuple[oc.OCP, cs.MX, cs.MX, cs.MX]:
    """min int u^2 + log(p) x^2, x' = u, x(0) = 1: a negative parameter p makes the objective NaN
    wherever x != 0. Returns (ocp, x, u, p)."""
    ocp = oc.OCP()
    x = ocp.state("x")
    u = ocp.control("u")
    p = ocp.parameter("p")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(u ** 2 + cs.log(p) * x ** 2)
    return ocp, x, u, p


def _nlpsol_forbidden(*args, **kwargs):
    raise AssertionError("casadi.nlpsol was called: the error must come before any NLP is built")


def _discretize_forbidden(*args, **kwargs):
    raise AssertionError("Transcription.discretize was called: the error must come before the NLP graph")


@contextmanager
def nlp_forbidden(graph_too: bool = False):
    """Fail if an NLP solver is created (and, with ``graph_too``, if an NLP graph is built)."""
    with mock.patch.object(cs, "nlpsol", _nlpsol_forbidden):
        if graph_too:
            with mock.patch.object(Transcription, "discretize", _discretize_forbidden):
                yield
        else:
            yield


# ---------------------------------------------------- symbols of another OCP
def _foreign():
    other = oc.OCP()
    y = other.state("y")
    w = other.control("w")
    q = other.variable("q")
    return other, y, w, q


# ------------------------------------------------------------ property-based tests
# =================================================== property-based tests
SIZES = st.integers(1, 3)


FINITE = st.floats(-1e3, 1e3, allow_nan=False)


SPECIAL = st.sampled_from([NAN, INF, -INF])


ARRAY_SHAPES = st.lists(st.integers(1, 5), min_size=0, max_size=3).map(tuple)


PROPERTY = settings(max_examples=50, deadline=None)


def _values(shape: tuple[int, ...], offset: float) -> np.ndarray:
    """Distinct finite entries of a given shape (drawing each one would make examples huge)."""
    return offset + 0.1 * np.arange(int(np.prod(shape)), dtype=float).reshape(shape)


def _value_shape(shape: tuple[int, int]) -> tuple[int, ...]:
    rows, cols = shape
    return () if rows * cols == 1 else (rows,) if cols == 1 else (rows, cols)


def _constant_shapes(shape: tuple[int, int]) -> set[tuple[int, ...]]:
    """Shapes accepted for one value of a symbol: scalar, its shape, its value shape,
    flattened (column-major) and, for a vector, its transpose."""
    ok = {(), shape, _value_shape(shape), (shape[0] * shape[1],)}
    if 1 in shape:
        ok.add(shape[::-1])
    return ok

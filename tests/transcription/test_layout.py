"""The typed layout of a discrete problem's decision vector, and Ralston's method
as the demonstration that a new scheme lives in transcription/ alone."""

from __future__ import annotations

import inspect
import re

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
import occontrol.guess
import occontrol.resnet.gauss_newton
import occontrol.solution
import occontrol.start_check
from occontrol.transcription.layout import BlockKind, Sampling

BLOCK_NAMES = ("U", "P", "Z", "Z0", "Xc")  # not "tf": it is also a key of Solution.to_dict()


@pytest.mark.parametrize("module", [occontrol.guess, occontrol.solution, occontrol.start_check,
                                    occontrol.resnet.gauss_newton], ids=lambda m: m.__name__)
def test_no_block_name_outside_the_transcriptions(module):
    source = inspect.getsource(module)
    for name in BLOCK_NAMES:
        assert not re.search(rf"""["']{name}["']""", source), (module.__name__, name)
    assert ".blocks[" not in source and "extras" not in source


def everything_problem(transcription, free_time: bool = True):
    """Every kind of block: controls, a static variable, a free final time, a free initial state."""
    ocp = oc.OCP(t0=0.0, tf=oc.FreeTime(guess=2.0, lower=0.5, upper=4.0) if free_time else 2.0)
    x = ocp.state("x")
    v = ocp.state("v")  # its initial value is free
    u = ocp.control("u", lower=-3.0, upper=3.0)
    k = ocp.variable("k", lower=0.1, upper=5.0)
    ocp.dynamics(x, v)
    ocp.dynamics(v, k * u - x)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(u ** 2 + x ** 2 + v ** 2 + (k - 1) ** 2)
    if free_time:
        ocp.minimize_terminal(ocp.tf)
    return ocp, x, v, u, k


TRANSCRIPTIONS = [oc.ExplicitEuler(), oc.Ralston(shooting="single"), oc.RK4(controls="linear"),
                  oc.Collocation(degree=2, scheme="legendre")]


@pytest.mark.parametrize("transcription", TRANSCRIPTIONS, ids=repr)
def test_the_index_partitions_the_decision_vector(transcription):
    ocp, *_ = everything_problem(transcription)
    pr = oc.discretize(ocp, transcription, grid=5)
    ix = pr.index
    parts = [ix.controls, ix.statics, ix.states, ix.collocation_states, ix.tf, ix.initial_states]
    together = np.concatenate(parts)
    assert np.array_equal(np.sort(together), np.arange(pr.lbx.size))
    ncontrols = 5 if transcription.controls == "constant" else 6
    nstates = 0 if getattr(transcription, "shooting", "multiple") == "single" else 2 * 5
    ncolloc = 2 * 5 * 2 if isinstance(transcription, oc.Collocation) else 0
    assert [p.size for p in parts] == [ncontrols, 1, nstates, ncolloc, 1, 1]
    assert [b.kind for b in pr.layout][:4] == [BlockKind.CONTROL, BlockKind.STATIC, BlockKind.FINAL_TIME,
                                               BlockKind.INITIAL_STATE]


@pytest.mark.parametrize("transcription", TRANSCRIPTIONS, ids=repr)
def test_initial_point_samples_each_block_where_it_sits(transcription):
    ocp, x, v, u, k = everything_problem(transcription)
    pr = oc.discretize(ocp, transcription, grid=4)
    tf = 3.0
    w = pr.initial_point({x: lambda t: t, v: lambda t: -t, u: lambda t: 2 * t - 4, k: 0.7, ocp.tf: tf})
    t = np.linspace(0.0, tf, 5)
    assert w[pr.index.tf] == tf and w[pr.index.statics] == 0.7
    assert w[pr.index.initial_states] == 0.0                       # v(0) = -0 is free
    at = (t[:-1] + t[1:]) / 2 if transcription.controls == "constant" else t
    np.testing.assert_allclose(w[pr.index.controls], np.clip(2 * at - 4, -3, 3), rtol=0, atol=1e-15)
    if pr.index.states.size:
        np.testing.assert_allclose(w[pr.index.states], np.column_stack([t[1:], -t[1:]]).ravel(),
                                   rtol=0, atol=1e-15)
    if pr.index.collocation_states.size:
        tc = (t[:-1, None] + np.diff(t)[:, None] * np.array(cs.collocation_points(2, "legendre"))).ravel()
        np.testing.assert_allclose(w[pr.index.collocation_states], np.column_stack([tc, -tc]).ravel(),
                                   rtol=0, atol=1e-14)


def test_objective_of_w_is_the_hand_computed_cost():
    """x' = u, min int u^2 + x(T)^2 with explicit Euler and u = c: the cost is c^2 T + (1 + c T)^2."""
    ocp = oc.OCP(t0=0.0, tf=2.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(u ** 2)
    ocp.minimize_terminal(x ** 2)
    pr = oc.discretize(ocp, oc.ExplicitEuler(), grid=8)
    c = 0.3
    w = np.zeros(pr.lbx.size)
    w[pr.index.controls] = c
    w[pr.index.states] = 1.0 + c * np.linspace(0.25, 2.0, 8)
    assert pr.objective(w) == pytest.approx(c ** 2 * 2.0 + (1 + 2 * c) ** 2, rel=1e-14)


def test_block_value_by_kind_refuses_an_ambiguous_kind():
    ocp, *_ = everything_problem(None)
    pr = oc.discretize(ocp, oc.Collocation(degree=2), grid=3)
    w = np.arange(pr.lbx.size, dtype=float)
    points = pr.block_value(w, BlockKind.STATE, Sampling.COLLOCATION_POINTS)
    assert points.shape == (2, 6)
    np.testing.assert_array_equal(points.ravel(order="F"), w[pr.index.collocation_states])
    with pytest.raises(ValueError, match=r"kind: expected one block of kind state, found 2"):
        pr.block_value(w, BlockKind.STATE)


# ------------------------------------------------------------------ schemes
def test_named_schemes_carry_their_tableau():
    assert oc.Ralston().tableau.name == "ralston" and oc.Heun().tableau.name == "heun"
    with pytest.raises(TypeError, match=r"tableau: Heun carries its own tableau"):
        oc.Heun(oc.RK4().tableau)
    with pytest.raises(TypeError, match=r"expand: expected True or False"):
        oc.Collocation(expand="yes")


def test_ralston_step_is_the_hand_written_scheme():
    """One step against k1 = f(t, x), k2 = f(t + 2h/3, x + 2h/3 k1), x + h (k1/4 + 3 k2/4)."""
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, x ** 2 * cs.sin(ocp.t) + u)
    ocp.initial(x, 0.5)
    ocp.minimize_integral(u ** 2)
    tr = oc.Ralston()
    step = tr.step_function(oc.discretize(ocp, tr, grid=2).model)

    def f(t, z, v):
        return z ** 2 * np.sin(t) + v

    z, v, t, h = 0.7, -0.2, 0.3, 0.25
    k1 = f(t, z, v)
    k2 = f(t + 2 * h / 3, z + 2 * h / 3 * k1, v)
    expected = z + h * (k1 / 4 + 3 * k2 / 4)
    got = float(step(z, v, v, [], t, h, 1.0)[0])
    assert got == pytest.approx(expected, rel=1e-15)


def test_ralston_dense_output_meets_the_nodes():
    ocp, x, _v, _u, _k = everything_problem(None, free_time=False)
    sol = oc.solve(ocp, oc.Ralston(), grid=6)
    assert sol.success, sol.status
    np.testing.assert_allclose(sol.at(x, sol.t[1:]), sol.value(x)[1:], rtol=0, atol=1e-12)

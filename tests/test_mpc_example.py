"""examples/mpc.py: the closed loop stabilises the cart-pole, every solve succeeds, and the compiled
controller's move is the one a fresh ``oc.solve`` finds at the same measured state."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import casadi as cs
import numpy as np
import pytest

import occontrol as oc

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mpc.py"


def _load():
    spec = importlib.util.spec_from_file_location("mpc_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


mpc = _load()


@pytest.fixture(scope="module")
def loop():
    """5 s of closed loop at N = 20 (dt = 0.1 s), IPOPT's tolerance tight enough to compare moves at 1e-8."""
    return mpc.closed_loop(N=20, K=50, tol=1e-12)


def test_closed_loop_stabilises_the_pendulum(loop):
    assert loop.failed == []
    assert all(s.status == "Solve_Succeeded" for s in loop.solutions)
    # from theta = 0.3 rad, 0.5 m off: after 5 s the pendulum stands upright, the cart at rest at 0
    assert np.linalg.norm(loop.states[0]) > 0.5
    assert np.linalg.norm(loop.states[-1]) < 1e-2
    norms = np.linalg.norm(loop.states, axis=1)
    assert np.all(np.diff(norms[25:]) < 0)  # and it keeps converging, no oscillation left
    # the first moves are at the force bound (the problem is constrained), none beyond it but for
    # IPOPT's bound relaxation (bound_relax_factor 1e-8, relative)
    assert np.abs(loop.controls).max() <= mpc.F_MAX * (1 + 2e-8)
    assert np.isclose(np.abs(loop.controls[0]), mpc.F_MAX, rtol=1e-6)


def test_plant_is_the_model_integrated_independently(loop):
    """The recorded states follow the cart-pole under the applied controls: a separate casadi
    cvodes integrator (not oc.simulate) from each recorded state lands on the next one."""
    x, F = cs.MX.sym("x", 4), cs.MX.sym("F")
    step = cs.integrator("ref", "cvodes", {"x": x, "p": F, "ode": mpc.cartpole_ode(x, F)}, 0.0, loop.t[1],
                         {"abstol": 1e-12, "reltol": 1e-12})
    for k in range(0, 50, 7):
        ref = np.asarray(step(x0=loop.states[k], p=loop.controls[k])["xf"]).ravel()
        np.testing.assert_allclose(loop.states[k + 1], ref, atol=1e-7)


@pytest.mark.parametrize("k", [0, 1, 5, 20])
def test_first_move_equals_a_fresh_solve(loop, k):
    """The warm-started, compiled re-solve and a cold oc.solve of the same OCP with x(0) fixed to the
    measured state give the same first control."""
    ocp, X, F, _ = mpc.horizon_ocp(x0=loop.states[k])
    fresh = oc.solve(ocp, mpc.transcription(), grid=20, solver=oc.Ipopt(tol=1e-12))
    assert fresh.success
    assert abs(float(np.asarray(fresh.value(F))[0]) - loop.controls[k]) <= 1e-8
    np.testing.assert_allclose(np.asarray(loop.solutions[k].value(loop.X)), np.asarray(fresh.value(X)), atol=1e-8)


def test_shifted_warm_start_gives_the_same_moves(loop):
    """The shifted guess changes where IPOPT starts, not where it ends."""
    shifted = mpc.closed_loop(N=20, K=8, shift=True, tol=1e-12)
    assert shifted.failed == []
    np.testing.assert_allclose(shifted.controls, loop.controls[:8], atol=1e-8)


def test_main_writes_the_figure(tmp_path, capsys):
    out = tmp_path / "mpc.png"
    assert mpc.main(["--N", "10", "--K", "3", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "final state" in capsys.readouterr().out

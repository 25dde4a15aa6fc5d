"""Looking at and keeping a solution: ``value`` of expressions, ``plot``, ``save``/``load``
(bit-exact, under RK4, single-shooting Euler and collocation, with a free tf and a static
parameter), re-solving from a loaded solution, IPOPT's iteration history, and ``--verbose``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import casadi as cs
import numpy as np
import pytest
from matplotlib.figure import Figure

import occontrol as oc
from occontrol.cli import main
from occontrol.io import DamagedFile

TRANSCRIPTIONS = {"rk4": lambda: oc.RK4(), "euler-single": lambda: oc.ExplicitEuler(shooting="single"),
                  "collocation": lambda: oc.Collocation()}


def free_time_problem(tf=None):
    """x0' = x1, x1' = u + p; minimise the time-weighted effort, reach x0 = 1, p near 0.3.

    A free final time in [0.5, 3] unless ``tf`` is given; p is a static decision variable."""
    ocp = oc.OCP(t0=0.0, tf=oc.FreeTime(lower=0.5, upper=3.0) if tf is None else tf)
    x = ocp.state("x", 2)
    u = ocp.control("u", lower=-4.0, upper=4.0)
    p = ocp.variable("p", lower=-2.0, upper=2.0)
    ocp.dynamics(x, cs.vertcat(x[1], u + p))
    ocp.initial(x, [0.0, 0.0])
    ocp.minimize_integral(u ** 2 + 1.0)
    ocp.minimize_terminal(10 * (x[0] - 1.0) ** 2 + (p - 0.3) ** 2)
    return ocp, x, u, p


def unbounded_problem():
    """A nonlinear problem without inequality constraints (no bounds): IPOPT has no barrier
    to restart, so its exact optimum is a point where it stops at iteration 0."""
    ocp = oc.OCP(t0=0.0, tf=1.5)
    x = ocp.state("x", 2)
    u = ocp.control("u")
    p = ocp.variable("p")
    ocp.dynamics(x, cs.vertcat(x[1], -cs.sin(x[0]) + u))
    ocp.initial(x, [1.0, 0.0])
    ocp.minimize_integral(cs.sumsqr(x) + u ** 2 + (p * x[0]) ** 2)
    ocp.minimize_terminal((p - 0.5) ** 2 + x[1] ** 2)
    return ocp, x, u, p


@pytest.fixture(scope="module")
def solved():
    ocp, x, u, p = free_time_problem(tf=2.0)
    return oc.solve(ocp, grid=6), ocp, x, u, p


# ------------------------------------------------------------ value(expr)
def test_value_of_state_expressions_is_computed_at_the_nodes(solved):
    sol, ocp, x, u, p = solved
    assert sol.success, sol.status
    X, U, P = sol.value(x), sol.value(u), sol.value(p)
    np.testing.assert_allclose(sol.value(x[0] + 2 * x[1]), X[:, 0] + 2 * X[:, 1], rtol=1e-15, atol=0)
    np.testing.assert_allclose(sol.value(x * P), X * P, rtol=1e-15, atol=0)
    # controls at the nodes of a state expression: the interval's value, the last node the last interval's
    U_nodes = np.append(U, U[-1])
    np.testing.assert_allclose(sol.value(x[1] * u), X[:, 1] * U_nodes, rtol=1e-15, atol=0)
    np.testing.assert_allclose(sol.value(ocp.t * x[0]), sol.t * X[:, 0], rtol=1e-15, atol=0)
    np.testing.assert_allclose(sol.value(ocp.t + 0 * u), sol.t, rtol=0, atol=0)
    stacked = sol.value(cs.vertcat(x, u))
    assert stacked.shape == (sol.N + 1, 3)
    np.testing.assert_array_equal(stacked[:, :2], X)


def test_value_of_control_and_static_expressions(solved):
    sol, ocp, x, u, p = solved
    U, P = sol.value(u), sol.value(p)
    got = sol.value(u * p - 1)
    assert got.shape == (sol.N,)  # piecewise-constant controls alone: over the intervals
    np.testing.assert_allclose(got, U * P - 1, rtol=1e-15, atol=1e-15)
    assert sol.value(2 * p + ocp.tf_symbol) == pytest.approx(2 * P + 2.0, rel=1e-15)
    assert isinstance(sol.value(p ** 2), float)
    # plain symbols keep their behaviour
    np.testing.assert_array_equal(sol.value(x), sol.nodes.states.T)


def test_value_of_linear_controls_is_at_the_nodes():
    ocp, x, u, p = free_time_problem(tf=2.0)
    sol = oc.solve(ocp, oc.RK4(controls="linear"), grid=5)
    assert sol.success, sol.status
    U = sol.value(u)
    assert U.shape == (6,)
    np.testing.assert_allclose(sol.value(3 * u), 3 * U, rtol=1e-15, atol=0)
    np.testing.assert_allclose(sol.value(u + x[0]), U + sol.value(x)[:, 0], rtol=1e-15, atol=1e-15)


def test_value_of_matrix_state_expressions():
    ocp = oc.OCP(t0=0.0, tf=1.0)
    X = ocp.state("X", (2, 3))
    u = ocp.control("u", lower=-1.0, upper=1.0)
    ocp.dynamics(X, -X * u)
    ocp.initial(X, np.arange(6.0).reshape(2, 3))
    ocp.minimize_integral(cs.sumsqr(X) + u ** 2)
    sol = oc.solve(ocp, grid=4)
    assert sol.success, sol.status
    V = sol.value(X)
    np.testing.assert_allclose(sol.value(2 * X), 2 * V, rtol=1e-15, atol=0)
    np.testing.assert_allclose(sol.value(X[1, :] - X[0, :]), (V[:, 1, :] - V[:, 0, :])[:, None, :],
                               rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(sol.value(cs.sum2(X)), V.sum(axis=2), rtol=1e-14, atol=1e-14)


def test_value_of_a_foreign_symbol_is_refused(solved):
    sol, *_ = solved
    other = cs.MX.sym("zz")
    with pytest.raises(ValueError, match="value symbol: expected a symbol declared by this OCP.*'zz'"):
        sol.value(other + 1)
    with pytest.raises((TypeError, ValueError), match="value symbol"):
        sol.value("x")


# ------------------------------------------------------------------- plot
def test_plot_draws_states_and_controls(solved):
    sol, *_ = solved
    fig = sol.plot()
    assert isinstance(fig, Figure)
    axes = fig.axes
    assert len(axes) == 2  # one per state, one per control
    assert len(axes[0].lines) == 2 and len(axes[1].lines) == 1
    np.testing.assert_array_equal(axes[0].lines[1].get_ydata(), sol.value(sol.problem.ocp.states[0].symbol)[:, 1])
    control = axes[1].lines[0]
    assert control.get_drawstyle() == "steps-post"
    U = sol.value(sol.problem.ocp.controls[0].symbol)
    np.testing.assert_array_equal(control.get_ydata(), np.append(U, U[-1]))
    np.testing.assert_array_equal(control.get_xdata(), sol.t)


def test_plot_draws_linear_controls_as_lines():
    ocp, x, u, p = free_time_problem(tf=2.0)
    sol = oc.solve(ocp, oc.RK4(controls="linear"), grid=4)
    line = sol.plot().axes[1].lines[0]
    assert line.get_drawstyle() == "default"
    np.testing.assert_array_equal(line.get_ydata(), sol.value(u))


def test_plot_leaves_global_plotting_state_alone():
    script = textwrap.dedent("""
        import sys
        import matplotlib
        matplotlib.use("svg")
        matplotlib.rcParams["lines.linewidth"] = 3.25
        before = dict(matplotlib.rcParams)
        import occontrol as oc
        from helpers import lq
        fig = oc.solve(lq()[0], grid=3).plot()
        assert len(fig.axes) == 2
        assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
        after = dict(matplotlib.rcParams)
        assert before == after, {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert "matplotlib.pyplot" not in sys.modules
        print("unchanged")
    """)
    tests = str(Path(__file__).parent)  # for helpers.py
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert "unchanged" in done.stdout


# -------------------------------------------------------------- save / load
@pytest.mark.parametrize("name", list(TRANSCRIPTIONS))
def test_save_load_is_exact_to_the_bit(name, tmp_path):
    ocp, x, u, p = free_time_problem()
    sol = oc.solve(ocp, TRANSCRIPTIONS[name](), grid=5)
    assert sol.success, sol.status
    path = tmp_path / "sol.npz"
    sol.save(path)
    back = oc.Solution.load(path, ocp)
    assert back.loaded and back.reused and not sol.loaded
    assert np.array_equal(back.w, sol.w)
    assert back.objective == sol.objective and back.objective_parts == sol.objective_parts
    assert back.tf == sol.tf and np.array_equal(back.t, sol.t)
    for sym in (x, u, p):
        assert np.array_equal(back.value(sym), sol.value(sym))
    assert np.array_equal(back.value(x[0] * u), sol.value(x[0] * u))
    times = np.linspace(0.0, sol.tf, 13)
    for sym in (x, u):
        assert np.array_equal(back.at(sym, times), sol.at(sym, times))
    assert (back.status, back.success, back.iterations, back.solver) == (sol.status, True, sol.iterations, "ipopt")
    assert (back.build_seconds, back.solve_seconds) == (sol.build_seconds, sol.solve_seconds)
    assert back.problem.transcription.describe() == sol.problem.transcription.describe()
    assert np.array_equal(back.lam_x, sol.lam_x) and np.array_equal(back.lam_g, sol.lam_g)
    for f in ("obj", "inf_pr", "inf_du", "alpha_pr", "alpha_du"):
        assert np.array_equal(getattr(back.history, f), getattr(sol.history, f))
    assert back.provenance["versions"]["casadi"] == cs.__version__


def test_save_load_keeps_a_nonuniform_grid_and_a_failed_status(tmp_path):
    ocp, x, u, p = free_time_problem(tf=2.0)
    grid = oc.Grid([0.0, 0.1, 0.5, 0.6, 1.0])
    sol = oc.solve(ocp, grid=grid, solver=oc.Ipopt(max_iter=2))
    assert not sol.success  # stopped at the iteration limit: kept as failed
    sol.save(tmp_path / "failed.npz")
    back = oc.Solution.load(tmp_path / "failed.npz", ocp)
    assert not back.success and back.status == sol.status and back.outcome == "failed"
    assert back.problem.grid == grid and np.array_equal(back.w, sol.w)
    assert back.objective == sol.objective


def test_resolve_from_a_loaded_solution_stops_at_once(tmp_path):
    ocp, x, u, p = unbounded_problem()
    cold = oc.solve(ocp, oc.RK4(), grid=8)
    assert cold.success, cold.status
    cold.save(tmp_path / "opt.npz")
    loaded = oc.Solution.load(tmp_path / "opt.npz", ocp)
    warm = oc.solve(ocp, oc.RK4(), grid=8, guess=loaded)
    assert warm.success, warm.status
    assert warm.iterations <= min(cold.iterations, 5)
    assert warm.iterations < cold.iterations
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)


def test_history_is_ipopts_record(solved):
    sol, *_ = solved
    h = sol.history
    assert len(h) == sol.iterations + 1  # iteration 0 is the start point
    assert h.obj[-1] == pytest.approx(sol.objective, rel=1e-12)
    assert h.alpha_pr[0] == 0 and np.all(h.alpha_pr[1:] > 0) and np.all(h.alpha_pr <= 1)
    assert h.inf_pr[-1] <= 1e-8 and h.inf_du[-1] <= 1e-8
    d = sol.history.to_dict()
    assert set(d) == {"obj", "inf_pr", "inf_du", "alpha_pr", "alpha_du"} and len(d["obj"]) == len(h)


def test_other_solvers_leave_the_history_empty():
    ocp, x, u, p = unbounded_problem()
    sol = oc.solve(ocp, grid=4, solver=oc.CasadiSolver("sqpmethod", {"print_iteration": False,
                                                                     "print_header": False,
                                                                     "qpsol_options": {"printLevel": "none"}}))
    assert len(sol.history) == 0


# --------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def saved(tmp_path_factory, solved):
    sol = solved[0]
    path = tmp_path_factory.mktemp("saved") / "sol.npz"
    sol.save(path)
    return path


def test_load_with_another_ocp_names_the_mismatch(saved):
    renamed = oc.OCP(t0=0.0, tf=2.0)
    y = renamed.state("y", 2)
    v = renamed.control("u")
    renamed.variable("p")
    renamed.dynamics(y, cs.vertcat(y[1], v))
    renamed.initial(y, [0.0, 0.0])
    renamed.minimize_integral(v ** 2)
    with pytest.raises(ValueError, match="has the state 'x', which this OCP does not declare"):
        oc.Solution.load(saved, renamed)

    reshaped = oc.OCP(t0=0.0, tf=2.0)
    x = reshaped.state("x", 3)
    u = reshaped.control("u")
    reshaped.variable("p")
    reshaped.dynamics(x, cs.vertcat(x[1], x[2], u))
    reshaped.initial(x, [0.0, 0.0, 0.0])
    reshaped.minimize_integral(u ** 2)
    with pytest.raises(ValueError, match=r"'x' is a state of shape \(3, 1\) here but a state of shape \(2, 1\)"):
        oc.Solution.load(saved, reshaped)

    moved, *_ = free_time_problem(tf=2.0)
    moved.initial(moved.states[0].symbol, [0.5, 0.0])  # same names and shapes, another start: other values
    with pytest.raises(ValueError, match="values of 'x'"):
        oc.Solution.load(saved, moved)

    with pytest.raises(TypeError, match="ocp"):
        oc.Solution.load(saved, "not an OCP")


def test_load_of_a_damaged_file_names_the_path(tmp_path, saved):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(DamagedFile, match="garbage.npz"):
        oc.Solution.load(garbage, free_time_problem(tf=2.0)[0])
    other = tmp_path / "other.npz"
    np.savez(other, w=np.zeros(3))
    with pytest.raises(DamagedFile, match="other.npz.*document"):
        oc.Solution.load(other, free_time_problem(tf=2.0)[0])
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(saved.read_bytes()[:200])
    with pytest.raises(DamagedFile, match="truncated.npz"):
        oc.Solution.load(truncated, free_time_problem(tf=2.0)[0])


# ---------------------------------------------------------------- --verbose
TINY = ["deep-limit", "--grids", "4,8", "--n", "60", "--noise", "0.35", "--starts", "1", "--no-figures"]  # test_cli's


@pytest.mark.parametrize("verbose", [False, True])
def test_verbose_prints_ipopts_progress(verbose, tmp_path, capfd):
    code = main(TINY + ["--out", str(tmp_path / "out")] + (["--verbose"] if verbose else []))
    out = capfd.readouterr().out
    assert code == 0, out
    assert ("iter    objective    inf_pr" in out) is verbose

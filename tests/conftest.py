"""Fixtures shared by the tests: reference problems with known optima, the in-process CLI runner, strict JSON.

The problem fixtures are factories (a fresh OCP per call), so a test may build as many as it needs.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from collections.abc import Callable
from typing import Any

import casadi as cs
import numpy as np
import pytest
from hypothesis import settings

import occontrol as oc
from occontrol.refinement import ConvergenceStudy, Distance, Level
from helpers import IPOPT, lq, nlp_forbidden

# CI (CI=true, as .ci/run is run) draws the same examples every run, so a submission is judged on a fixed
# campaign; elsewhere each run draws new ones, which is how the campaigns find new cases.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def _lq_problem() -> tuple[oc.OCP, cs.MX, cs.MX]:
    """min int_0^1 (x^2 + u^2) dt, x' = u, x(0) = 1; returns (ocp, x, u)."""
    ocp = oc.OCP(t0=0.0, tf=1.0)
    x = ocp.state("x")
    u = ocp.control("u")
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2 + u ** 2)
    return ocp, x, u


def _swing_up() -> tuple[oc.OCP, cs.MX, cs.MX]:
    """Pendulum swing-up: nonlinear, control bounds, terminal constraints (IPOPT needs ~15 iterations)."""
    ocp = oc.OCP(t0=0.0, tf=3.0)
    x = ocp.state("x", 2)
    u = ocp.control("u", lower=-2.0, upper=2.0)
    ocp.dynamics(x, cs.vertcat(x[1], -cs.sin(x[0]) + u))
    ocp.initial(x, [0.0, 0.0])
    ocp.minimize_integral(0.1 * u ** 2)
    ocp.subject_to_terminal(x == cs.DM([np.pi, 0.0]))
    return ocp, x, u


def _pendulum() -> oc.OCP:
    """Swing a pendulum (g = 9.81) from rest at q = 0 to rest at q = pi with the least int u^2, no bounds."""
    ocp = oc.OCP(t0=0.0, tf=3.0)
    q = ocp.state("q")
    w = ocp.state("w")
    u = ocp.control("u")
    ocp.dynamics(q, w)
    ocp.dynamics(w, -9.81 * cs.sin(q) + u)
    ocp.initial(q, 0.0)
    ocp.initial(w, 0.0)
    ocp.minimize_integral(u ** 2)
    ocp.subject_to_terminal(q == math.pi)
    ocp.subject_to_terminal(w == 0)
    return ocp


def _fake_study(objectives, l2s, N0=4) -> ConvergenceStudy:
    """Levels with given objectives and distances (no solves)."""
    study = ConvergenceStudy()
    Ns = [N0 * 2 ** k for k in range(len(objectives))]
    study.levels = [Level(N=N, h=1.0 / N, objective=E, loss=E, reg_l2=0.0, reg_h1=0.0, status="fake",
                          success=True, iterations=0, build_seconds=0.0, solve_seconds=0.0)
                    for N, E in zip(Ns, objectives)]
    study.solutions = [None] * len(Ns)
    study.distances = [Distance(a, b, l2, l2, l2, abs(Eb - Ea))
                       for a, b, Ea, Eb, l2 in zip(Ns, Ns[1:], objectives, objectives[1:], l2s)]
    return study


def _run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``occontrol.cli.main(argv)`` in-process: (exit code, stdout, stderr); argparse's SystemExit becomes the code."""
    from occontrol.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # usage errors found while parsing exit through argparse
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def _strict_json(text: str) -> Any:
    """``json.loads`` refusing NaN and Infinity (not standard JSON)."""
    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="session")
def lq_optimum() -> float:
    """The optimum of :func:`lq_problem`: the Riccati solution gives tanh(1)."""
    return math.tanh(1.0)


@pytest.fixture(scope="session")
def lq_problem() -> Callable[[], tuple[oc.OCP, cs.MX, cs.MX]]:
    """Builds min int_0^1 (x^2 + u^2) dt, x' = u, x(0) = 1 (optimum ``lq_optimum``); returns (ocp, x, u)."""
    return _lq_problem


@pytest.fixture(scope="session")
def swing_up() -> Callable[[], tuple[oc.OCP, cs.MX, cs.MX]]:
    """Builds the bounded pendulum swing-up to (pi, 0); returns (ocp, x, u)."""
    return _swing_up


@pytest.fixture(scope="session")
def pendulum() -> Callable[[], oc.OCP]:
    """Builds the unbounded pendulum swing-up with states q, w; returns the OCP."""
    return _pendulum


@pytest.fixture(scope="session")
def run_cli() -> Callable[[list[str]], tuple[int, str, str]]:
    """The command line in-process: ``run_cli(argv) -> (exit code, stdout, stderr)``."""
    return _run_cli


@pytest.fixture(scope="session")
def strict_json() -> Callable[[str], Any]:
    """``strict_json(text)``: parse JSON, refusing NaN and Infinity."""
    return _strict_json


@pytest.fixture
def no_nlp():
    """Fail the test if an NLP solver is created (``casadi.nlpsol``)."""
    with nlp_forbidden():
        yield


@pytest.fixture
def no_graph():
    """Fail the test if an NLP solver is created or an NLP graph is built (``Transcription.discretize``)."""
    with nlp_forbidden(graph_too=True):
        yield


@pytest.fixture(scope="module")
def lq_solution():
    """The bounded LQ problem of :func:`helpers.lq` solved with explicit Euler on N = 4: (ocp, x, u, sol)."""
    ocp, x, u = lq()
    sol = oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT)
    assert sol.success
    return ocp, x, u, sol


@pytest.fixture(scope="session")
def fake_study() -> Callable[..., ConvergenceStudy]:
    """``fake_study(objectives, l2s, N0=4)``: a study with given objectives and distances, no solves."""
    return _fake_study

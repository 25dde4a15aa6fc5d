"""Bad arguments to solve (the OCP, solvers and their options, hess_lag, warm starts) get a clear
ValueError or TypeError naming the argument, before any NLP is built.

Each case checks the exception type and the argument named in the message (see tests/helpers.py).
"""

from __future__ import annotations

import casadi as cs
import numpy as np
import pytest

import occontrol as oc
from helpers import INF, IPOPT, NAN, lq


# ----------------------------------------------------------------- the guards
def test_guards_catch_nlp_construction(no_graph):
    """The guards themselves work: a valid solve trips them."""
    ocp, _, _ = lq()
    with pytest.raises(AssertionError, match="discretize was called"):
        oc.solve(ocp, grid=4, solver=IPOPT)


def test_nlpsol_guard_catches_solver_creation(no_nlp):
    ocp, _, _ = lq()
    with pytest.raises(AssertionError, match="nlpsol was called"):
        oc.solve(ocp, grid=4, solver=IPOPT)


def test_ocp_of_the_wrong_type(no_graph):
    with pytest.raises(TypeError, match=r"ocp: expected an oc.OCP"):
        oc.solve("ocp", grid=4, solver=IPOPT)


# ------------------------------------------------------------------ solvers
@pytest.mark.parametrize("kwargs, error, match", [
    ({"options": {"no_such_option": 1}}, ValueError, r"options: IPOPT refused .*no_such_option"),
    ({"options": {"mu_strategy": "bogus"}}, ValueError, r"options: IPOPT refused"),
    ({"options": {"tol": "abc"}}, ValueError, r"options: IPOPT refused"),
    ({"options": [("tol", 1e-6)]}, TypeError, r"options: expected a mapping of IPOPT option names"),
    ({"hessian": "bfgs"}, ValueError, r"hessian: expected one of 'exact', 'limited-memory', got 'bfgs'"),
    ({"hessian": "limited_memory"}, ValueError, r"hessian: expected one of"),
    ({"tol": -1.0}, ValueError, r"tol: expected a positive number"),
    ({"tol": 0.0}, ValueError, r"tol: expected a positive number"),
    ({"tol": NAN}, ValueError, r"tol: expected a finite number"),
    ({"tol": INF}, ValueError, r"tol: expected a finite number"),
    ({"tol": "1e-8"}, TypeError, r"tol: expected a real number"),
    ({"tol": True}, TypeError, r"tol: expected a real number"),
    ({"max_iter": -1}, ValueError, r"max_iter: expected an integer >= 0"),
    ({"max_iter": 2.5}, TypeError, r"max_iter: expected an integer >= 0"),
    ({"max_iter": 100.0}, TypeError, r"max_iter: expected an integer >= 0"),
    ({"max_iter": True}, TypeError, r"max_iter: expected an integer >= 0"),
    ({"max_iter": "10"}, TypeError, r"max_iter: expected an integer >= 0"),
    ({"max_wall_time": 0.0}, ValueError, r"max_wall_time: expected a positive number of seconds"),
    ({"max_wall_time": NAN}, ValueError, r"max_wall_time: expected a finite number"),
    ({"print_level": 13}, ValueError, r"print_level: expected 0 to 12"),
    ({"print_level": -1}, ValueError, r"print_level: expected an integer >= 0"),
    ({"linear_solver": "ma27"}, ValueError, r"linear_solver: expected one of 'mumps', 'spral'"),
])
def test_bad_ipopt_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        oc.Ipopt(**kwargs)


@pytest.mark.parametrize("plugin, options, error, match", [
    ("nope", {}, ValueError, r"plugin: expected an NLP solver CasADi ships"),
    (None, {}, ValueError, r"plugin: expected an NLP solver CasADi ships"),
    ("sqpmethod", 3, TypeError, r"options: expected a mapping"),
])
def test_bad_casadi_solver(plugin, options, error, match):
    with pytest.raises(error, match=match):
        oc.CasadiSolver(plugin, options=options)


@pytest.mark.parametrize("solver", ["ipopt", oc.Ipopt, oc.RK4(), {"tol": 1e-6}])
def test_solver_of_the_wrong_type(solver, no_graph):
    ocp, _, _ = lq()
    with pytest.raises(TypeError, match=r"solver: expected oc.Ipopt\(...\) or oc.CasadiSolver\(...\)"):
        oc.solve(ocp, grid=4, solver=solver)


@pytest.mark.parametrize("hess_lag", [3, "gauss-newton", np.eye(2)])
def test_hess_lag_of_the_wrong_type(hess_lag, no_graph):
    ocp, _, _ = lq()
    with pytest.raises(TypeError, match=r"hess_lag: expected a casadi.Function or a callable"):
        oc.solve(ocp, grid=4, solver=IPOPT, hess_lag=hess_lag)


def test_hess_lag_of_the_wrong_size(no_nlp):
    ocp, _, _ = lq()
    bad = cs.Function("h", [cs.MX.sym("x", 3)], [cs.MX.eye(3)])
    with pytest.raises(ValueError, match=r"hess_lag: expected inputs"):
        oc.solve(ocp, grid=4, solver=IPOPT, hess_lag=bad)


@pytest.mark.parametrize("value, error, match", [
    (1, TypeError, r"warm_start_multipliers: expected True or False"),
    ("yes", TypeError, r"warm_start_multipliers: expected True or False"),
    (True, ValueError, r"warm_start_multipliers: needs a previous Solution as guess"),
])
def test_bad_warm_start_multipliers(value, error, match, no_graph):
    ocp, x, _ = lq()
    with pytest.raises(error, match=match):
        oc.solve(ocp, grid=4, solver=IPOPT, guess={x: 1.0}, warm_start_multipliers=value)

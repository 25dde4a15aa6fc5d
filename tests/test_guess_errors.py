"""Bad guesses (keys, shapes, values, solutions of another OCP, the final time) get a clear ValueError or TypeError
naming the argument, before any NLP is built.

Each case checks the exception type and the argument named in the message (see tests/helpers.py). The
property-based tests at the end draw malformed and well-formed guess shapes and values and require an error exactly
for the malformed ones.
"""

from __future__ import annotations

import casadi as cs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import occontrol as oc
from helpers import (ARRAY_SHAPES, FINITE, INF, IPOPT, NAN, PROPERTY, SPECIAL, _constant_shapes,
                     _foreign, _value_shape, _values, lq, mixed, nlp_forbidden)


# ------------------------------------------------------------ guess keys
def test_symbol_of_another_ocp_as_guess_key(no_nlp):
    ocp, x, _ = lq()
    _, y, _, _ = _foreign()
    with pytest.raises(ValueError, match=r"guess key: expected a symbol declared by this OCP"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={x: 1.0, y: 0.0})


@pytest.mark.parametrize("key", ["x", 1, None])
def test_guess_key_not_a_symbol(key, no_nlp):
    ocp, _, _ = lq()
    with pytest.raises(ValueError, match=r"guess key: expected a symbol declared by this OCP"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={key: 1.0})


def test_guess_key_time_symbol(no_nlp):
    ocp, _, _ = lq()
    with pytest.raises(ValueError, match=r"guess key: expected a symbol declared by this OCP"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={ocp.t: 1.0})


def test_solution_of_another_ocp_as_guess(lq_solution, no_nlp):
    *_, sol = lq_solution
    ocp, x, _ = lq()
    with pytest.raises(ValueError, match=r"^guess: expected a Solution of this OCP"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=8, solver=IPOPT, guess=sol)
    with pytest.raises(ValueError, match=r"^guess for 'x': expected a Solution of this OCP"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=8, solver=IPOPT, guess={x: sol})


# ------------------------------------------------------------------ guesses
@pytest.mark.parametrize("name, value, match", [
    ("x", [1.0, 2.0, 3.0], r"got shape \(3,\)"),
    ("x", np.zeros((4, 2)), r"got shape \(4, 2\)"),        # N rows for a state: needs N + 1
    ("x", np.zeros((2, 5)), r"got shape \(2, 5\)"),        # transposed series
    ("x", np.zeros(10), r"got shape \(10,\)"),             # flattened series
    ("x", np.zeros((5, 3)), r"got shape \(5, 3\)"),
    ("M", np.ones((3, 2)), r"got shape \(3, 2\)"),         # transposed constant
    ("M", np.ones((5, 3, 2)), r"got shape \(5, 3, 2\)"),   # transposed per node
    ("M", np.ones((4, 2, 3)), r"got shape \(4, 2, 3\)"),
    ("M", np.ones((5, 2, 3, 1)), r"got shape \(5, 2, 3, 1\)"),
    ("u", np.zeros(3), r"got shape \(3,\)"),
    ("u", np.zeros(6), r"got shape \(6,\)"),
    ("u", np.zeros((5, 2)), r"got shape \(5, 2\)"),
    ("p", np.ones(5), r"a static variable is constant in time.*got shape \(5,\)"),
    ("p", [1.0, 2.0], r"a static variable is constant in time.*got shape \(2,\)"),
])
def test_guess_array_of_the_wrong_shape(name, value, match, no_nlp):
    ocp, sym = mixed()
    with pytest.raises(ValueError, match=rf"guess for '{name}': expected a constant of shape .*{match}"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={sym[name]: value})


def test_guess_with_interval_values_for_linear_controls(no_nlp):
    ocp, sym = mixed()
    with pytest.raises(ValueError, match=r"guess for 'u': .*N \+ 1 node values or N interval values"):
        oc.solve(ocp, oc.ExplicitEuler(controls="linear"), grid=4, solver=IPOPT, guess={sym["u"]: np.zeros(4)})


@pytest.mark.parametrize("name, value, error, match", [
    ("x", [1.0, NAN], ValueError, r"contains NaN"),
    ("x", [INF, 0.0], ValueError, r"contains inf"),
    ("M", np.full((5, 2, 3), -INF), ValueError, r"contains inf"),
    ("u", np.array([0.0, 0.0, NAN, 0.0]), ValueError, r"contains NaN"),
    ("p", NAN, ValueError, r"contains NaN"),
    ("x", lambda t: [t, NAN], ValueError, r"contains NaN"),
    ("x", lambda t: [1.0, 2.0, 3.0], ValueError, r"expected shape \(2, 1\)"),
    ("u", lambda t: "fast", TypeError, r"expected a number or an array of numbers"),
    ("x", "abc", TypeError, r"expected a number or an array of numbers"),
    ("x", [[1.0], [2.0, 3.0]], TypeError, r"expected a number or an array of numbers"),
    ("x", cs.MX.sym("q", 2), TypeError, r"expected a number or an array of numbers"),
])
def test_bad_guess_values(name, value, error, match, no_nlp):
    ocp, sym = mixed()
    with pytest.raises(error, match=rf"guess for '{name}': {match}"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={sym[name]: value})


@pytest.mark.parametrize("guess", [[1.0], (1.0,), {1.0}, 1.0, "x"])
def test_guess_not_a_dict(guess, no_nlp):
    ocp, _, _ = lq()
    with pytest.raises(TypeError, match=r"guess: expected a dict \{symbol: value\} or a Solution"):
        oc.solve(ocp, grid=4, solver=IPOPT, guess=guess)


@pytest.mark.parametrize("tf, error, match", [
    (NAN, ValueError, r"guess for tf: expected a finite number"),
    (INF, ValueError, r"guess for tf: expected a finite number"),
    ("2", TypeError, r"guess for tf: expected a real number"),
    ([2.0], TypeError, r"guess for tf: expected a real number"),
    (0.0, ValueError, r"guess for tf: expected a final time > t0=0.0"),
    (-1.0, ValueError, r"guess for tf: expected a final time > t0=0.0"),
])
def test_bad_final_time_guess(tf, error, match, no_nlp):
    ocp = oc.OCP(t0=0.0, tf=oc.FreeTime(guess=1.0, lower=0.0, upper=10.0))
    x = ocp.state("x")
    ocp.dynamics(x, 1.0)
    ocp.minimize_terminal(ocp.tf)
    with pytest.raises(error, match=match):
        oc.solve(ocp, oc.ExplicitEuler(), grid=4, solver=IPOPT, guess={ocp.tf: tf})


# =================================================== property-based tests
_PROBLEMS: dict = {}


def _mixed_problem(N: int, controls: str):
    """One DiscreteProblem per (N, controls), shared by the guess properties (building costs ms)."""
    if (N, controls) not in _PROBLEMS:
        ocp, sym = mixed()
        _PROBLEMS[N, controls] = (oc.discretize(ocp, oc.ExplicitEuler(controls=controls), grid=N), sym)
    return _PROBLEMS[N, controls]


def _guess_is_well_formed(arr_shape: tuple[int, ...], var, N: int, controls: str) -> bool:
    shape = var.shape
    if arr_shape in _constant_shapes(shape):
        return True
    if var.kind == "variable" or not arr_shape:
        return False
    per_step = {shape, _value_shape(shape), (shape[0] * shape[1],)}
    rows = {N + 1} | ({N} if var.kind == "control" and controls == "constant" else set())
    return arr_shape[0] in rows and arr_shape[1:] in per_step


@st.composite
def guess_case(draw):
    N = draw(st.integers(1, 4))
    controls = draw(st.sampled_from(["constant", "linear"]))
    name = draw(st.sampled_from(["x", "M", "u", "p"]))
    problem, sym = _mixed_problem(N, controls)
    var = problem.ocp.declared(sym[name])
    shape = var.shape
    per_step = sorted({shape, _value_shape(shape), (var.size,)})
    well = sorted(_constant_shapes(shape)) + [(rows,) + s for rows in (N, N + 1) for s in per_step]
    # Malformed neighbours: one row too many or few, a transposed step, an extra axis.
    near = [(rows,) + s for rows in (N - 1, N + 2) for s in per_step if rows > 0]
    near += [(N + 1,) + shape[::-1], (N + 1,) + shape + (1,), shape + (2,)]
    arr_shape = draw(st.one_of(st.sampled_from(well), st.sampled_from(near), ARRAY_SHAPES))
    return N, controls, name, arr_shape


@PROPERTY
@given(guess_case(), st.floats(0.0, 5.0))
def test_property_guess_shapes(case, offset):
    N, controls, name, arr_shape = case
    problem, sym = _mixed_problem(N, controls)
    var = problem.ocp.declared(sym[name])
    value = _values(arr_shape, offset)
    if _guess_is_well_formed(arr_shape, var, N, controls):
        w0 = problem.initial_point({sym[name]: value})
        assert w0.shape == problem.lbx.shape and np.isfinite(w0).all()
    else:
        with pytest.raises(ValueError, match=rf"^guess for '{name}': expected a constant of shape"):
            problem.initial_point({sym[name]: value})


@PROPERTY
@given(guess_case(), st.data())
def test_property_non_finite_guesses(case, data):
    N, controls, name, arr_shape = case
    problem, sym = _mixed_problem(N, controls)
    size = int(np.prod(arr_shape))
    value = _values((size,), data.draw(FINITE))
    positions = data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=size, unique=True))
    value[positions] = [data.draw(SPECIAL) for _ in positions]
    with nlp_forbidden(), pytest.raises(ValueError, match=rf"^guess for '{name}': contains (NaN|inf)"):
        oc.solve(problem.ocp, oc.ExplicitEuler(controls=controls), grid=N, solver=IPOPT,
                 guess={sym[name]: value.reshape(arr_shape)})

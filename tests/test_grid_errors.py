"""Bad grids (sizes, nodes, refinement factors) get a clear ValueError or TypeError naming the argument,
before any NLP is built.

Each case checks the exception type and the argument named in the message (see tests/helpers.py).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import occontrol as oc
from occontrol.grid import as_grid
from helpers import ARG_ERRORS, INF, IPOPT, NAN, PROPERTY, SPECIAL, lq, nlp_forbidden


# -------------------------------------------------------------------- grid
@pytest.mark.parametrize("N, error", [
    (0, ValueError), (-1, ValueError), (-100, ValueError),
    (2.5, TypeError), (2.0, TypeError), (True, TypeError), (False, TypeError), ("4", TypeError),
    (None, TypeError), ([0.0, 0.5, 1.0], TypeError), (np.float64(3.0), TypeError),
])
def test_bad_N(N, error, no_graph):
    ocp, _, _ = lq()
    with pytest.raises(error, match=r"^grid: expected .*N >= 1"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=N, solver=IPOPT)
    with pytest.raises(error, match=r"^grid: expected .*N >= 1"):
        oc.discretize(ocp, grid=N)


@pytest.mark.parametrize("N, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)])
def test_bad_uniform_grid(N, error):
    with pytest.raises(error, match=r"^N: expected an integer >= 1"):
        oc.Grid.uniform_grid(N)


@pytest.mark.parametrize("nodes, match", [
    ([0.0, 1.0, 1.0, 2.0], r"nodes: expected strictly increasing nodes"),
    ([2.0, 1.0, 0.0], r"nodes: expected strictly increasing nodes"),
    ([0.0, 2.0, 1.0, 3.0], r"nodes: expected strictly increasing nodes"),
    ([0.0], r"nodes: expected a 1-D array of at least 2 nodes"),
    ([], r"nodes: expected a 1-D array of at least 2 nodes"),
    (1.0, r"nodes: expected a 1-D array of at least 2 nodes"),
    ([[0.0, 1.0], [2.0, 3.0]], r"nodes: expected a 1-D array of at least 2 nodes"),
    ([0.0, NAN, 1.0], r"nodes: contains NaN"),
    ([0.0, 1.0, INF], r"nodes: contains inf"),
    ([-INF, 0.0, 1.0], r"nodes: contains inf"),
    ([-1e308, 0.0, 1e308], r"nodes: spacing not representable"),
    ([-1e16, 0.0, 1e-300], r"nodes: spacing not representable"),
])
def test_bad_grid_nodes(nodes, match):
    with pytest.raises(ValueError, match=match):
        oc.Grid(nodes)


@pytest.mark.parametrize("nodes", ["abc", None, [0.0, "a"]])
def test_grid_nodes_not_numbers(nodes):
    with pytest.raises(TypeError, match=r"nodes: expected a number or an array of numbers"):
        oc.Grid(nodes)


@pytest.mark.parametrize("factor, error", [(0, ValueError), (1.5, TypeError)])
def test_bad_refinement_factor(factor, error):
    with pytest.raises(error, match=r"factor: expected an integer >= 1"):
        oc.Grid([0.0, 1.0, 3.0]).refined(factor)


# =================================================== property-based tests
N_VALUES = st.one_of(st.integers(-50, 50), st.floats(allow_nan=True), st.booleans(), st.none(),
                     st.text(max_size=3), st.lists(st.integers(0, 3), max_size=3))


@PROPERTY
@given(N_VALUES)
def test_property_N(N):
    well = isinstance(N, int) and not isinstance(N, bool) and N >= 1
    if well:
        assert as_grid(N).N == N
        return
    ocp, _, _ = lq()
    with nlp_forbidden(graph_too=True), pytest.raises(ARG_ERRORS, match=r"^grid: expected"):
        oc.solve(ocp, oc.ExplicitEuler(), grid=N, solver=IPOPT)


@PROPERTY
@given(st.lists(st.one_of(st.floats(-1e6, 1e6, allow_nan=False), SPECIAL), max_size=8))
def test_property_grid_nodes_never_crash(nodes):
    arr = np.array(nodes, dtype=float)
    increasing = (arr.size >= 2 and np.isfinite(arr).all() and bool(np.all(np.diff(arr) > 0)))
    try:
        grid = oc.Grid(nodes)
    except ValueError as exc:
        assert re.match(r"^nodes: ", str(exc))
        # An increasing, finite list can only be refused when its spacing is unrepresentable.
        assert not increasing or "spacing not representable" in str(exc)
        return
    assert increasing
    assert grid.N == arr.size - 1 and np.all(np.diff(grid.tau) > 0)


@PROPERTY
@given(st.floats(-1e3, 1e3), st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=6),
       st.lists(st.integers(0, 6), max_size=3), st.booleans())
def test_property_grid_nodes_increasing_or_not(start, steps, breaks, reverse):
    nodes = start + np.concatenate([[0.0], np.cumsum(steps)])
    for k in breaks:  # repeat or step back at random places
        if k < nodes.size - 1:
            nodes[k + 1] = nodes[k] - (0.0 if k % 2 else 1.0)
    if reverse:
        nodes = nodes[::-1].copy()
    if not np.all(np.diff(nodes) > 0):  # moderate magnitudes: the plain test is the truth here
        with pytest.raises(ValueError, match=r"^nodes: expected strictly increasing nodes"):
            oc.Grid(nodes)
    else:
        grid = oc.Grid(nodes)
        assert grid.N == len(steps)
        problem = oc.discretize(lq()[0], oc.ExplicitEuler(), grid=grid)
        assert problem.N == len(steps)

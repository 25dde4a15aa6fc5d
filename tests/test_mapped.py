"""The chunked thread map equals the serial map, column for column, for any number of columns."""

import casadi as cs
import numpy as np
import pytest

from occontrol.transcription.model import mapped


def _column_function() -> cs.Function:
    x, v, c = cs.SX.sym("x", 2), cs.SX.sym("v", 3), cs.SX.sym("c")
    y = cs.vertcat(cs.tanh(v[0] * x[0] + v[1] * x[1]) + c, x[0] * x[1] * v[2])
    return cs.Function("column", [x, v, c], [y, cs.dot(y, y)])


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10])
@pytest.mark.parametrize("parallelization", ["serial", "thread"])
def test_mapped_matches_column_by_column_evaluation(n, parallelization):
    fn = _column_function()
    rng = np.random.default_rng(n)
    X, v, c = rng.standard_normal((2, n)), rng.standard_normal(3), rng.standard_normal((1, n))
    out = mapped(fn, n, parallelization, shared=(1,)).call([X, v, c])
    for i in range(n):  # the independent reference: the function itself on column i
        y, q = fn(X[:, i], v, c[0, i])
        np.testing.assert_allclose(np.asarray(out[0])[:, i], np.asarray(y).ravel(), rtol=0, atol=1e-15)
        np.testing.assert_allclose(np.asarray(out[1])[0, i], float(q), rtol=0, atol=1e-15)
    assert out[0].shape == (2, n) and out[1].shape == (1, n)


def test_a_single_output_function_maps_with_a_remainder():
    x = cs.SX.sym("x")
    fn = cs.Function("square", [x], [x * x])
    out = mapped(fn, 5, "thread")(cs.DM(np.arange(5.0)).T)
    np.testing.assert_array_equal(np.asarray(out).ravel(), np.arange(5.0) ** 2)


def test_inputs_of_several_columns_keep_their_blocks():
    x, v = cs.SX.sym("x", 2, 3), cs.SX.sym("v", 3)
    fn = cs.Function("block", [x, v], [x @ v])  # one 2 x 3 block per item
    n = 5
    X, v0 = np.random.default_rng(0).standard_normal((2, 3 * n)), np.arange(1.0, 4.0)
    out = np.asarray(mapped(fn, n, "thread", shared=(1,))(X, v0))
    np.testing.assert_allclose(out, np.column_stack([X[:, 3 * i:3 * i + 3] @ v0 for i in range(n)]), atol=1e-15)

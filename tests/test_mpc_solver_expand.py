"""oc.Ipopt(expand=True): the whole NLP expanded to SX (cheaper iterations for re-solved problems),
the same optimum; refused when not a bool; solves without it keep their fingerprints."""

from __future__ import annotations

import numpy as np
import pytest

import occontrol as oc
from occontrol.fingerprint import solver_fingerprint
from tests.helpers import lq


def test_expand_gives_the_same_optimum():
    ocp, x, u = lq()
    plain = oc.solve(ocp, oc.RK4(), grid=32, solver=oc.Ipopt(tol=1e-10))
    expanded = oc.solve(ocp, oc.RK4(), grid=32, solver=oc.Ipopt(tol=1e-10, expand=True))
    assert plain.success and expanded.success
    assert abs(expanded.objective - plain.objective) < 1e-12
    # the analytic optimum tanh(1), up to the O(h^2) of piecewise-constant controls (4.8e-5 at N = 32)
    assert 0 < expanded.objective - np.tanh(1.0) < 1e-4
    np.testing.assert_allclose(expanded.value(u), plain.value(u), atol=1e-9)


def test_expand_on_a_compiled_problem_with_multiplier_warm_start():
    ocp, x, u = lq()
    compiled = oc.compile(ocp, oc.RK4(), grid=16, solver=oc.Ipopt(tol=1e-10, expand=True))
    first = compiled.solve()
    again = compiled.solve(guess=first, multipliers=True)
    assert first.success and again.success
    assert again.iterations <= first.iterations
    np.testing.assert_allclose(again.value(u), first.value(u), atol=1e-8)


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_expand_must_be_a_bool(bad):
    with pytest.raises(TypeError, match="expand"):
        oc.Ipopt(expand=bad)


def test_fingerprint_unchanged_without_expand():
    assert solver_fingerprint(oc.Ipopt()) == solver_fingerprint(oc.Ipopt(expand=False))
    assert solver_fingerprint(oc.Ipopt(expand=True)) != solver_fingerprint(oc.Ipopt())

"""Bad arguments to a Solution (symbols of another OCP, times outside the horizon) get a clear ValueError
naming the argument."""

from __future__ import annotations


import pytest

from helpers import (INF, NAN, lq)


# ------------------------------------------------------------ solutions
@pytest.mark.parametrize("method", ["value", "at"])
def test_solution_value_of_another_symbol(method, lq_solution):
    _, x, _, sol = lq_solution
    ocp2, x2, u2 = lq()
    args = (0.5,) if method == "at" else ()
    # value() also takes expressions of this OCP's symbols (x + 1); at() takes symbols only
    for bad in (x2, u2, "x", ocp2.t, x + x2) + ((x + 1,) if method == "at" else ()):
        with pytest.raises(ValueError, match=rf"{method} symbol: expected a symbol declared by this OCP"):
            getattr(sol, method)(bad, *args)


@pytest.mark.parametrize("t, match", [(NAN, r"at t: contains NaN"), (2.0, r"at t: expected times in"),
                                      (-INF, r"at t: expected times in")])
def test_solution_at_bad_times(t, match, lq_solution):
    _, x, _, sol = lq_solution
    with pytest.raises(ValueError, match=match):
        sol.at(x, t)

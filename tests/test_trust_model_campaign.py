"""Generated campaign over the modelling and solver API.

Each test draws arguments, well-formed and malformed alike, and computes
what must happen from an oracle written here independently of the library:
either a ValueError/TypeError whose message starts with the argument's name,
or an acceptance whose effect is checked (the value stored as given, the
constraint meaning what the comparison says, the state read between nodes
equal to its interpolation). The examples add up to
``sum(max_examples) = 620``; no test solves an NLP except the one solve made
once for ``Solution.at`` and the guesses (N = 4, explicit Euler).
"""

from __future__ import annotations

import math
import numbers

import casadi as cs
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import occontrol as oc

NAN, INF = float("nan"), float("inf")
INT_MAX = 2 ** 31 - 1
HUGE = 10 ** 400  # a Python int beyond float range
ERRORS = (ValueError, TypeError)

# Values drawn where numbers go: finite and special floats, ints, huge ints, booleans and non-numbers.
SCALARS = st.one_of(st.floats(-10, 10), st.sampled_from([NAN, INF, -INF, 0.0]), st.integers(-3, 3),
                    st.just(HUGE), st.booleans(), st.none(), st.sampled_from(["1", b"1", "x"]))
NUMBER_LISTS = st.lists(st.one_of(st.floats(-10, 10), st.sampled_from([NAN, INF, -INF]), st.booleans()),
                        min_size=1, max_size=3)
VALUES = st.one_of(SCALARS, NUMBER_LISTS)


# ------------------------------------------------------------------ oracles
class Refused(Exception):
    """What the oracle expects: an error type and the start of its message."""

    def __init__(self, error: type, start: str) -> None:
        super().__init__(start)
        self.error, self.start = error, start


def is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def has_bool(v) -> bool:
    return isinstance(v, (bool, np.bool_)) or (isinstance(v, list) and any(has_bool(e) for e in v))


def numbers_array(value, name: str, shape: tuple[int, int], allow_inf: bool) -> np.ndarray:
    """The oracle of a numeric array argument (scalar or column-major list of the right size)."""
    if value is None or isinstance(value, (str, bytes)) or has_bool(value):
        raise Refused(TypeError, name)
    if isinstance(value, int) and abs(value) > 1e308:
        raise Refused(ValueError, name)
    arr = np.asarray(value, dtype=float)
    if np.isnan(arr).any():
        raise Refused(ValueError, name)
    if not allow_inf and np.isinf(arr).any():
        raise Refused(ValueError, name)
    if arr.ndim == 0:
        return np.full(shape, float(arr))
    if arr.size != shape[0] * shape[1]:
        raise Refused(ValueError, name)
    return arr.reshape(shape, order="F")


def bound(value, name: str, shape, side: str) -> np.ndarray:
    default = -INF if side == "lower" else INF
    if value is None:
        return np.full(shape, default)
    arr = numbers_array(value, name, shape, allow_inf=True)
    if (arr == -default).any():
        raise Refused(ValueError, name)
    return arr


def check(call, oracle):
    """Run ``oracle()``; if it refuses, ``call()`` must raise the same kind of error naming the
    argument; else ``call()`` must succeed and its result is returned with the oracle's."""
    try:
        expected = oracle()
    except Refused as refusal:
        with pytest.raises(ERRORS) as info:
            call()
        assert isinstance(info.value, refusal.error), (info.value, refusal.start)
        assert str(info.value).startswith(refusal.start), (str(info.value), refusal.start)
        return None, None
    return call(), expected


# ------------------------------------------------------- OCP and declarations
def horizon_oracle(t0, tf):
    if not is_real(t0):
        raise Refused(TypeError, "t0")
    if isinstance(t0, int) and abs(t0) > 1e308 or not math.isfinite(t0):
        raise Refused(ValueError, "t0")
    if isinstance(tf, oc.FreeTime):
        if tf.lower < t0 or tf.guess <= t0:
            raise Refused(ValueError, "tf")
        return None
    if not is_real(tf):
        raise Refused(TypeError, "tf")
    if isinstance(tf, int) and abs(tf) > 1e308 or not math.isfinite(tf) or tf <= t0:
        raise Refused(ValueError, "tf")
    return float(tf)


@settings(max_examples=60, deadline=None)
@given(SCALARS, st.one_of(SCALARS, st.builds(oc.FreeTime, st.floats(0.5, 5), st.floats(-1, 0.5),
                                             st.floats(5, 10))))
def test_campaign_horizon(t0, tf):
    ocp, expected = check(lambda: oc.OCP(t0, tf), lambda: horizon_oracle(t0, tf))
    if ocp is not None:
        assert ocp.t0 == float(t0)
        assert ocp.tf == expected if expected is not None else ocp.free_time is tf


NAMES = st.sampled_from(["x", "y_1", "_a", "lambda_", "\u03bb", "dup", "1x", "a b", "", "x-y", None, 3, b"x"])
SHAPES = st.one_of(st.integers(-1, 3), st.booleans(), st.tuples(st.integers(-1, 3), st.integers(-1, 3)),
                   st.just((2, 1, 1)), st.just(2.0), st.just("2"), st.just([2, 1]))


def declaration_oracle(kind, name, shape, lower, upper):
    if not isinstance(name, str) or not name.isidentifier():
        raise Refused(ValueError, "name")
    if name == "dup":
        raise Refused(ValueError, "name")
    where = f"{kind} {name!r} shape"
    if isinstance(shape, bool):
        raise Refused(TypeError, where)
    if isinstance(shape, int):
        shape = (shape, 1)
    if not (isinstance(shape, tuple) and len(shape) == 2 and all(isinstance(s, int) for s in shape)):
        raise Refused(TypeError, where)
    if min(shape) < 1:
        raise Refused(ValueError, where)
    if shape[1] > 1 and kind != "state":
        raise Refused(ValueError, "shape")
    lo = bound(lower, f"{name} lower", shape, "lower")
    up = bound(upper, f"{name} upper", shape, "upper")
    if (lo > up).any():
        raise Refused(ValueError, f"{name} bounds")
    return shape, lo, up


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(["state", "control", "variable"]), NAMES, SHAPES, VALUES, VALUES, st.booleans())
def test_campaign_declarations(kind, name, shape, lower, upper, later):
    """A declaration with bounds, or the same bounds given later through ocp.bounds."""
    ocp = oc.OCP()
    ocp.state("dup")

    def declare():
        if not later:
            return getattr(ocp, kind)(name, shape, lower=lower, upper=upper)
        symbol = getattr(ocp, kind)(name, shape)
        ocp.bounds(symbol, lower=lower, upper=upper)
        return symbol

    def oracle():
        declaration_oracle(kind, name, shape, None, None)  # the declaration itself
        return declaration_oracle(kind, name, shape, lower, upper)

    symbol, expected = check(declare, oracle)
    if symbol is None:
        if later:  # a refused bound leaves the declared variable with no bounds
            assert all(np.isinf(v.lower).all() and np.isinf(v.upper).all() for v in ocp.declarations)
        else:
            assert [v.name for v in ocp.declarations] == ["dup"]
        return
    var = ocp.declared(symbol)
    shape, lo, up = expected
    assert var.name == name and var.kind == kind and var.shape == shape
    np.testing.assert_array_equal(var.lower, lo)
    np.testing.assert_array_equal(var.upper, up)


# ------------------------------------------------------------- constraints
FORMS = ["x0 <= c", "x0 >= c", "x == c", "u + x1 <= c", "p <= c", "p * t <= c", "x0 != c",
         "(0 <= x0) <= c", "c <= (u <= 1)", "(x0 == c) <= 1", "x0", "x0 - c", "x", "p",
         "True", "text", "DM"]


def _problem():
    ocp = oc.OCP()
    x = ocp.state("x", 2)
    u = ocp.control("u")
    p = ocp.variable("p")
    return ocp, x, u, p


def build_form(form: str, c: float, x, u, p, t):
    x0, x1 = x[0], x[1]
    return {"x0 <= c": lambda: x0 <= c, "x0 >= c": lambda: x0 >= c, "x == c": lambda: x == c,
            "u + x1 <= c": lambda: u + x1 <= c, "p <= c": lambda: p <= c, "p * t <= c": lambda: p * t <= c,
            "x0 != c": lambda: x0 != c, "(0 <= x0) <= c": lambda: (0 <= x0) <= c,
            "c <= (u <= 1)": lambda: c <= (u <= 1), "(x0 == c) <= 1": lambda: (x0 == c) <= 1,
            "x0": lambda: x0, "x0 - c": lambda: x0 - c, "x": lambda: x, "p": lambda: p,
            "True": lambda: True, "text": lambda: "x <= 1", "DM": lambda: cs.DM(c)}[form]()


def predicate(form: str, c: float, xv, uv, pv, tv):
    """What the comparison says, in plain Python, at a point."""
    return {"x0 <= c": lambda: xv[0] <= c, "x0 >= c": lambda: xv[0] >= c,
            "x == c": lambda: bool(np.all(xv == c)), "u + x1 <= c": lambda: uv + xv[1] <= c,
            "p <= c": lambda: pv <= c, "p * t <= c": lambda: pv * tv <= c}[form]()


def constraint_oracle(method, form, c, lower, upper):
    arg = f"{method} constraint"
    comparison = form in ("x0 <= c", "x0 >= c", "x == c", "u + x1 <= c", "p <= c", "p * t <= c")
    chained = form in ("(0 <= x0) <= c", "c <= (u <= 1)", "(x0 == c) <= 1")
    if lower is not None or upper is not None:
        if comparison or chained or form == "x0 != c":
            raise Refused(ValueError, arg)
        if form in ("True", "text", "DM"):
            raise Refused(TypeError, arg)
        if form == "x0 - c" and not math.isfinite(c):
            raise Refused(ValueError, arg)
        shape = (2, 1) if form == "x" else (1, 1)
        lo = bound(lower, f"{arg} lower", shape, "lower").ravel(order="F")
        up = bound(upper, f"{arg} upper", shape, "upper").ravel(order="F")
        if (lo > up).any():
            raise Refused(ValueError, f"{arg} bounds")
        if not (np.isfinite(lo) | np.isfinite(up)).any():
            raise Refused(ValueError, arg)
        return "bounded", lo, up
    if form in ("True", "text", "DM"):
        raise Refused(TypeError, arg)
    if not (comparison or chained):
        raise Refused(ValueError, arg)
    if chained:
        raise Refused(ValueError, f"{arg}: a comparison of a comparison")
    if not math.isfinite(c):
        raise Refused(ValueError, arg)
    return "comparison", None, None


@settings(max_examples=120, deadline=None)
@given(st.sampled_from(["subject_to", "subject_to_terminal"]), st.sampled_from(FORMS),
       st.one_of(st.floats(-3, 3), st.sampled_from([NAN, INF, -INF])),
       st.one_of(st.none(), VALUES), st.one_of(st.none(), VALUES), st.data())
def test_campaign_constraints(method, form, c, lower, upper, data):
    ocp, x, u, p = _problem()
    terminal_forbidden = method == "subject_to_terminal" and form in ("u + x1 <= c", "p * t <= c")

    def oracle():
        result = constraint_oracle(method, form, c, lower, upper)
        if terminal_forbidden:
            raise Refused(ValueError, f"{method} constraint")
        return result

    def call():
        getattr(ocp, method)(build_form(form, c, x, u, p, ocp.t), lower=lower, upper=upper)

    done, expected = check(call, oracle)
    if expected is None:
        assert ocp.path_constraints == [] and ocp.terminal_constraints == []
        return
    kind, lo, up = expected
    static = form in ("p <= c", "p")
    stored = ocp.terminal_constraints if method == "subject_to_terminal" or static else ocp.path_constraints
    assert len(stored) == 1 and len(ocp.path_constraints) + len(ocp.terminal_constraints) == 1
    con = stored[0]
    fn = cs.Function("g", [x, u, p, ocp.t], [con.expr])
    for _ in range(3):  # the stored constraint means what was written, at random points
        xv = np.array(data.draw(st.lists(st.floats(-4, 4), min_size=2, max_size=2)))
        uv, pv, tv = (data.draw(st.floats(-4, 4)) for _ in range(3))
        g = np.asarray(fn(xv, uv, pv, tv), dtype=float).ravel()
        holds = bool(np.all((con.lower <= g) & (g <= con.upper)))
        if kind == "bounded":
            np.testing.assert_array_equal(con.lower, lo)
            np.testing.assert_array_equal(con.upper, up)
            value = {"x": xv, "x0": xv[:1], "x0 - c": xv[:1] - c, "p": [pv]}[form]
            np.testing.assert_allclose(g, value, rtol=1e-12, atol=1e-12)
        else:
            truth = predicate(form, c, xv, uv, pv, tv)
            margin = np.min(np.abs(g)) if g.size else 1.0
            if margin > 1e-9:  # away from the boundary, where rounding could flip it
                assert holds == truth


# ------------------------------------------------------------------ costs
@settings(max_examples=50, deadline=None)
@given(st.sampled_from(["minimize_integral", "minimize_terminal"]),
       st.one_of(st.floats(-1e3, 1e3), st.sampled_from([NAN, INF, -INF])),
       st.sampled_from(["x", "u", "const", "number", "vector", "bool"]))
def test_campaign_costs(method, c, what):
    ocp, x, u, p = _problem()
    expr = {"x": lambda: cs.sumsqr(x) + c, "u": lambda: u ** 2 * c, "const": lambda: cs.MX(c),
            "number": lambda: c, "vector": lambda: x + c, "bool": lambda: True}[what]

    def oracle():
        arg = f"{method} expr"
        if what == "bool":
            raise Refused(TypeError, arg)
        if math.isnan(c):
            raise Refused(ValueError, arg)
        if math.isinf(c):
            raise Refused(ValueError, arg)
        if what == "vector":
            raise Refused(ValueError, arg)
        if what == "u" and method == "minimize_terminal" and c != 0.0:
            raise Refused(ValueError, arg)
        return c

    getattr_costs = ocp.running_costs if method == "minimize_integral" else ocp.terminal_costs
    done, expected = check(lambda: getattr(ocp, method)(expr()), oracle)
    if expected is None:
        assert getattr_costs == []
        return
    (cost,) = getattr_costs
    value = float(cs.Function("c", [x, u, p, ocp.t], [cost])([1.0, 2.0], 3.0, 0.0, 0.0))
    reference = {"x": 5.0 + c, "u": 9.0 * c, "const": c, "number": c}[what]
    assert value == pytest.approx(reference, rel=1e-12, abs=1e-12)


# ------------------------------------------------------------ IPOPT options
OPTION_VALUES = st.one_of(st.integers(-3, 20), st.integers(2 ** 31 - 2, 2 ** 31 + 2), st.just(2 ** 40),
                          st.floats(-1, 1), st.sampled_from([NAN, INF, 1e-6, 0.5, 0.25]), st.booleans(),
                          st.sampled_from(["adaptive", "monotone", "bogus", "mumps", "ma27"]), st.none())
OPTION_KEYS = ["max_iter", "acceptable_iter", "print_level", "tol", "acceptable_tol", "bound_frac",
               "max_cpu_time", "mu_strategy", "linear_solver"]


def option_oracle(key, v):
    """IPOPT 3.14's documented type and range of a few options (option reference)."""
    name = f"options[{key!r}]"
    if key in ("max_iter", "acceptable_iter", "print_level"):
        if not (isinstance(v, int) and not isinstance(v, bool)):
            raise Refused(TypeError, name)
        if v < 0 or v > INT_MAX or (key == "print_level" and v > 12):
            raise Refused(ValueError, name)
        return
    if key == "linear_solver":
        if v not in ("mumps", "spral"):
            raise Refused(ValueError, name)
        return
    if key == "mu_strategy":
        if isinstance(v, bool) or v is None:
            raise Refused(TypeError, name)
        if isinstance(v, (int, float)) and not (-INT_MAX - 1 <= v <= INT_MAX):
            raise Refused(ValueError, name)  # non-finite or beyond IPOPT's int: refused before IPOPT sees it
        if v not in ("adaptive", "monotone"):
            raise Refused(ValueError, "options")
        return
    # Real options.
    if isinstance(v, str):
        raise Refused(ValueError, "options")
    if isinstance(v, bool) or v is None:
        raise Refused(TypeError, name)
    if isinstance(v, int) and not -INT_MAX - 1 <= v <= INT_MAX:
        raise Refused(ValueError, name)  # IPOPT's int; a real option's large value goes as a float
    if not math.isfinite(v):
        raise Refused(ValueError, name)
    upper = 0.5 if key == "bound_frac" else INF
    if not 0 < v <= upper:
        raise Refused(ValueError, "options")


def ipopt_oracle(tol, max_iter, print_level, linear_solver, hessian, options):
    if not is_real(tol):
        raise Refused(TypeError, "tol")
    if not math.isfinite(tol):
        raise Refused(ValueError, "tol")
    if tol <= 0:
        raise Refused(ValueError, "tol")
    if not (isinstance(max_iter, int) and not isinstance(max_iter, bool)):
        raise Refused(TypeError, "max_iter")
    if not 0 <= max_iter <= INT_MAX:
        raise Refused(ValueError, "max_iter")
    if hessian not in ("exact", "limited-memory"):
        raise Refused(ValueError, "hessian")
    if not 0 <= print_level <= 12:
        raise Refused(ValueError, "print_level")
    if linear_solver not in ("mumps", "spral"):
        raise Refused(ValueError, "linear_solver")
    # Ipopt checks every option's type and range of its own first, then hands them all to IPOPT,
    # which refuses values outside its documented ranges ("options: IPOPT refused ...")
    refusals = []
    for key, v in options.items():
        try:
            option_oracle(key, v)
        except Refused as refusal:
            refusals.append(refusal)
    own = [r for r in refusals if r.start != "options"]
    if own or refusals:
        raise (own or refusals)[0]
    return options


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.floats(-1, 1), st.sampled_from([NAN, INF, 1e-8]), st.booleans(), st.just("1e-8")),
       st.one_of(st.integers(-2, 50), st.sampled_from([2 ** 31 - 1, 2 ** 31, 2 ** 33 + 3]), st.just(10.0),
                 st.booleans()),
       st.integers(-1, 13), st.sampled_from(["mumps", "spral", "ma27", "ma57", "MA97", "pardiso"]),
       st.sampled_from(["exact", "limited-memory", "bfgs"]),
       st.dictionaries(st.sampled_from(OPTION_KEYS), OPTION_VALUES, max_size=3))
# two bad options: the one Ipopt checks itself (max_iter) is named before the one IPOPT refuses (tol)
@example(1.0, 0, 0, "mumps", "exact", {"tol": 0, "max_iter": None})
def test_campaign_ipopt(tol, max_iter, print_level, linear_solver, hessian, options):
    def call():
        return oc.Ipopt(tol=tol, max_iter=max_iter, print_level=print_level, linear_solver=linear_solver,
                        hessian=hessian, options=options)

    solver, expected = check(call, lambda: ipopt_oracle(tol, max_iter, print_level, linear_solver, hessian,
                                                        options))
    if solver is None:
        return
    opts = solver.ipopt_options()
    for key, value in {"tol": tol, "max_iter": max_iter, "print_level": print_level,
                       "linear_solver": linear_solver, "hessian_approximation": hessian, **options}.items():
        assert opts[key] == value and type(opts[key]) is type(value)


def test_campaign_hsl_message():
    """The HSL names get the reason, not only the list (drawn above, checked in words here)."""
    with pytest.raises(ValueError, match=r"not bundled with CasADi"):
        oc.Ipopt(linear_solver="ma57")


# ------------------------------------------------------------- FreeTime, Grid
def free_time_oracle(guess, lower, upper):
    for name, v in (("guess", guess), ("lower", lower)):
        if not is_real(v):
            raise Refused(TypeError, f"FreeTime.{name}")
        if isinstance(v, int) and abs(v) > 1e308 or not math.isfinite(v):
            raise Refused(ValueError, f"FreeTime.{name}")
    if not is_real(upper):
        raise Refused(TypeError, "FreeTime.upper")
    if isinstance(upper, int) and abs(upper) > 1e308 or math.isnan(upper):
        raise Refused(ValueError, "FreeTime.upper")
    if not lower <= upper:
        raise Refused(ValueError, "FreeTime")
    if not lower <= guess <= upper:
        raise Refused(ValueError, "FreeTime.guess")
    return guess, lower, upper


@settings(max_examples=60, deadline=None)
@given(SCALARS, SCALARS, SCALARS)
def test_campaign_free_time(guess, lower, upper):
    free, expected = check(lambda: oc.FreeTime(guess=guess, lower=lower, upper=upper),
                           lambda: free_time_oracle(guess, lower, upper))
    if free is not None:
        assert (free.guess, free.lower, free.upper) == expected


# ------------------------------------------------------- Solution.at, guesses
@pytest.fixture(scope="module")
def euler_solution():
    """x' = u, x(0) = 1, min int x^2 + u^2 on 4 intervals, explicit Euler: x is piecewise linear."""
    ocp = oc.OCP(0.0, 1.0)
    x = ocp.state("x")
    u = ocp.control("u", lower=-2.0, upper=2.0)
    ocp.dynamics(x, u)
    ocp.initial(x, 1.0)
    ocp.minimize_integral(x ** 2 + u ** 2)
    sol = oc.solve(ocp, oc.ExplicitEuler(), grid=4)
    assert sol.success
    return ocp, x, u, sol


TIMES = st.one_of(st.floats(-0.5, 1.5), st.sampled_from([NAN, INF, -INF, 0, 1, HUGE]), st.booleans(),
                  st.text(max_size=3), st.lists(st.floats(0, 1), max_size=3),
                  st.lists(st.one_of(st.floats(0, 1), st.booleans()), min_size=1, max_size=3), st.none())


def at_oracle(t):
    if t is None or isinstance(t, str) or has_bool(t):
        raise Refused(TypeError, "at t")
    if isinstance(t, int) and abs(t) > 1e308:
        raise Refused(ValueError, "at t")
    arr = np.atleast_1d(np.asarray(t, dtype=float))
    if np.isnan(arr).any():
        raise Refused(ValueError, "at t")
    if arr.size and (arr.min() < -1e-12 or arr.max() > 1 + 1e-12):  # rounding slack of 1e-12 * span
        raise Refused(ValueError, "at t")
    return np.clip(arr, 0.0, 1.0)


@settings(max_examples=60, deadline=None)
@given(TIMES)
def test_campaign_at(euler_solution, t):
    """Accepted times give the Euler state, linear between nodes (np.interp as the reference)."""
    _, x, _, sol = euler_solution
    value, times = check(lambda: sol.at(x, t), lambda: at_oracle(t))
    if times is not None:
        np.testing.assert_allclose(np.atleast_1d(value), np.interp(times, sol.t, sol.value(x)),
                                   rtol=1e-12, atol=1e-12)
        assert np.ndim(value) == np.ndim(t)


GUESS_KEYS = st.sampled_from(["x", "u", "t", "tf", "tf_symbol", "name", "other"])
GUESS_VALUES = st.one_of(st.floats(-3, 3), st.sampled_from([NAN, INF]), st.booleans(), st.just("1.0"),
                         st.lists(st.floats(-3, 3), min_size=5, max_size=5),
                         st.lists(st.one_of(st.floats(-3, 3), st.booleans()), min_size=5, max_size=5))


@settings(max_examples=50, deadline=None)
@given(GUESS_KEYS, GUESS_VALUES)
def test_campaign_guess(euler_solution, key_name, value):
    ocp, x, u, sol = euler_solution
    problem = sol.problem
    key = {"x": x, "u": u, "t": ocp.t, "tf": ocp.tf, "tf_symbol": ocp.tf_symbol, "name": "x",
           "other": 2.0}[key_name]

    def oracle():
        if key_name not in ("x", "u"):
            raise Refused(ValueError, "guess key")
        name = f"guess for '{key_name}'"
        if isinstance(value, str) or has_bool(value):
            raise Refused(TypeError, name)
        arr = np.asarray(value, dtype=float)
        if not np.isfinite(arr).all():
            raise Refused(ValueError, name)
        return arr

    w0, arr = check(lambda: problem.initial_point({key: value}), oracle)
    if w0 is None:
        return
    if key_name == "x":  # node values 1..N (x(0) is fixed), clipped to no bounds
        nodes = np.broadcast_to(arr, (5,))
        np.testing.assert_allclose(w0[problem.index.states], nodes[1:], rtol=0, atol=1e-12)
    else:  # interval values at the midpoints, clipped to u's bounds
        mid = np.broadcast_to(arr, (5,))
        mid = (np.interp([0.125, 0.375, 0.625, 0.875], sol.t, mid) if np.ndim(arr) else mid[:4])
        np.testing.assert_allclose(w0[problem.index.controls], np.clip(mid, -2, 2), atol=1e-12)

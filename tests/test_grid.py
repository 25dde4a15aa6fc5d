"""Grid functions: exact distances, H1 seminorm, prolongation.

References are independent of the union-of-grids formulas in occontrol.grid:

- hand-computed integrals;
- brute force on a very fine uniform grid. When every breakpoint is a
  multiple of 2^-10 (dyadic nodes) and the fine grid has spacing 2^-14, the
  integrands are constant (piecewise-constant case) or quadratic
  (piecewise-linear case) on every fine cell, so the midpoint / Simpson rule
  on the fine grid is exact and the comparison is to rounding (1e-12);
- adaptive quadrature (scipy.integrate.quad, told where the kinks are) for
  arbitrary float nodes, and the fine-grid midpoint rule with its rigorous
  error bound (number of breakpoints x largest jump^2 x cell width);
- hypothesis properties: symmetry, zero distance to itself, triangle
  inequality, for all three metrics.

The piecewise-linear interpolant is constant beyond its first and last point
(as numpy.interp): that is its documented definition, evaluated here with
numpy.interp itself; only the integration is brute force.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

import occontrol as oc
from occontrol.grid import interval_midpoints, piecewise_constant_distance, piecewise_linear_distance, prolong

PROPERTY = settings(max_examples=60, deadline=None)


# ------------------------------------------------------------ reference evaluation
def pc_eval(nodes, values, t):
    """Piecewise constant on [t_k, t_{k+1}) (the last interval closed): values (N, ...) -> (len(t), dim)."""
    rows = np.asarray(values, float).reshape(len(values), -1)
    k = np.clip(np.searchsorted(nodes, t, side="right") - 1, 0, len(rows) - 1)
    return rows[k]


def pl_eval(points, values, t):
    """Linear through (points, values), constant beyond the ends (numpy.interp): -> (len(t), dim)."""
    rows = np.asarray(values, float).reshape(len(values), -1)
    return np.column_stack([np.interp(t, points, col) for col in rows.T])


def brute_pc(nodes_a, va, nodes_b, vb, cells):
    """Midpoint rule with ``cells`` equal cells over [nodes[0], nodes[-1]]; sup over the midpoints."""
    t0, tf = nodes_a[0], nodes_a[-1]
    dt = (tf - t0) / cells
    mid = t0 + (np.arange(cells) + 0.5) * dt
    sq = np.sum((pc_eval(nodes_a, va, mid) - pc_eval(nodes_b, vb, mid)) ** 2, axis=1)
    return {"l2": np.sqrt(np.sum(sq) * dt), "sup": np.sqrt(sq.max())}


def brute_pl(pa, va, pb, vb, t0, tf, cells):
    """Simpson on every fine cell (exact for quadratics), slopes of fine cells, sup over fine nodes."""
    dt = (tf - t0) / cells
    nodes = t0 + np.arange(cells + 1) * dt
    nodes[-1] = tf
    mids = (nodes[:-1] + nodes[1:]) / 2
    dn = pl_eval(pa, va, nodes) - pl_eval(pb, vb, nodes)
    dm = pl_eval(pa, va, mids) - pl_eval(pb, vb, mids)
    sqn, sqm = np.sum(dn ** 2, axis=1), np.sum(dm ** 2, axis=1)
    l2sq = np.sum(dt / 6 * (sqn[:-1] + 4 * sqm + sqn[1:]))
    slope = np.diff(dn, axis=0) / dt
    return {"l2": np.sqrt(l2sq), "sup": np.sqrt(sqn.max()), "h1": np.sqrt(np.sum(slope ** 2) * dt)}


def dyadic_nodes(rng, count, t0=0.0, tf=1.0, bits=10):
    """Sorted nodes on [t0, tf] at multiples of (tf - t0) 2^-bits, both ends included."""
    inner = rng.choice(np.arange(1, 2 ** bits), size=count - 1, replace=False)
    return t0 + (tf - t0) * np.concatenate([[0.0], np.sort(inner) / 2 ** bits, [1.0]])


def random_nodes(rng, count, t0, tf):
    inner = np.sort(rng.uniform(t0, tf, size=count - 1))
    return np.concatenate([[t0], inner, [tf]])


# ------------------------------------------------------------------ hand computed
def test_piecewise_constant_hand_computed():
    # a = 1 on [0, .5), 3 on [.5, 1]; b = 0 on [0, .25), 1 on [.25, 1]:
    # a - b = 1, 0, 2 on [0, .25), [.25, .5), [.5, 1] -> L2^2 = .25 + 0 + .5 * 4 = 2.25
    d = piecewise_constant_distance(np.array([0, .5, 1]), np.array([1., 3.]), np.array([0, .25, 1]), np.array([0., 1.]))
    assert d["l2"] == pytest.approx(1.5, abs=1e-15)
    assert d["sup"] == pytest.approx(2.0, abs=1e-15)


def test_piecewise_constant_vector_and_matrix_values_use_the_euclidean_norm():
    # (3, 4) against 0 on [2, 6]: |d| = 5 everywhere, L2 = 5 sqrt(4) = 10
    d = piecewise_constant_distance(np.array([2., 3., 6.]), np.array([[3., 4.], [3., 4.]]),
                                    np.array([2., 6.]), np.zeros((1, 2)))
    assert d["l2"] == pytest.approx(10.0, abs=1e-14)
    assert d["sup"] == pytest.approx(5.0, abs=1e-15)
    # 2x2 matrices per interval: Frobenius norm. [[1,2],[2,4]] vs 0 on [0, 1/2), equal after:
    A = np.array([[[1., 2.], [2., 4.]], [[0., 0.], [0., 0.]]])
    d = piecewise_constant_distance(np.array([0., .5, 1.]), A, np.array([0., 1.]), np.zeros((1, 2, 2)))
    assert d["l2"] == pytest.approx(np.sqrt(25 * 0.5), abs=1e-14)
    assert d["sup"] == pytest.approx(5.0, abs=1e-15)


def test_piecewise_linear_hand_computed():
    # f = 2t - 1 on [0, 1] against 0: int (2t-1)^2 = 1/3 (the difference changes sign inside)
    d = piecewise_linear_distance(np.array([0., 1.]), np.array([-1., 1.]), np.array([0., 1.]), np.zeros(2), 0., 1.)
    assert d["l2"] == pytest.approx(np.sqrt(1 / 3), abs=1e-15)
    assert d["sup"] == pytest.approx(1.0, abs=1e-15)
    assert d["h1"] == pytest.approx(2.0, abs=1e-15)


def test_piecewise_linear_constant_extension_beyond_the_points():
    # through (.25, 0) and (.75, 1), constant outside: 0 on [0, .25], slope 2, 1 on [.75, 1]
    # L2^2 = int_0^.5 (2s)^2 ds + .25 = 1/6 + 1/4 = 5/12; H1^2 = 4 * .5 = 2
    d = piecewise_linear_distance(np.array([.25, .75]), np.array([0., 1.]), np.array([.5]), np.array([0.]), 0., 1.)
    assert d["l2"] == pytest.approx(np.sqrt(5 / 12), abs=1e-15)
    assert d["sup"] == pytest.approx(1.0, abs=1e-15)
    assert d["h1"] == pytest.approx(np.sqrt(2), abs=1e-15)


def test_piecewise_linear_points_outside_the_horizon_are_interpolated_not_dropped():
    # f = t through (-1, -1), (2, 2), measured on [0, 1] only: L2^2 = 1/3, sup 1, H1 1
    d = piecewise_linear_distance(np.array([-1., 2.]), np.array([-1., 2.]), np.array([0., 1.]), np.zeros(2), 0., 1.)
    assert d["l2"] == pytest.approx(np.sqrt(1 / 3), abs=1e-15)
    assert d["sup"] == pytest.approx(1.0, abs=1e-15)
    assert d["h1"] == pytest.approx(1.0, abs=1e-15)


def test_h1_seminorm_ignores_constant_offsets_and_is_the_slope_difference():
    # a = 3 + t, b = t (vector valued in the second component): H1 of the difference is 0;
    # a = (t, 2t), b = 0: H1 = sqrt(1 + 4), L2 = sqrt(5/3)
    p = np.array([0., .3, 1.])
    d = piecewise_linear_distance(p, 3 + p, np.array([0., 1.]), np.array([0., 1.]), 0., 1.)
    assert d["h1"] == pytest.approx(0.0, abs=1e-14)
    assert d["l2"] == pytest.approx(3.0, abs=1e-14)
    d = piecewise_linear_distance(p, np.column_stack([p, 2 * p]), p, np.zeros((3, 2)), 0., 1.)
    assert d["h1"] == pytest.approx(np.sqrt(5), abs=1e-14)
    assert d["l2"] == pytest.approx(np.sqrt(5 / 3), abs=1e-14)


# --------------------------------------------------- brute force, exact on dyadic nodes
@pytest.mark.parametrize("seed", range(8))
def test_piecewise_constant_equals_fine_grid_brute_force_on_dyadic_nodes(seed):
    rng = np.random.default_rng(seed)
    t0, tf = (0.0, 1.0) if seed % 2 else (-1.5, 2.5)
    na, nb = dyadic_nodes(rng, rng.integers(1, 12), t0, tf), dyadic_nodes(rng, rng.integers(1, 12), t0, tf)
    dim = 1 + seed % 3
    va, vb = rng.normal(size=(na.size - 1, dim)), rng.normal(size=(nb.size - 1, dim))
    exact = piecewise_constant_distance(na, va, nb, vb)
    ref = brute_pc(na, va, nb, vb, cells=2 ** 14)
    assert exact["l2"] == pytest.approx(ref["l2"], rel=1e-12)
    assert exact["sup"] == pytest.approx(ref["sup"], rel=1e-12)


@pytest.mark.parametrize("seed", range(8))
def test_piecewise_linear_equals_fine_grid_brute_force_on_dyadic_points(seed):
    rng = np.random.default_rng(100 + seed)
    t0, tf = (0.0, 1.0) if seed % 2 else (-1.5, 2.5)
    # points strictly inside [t0, tf] (so the constant extension is exercised) or the full nodes
    pa = dyadic_nodes(rng, rng.integers(2, 12), t0, tf)
    pb = dyadic_nodes(rng, rng.integers(2, 12), t0, tf)
    if seed % 3 == 0:
        pa, pb = pa[1:-1], interval_midpoints(pb)
    dim = 1 + seed % 3
    va, vb = rng.normal(size=(pa.size, dim)), rng.normal(size=(pb.size, dim))
    exact = piecewise_linear_distance(pa, va, pb, vb, t0, tf)
    ref = brute_pl(pa, va, pb, vb, t0, tf, cells=2 ** 14)
    for key in ("l2", "sup", "h1"):
        assert exact[key] == pytest.approx(ref[key], rel=1e-11), key


# ------------------------------------------ brute force on arbitrary float nodes
@pytest.mark.parametrize("seed", range(6))
def test_piecewise_constant_against_quadrature_and_fine_grid_bound(seed):
    rng = np.random.default_rng(200 + seed)
    t0, tf = rng.uniform(-2, 0), rng.uniform(0.5, 3)
    na, nb = random_nodes(rng, rng.integers(1, 9), t0, tf), random_nodes(rng, rng.integers(1, 9), t0, tf)
    va, vb = rng.uniform(-1, 1, size=(na.size - 1, 2)), rng.uniform(-1, 1, size=(nb.size - 1, 2))
    exact = piecewise_constant_distance(na, va, nb, vb)

    def integrand(t):
        return float(np.sum((pc_eval(na, va, [t]) - pc_eval(nb, vb, [t])) ** 2))

    breaks = np.union1d(na, nb)
    ref = sum(quad(integrand, a, b, epsabs=1e-14, epsrel=1e-13)[0] for a, b in zip(breaks[:-1], breaks[1:]))
    assert exact["l2"] ** 2 == pytest.approx(ref, rel=1e-10, abs=1e-14)

    # Very fine midpoint rule: off only in the cells holding a breakpoint, each by at most dt * max|d|^2.
    cells = 2 ** 20
    fine = brute_pc(na, va, nb, vb, cells)
    bound = breaks.size * (tf - t0) / cells * np.max(np.sum((np.abs(va).max(0) + np.abs(vb).max(0)) ** 2))
    assert abs(exact["l2"] ** 2 - fine["l2"] ** 2) <= bound
    assert exact["sup"] == pytest.approx(fine["sup"], rel=1e-14)  # every union interval holds a midpoint


@pytest.mark.parametrize("seed", range(6))
def test_piecewise_linear_against_quadrature(seed):
    rng = np.random.default_rng(300 + seed)
    t0, tf = rng.uniform(-2, 0), rng.uniform(0.5, 3)
    pa = np.sort(rng.uniform(t0 - 0.5, tf + 0.5, size=rng.integers(1, 8)))
    pb = np.sort(rng.uniform(t0, tf, size=rng.integers(1, 8)))
    va, vb = rng.normal(size=(pa.size, 3)), rng.normal(size=(pb.size, 3))
    exact = piecewise_linear_distance(pa, va, pb, vb, t0, tf)
    breaks = np.union1d(np.union1d(pa, pb), [t0, tf])
    breaks = breaks[(breaks >= t0) & (breaks <= tf)]

    def sq(t):
        return float(np.sum((pl_eval(pa, va, [t]) - pl_eval(pb, vb, [t])) ** 2))

    def slope_sq(t, eps=1e-7):  # central difference of a linear piece: exact up to rounding
        return float(np.sum(((pl_eval(pa, va, [t + eps]) - pl_eval(pb, vb, [t + eps]))
                             - (pl_eval(pa, va, [t - eps]) - pl_eval(pb, vb, [t - eps]))) ** 2)) / (2 * eps) ** 2

    pieces = list(zip(breaks[:-1], breaks[1:]))
    l2 = sum(quad(sq, a, b, epsabs=1e-14, epsrel=1e-13)[0] for a, b in pieces)
    h1 = sum((b - a) * slope_sq((a + b) / 2) for a, b in pieces)
    assert exact["l2"] ** 2 == pytest.approx(l2, rel=1e-10, abs=1e-14)
    assert exact["h1"] ** 2 == pytest.approx(h1, rel=1e-6, abs=1e-12)
    t = np.linspace(t0, tf, 200001)
    fine_sup = np.sqrt(np.max(np.sum((pl_eval(pa, va, t) - pl_eval(pb, vb, t)) ** 2, axis=1)))
    assert fine_sup <= exact["sup"] * (1 + 1e-14)
    assert exact["sup"] == pytest.approx(fine_sup, rel=1e-3)


# ------------------------------------------------------------------ prolongation
def nested_pairs():
    rng = np.random.default_rng(5)
    coarse = random_nodes(rng, 6, 2.0, 5.0)
    yield "uniform 8 -> 16", oc.Grid.uniform_grid(8).times(0, 1), oc.Grid.uniform_grid(16).times(0, 1)
    yield "uniform 4 -> 12", oc.Grid.uniform_grid(4).times(0, 1), oc.Grid.uniform_grid(12).times(0, 1)
    g = oc.Grid(coarse)
    yield "graded refined x3", g.times(2.0, 5.0), g.refined(3).times(2.0, 5.0)
    yield "random superset", coarse, np.union1d(coarse, rng.uniform(2.0, 5.0, size=9))


@pytest.mark.parametrize("name, coarse, fine", list(nested_pairs()), ids=[p[0] for p in nested_pairs()])
def test_constant_prolongation_is_exact_on_nested_grids(name, coarse, fine):
    rng = np.random.default_rng(11)
    values = rng.normal(size=(coarse.size - 1, 2, 3))
    out = prolong(coarse, values, fine, "constant")
    assert out.shape == (fine.size - 1, 2, 3)
    # every fine interval lies in one coarse interval and takes its value, bit for bit
    owner = np.searchsorted(coarse, fine[:-1], side="right") - 1
    np.testing.assert_array_equal(out, values[owner])
    d = piecewise_constant_distance(coarse, values, fine, out)
    assert d == {"l2": 0.0, "sup": 0.0}


@pytest.mark.parametrize("name, coarse, fine", list(nested_pairs()), ids=[p[0] for p in nested_pairs()])
def test_linear_prolongation_of_nodal_values_is_exact_for_piecewise_linear_functions(name, coarse, fine):
    rng = np.random.default_rng(12)
    values = rng.normal(size=(coarse.size, 2))
    out = prolong(coarse, values, fine, "linear", at_nodes=True)
    assert out.shape == (fine.size, 2)
    d = piecewise_linear_distance(coarse, values, fine, out, coarse[0], coarse[-1])
    assert d["l2"] < 1e-14 and d["sup"] < 1e-14 and d["h1"] < 1e-12
    # and a linear function of t is reproduced at every node
    lin = np.column_stack([1.5 - 2 * coarse, 0.25 * coarse])
    np.testing.assert_allclose(prolong(coarse, lin, fine, "linear", at_nodes=True),
                               np.column_stack([1.5 - 2 * fine, 0.25 * fine]), rtol=0, atol=1e-13)


@pytest.mark.parametrize("name, coarse, fine", list(nested_pairs()), ids=[p[0] for p in nested_pairs()])
def test_linear_prolongation_of_interval_values_reproduces_linear_functions_between_the_anchors(
        name, coarse, fine):
    # Interval values anchored at the midpoints; a linear function of t is reproduced at
    # every target midpoint that lies between the first and the last source midpoint.
    src, dst = interval_midpoints(coarse), interval_midpoints(fine)
    out = prolong(coarse, 0.5 + 3 * src, fine, "linear")
    inside = (dst >= src[0]) & (dst <= src[-1])
    assert inside.sum() >= dst.size - 4
    np.testing.assert_allclose(out[inside], 0.5 + 3 * dst[inside], rtol=0, atol=1e-13)


def test_linear_prolongation_of_interval_values_reproduces_linear_functions_everywhere():
    coarse, fine = oc.Grid.uniform_grid(4).times(0, 1), oc.Grid.uniform_grid(8).times(0, 1)
    out = prolong(coarse, 0.5 + 3 * interval_midpoints(coarse), fine, "linear")
    np.testing.assert_allclose(out, 0.5 + 3 * interval_midpoints(fine), rtol=0, atol=1e-13)


def test_linear_prolongation_is_second_order_for_smooth_interval_values():
    # the warm-start quality: prolonging cos(t) sampled at midpoints, the interior error is O(h^2)
    errs = []
    for N in (8, 16, 32, 64):
        coarse, fine = np.linspace(0, 1, N + 1), np.linspace(0, 1, 2 * N + 1)
        out = prolong(coarse, np.cos(interval_midpoints(coarse)), fine, "linear")
        errs.append(np.max(np.abs(out - np.cos(interval_midpoints(fine)))[1:-1]))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(np.abs(orders - 2) < 0.1), orders


def test_prolong_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        prolong(np.array([0., 1.]), np.array([1.]), np.array([0., .5, 1.]), "cubic")


# ------------------------------------------------------------------ properties
def _sorted_unique(xs):
    return np.unique(np.round(np.asarray(xs, float), 6))


@st.composite
def pc_function(draw, dim):
    inner = draw(st.lists(st.floats(0.001, 0.999, allow_nan=False), min_size=0, max_size=8))
    nodes = np.concatenate([[0.0], _sorted_unique(inner), [1.0]])
    nodes = np.unique(nodes)
    vals = draw(st.lists(st.floats(-5, 5, allow_nan=False, allow_subnormal=False),
                         min_size=(nodes.size - 1) * dim, max_size=(nodes.size - 1) * dim))
    return nodes, np.array(vals).reshape(nodes.size - 1, dim)


@st.composite
def pl_function(draw, dim):
    pts = draw(st.lists(st.floats(-0.5, 1.5, allow_nan=False), min_size=1, max_size=9))
    points = _sorted_unique(pts)
    vals = draw(st.lists(st.floats(-5, 5, allow_nan=False, allow_subnormal=False),
                         min_size=points.size * dim, max_size=points.size * dim))
    return points, np.array(vals).reshape(points.size, dim)


def _close(x, y):
    return abs(x - y) <= 1e-12 * (1 + abs(x) + abs(y))


@PROPERTY
@given(st.integers(1, 3).flatmap(lambda dim: st.tuples(pc_function(dim), pc_function(dim), pc_function(dim))))
def test_piecewise_constant_distance_is_a_metric(fs):
    (na, va), (nb, vb), (nc, vc) = fs
    ab = piecewise_constant_distance(na, va, nb, vb)
    ba = piecewise_constant_distance(nb, vb, na, va)
    ac = piecewise_constant_distance(na, va, nc, vc)
    bc = piecewise_constant_distance(nb, vb, nc, vc)
    assert piecewise_constant_distance(na, va, na, va) == {"l2": 0.0, "sup": 0.0}
    for key in ("l2", "sup"):
        assert _close(ab[key], ba[key])
        assert ac[key] <= ab[key] + bc[key] + 1e-12 * (1 + ac[key])
        assert ab[key] >= 0
    assert ab["l2"] <= ab["sup"] * (1 + 1e-12) + 1e-15   # on [0, 1]: ||d||_L2 <= ||d||_sup


@PROPERTY
@given(st.integers(1, 3).flatmap(lambda dim: st.tuples(pl_function(dim), pl_function(dim), pl_function(dim))),
       st.sampled_from([(0.0, 1.0), (0.25, 0.75), (-0.5, 1.5)]))
def test_piecewise_linear_distance_is_a_metric_and_h1_a_seminorm(fs, span):
    (pa, va), (pb, vb), (pc, vc) = fs
    t0, tf = span
    ab = piecewise_linear_distance(pa, va, pb, vb, t0, tf)
    ba = piecewise_linear_distance(pb, vb, pa, va, t0, tf)
    ac = piecewise_linear_distance(pa, va, pc, vc, t0, tf)
    bc = piecewise_linear_distance(pb, vb, pc, vc, t0, tf)
    assert piecewise_linear_distance(pa, va, pa, va, t0, tf) == {"l2": 0.0, "sup": 0.0, "h1": 0.0}
    for key in ("l2", "sup", "h1"):
        assert _close(ab[key], ba[key]), key
        assert ac[key] <= ab[key] + bc[key] + 1e-9 * (1 + ac[key]), key
        assert ab[key] >= 0
    assert ab["l2"] <= ab["sup"] * np.sqrt(tf - t0) * (1 + 1e-12) + 1e-15
    # shifting both by the same function changes nothing; scaling scales
    shifted = piecewise_linear_distance(pa, va + 1.0, pb, vb + 1.0, t0, tf)
    scaled = piecewise_linear_distance(pa, -2 * va, pb, -2 * vb, t0, tf)
    for key in ("l2", "sup", "h1"):
        assert abs(shifted[key] - ab[key]) <= 1e-9 * (1 + ab[key])
        assert abs(scaled[key] - 2 * ab[key]) <= 1e-9 * (1 + ab[key])

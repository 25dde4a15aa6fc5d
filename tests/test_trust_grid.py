"""Trustworthy measurements and side-effect-free figures.

- The H1 distance of two per-interval functions: sampled from one smooth f on
  the midpoints of the grids N and 2N, their distance is an O(h) discretisation
  error, so its observed order must be 1 (the old definition, constant beyond
  the outermost midpoints, topped out at 1/2).
- Making figures changes no global matplotlib state (backend, rcParams,
  pyplot's figure list), checked in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from occontrol.grid import interval_function_distance, interval_midpoints, piecewise_linear_distance


# ------------------------------------------------------------------ H1 distance
def _samples(f, N: int, T: float = 1.0):
    nodes = np.linspace(0.0, T, N + 1)
    return nodes, f(interval_midpoints(nodes))


def _h1_orders(f, Ns) -> np.ndarray:
    dists = []
    for N in Ns:
        na, va = _samples(f, N)
        nb, vb = _samples(f, 2 * N)
        dists.append(interval_function_distance(na, va, nb, vb)["h1"])
    dists = np.array(dists)
    assert np.all(dists > 0)
    return np.log2(dists[:-1] / dists[1:])


@pytest.mark.parametrize("f", [np.sin, lambda t: np.exp(t) * np.cos(3 * t),
                               lambda t: np.column_stack([t ** 3, np.tanh(2 * t - 1)])],
                         ids=["sin", "exp-cos", "two-components"])
def test_h1_distance_of_midpoint_samples_of_a_smooth_function_has_order_one(f):
    """Interpolants through midpoint samples of f differ from f' by O(h) in the H1 seminorm
    (pointwise, not only in the mean), so the distance between the N and 2N samples is O(h)."""
    orders = _h1_orders(f, [8, 16, 32, 64, 128])
    assert np.all(np.abs(orders - 1.0) < 0.1), orders


def test_h1_distance_continues_the_interpolants_linearly_to_the_ends():
    """By hand: N = 1 and N = 2 samples of f(t) = t^2 on [0, 1]. Grid a is the constant 1/4
    (one sample); grid b is the line through (1/4, 1/16) and (3/4, 9/16), of slope 1, continued
    over [0, 1/4] and [3/4, 1]: the difference has slope 1 on all of [0, 1], H1 seminorm 1.
    (Held constant beyond the outermost midpoints it would be sqrt(1/2).)"""
    na, va = _samples(np.square, 1)
    nb, vb = _samples(np.square, 2)
    d = interval_function_distance(na, va, nb, vb)
    assert d["h1"] == pytest.approx(1.0, rel=1e-14)
    # symmetric, zero for equal samples, and blind to a constant shift (a seminorm)
    assert interval_function_distance(nb, vb, na, va)["h1"] == pytest.approx(d["h1"], rel=1e-14)
    assert interval_function_distance(nb, vb, nb, vb)["h1"] == 0.0
    assert interval_function_distance(nb, vb + 3.0, nb, vb)["h1"] == pytest.approx(0.0, abs=1e-14)


def test_h1_distance_of_linear_functions_is_exact():
    """Midpoint samples of a linear f on any grid interpolate f itself on the whole horizon:
    distance 0 between two grids, and slopes a, b give |a - b| sqrt(tf - t0)."""
    na, nb = np.linspace(0, 2, 4), np.array([0.0, 0.3, 1.1, 1.5, 2.0])
    ma, mb = interval_midpoints(na), interval_midpoints(nb)
    assert interval_function_distance(na, 1 - 2 * ma, nb, 1 - 2 * mb)["h1"] == pytest.approx(0.0, abs=1e-13)
    got = interval_function_distance(na, 3 * ma, nb, 0.5 * mb)["h1"]
    assert got == pytest.approx(2.5 * np.sqrt(2.0), rel=1e-13)


def test_piecewise_linear_distance_on_a_sub_interval_matches_quadrature():
    """The exact piecewise-linear formula against a fine trapezoidal quadrature of the derivative."""
    rng = np.random.default_rng(0)
    pa, pb = np.sort(rng.uniform(0, 1, 7)), np.sort(rng.uniform(0, 1, 5))
    va, vb = rng.normal(size=7), rng.normal(size=5)
    lo, hi = max(pa[0], pb[0]), min(pa[-1], pb[-1])
    t = np.union1d(np.linspace(lo, hi, 20001), np.concatenate([pa, pb]))
    t = t[(t >= lo) & (t <= hi)]
    d = np.interp(t, pa, va) - np.interp(t, pb, vb)
    ref = np.sqrt(np.sum(np.diff(d) ** 2 / np.diff(t)))  # exact: the difference is linear between these points
    assert piecewise_linear_distance(pa, va, pb, vb, lo, hi)["h1"] == pytest.approx(ref, rel=1e-10)


# ------------------------------------------------------------- plotting state
PLOTTING_SCRIPT = textwrap.dedent("""
    import importlib, pkgutil, sys, tempfile
    from pathlib import Path
    from types import SimpleNamespace
    import matplotlib
    matplotlib.use("svg")                      # a user's own, non-default choice
    matplotlib.rcParams["lines.linewidth"] = 3.25
    before = dict(matplotlib.rcParams)

    import numpy as np
    import occontrol
    for mod in pkgutil.walk_packages(occontrol.__path__, "occontrol."):
        importlib.import_module(mod.name)

    from occontrol.plot import control_overlay, convergence_plot
    from occontrol.sweeps import by_case_figure, trend_figure
    from occontrol.resnet import ResNet
    from occontrol.resnet.figures import boundary_figure, theta_figure
    from occontrol.resnet.comparison import deep_limit_figure, objective_time_figure, theta_pair_figure

    out = Path(tempfile.mkdtemp())
    rng = np.random.default_rng(0)
    nets = {N: ResNet(rng.normal(size=(N, 2, 2)), rng.normal(size=(N, 2)), rng.normal(size=(1, 2)),
                      np.zeros(1), 1 / N) for N in (2, 4)}
    X, y = rng.normal(size=(20, 2)), np.arange(20) % 2
    control_overlay([("N=2", np.linspace(0, 1, 3), np.ones((2, 2)))], ["a", "b"], out / "overlay.png")
    lv = [SimpleNamespace(N=N, h=1 / N) for N in (2, 4, 8)]
    ds = [SimpleNamespace(N=N, N_next=2 * N, l2=1 / N, sup=2 / N, h1=1 / N, objective_gap=1 / N ** 2,
                          branch_jump=False) for N in (2, 4)]
    convergence_plot(SimpleNamespace(levels=lv, distances=ds), out / "convergence.svg")
    rows = [{"case": "a", "tau": 1.0, "status": "ok", "E": 1.0},
            {"case": "b", "tau": 10.0, "status": "failed", "E": 2.0}]
    trend_figure(rows, ["tau"], "E", out / "trend.png")
    by_case_figure(rows, ["tau"], ["E"], out / "cases.png")
    theta_figure(nets, out / "theta.png")
    boundary_figure(nets[4], X, y, out / "boundary.png")
    dist = {"h1": {"ipopt": [{"N_next": 4, "l2": 0.5}, {"N_next": 8, "l2": 0.25}]}}
    deep_limit_figure(dist, out / "deep_limit.png")
    theta_pair_figure(nets, nets, "adam", out / "pair.png", "pair")
    run = SimpleNamespace(history=[(0, 0.0, 2.0), (1, 0.5, 1.0)])
    result = SimpleNamespace(runs={("h1", "adam", 4): run},
                             rows=[{"setting": "h1", "N": 4, "method": "ipopt", "success": True, "objective": 0.9,
                                    "solve_seconds": 0.4, "ladder_seconds": 0.8}])
    objective_time_figure(result, "h1", 4, out / "time.png")

    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 9, files
    assert all((out / f).stat().st_size > 0 for f in files)
    assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
    after = dict(matplotlib.rcParams)
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, changed
    assert "matplotlib.pyplot" not in sys.modules   # no pyplot: no global figure list, no backend switch
    print("unchanged")
""")


def test_making_figures_changes_no_global_plotting_state():
    done = subprocess.run([sys.executable, "-c", PLOTTING_SCRIPT], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("unchanged")

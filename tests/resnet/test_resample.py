"""The trained network as a function of t (issue 13 §4): theta_at gives the piecewise-constant
theta(t), resample carries that same function onto other layers (N uniform, or an oc.Grid)."""

from __future__ import annotations

import numpy as np
import pytest

import occontrol as oc
from occontrol.datasets import load_dataset
from occontrol.grid import interval_midpoints, piecewise_constant_distance
from occontrol.resnet import ResNet
from occontrol.resnet.problem import DeepLimitProblem, DeepLimitSettings
from occontrol.resnet.train import random_network

GRID = oc.Grid([0.0, 0.1, 0.25, 0.5, 0.6, 1.0])


@pytest.fixture(scope="module")
def deep():
    ds = load_dataset("moons", n=20, seed=0)
    return DeepLimitProblem(ds.X_train, ds.y_train, DeepLimitSettings(horizon=2.0, width=3))


def _distinct(net: ResNet, seed: int = 0) -> ResNet:
    """The network with a different random theta in every layer (so that a wrong layer shows)."""
    rng = np.random.default_rng(seed)
    return ResNet(rng.normal(size=net.A.shape), rng.normal(size=net.b.shape), net.W, net.c,
                  net.steps[0] if net.uniform else net.steps, net.activation, net.lift, net.loss, net.classes)


@pytest.fixture(scope="module")
def uniform8(deep):
    return _distinct(random_network(deep, 8, seed=1))


@pytest.fixture(scope="module")
def nonuniform(deep):
    return _distinct(random_network(deep, 5, seed=2).resample(GRID), seed=3)


def test_theta_at_is_the_layer_containing_t(uniform8):
    net = uniform8  # T = 2, h = 0.25
    assert net.T == 2.0
    for k in range(8):
        assert np.array_equal(net.theta_at(0.25 * k + 0.1), net.theta[k])
        assert np.array_equal(net.theta_at(0.25 * k), net.theta[k])  # at a node: the layer starting there
    assert np.array_equal(net.theta_at(2.0), net.theta[-1])  # at T: the last layer
    t = np.array([0.0, 0.3, 1.99])
    assert np.array_equal(net.theta_at(t), net.theta[[0, 1, 7]])


def test_theta_at_refuses_times_outside_the_depth(uniform8):
    with pytest.raises(ValueError, match=r"^t: expected times in \[0, T\] = \[0, 2\]"):
        uniform8.theta_at(2.5)
    with pytest.raises(ValueError, match=r"^t: expected times in \[0, T\]"):
        uniform8.theta_at([-0.1, 1.0])
    with pytest.raises(ValueError, match=r"^t: expected a time or a 1-D array"):
        uniform8.theta_at(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"^t: .*NaN"):
        uniform8.theta_at(np.nan)


@pytest.mark.parametrize("target", [16, 24, "refined GRID"])
def test_resample_onto_a_refinement_carries_theta_exactly(uniform8, nonuniform, target):
    """On a grid whose nodes include the old ones the piecewise-constant theta(t) is the same function:
    its L2 and sup distance to the original, computed on the union of both grids, is zero."""
    net = nonuniform if target == "refined GRID" else uniform8
    grid = GRID.refined(3) if target == "refined GRID" else target
    fine = net.resample(grid)
    assert fine.N == (15 if target == "refined GRID" else target)
    assert fine.T == pytest.approx(net.T, rel=1e-15)
    d = piecewise_constant_distance(net.nodes, net.theta, fine.nodes, fine.theta)
    assert d == {"l2": 0.0, "sup": 0.0}
    assert np.array_equal(fine.W, net.W) and np.array_equal(fine.c, net.c) and np.array_equal(fine.lift, net.lift)
    assert fine.status is None and fine.success is None


@pytest.mark.parametrize("target", [5, 3, 13, GRID])
def test_resample_samples_theta_at_the_new_midpoints(uniform8, target):
    new = uniform8.resample(target)
    mids = interval_midpoints(new.nodes)
    assert np.array_equal(new.theta, uniform8.theta_at(mids))
    assert np.array_equal(new.theta_at(mids), uniform8.theta_at(mids))
    assert new.uniform == (not isinstance(target, oc.Grid))


def test_coarsening_takes_the_layer_starting_at_the_new_midpoint(uniform8):
    """8 -> 4 layers: the midpoint of new layer j is the node starting old layer 2j + 1."""
    assert np.array_equal(uniform8.resample(4).theta, uniform8.theta[1::2])


@pytest.mark.parametrize("which", ["uniform", "non-uniform"])
def test_resample_onto_its_own_grid_returns_the_identical_weights(uniform8, nonuniform, which):
    net = uniform8 if which == "uniform" else nonuniform
    same = net.resample(net.grid if which == "non-uniform" else net.N)
    for name in ("A", "b", "W", "c", "steps", "lift"):
        assert np.array_equal(getattr(same, name), getattr(net, name)), name
    X = np.random.default_rng(0).normal(size=(9, 2))
    assert np.array_equal(same.decision_function(X), net.decision_function(X))


def test_resample_from_a_non_uniform_network_to_uniform_layers(nonuniform):
    # h = 0.2 on T = 2: midpoints 0.1, 0.3, 0.5, ..., 1.9; GRID's nodes on [0, 2] are 0, 0.2, 0.5, 1, 1.2, 2
    # (the midpoint 0.5 is a node, computed in other floating-point operations: the layer starting there)
    new = nonuniform.resample(10)
    expected = nonuniform.theta[[0, 1, 2, 2, 2, 3, 4, 4, 4, 4]]
    assert np.array_equal(new.theta, expected)
    assert new.uniform and new.h == pytest.approx(0.2, rel=1e-15)


def test_resample_refuses_bad_grids(uniform8):
    with pytest.raises(TypeError, match=r"^grid: expected an int N >= 1 or an oc.Grid"):
        uniform8.resample(2.5)
    with pytest.raises(ValueError, match=r"^grid: expected N >= 1"):
        uniform8.resample(0)

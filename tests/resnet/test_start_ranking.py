"""The followed branch: the best start, with ties (one minimum reached from several starts) broken by seed."""

import math

import pytest

from occontrol.resnet.deep_limit import rank_starts


def test_lower_objective_first_and_failed_starts_last():
    assert rank_starts([0.5, 0.1, 0.3, 0.05], [True, True, True, False]) == [1, 2, 0, 3]


def test_one_minimum_from_several_starts_keeps_seed_order():
    # starts 1 and 3 reach the same minimum; round-off decides which is lower, not the seed
    base = 0.1435523137
    assert rank_starts([0.2, base + 1e-15, 0.3, base], [True] * 4) == [1, 3, 0, 2]
    assert rank_starts([0.2, base, 0.3, base + 1e-15], [True] * 4) == [1, 3, 0, 2]


def test_distinct_minima_are_not_merged():
    assert rank_starts([0.1 + 1e-6, 0.1], [True, True]) == [1, 0]


def test_a_failed_start_never_ties_with_a_successful_one():
    assert rank_starts([0.1, 0.1], [False, True]) == [1, 0]


@pytest.mark.parametrize("n", [1, 2, 5])
def test_every_start_is_ranked_once(n):
    ranked = rank_starts([math.sin(i) for i in range(n)], [i % 2 == 0 for i in range(n)])
    assert sorted(ranked) == list(range(n))

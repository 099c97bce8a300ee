"""distribute(): integer shares that add up exactly, respect caps and weights."""

from __future__ import annotations

import numpy as np

from dsl.primitives.distribute import allocate


def _check(g, n_groups, totals, w, cap, out):
    for k in range(n_groups):
        rows = g == k
        reachable = min(totals[k], cap[rows & (w > 0)].sum()) if (w[rows] > 0).any() else 0
        assert out[rows].sum() == int(reachable), (k, out[rows], totals[k])
    assert np.all(out <= cap) and np.all(out >= 0)
    assert np.all(out[w == 0] == 0)


def test_random_groups_sum_exactly_and_respect_caps():
    rng = np.random.default_rng(11)
    for _trial in range(200):
        n_groups = int(rng.integers(1, 6))
        n = int(rng.integers(1, 40))
        g = rng.integers(0, n_groups, n)
        totals = rng.integers(0, 10_000, n_groups).astype(float)
        w = np.where(rng.random(n) < 0.2, 0.0, rng.random(n) * 100)
        cap = np.where(rng.random(n) < 0.5, np.inf, rng.integers(0, 3000, n).astype(float))
        out = allocate(g, n_groups, totals, w, cap)
        _check(g, n_groups, totals, w, cap, out)


def test_proportional_when_nothing_binds_and_largest_remainder():
    out = allocate(np.zeros(3, np.int64), 1, np.array([10.0]), np.array([1.0, 1.0, 1.0]), np.full(3, np.inf))
    assert out.tolist() == [4, 3, 3]          # 3.33 each; the first remainder in row order wins the extra unit


def test_binding_cap_redistributes_to_the_others():
    out = allocate(np.zeros(3, np.int64), 1, np.array([100.0]), np.array([8.0, 1.0, 1.0]), np.array([50.0, np.inf, np.inf]))
    assert out.tolist() == [50, 25, 25]


def test_all_weights_zero_distributes_nothing():
    out = allocate(np.zeros(2, np.int64), 1, np.array([7.0]), np.zeros(2), np.full(2, np.inf))
    assert out.tolist() == [0, 0]


def test_kopecks_of_a_money_total_add_up():
    total = 123_456_789.0  # kopecks
    w = np.array([3.0, 3.0, 3.0, 1.0])
    out = allocate(np.zeros(4, np.int64), 1, np.array([total]), w, np.full(4, np.inf))
    assert out.sum() == 123_456_789

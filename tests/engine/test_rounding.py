"""The engine's half-up rounding must agree with decimal arithmetic on millions of products."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from dsl.primitives.rounding import round_half_up, to_kopecks


def test_three_two_decimal_factors_match_exact_arithmetic_on_five_million():
    rng = np.random.default_rng(20250101)
    n = 5_000_000
    base = rng.integers(100_00, 200_000_00, n)      # base rate, kopecks
    kz = rng.integers(10, 3000, n)                  # 0.10 … 29.99
    kus = rng.integers(50, 200, n)                  # 0.50 … 1.99
    exact = (base * kz * kus + 5000) // 10000       # kopecks, half up (all positive)
    got = to_kopecks((base / 100.0) * (kz / 100.0) * (kus / 100.0))
    assert int((got != exact).sum()) == 0


def test_four_factors_with_three_decimal_coefficient_match_on_one_million():
    rng = np.random.default_rng(7)
    n = 1_000_000
    a = rng.integers(10_000_00, 60_000_00, n)
    b = rng.integers(10, 1000, n)
    c = rng.integers(80, 140, n)
    d = rng.integers(1000, 1700, n)                 # e.g. КД 1.105
    num = a.astype(object) * b.astype(object) * c.astype(object) * d.astype(object)
    exact = np.array([(v + 5_000_000) // 10_000_000 for v in num], dtype=np.int64)
    got = to_kopecks((a / 100.0) * (b / 100.0) * (c / 100.0) * (d / 1000.0))
    assert int((got != exact).sum()) == 0


def test_known_tie_and_negative_values_round_away_from_zero():
    # 28 147,26 × 7,25 = 204 067,635 exactly; 204067.63499999998 as a double
    assert to_kopecks(np.array([28147.26 * 7.25]))[0] == 20406764
    assert to_kopecks(np.array([-0.125]))[0] == -13
    assert to_kopecks(np.array([10764.4]), 0)[0] == 1076400


def test_round_half_up_agrees_with_decimal_for_other_digits():
    rng = np.random.default_rng(3)
    vals = rng.integers(-10**7, 10**7, 200_000) / 1000.0
    for digits in (0, 1, 2):
        got = round_half_up(vals, digits)
        q = Decimal(1).scaleb(-digits)
        want = np.array([float(Decimal(str(v)).quantize(q, rounding=ROUND_HALF_UP)) for v in vals])
        assert np.array_equal(got, want), digits

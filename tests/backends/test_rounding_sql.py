"""Half-up rounding of money in SQL equals the numpy backend's on millions of products
(the tariff shape: base rate × coefficient × coefficient, rounded to kopecks)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlglot import exp

from dsl.primitives.rounding import round_half_up as np_round
from dsl.primitives.rounding import round_half_up_sql, to_kopecks, to_kopecks_sql

N = 2_000_000


def _inputs(i: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    base = (10000 + (i * 7919) % 9_000_000).astype(np.float64) / 100.0     # 100.00 … 90 099.99 ₽
    k1 = ((i * 104729) % 30000).astype(np.float64) / 10000.0 + 0.5        # 0.5000 … 3.4999
    k2 = ((i * 15485863) % 2000).astype(np.float64) / 1000.0 + 0.8        # 0.800 … 2.799
    return base, k1, k2


def _sql_inputs(q):
    i = exp.column("i")
    def frac(mul, mod, div):
        return exp.Div(this=q.double(exp.Mod(this=exp.Paren(this=exp.Mul(this=i.copy(), expression=exp.Literal.number(mul))),
                                             expression=exp.Literal.number(mod))), expression=q.flt(div))
    base = exp.Div(this=q.double(exp.Add(this=exp.Literal.number(10000), expression=exp.Mod(
        this=exp.Paren(this=exp.Mul(this=i.copy(), expression=exp.Literal.number(7919))),
        expression=exp.Literal.number(9_000_000)))), expression=q.flt(100.0))
    k1 = exp.Add(this=frac(104729, 30000, 10000.0), expression=q.flt(0.5))
    k2 = exp.Add(this=frac(15485863, 2000, 1000.0), expression=q.flt(0.8))
    return base, k1, k2


@pytest.mark.postgres
def test_round_money_of_products_equals_numpy(pg):
    q = pg.dialect
    base, k1, k2 = _sql_inputs(q)
    product = exp.Mul(this=exp.Mul(this=exp.Paren(this=base), expression=exp.Paren(this=k1)),
                      expression=exp.Paren(this=k2))
    kop = to_kopecks_sql(q, exp.Paren(this=product), 2)
    sql = f"SELECT {q.render(kop)} FROM generate_series(0::bigint, {N - 1}) AS g(i) ORDER BY i"
    got = np.array([r[0] for r in pg.fetch(sql)], dtype=np.int64)
    b, c1, c2 = _inputs(np.arange(N, dtype=np.int64))
    want = to_kopecks(b * c1 * c2, 2)
    assert len(got) == N
    bad = np.nonzero(got != want)[0]
    assert len(bad) == 0, f"{len(bad)} of {N} differ, first at i={bad[:3]}"
    # the half-way cases are there: products whose third decimal is exactly 5 in decimal arithmetic
    assert int(np.sum(np.isclose((b * c1 * c2 * 1000) % 10, 5.0, atol=1e-6))) > 1000


@pytest.mark.postgres
@pytest.mark.parametrize("digits", [0, 1, 2, -2])
def test_round_to_digits_equals_numpy(pg, digits):
    q = pg.dialect
    x = exp.Sub(this=exp.Div(this=q.double(exp.column("i")), expression=q.flt(8.0)), expression=q.flt(500.0))
    sql = f"SELECT {q.render(round_half_up_sql(q, exp.Paren(this=x), digits))} FROM generate_series(0, 99999) AS g(i) ORDER BY i"
    got = np.array([r[0] for r in pg.fetch(sql)], dtype=np.float64)
    want = np_round(np.arange(100000, dtype=np.float64) / 8.0 - 500.0, digits)
    assert np.array_equal(got, want)

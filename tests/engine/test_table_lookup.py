"""Table lookups (engine/runtime/tables.py: find) against a row-by-row reference: dated and undated,
one and several keys, codes absent from the table or from the row, dense and sparse key spaces."""

from __future__ import annotations

import numpy as np
import pytest

from dsl.columns import Col
from dsl.diagnostics import Span
from dsl.types import CODE, INT, MONEY, NUMBER
from engine.runtime import tables
from engine.runtime.params import FAR_FUTURE
from engine.runtime.tables import TableDef

OPEN = -(2**30)


def make_table(rng, n_codes: int, dated: bool, second_key: str | None) -> TableDef:
    rows, starts, ends = [], [], []
    for i in range(n_codes):
        for extra in ([None] if second_key is None else [1, 2, 5]):
            if rng.random() < 0.2:
                continue                     # holes in the key space
            periods = [(OPEN, FAR_FUTURE)]
            if dated:
                cut = [100, 200, 300][: int(rng.integers(0, 4))]
                bounds = [int(rng.integers(-50, 50)), *cut, FAR_FUTURE]
                periods = [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if rng.random() < 0.85]
            for a, b in periods:
                row = {"code": f"k{i:03d}", "v": float(i) + a / 1000.0}
                if second_key == "level":
                    row["level"] = extra
                elif second_key == "price":
                    row["price"] = extra * 100
                rows.append(row)
                starts.append(a)
                ends.append(b)
    cols = {"code": CODE, "v": NUMBER}
    keys = ["code"]
    if second_key is not None:
        cols[second_key] = INT if second_key == "level" else MONEY
        keys.append(second_key)
    t = TableDef("t", "t.csv", keys, cols, None, None, dated, Span.point("t.csv", 1, 1))
    t.rows = rows
    t.starts, t.ends = np.array(starts, np.int64), np.array(ends, np.int64)
    t.finalize()
    return t


def reference(t: TableDef, keys: list[list], days: np.ndarray) -> np.ndarray:
    out = np.full(len(days), -1, dtype=np.int64)
    for i in range(len(days)):
        for r, row in enumerate(t.rows):
            if all(row[k] == q[i] for k, q in zip(t.keys, keys, strict=True)) and \
                    t.starts[r] <= days[i] < t.ends[r]:
                out[i] = r
    return out


def query(rng, n: int, n_codes: int, second_key: str | None, missing: bool):
    pool = np.array([f"k{i:03d}" for i in range(n_codes + 5)], dtype=object)   # 5 codes the table lacks
    picked = rng.integers(0, len(pool), n)
    cats, data = np.unique(pool[picked].astype(str), return_inverse=True)
    data = data.astype(np.int32)
    mask = None
    values = [str(cats[d]) for d in data]
    if missing:
        mask = rng.random(n) < 0.1
        data[mask & (rng.random(n) < 0.5)] = -1          # absent as -1, or masked over a real code
        values = [None if m else v for m, v in zip(mask, values, strict=True)]
    cols = [Col(CODE.as_optional(missing), data, mask, cats.astype(object))]
    keys = [values]
    if second_key is not None:
        lv = rng.choice([1, 2, 3, 5], n)
        cols.append(Col(INT, lv))
        keys.append([int(v) * (100 if second_key == "price" else 1) for v in lv])
    return cols, keys


@pytest.mark.parametrize("dated", [False, True])
@pytest.mark.parametrize("second_key", [None, "level", "price"])
@pytest.mark.parametrize("dense", [True, False])
@pytest.mark.parametrize("missing", [False, True])
def test_find_agrees_with_a_row_by_row_reference(dated, second_key, dense, missing, monkeypatch):
    if not dense:
        monkeypatch.setattr(tables, "DENSE_IDS", 1)
    rng = np.random.default_rng(hash((dated, second_key, dense, missing)) % 2**32)
    t = make_table(rng, 40, dated, second_key)
    for n in (3, 400):                       # few rows (explain) and many (per-value mapping)
        cols, keys = query(rng, n, 40, second_key, missing)
        days = rng.integers(-100, 400, n).astype(np.int64) if dated else None
        got = t.find(cols, days)
        want = reference(t, keys, days if days is not None else np.zeros(n, np.int64))
        assert np.array_equal(got, want)


def test_undated_single_code_key_is_resolved_per_distinct_code():
    t = make_table(np.random.default_rng(3), 400, False, None)
    cats = np.array(["k007", "k123", "zz"], dtype=object)
    q = Col(CODE, np.tile(np.array([0, 1, 2, 1], np.int32), 1000), None, cats)
    rows = t.find([q], None)
    by_code = {r["code"]: i for i, r in enumerate(t.rows)}
    assert set(rows[1::4]) == {by_code.get("k123", -1)} and set(rows[2::4]) == {-1}

"""Column-at-a-time output text is the same, value for value, as the row-by-row text it replaced.

The values CSVs (`write_run`) are written from `display_column`; on the shipped month (with its
injected defects) each column must give exactly
`display(col.value_at(i), col.type)` for every row, and the CSV must hold those texts;
missing values of every kind are checked on small columns.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from dsl.columns import Col
from dsl.types import Type
from engine.backends.numpy.runner import write_run
from engine.oms.pipeline import process
from engine.runtime.compiler import compile_package
from engine.runtime.values import display, display_column

ROOT = Path(__file__).resolve().parents[2]
MONTH = ROOT / "examples" / "registries" / "2025-03"


@pytest.fixture(scope="module")
def result():
    m = compile_package(ROOT / "methodologies" / "federal" / "2025")
    res = process(m, sorted(MONTH.glob("*.XML")), {"insured": next(MONTH.glob("ERZ_*.csv"))})
    assert res.status == "done"
    return res.run


def test_every_value_column_as_row_by_row(result):
    kinds = set()
    for ent, cols in result.values.items():
        for name, col in cols.items():
            want = [display(col.value_at(i), col.type) for i in range(len(col))]
            assert display_column(col) == want, f"{ent}.{name}"
            kinds.add(col.type.kind)
    assert kinds >= {"money", "bool", "code"}


def test_values_csv_holds_those_texts(result, tmp_path):
    write_run(result, tmp_path)
    ent = "case"
    cols = result.values[ent]
    keys = result.data.entities[ent].keys
    with (tmp_path / f"{ent}.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["key", *cols]
    assert len(rows) == len(keys) + 1
    for i in (0, len(keys) // 2, len(keys) - 1):
        assert rows[i + 1] == [str(keys[i]), *[display(c.value_at(i), c.type) for c in cols.values()]]


@pytest.mark.parametrize("kind,data", [("number", [0.1, 14481.765269999998, -2.5, 0.1]),
                                       ("date", [0, 20000, -1, 20000]), ("int", [3, -7, 3, 0]),
                                       ("money", [-5, 12345, 0, -100001])])
def test_kinds_with_missing(kind, data):
    col = Col(Type(kind), np.asarray(data), missing=np.array([False, True, False, False]))
    assert display_column(col) == [display(col.value_at(i), col.type) for i in range(4)]

"""``bind`` of Arrow columns (engine/runtime/dataset_arrow.py) gives what the numpy path gives for the same
strings — typed data, missing masks, dictionaries — and, on values that are not in plain form,
the same problems: the fast path hands such a column to the numpy path instead of guessing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from dsl.types import Type
from engine.oms.io.arrowdata import ArrowColumns
from engine.runtime.dataset import DataError, bind
from engine.runtime.schema import EntityDef, FieldDef

KINDS = {"c": "code", "t": "text", "d": "date", "i": "int", "n": "number", "m": "money", "b": "bool"}


def _entity(optional: bool) -> dict[str, EntityDef]:
    fields = {"key": FieldDef("key", Type("code"), None, None)}  # type: ignore[arg-type]
    for name, kind in KINDS.items():
        fields[name] = FieldDef(name, Type(kind, optional=optional), None, None,  # type: ignore[arg-type]
                                personal=name == "t")
    return {"row": EntityDef("row", None, "key", None, fields)}


def _both(values: dict[str, list], optional: bool = True):
    n = len(next(iter(values.values())))
    cols = {"key": [f"k{i}" for i in range(n)], **values}
    raw = {name: np.array(v, dtype=object) for name, v in cols.items()}
    table = ArrowColumns(pa.table({name: pa.array(v, pa.string()) for name, v in cols.items()}))
    out = []
    for tables in ({"row": raw}, {"row": table}):
        try:
            out.append(bind(_entity(optional), tables))
        except DataError as e:
            out.append([str(p) for p in e.problems])
    return out


def _same(a, b) -> None:
    if isinstance(a, list):
        assert a == b
        return
    ea, eb = a.entities["row"], b.entities["row"]
    assert ea.keys.tolist() == eb.keys.tolist()
    for name, ca in ea.cols.items():
        cb = eb.cols[name]
        assert ca.data.dtype == cb.data.dtype and np.array_equal(ca.data, cb.data), name
        assert (ca.missing is None) == (cb.missing is None), name
        if ca.missing is not None:
            assert np.array_equal(ca.missing, cb.missing), name
        assert (ca.cats is None) == (cb.cats is None), name
        if ca.cats is not None:
            assert ca.cats.dtype == cb.cats.dtype and ca.cats.tolist() == cb.cats.tolist(), name


PLAIN = {"c": ["b", None, "a", "", "b"], "t": ["Ё", "я", None, "A", "я"], "d": ["2025-09-01", None, "1970-01-01",
         "2024-02-29", ""], "i": ["7", "-3", None, "007", "0"], "n": ["1.5", "2", None, "-0.25", "10.125"],
         "m": ["100.50", "0", None, "12", "99.99"], "b": ["1", "0", None, "true", "FALSE"]}


def test_plain_values_and_missing_ones():
    a, b = _both(PLAIN)
    assert not isinstance(a, list)
    _same(a, b)


def test_all_missing_and_empty_columns():
    _same(*_both({k: [None, "", None] for k in KINDS}))
    _same(*_both({k: [] for k in KINDS}))


@pytest.mark.parametrize("field,bad", [
    ("d", "2025-02-30"), ("d", "2025-9-1"), ("d", "01.09.2025"), ("i", "+5"), ("i", " 7"), ("i", "1.0"),
    ("n", "1,5"), ("n", "1e3"), ("m", "1.005"), ("m", "abc"), ("b", "да"),
])
def test_values_not_in_plain_form_give_the_same_result(field, bad):
    values = {k: list(v) for k, v in PLAIN.items()}
    values[field][0] = bad
    _same(*_both(values))


def test_required_field_missing_is_reported_alike():
    a, b = _both(PLAIN, optional=False)
    assert isinstance(a, list) and a and a == b


def test_large_sums_bind_to_exact_kopecks_on_both_paths():
    # an account total of a 1M-case month: 137 212 288,11 ₽ was once refused as "more than two
    # decimals" because the float tolerance did not scale with the magnitude
    sums = ["137212288.11", "99999999999.99", "0.01", "123456789012.34", "70368744177.66"]
    filled = {k: v[:1] * len(sums) for k, v in PLAIN.items() if k != "m"}
    a, b = _both({**filled, "m": sums})
    _same(a, b)
    assert a.entities["row"].cols["m"].data.tolist() == [13721228811, 9999999999999, 1, 12345678901234, 7036874417766]


@pytest.mark.parametrize("bad, text", [("137212288.115", "больше двух знаков"), ("1.001", "больше двух знаков"),
                                       ("900719925474099.2", "слишком велика")])
def test_extra_decimals_and_sums_beyond_exact_kopecks_are_refused(bad, text):
    filled = {k: v[:1] * 2 for k, v in PLAIN.items() if k != "m"}
    a, b = _both({**filled, "m": ["1.00", bad]})
    assert a == b and any(text in p and "row [k1].m" in p for p in a), a

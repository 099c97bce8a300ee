"""Typed columns straight from Arrow string columns, for ``bind``: no Python per value.

Each conversion gives exactly what ``dataset._convert_column`` gives for the same strings as
numpy object arrays — dtypes, missing masks, dictionaries (sorted, with "" first when a value
is missing) — or None when a value is not in the plain form the fast path is sure about
(``YYYY-MM-DD``, ``[-]digits[.digits]``); the numpy path then converts the column and
reports what is wrong, as before.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsl.columns import Col
from dsl.types import Type

_DATE = r"^\d{4}-\d{2}-\d{2}$"
_INT = r"^-?\d{1,18}$"
_NUMBER = r"^-?\d{1,15}(\.\d{1,15})?$"


def missing_mask(col: pa.Array) -> np.ndarray:
    """True where the value is absent or empty (the row reader's None or "")."""
    if pa.types.is_null(col.type):
        return np.ones(len(col), dtype=bool)
    present = pc.fill_null(pc.not_equal(col, ""), False)
    return ~present.to_numpy(zero_copy_only=False)


def _all_match(col: pa.Array, pattern: str) -> bool:
    return bool(pc.all(pc.match_substring_regex(col, pattern), skip_nulls=True).as_py() is not False)


def codes(col: pa.Array, typ: Type, missing: np.ndarray) -> Col:
    """Dictionary codes over the sorted distinct values (dsl.columns.encode_strings)."""
    n = len(col)
    has_missing = bool(missing.any())
    if pa.types.is_null(col.type) or n == 0:
        cats = np.array([""] if has_missing else [], dtype=object)
        return Col(typ, np.full(n, -1, dtype=np.int32), missing if has_missing else None, cats)
    values = pc.if_else(pc.equal(col, ""), pa.scalar(None, col.type), col) if has_missing else col
    enc = pc.dictionary_encode(values)
    dictionary = enc.dictionary
    order = pc.array_sort_indices(dictionary).to_numpy()
    offset = 1 if has_missing else 0  # encode_strings sorts "" (what it puts for a missing value) first
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(offset, len(order) + offset, dtype=np.int32)
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    data = np.where(idx >= 0, rank[np.maximum(idx, 0)] if len(rank) else 0, -1).astype(np.int32)
    sorted_values = dictionary.take(pa.array(order)).to_numpy(zero_copy_only=False)
    cats = np.empty(len(order) + offset, dtype=object)
    if offset:
        cats[0] = ""
    cats[offset:] = sorted_values
    return Col(typ, data, missing if has_missing else None, cats)


def typed(col: pa.Array, typ: Type, missing: np.ndarray) -> tuple[np.ndarray, np.ndarray | None] | None:
    """(data, float values before rounding for money) of a date/int/number/money column, or None."""
    k = typ.kind
    if pa.types.is_null(col.type):
        return np.zeros(len(col), dtype=np.float64 if k == "number" else np.int64), None
    values = pc.if_else(pc.equal(col, ""), pa.scalar(None, col.type), col) if missing.any() else col
    if k == "date":
        if not _all_match(values, _DATE):
            return None
        try:  # the ISO cast refuses 2025-02-30 (strptime would roll it over to March)
            dates = pc.cast(values, pa.date32())
        except pa.ArrowInvalid:
            return None  # not a calendar date: the numpy path reports it
        days = pc.cast(dates, pa.int32()).fill_null(0)
        return days.to_numpy(zero_copy_only=False).astype(np.int64), None
    if k == "int":
        if not _all_match(values, _INT):
            return None
        return pc.cast(values, pa.int64()).fill_null(0).to_numpy(zero_copy_only=False), None
    if k in ("number", "money"):
        if not _all_match(values, _NUMBER):
            return None
        f = pc.cast(values, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        return f, None
    return None

"""Column values: what every expression evaluates to (one value per row).

Representation by kind:
- bool: numpy bool; int: int64; number: float64;
- money: int64 kopecks (exact);
- date: int64 days since 1970-01-01;
- code/text: int32 indices into ``cats`` (sorted unique strings), dictionary-encoded.
``missing`` is a bool mask (True = no value) and is present only for optional values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from dsl.types import Type

EPOCH = dt.date(1970, 1, 1)
_DTYPES = {"bool": np.bool_, "int": np.int64, "number": np.float64, "money": np.int64,
           "date": np.int64, "code": np.int32, "text": np.int32}


@dataclass
class Col:
    type: Type
    data: np.ndarray
    missing: np.ndarray | None = None
    cats: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def take(self, idx: np.ndarray) -> Col:
        idx = np.asarray(idx)
        if idx.dtype.kind in "iu" and idx.ndim == 1:     # np.take: several times faster than data[idx]
            missing = np.take(self.missing, idx) if self.missing is not None else None
            return Col(self.type, np.take(self.data, idx), missing, self.cats)
        missing = self.missing[idx] if self.missing is not None else None
        return Col(self.type, self.data[idx], missing, self.cats)

    # -- conversions used by explain, tests and output --
    def value_at(self, i: int):
        """Python value of row i (Decimal-free: money as kopecks int)."""
        if self.missing is not None and self.missing[i]:
            return None
        v = self.data[i]
        k = self.type.kind
        if k in ("code", "text"):
            return str(self.cats[v]) if v >= 0 else None
        if k == "date":
            return EPOCH + dt.timedelta(days=int(v))
        if k == "bool":
            return bool(v)
        if k in ("int", "money"):
            return int(v)
        return float(v)

    def to_python(self) -> list:
        return [self.value_at(i) for i in range(len(self))]


def empty_dtype(kind: str):
    return _DTYPES[kind]


def const(value, typ: Type, n: int) -> Col:
    """A constant broadcast to n rows (no copy)."""
    k = typ.kind
    if k in ("code", "text"):
        cats = np.array([value], dtype=object)
        return Col(typ, np.broadcast_to(np.int32(0), (n,)), None, cats)
    if k == "date":
        value = (value - EPOCH).days if isinstance(value, dt.date) else int(value)
    arr = np.broadcast_to(np.asarray(value, dtype=_DTYPES[k]), (n,))
    return Col(typ, arr)


def encode_strings(values, typ: Type) -> Col:
    """Dictionary-encode an array of str/None."""
    arr = np.asarray(values, dtype=object)
    n = arr.shape[0]
    missing = np.fromiter((v is None or v == "" for v in arr), dtype=bool, count=n)
    filled = np.where(missing, "", arr).astype(str)
    cats, inv = np.unique(filled, return_inverse=True)
    codes = inv.astype(np.int32)
    if missing.any():
        codes[missing] = -1
    cats_obj = cats.astype(object)
    return Col(typ, codes, missing if missing.any() else None, cats_obj)


def unify_codes(a: Col, b: Col) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Re-express two code columns over one dictionary; returns (a_codes, b_codes, cats)."""
    if a.cats is b.cats or (len(a.cats) == len(b.cats) and np.array_equal(a.cats, b.cats)):
        return np.asarray(a.data), np.asarray(b.data), a.cats
    cats = np.unique(np.concatenate([a.cats.astype(str), b.cats.astype(str)])).astype(object)
    return _remap(a, cats), _remap(b, cats), cats


def _remap(col: Col, cats: np.ndarray) -> np.ndarray:
    """Codes of `col` in the dictionary `cats` (a superset of its own); −1 stays −1."""
    data = np.asarray(col.data)
    if len(col.cats) == 0:   # an all-missing column has an empty dictionary
        return np.full(data.shape, -1, dtype=np.int32)
    m = np.searchsorted(cats.astype(str), col.cats.astype(str)).astype(np.int32)
    return np.where(data >= 0, m[np.clip(data, 0, None)], -1).astype(np.int32)


def code_strings(col: Col) -> np.ndarray:
    """Materialize a code column as an object array of str (None where missing)."""
    data = np.asarray(col.data)
    out = col.cats[np.clip(data, 0, None)] if len(col.cats) else np.full(data.shape, None, dtype=object)
    out = np.array(out, dtype=object)
    if col.missing is not None:
        out[col.missing] = None
    out[data < 0] = None
    return out


def merge_missing(*cols: Col) -> np.ndarray | None:
    masks = [c.missing for c in cols if c.missing is not None]
    if not masks:
        return None
    out = masks[0].copy()
    for m in masks[1:]:
        out |= m
    return out

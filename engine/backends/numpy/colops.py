"""Column helpers of the evaluator: broadcasting, per-row choice, chunk concatenation, and the
rules for rows whose value is undetermined (a parameter not in force on the row's date)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsl import ir
from dsl.columns import Col, unify_codes
from dsl.diagnostics import Span
from dsl.types import BOOL


@dataclass
class Unresolved:
    """Rows where a value that must exist could not be determined (a parameter not in force on
    the row's date, or a value computed from one). Such a row carries no value — it is flagged by
    the methodology (e.g. МЭК 1.7.1 via present(...)) instead of stopping the run."""

    what: str
    reason: str
    span: Span | None
    rows: int
    entity: str | None
    row_key: str | None


def poison(*cols: Col) -> np.ndarray | None:
    """Rows whose value is undetermined: the mask of a required (non-optional) value.

    A mask on an optional value means «absent» and has its own rules (default, present);
    on a required value it can only come from a parameter not in force, and spreads."""
    masks = [c.missing for c in cols if c.missing is not None and not c.type.optional]
    if not masks:
        return None
    out = masks[0].copy()
    for m in masks[1:]:
        out = out | m
    return out


def kleene(op: str, x: np.ndarray, y: np.ndarray, a: Col, b: Col) -> Col:
    """Three-valued and/or: a known false decides «and», a known true decides «or»."""
    am = a.missing if a.missing is not None and not a.type.optional else np.zeros(len(a), bool)
    bm = b.missing if b.missing is not None and not b.type.optional else np.zeros(len(b), bool)
    x_true, x_false = x & ~am, ~x & ~am
    y_true, y_false = y & ~bm, ~y & ~bm
    if op == "and":
        true, false = x_true & y_true, x_false | y_false
    else:
        true, false = x_true | y_true, x_false & y_false
    return Col(BOOL, true, ~(true | false))


def concat(parts: list[Col]) -> Col:
    """Concatenate chunk results (code dictionaries may differ between chunks)."""
    first = parts[0]
    if len(parts) == 1:
        return first
    missing = None
    if any(p.missing is not None for p in parts):
        missing = np.concatenate([p.missing if p.missing is not None else np.zeros(len(p), bool) for p in parts])
    if first.type.kind in ("code", "text"):
        cats = np.unique(np.concatenate([p.cats.astype(str) for p in parts])).astype(object)
        datas = []
        for p in parts:
            remap = np.searchsorted(cats.astype(str), p.cats.astype(str)).astype(np.int32)
            d = np.asarray(p.data)
            datas.append(np.where(d >= 0, remap[np.clip(d, 0, None)] if len(remap) else -1, -1).astype(np.int32))
        return Col(first.type, np.concatenate(datas), missing, cats)
    return Col(first.type, np.concatenate([np.asarray(p.data) for p in parts]), missing)


def materialize(col: Col, n: int) -> Col:
    data = np.asarray(col.data)
    if data.shape[0] != n or (data.strides and data.strides[0] == 0):
        data = np.array(np.broadcast_to(data, (n,)))
    missing = col.missing
    if missing is not None and (missing.shape[0] != n):
        missing = np.broadcast_to(missing, (n,)).copy()
    return Col(col.type, data, missing, col.cats)


def select(c: np.ndarray, a: Col, b: Col, node: ir.IR) -> Col:
    if node.type.kind in ("code", "text"):
        ad, bd, cats = unify_codes(a, b)
        data = np.where(c, ad, bd).astype(np.int32)
    else:
        ad, bd = np.asarray(a.data), np.asarray(b.data)
        data = np.where(c, ad, bd)
        cats = None
    missing = None
    if a.missing is not None or b.missing is not None:
        am = a.missing if a.missing is not None else np.zeros(len(c), bool)
        bm = b.missing if b.missing is not None else np.zeros(len(c), bool)
        missing = np.where(c, am, bm)
    return Col(node.type, data, missing, cats)

"""Evaluation of table lookups `table[key, …].column` (see engine/runtime/tables.py for the index)."""

from __future__ import annotations

import numpy as np

from dsl import ir
from dsl.columns import Col
from dsl.types import BOOL
from engine.backends.numpy.evaluator import EvalError, Evaluator, RFrame, materialize, poison


def evaluate_lookup(ev: Evaluator, node: ir.Lookup, frames: list[RFrame]) -> Col:
    """Rows found per query row; a key that is absent or undetermined finds no row."""
    keys = [ev.eval(k, frames) for k in node.keys]
    per_value = lookup_per_value(ev, node, keys, frames)
    if per_value is not None:
        values, spread = per_value
        return values.take(spread)
    t = ev.m.tables[node.table]
    days = ev.frame_days(node.frame, frames) if t.dated else None
    if t.dated and days is None:
        if ev.context_day is None:
            raise EvalError(f"таблица «{t.name}» датирована, а дата расчёта не задана", node.span)
        days = np.full(frames[-1].n, ev.context_day, dtype=np.int64)
    for k, kn in zip(keys, node.keys, strict=True):
        ev.unresolved(k, kn, frames, f"ключ таблицы «{t.name}»")
    rows = t.find([materialize(k, frames[-1].n) for k in keys], days)
    bad = poison(*keys)
    if bad is not None:
        rows = np.where(bad, -1, rows)    # an undetermined key finds no row
    if node.column is None:
        return Col(BOOL, rows >= 0)
    return t.column_at(node.column, rows)


def lookup_per_value(ev: Evaluator, node: ir.Lookup, keys: list[Col], frames: list[RFrame]) -> tuple[Col, np.ndarray] | None:
    """A lookup by one code key as (values, index): the looked-up value for each distinct code
    of the column (× epoch of validity for a dated table) and each row's position among them;
    None when the table's shape does not allow it."""
    t = ev.m.tables[node.table]
    if len(keys) != 1:
        return None
    days = ev.frame_days(node.frame, frames) if t.dated else None
    if t.dated and days is None:
        return None
    bad = poison(keys[0])
    key = materialize(keys[0], frames[-1].n)
    if bad is not None:     # an undetermined key finds no row
        key = Col(key.type.as_optional(True), key.data, bad if key.missing is None else key.missing | bad, key.cats)
    by_value = t.rows_by_value([key], days)
    if by_value is None:
        return None
    ev.unresolved(keys[0], node.keys[0], frames, f"ключ таблицы «{t.name}»")
    rows, index = by_value
    return (Col(BOOL, rows >= 0) if node.column is None else t.column_at(node.column, rows)), index

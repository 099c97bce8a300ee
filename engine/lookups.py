"""Table lookups for the evaluator: repeated lookups with the same key arrays search once, and
code keys with small dictionaries are resolved per dictionary entry and date, then gathered.

Both give exactly the rows of TableDef.find; they only avoid a search per row. Cache entries
hold the arrays they were made from, so an identity match can never be a reused id.
"""

from __future__ import annotations

import numpy as np

from dsl.columns import Col


class LookupCache:
    def __init__(self) -> None:
        self._rows: dict[tuple, tuple] = {}
        self._grid_pos: dict[tuple, tuple] = {}

    def find(self, t, keys: list[Col], days: np.ndarray | None) -> np.ndarray:
        """Table rows for the keys; repeated lookups with the same key arrays (`t[k].a`, `t[k].b`,
        `exists(t[k])` over one column k) search once. Entries hold the arrays they were made from,
        so an identity match cannot be a reused id."""
        sig = (t.name, tuple(id(k.data) for k in keys), id(days))
        hit = self._rows.get(sig)
        if hit is not None and all(a is k.data for a, k in zip(hit[0], keys, strict=True)) and hit[1] is days:
            return hit[2]
        rows = self._find_by_dictionary(t, keys, days)
        if rows is None:
            rows = t.find(keys, days)
        if len(rows) >= 4096:
            self._rows[sig] = ([k.data for k in keys], days, rows)
        return rows

    def _find_by_dictionary(self, t, keys: list[Col], days: np.ndarray | None) -> np.ndarray | None:
        """Code keys with small dictionaries (a КСГ code, a list name): look every combination of
        dictionary entries up once per date of the rows' span, then gather — the same rows as
        t.find, without a search per row. None when the keys are not such codes (t.find is used)."""
        if not keys or any(k.cats is None or k.type.kind not in ("code", "text") for k in keys):
            return None
        sizes = [max(len(k.cats), 1) for k in keys]
        total = int(np.prod(sizes))
        n = len(keys[0])
        if total > 65536 or n < 8 * total:
            return None
        pos = self._positions(keys, sizes, total, days)
        if pos is None:
            return None
        lo, span, position, absent = pos
        grids = np.meshgrid(*[np.arange(size) for size in sizes], indexing="ij")
        cols = [Col(k.type, np.tile(g.ravel().astype(np.int32), span), None,
                    k.cats if len(k.cats) else np.array([""], dtype=object)) for k, g in zip(keys, grids, strict=True)]
        found = t.find(cols, None if days is None else np.repeat(np.arange(lo, lo + span, dtype=np.int64), total))
        rows = found[position]
        if absent is not None:
            rows[absent] = -1
        return rows

    def _positions(self, keys: list[Col], sizes: list[int], total: int, days: np.ndarray | None):
        """Each row's index in the (date, key combination) grid; cached for the same key and date
        arrays (one КСГ column is looked up in several tables)."""
        sig = (tuple(id(k.data) for k in keys), id(days), total)
        hit = self._grid_pos.get(sig)
        if hit is not None and all(a is k.data for a, k in zip(hit[0], keys, strict=True)) and hit[1] is days:
            return hit[2]
        n = len(keys[0])
        combo: np.ndarray | int = 0
        absent = None
        for k, size in zip(keys, sizes, strict=True):
            d = np.asarray(k.data)
            if d.strides and d.strides[0] == 0 and len(d):      # a constant key: one value for all rows
                if d[0] < 0:
                    absent = np.ones(n, dtype=bool)
                combo = combo * size + max(int(d[0]), 0)
                continue
            miss = d < 0 if k.missing is None else (d < 0) | k.missing
            absent = miss if absent is None else absent | miss
            combo = combo * size + np.where(miss, 0, d).astype(np.int64)
        if days is None:
            lo, span = 0, 1
            position = np.broadcast_to(np.asarray(combo, dtype=np.int64), (n,))
        else:
            lo, hi = (int(days.min()), int(days.max())) if len(days) else (0, 0)
            span = hi - lo + 1
            if span * total > 2_000_000:
                return None
            position = (days - lo) * total + combo
        out = (lo, span, position, absent if absent is not None and absent.any() else None)
        if n >= 4096:
            self._grid_pos[sig] = ([k.data for k in keys], days, out)
        return out


"""Evaluation of aggregates, window functions and decision tables (see dsl.ir.AggNode for modes)."""

from __future__ import annotations

import numpy as np

from dsl import ir
from dsl.columns import Col, empty_dtype, unify_codes
from dsl.primitives.distribute import DistributeError
from dsl.primitives.grouping import Groups
from engine.backends.numpy.evaluator import EvalError, Evaluator, RFrame, materialize, poison, select

MAX_PAIRS = 50_000_000


def dense_keys(src: list[Col], cur: list[Col]) -> tuple[np.ndarray, np.ndarray, int]:
    """Group ids of the source and current rows by their key tuples (equal tuples, equal ids).

    Codes are already small integers (their dictionary positions) and dates/ints of a narrow
    range are offsets, so a key tuple is a mixed-radix number and no sort is needed unless the
    id space grows much larger than the rows."""
    ns = len(src[0]) if src else 0
    nc = len(cur[0]) if cur else 0
    total = ns + nc
    ids = np.zeros(total, dtype=np.int64)
    size = 1
    for s, c in zip(src, cur, strict=True):
        part, card = _key_part(s, c, ns, nc)
        if size * card > _MAX_IDS:
            _, ids = np.unique(ids, return_inverse=True)
            ids = ids.astype(np.int64)
            size = int(ids.max()) + 1 if total else 1
        ids = ids * card + part
        size *= card
    if size > max(4 * total, 1 << 16):
        _, ids = np.unique(ids, return_inverse=True)
        ids = ids.astype(np.int64)
        size = int(ids.max()) + 1 if total else 1
    return ids[:ns], ids[ns:], max(size, 1)


_MAX_IDS = 1 << 62
_DENSE_RANGE = 1 << 22


def _key_part(s: Col, c: Col, ns: int, nc: int) -> tuple[np.ndarray, int]:
    """One key's ids over source + current rows, and how many ids there can be."""
    if s.type.kind in ("code", "text"):
        sd, cd, cats = unify_codes(s, c)
        both = np.concatenate([np.broadcast_to(np.asarray(sd, np.int64), (ns,)),
                               np.broadcast_to(np.asarray(cd, np.int64), (nc,))])
        return both + 1, len(cats) + 1          # −1 (absent) is a key value of its own
    both = np.concatenate([np.broadcast_to(np.asarray(s.data), (ns,)), np.broadcast_to(np.asarray(c.data), (nc,))])
    if both.dtype.kind in "biu" and len(both):
        both = both.astype(np.int64)
        lo, hi = int(both.min()), int(both.max())
        if hi - lo < _DENSE_RANGE:
            return both - lo, hi - lo + 1
    uniq, r = np.unique(both, return_inverse=True)
    return r.astype(np.int64), max(len(uniq), 1)


def _order_keys(ev: Evaluator, node: ir.AggNode, frames: list[RFrame]) -> list[np.ndarray]:
    if node.order is None:
        return []
    o = np.asarray(materialize(ev.eval(node.order, frames), frames[-1].n).data)
    return [-o if node.desc else o]


def _reduce(ev: Evaluator, node: ir.AggNode, frames: list[RFrame], groups: Groups,
            undetermined: np.ndarray | None = None) -> Col:
    """One value per group; a group with an undetermined member (or filter) is undetermined."""
    prim = node.prim
    name = prim.name
    if name == "count":
        return _spoil(prim.impl(None, groups), undetermined)
    value = materialize(ev.eval(node.value, frames), frames[-1].n)
    ev.unresolved(value, node.value, frames, f"{name}(…)")
    bad = poison(value)
    if bad is not None and bad.any():
        hit = np.zeros(groups.n, dtype=bool)
        hit[groups.g[bad]] = True
        undetermined = hit if undetermined is None else (undetermined | hit)
    if name in ("first", "last"):
        return _spoil(prim.impl(value, groups, _order_keys(ev, node, frames)), undetermined)
    if name == "sum" and value.type.kind in ("int", "money"):
        exact = _integer_sum(np.asarray(value.data), groups)
        if exact is not None:
            return _spoil(Col(value.type.required, exact), undetermined)
    return _spoil(prim.impl(value, groups), undetermined)


def _integer_sum(data: np.ndarray, groups: Groups) -> np.ndarray | None:
    """Σ per group without sorting: float64 accumulation is exact while every partial sum stays
    below 2^53 (bounded by max|x| × rows), otherwise None (the exact sorted reduction)."""
    if len(data) == 0:
        return np.zeros(groups.n, dtype=np.int64)
    if max(abs(int(data.min())), abs(int(data.max()))) * len(data) >= 2**53:
        return None
    return np.bincount(groups.g, weights=data, minlength=groups.n).astype(np.int64)


def _spoil(col: Col, undetermined: np.ndarray | None) -> Col:
    if undetermined is None or not undetermined.any():
        return col
    return Col(col.type, col.data, undetermined if col.missing is None else (col.missing | undetermined), col.cats)


def _filter(ev: Evaluator, node: ir.AggNode, frames: list[RFrame]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Rows the `where` keeps, and the rows where it is undetermined (kept out, but they make
    their group undetermined)."""
    if node.where is None:
        return None, None
    w = materialize(ev.eval(node.where, frames), frames[-1].n)
    ev.unresolved(w, node.where, frames, "условие where")
    bad = poison(w)
    keep = np.asarray(w.data, dtype=bool)
    if bad is None or not bad.any():
        return keep, None
    return keep & ~bad, bad


def _groups_hit(ids: np.ndarray, rows: np.ndarray | None, n_groups: int) -> np.ndarray | None:
    if rows is None:
        return None
    hit = np.zeros(n_groups, dtype=bool)
    hit[ids[rows]] = True
    return hit


def _subframe(f: RFrame, mask: np.ndarray | None) -> RFrame:
    if mask is None:
        return f
    rows = f.rows[mask] if f.rows is not None else np.nonzero(mask)[0]
    parent = f.parent[mask] if f.parent is not None else None
    return RFrame(f.entity, rows, len(rows), parent)


def evaluate_aggregate(ev: Evaluator, node: ir.AggNode, frames: list[RFrame]) -> Col:
    cur = frames[-1]
    mode = node.mode
    src_ent = ev.data.entities[node.source]
    if mode == "child":
        fk = src_ent.rel[node.relation]
        if cur.rows is None and node.where is None and (fk >= 0).all():
            # every source row has its parent: the source frame is all rows, no gathers
            frame = RFrame(node.source, None, src_ent.n, fk)
            return _reduce(ev, node, frames + [frame], Groups(fk, cur.n))
        if cur.rows is None:
            p = fk
        else:
            pos = np.full(ev.data.entities[cur.entity].n, -1, dtype=np.int64)
            pos[cur.rows] = np.arange(cur.n)
            p = np.where(fk >= 0, pos[np.clip(fk, 0, None)], -1)
        s_rows = np.nonzero(p >= 0)[0]
        frame = RFrame(node.source, s_rows, len(s_rows), p[s_rows])
        keep, bad = _filter(ev, node, frames + [frame])
        spoilt = _groups_hit(frame.parent, bad, cur.n)
        frame = _subframe(frame, keep)
        groups = Groups(frame.parent, cur.n)
        return _reduce(ev, node, frames + [frame], groups, spoilt)

    if mode == "pair":
        return _pairs(ev, node, frames)

    all_rows = RFrame(node.source, None, src_ent.n, None)
    src_frames = frames + [all_rows]
    if node.keys_src:
        src_keys = [materialize(ev.eval(k, src_frames), all_rows.n) for k in node.keys_src]
        for k, kn in zip(src_keys, node.keys_src, strict=True):
            ev.unresolved(k, kn, src_frames, "ключ by")
        if mode == "group":
            # the current rows are rows of the source entity: their groups are the sources' groups
            s_ids, _, g = dense_keys(src_keys, [k.take(np.zeros(0, np.int64)) for k in src_keys])
            c_ids = s_ids if cur.rows is None else s_ids[cur.rows]
        else:
            cur_keys = [materialize(ev.eval(k, frames), cur.n) for k in node.keys_cur]
            s_ids, c_ids, g = dense_keys(src_keys, cur_keys)
    else:
        s_ids = np.zeros(all_rows.n, dtype=np.int64)
        c_ids = np.zeros(cur.n, dtype=np.int64)
        g = 1
    mask, bad = _filter(ev, node, src_frames)
    frame = _subframe(all_rows, mask)
    ids = s_ids if mask is None else s_ids[mask]
    groups = Groups(ids, g)
    if node.prim.kind == "window":
        return _window(ev, node, frames + [frame], groups, mask, src_ent.n, cur)
    per_group = _reduce(ev, node, frames + [frame], groups, _groups_hit(s_ids, bad, g))
    return per_group.take(c_ids)


def _window(ev: Evaluator, node: ir.AggNode, frames: list[RFrame], groups: Groups, mask, n_all: int,
            cur: RFrame) -> Col:
    if node.prim.name == "rank":
        res = node.prim.impl(groups, _order_keys(ev, node, frames))
    elif node.prim.name == "running_sum":
        value = materialize(ev.eval(node.args[0], frames), frames[-1].n)
        ev.unresolved(value, node.args[0], frames, "running_sum(…)")
        res = node.prim.impl(groups, _order_keys(ev, node, frames), value)
    else:
        args = [materialize(ev.eval(a, frames), frames[-1].n) for a in node.args]
        try:
            res = node.prim.impl(groups, *args)
        except DistributeError as e:
            raise EvalError(str(e), node.span) from None
    full = np.zeros(n_all, dtype=np.asarray(res.data).dtype)
    rows = np.nonzero(mask)[0] if mask is not None else slice(None)
    full[rows] = res.data
    out = Col(node.type, full)
    return out if cur.rows is None else out.take(cur.rows)


def _pairs(ev: Evaluator, node: ir.AggNode, frames: list[RFrame]) -> Col:
    cur = frames[-1]
    src_ent = ev.data.entities[node.source]
    all_rows = RFrame(node.source, None, src_ent.n, None)
    src_keys = [materialize(ev.eval(k, frames + [all_rows]), all_rows.n) for k in node.keys_src]
    cur_keys = [materialize(ev.eval(k, frames), cur.n) for k in node.keys_cur]
    s_ids, c_ids, _ = dense_keys(src_keys, cur_keys)
    order = np.argsort(s_ids, kind="stable")
    sorted_ids = s_ids[order]
    lo = np.searchsorted(sorted_ids, c_ids, side="left")
    hi = np.searchsorted(sorted_ids, c_ids, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if total > MAX_PAIRS:
        raise EvalError(f"слишком много пар строк для сравнения ({total}); уточните ключ «by»", node.span)
    parent = np.repeat(np.arange(cur.n), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    s_rows = order[np.repeat(lo, counts) + offsets]
    frame = RFrame(node.source, s_rows, total, parent)
    keep, bad = _filter(ev, node, frames + [frame])
    spoilt = _groups_hit(frame.parent, bad, cur.n)
    frame = _subframe(frame, keep)
    groups = Groups(frame.parent, cur.n)
    return _reduce(ev, node, frames + [frame], groups, spoilt)


def evaluate_decide(ev: Evaluator, node: ir.DecideNode, frames: list[RFrame]) -> Col:
    n = frames[-1].n
    cond_cols = [materialize(ev.eval(c, frames), n) for c, _ in node.rows]
    conds = [np.asarray(c.data, dtype=bool) for c in cond_cols]
    unknown = np.zeros(n, dtype=bool)
    decided = np.zeros(n, dtype=bool)
    for c in cond_cols:
        if c.missing is not None:
            # «first»: an undetermined condition after the row that matched does not matter
            unknown |= c.missing & ~decided if node.policy == "first" else c.missing
        if node.policy == "first":
            hit = np.asarray(c.data, dtype=bool)
            decided |= hit if c.missing is None else hit & ~c.missing
    values = _branch_values(ev, node, frames, conds, n)
    if node.policy == "collect":
        values = [materialize(v, n) for v in values]
        return _collect(node, conds, values, n)
    if node.policy in ("unique", "any") and conds:
        hits = np.sum(np.vstack(conds), axis=0)
        multi = hits > 1
        if multi.any():
            i = int(np.nonzero(multi)[0][0])
            matched = [j + 1 for j, c in enumerate(conds) if c[i]]
            if node.policy == "unique" or len({values[j - 1].value_at(i) for j in matched}) > 1:
                ent, key = ev.row_key(frames, i) if len(frames) == 1 else (None, None)
                rows = ", ".join(str(j) for j in matched)
                raise EvalError(f"таблица решений ({node.policy}): совпали строки {rows}", node.span, ent, key)
    if node.otherwise is not None:
        outer = ev.selected
        unmatched = ~np.any(np.vstack([np.broadcast_to(c, (n,)) for c in conds]), axis=0) if conds else None
        try:
            if unmatched is not None:
                ev.selected = unmatched if outer is None else outer & unmatched
            result = materialize(ev.eval(node.otherwise, frames), n)
        finally:
            ev.selected = outer
    else:
        kind = node.type.kind
        result = Col(node.type, np.zeros(n, dtype=empty_dtype(kind)), np.ones(n, dtype=bool),
                     np.array([], dtype=object) if kind in ("code", "text") else None)
    if node.type.kind in ("code", "text"):
        for c, v in zip(reversed(conds), reversed(values), strict=True):
            result = select(c, v, result, node)
    elif conds:     # the first matching row wins: one pass of np.select
        data = np.select(conds, [np.asarray(v.data) for v in values], np.asarray(result.data))
        missing = None
        if result.missing is not None or any(v.missing is not None for v in values):
            missing = np.select(conds, [v.missing if v.missing is not None else False for v in values],
                                result.missing if result.missing is not None else False)
        result = Col(node.type, data.astype(empty_dtype(node.type.kind), copy=False), missing)
    if unknown.any():
        missing = unknown if result.missing is None else (result.missing | unknown)
        result = Col(result.type, result.data, missing, result.cats)
    return result


def _branch_values(ev: Evaluator, node: ir.DecideNode, frames: list[RFrame], conds, n: int) -> list[Col]:
    """Each row's value, evaluated knowing where it is used («first»: where its condition is the
    first true one; otherwise where it holds) — a division by zero elsewhere is no error."""
    outer = ev.selected
    taken = np.zeros(n, dtype=bool)
    out = []
    try:
        for c, (_, v) in zip(conds, node.rows, strict=True):
            c = np.broadcast_to(c, (n,))
            used = c & ~taken if node.policy == "first" else c
            ev.selected = used if outer is None else outer & used
            out.append(ev.eval(v, frames))
            taken = taken | c
    finally:
        ev.selected = outer
    return out


def _collect(node: ir.DecideNode, conds, values, n: int) -> Col:
    kind = node.type.kind
    if node.aggregator == "count":
        total = np.zeros(n, dtype=np.int64)
        for c in conds:
            total += c
        return Col(node.type, total)
    if node.aggregator == "sum":
        total = np.zeros(n, dtype=empty_dtype(kind))
        for c, v in zip(conds, values, strict=True):
            total = total + np.where(c, np.asarray(v.data), 0)
        return Col(node.type, total)
    fn = np.minimum if node.aggregator == "min" else np.maximum
    acc = np.zeros(n, dtype=empty_dtype(kind))
    seen = np.zeros(n, dtype=bool)
    for c, v in zip(conds, values, strict=True):
        d = np.asarray(v.data)
        acc = np.where(c & seen, fn(acc, d), np.where(c, d, acc))
        seen |= c
    return Col(node.type, acc, ~seen if not seen.all() else None)

"""Matching the rows of an entity against rule tables (engine/runtime/match_table.py).

A match table declares a derived entity: one row per (parent row, rule) where every non-empty
match cell of the rule holds for the parent row. Its fields are the table's columns plus
`table` (which table), `line` (CSV line) and `as_of` (the parent's date); its relation to the
parent is named after the parent. The package then reads it like any child entity:
`first(ksg_candidate.ksg where … order by …)`.

The join is indexed: each rule is reached through its most selective exact-valued cell (a
service code, a criterion, an exact diagnosis) by a sorted search; rules with only a class or a
range of diagnoses are reached per distinct class/range; the remaining cells are verified on the
pairs, vectorized. Rows are built lazily, the first time a rule reads the entity.
"""

from __future__ import annotations

import numpy as np

from dsl.columns import Col
from dsl.diagnostics import Diagnostics
from dsl.types import Type
from engine.runtime.dataset import Dataset, EntityData
from engine.runtime.match_table import (
    CLASS,
    EMPTY,
    EXACT,
    RANGE,
    CodeFeatures,
    IcdFeatures,
    MatchTable,
    combo_key,
    rubric_number,
)
from engine.runtime.schema import EntityDef, FieldDef, RelationDef

EXTRA_FIELDS = {"table": "code", "line": "int", "as_of": "date"}


def match_tables(tables: dict) -> list[MatchTable]:
    return [t for t in tables.values() if isinstance(t, MatchTable)]


def register_entities(tables: dict, entities: dict[str, EntityDef], diags: Diagnostics) -> None:
    """Declare the derived entity of every match table (tables of one entity share its columns)."""
    first: dict[str, MatchTable] = {}
    for t in match_tables(tables):
        s = t.spec
        if s.parent not in entities:
            diags.error("E0103", f"таблица правил «{t.name}»: неизвестная сущность parent «{s.parent}»", s.span)
            continue
        prev = first.get(s.entity)
        if prev is not None:
            if prev.columns != t.columns or prev.spec.parent != s.parent:
                diags.error("E0601", f"таблицы правил «{prev.name}» и «{t.name}» дают одну сущность «{s.entity}», "
                            "но их столбцы или parent различаются", s.span)
            continue
        if s.entity in entities:
            diags.error("E0301", f"таблица правил «{t.name}»: сущность «{s.entity}» уже объявлена в схеме", s.span)
            continue
        first[s.entity] = t
        ent = EntityDef(s.entity, s.label or t.label, "key", "as_of", span=s.span)
        for c, typ in t.columns.items():
            ent.fields[c] = FieldDef(c, typ.as_optional(c != t.keys[0]), f"столбец «{c}» таблицы правил", s.span)
        for c, kind in EXTRA_FIELDS.items():
            ent.fields[c] = FieldDef(c, Type(kind), f"{c} (строка таблицы правил)", s.span)
        ent.relations[s.parent] = RelationDef(s.parent, s.parent, f"{s.parent}_ref", s.span)
        entities[s.entity] = ent


def check_bindings(tables: dict, entities: dict[str, EntityDef], defs: dict, diags: Diagnostics) -> None:
    """Every bound name is a code field or definition of the parent, or child.field of an entity
    related to the parent; `when` is a bool of the parent."""
    for t in match_tables(tables):
        s = t.spec
        for b in s.bindings:
            for src, span in b.sources:
                typ = source_type(src, s.parent, entities, defs)
                if typ is None:
                    diags.error("E0102", f"таблица правил «{t.name}», столбец «{b.column}»: «{src}» — не поле "
                                f"«{s.parent}» и не «сущность.поле» связанной с ней сущности", span)
                elif typ.kind != "code":
                    diags.error("E0201", f"таблица правил «{t.name}», столбец «{b.column}»: «{src}» имеет тип {typ}, "
                                "нужен code", span)
        if s.when is not None:
            typ = source_type(s.when[0], s.parent, entities, defs)
            if typ is None or typ.kind != "bool" or "." in s.when[0]:
                diags.error("E0201", f"таблица правил «{t.name}»: when — логическое поле или определение "
                            f"«{s.parent}»", s.when[1])


def child_relation(child: str, parent: str, entities: dict[str, EntityDef]) -> str | None:
    ent = entities.get(child)
    rels = [r.name for r in ent.relations.values() if r.entity == parent] if ent else []
    return rels[0] if len(rels) == 1 else None


def source_type(src: str, parent: str, entities: dict[str, EntityDef], defs: dict) -> Type | None:
    ent, name = src.split(".", 1) if "." in src else (parent, src)
    if ent != parent and child_relation(ent, parent, entities) is None:
        return None
    if (ent, name) in defs:
        return defs[(ent, name)].type
    f = entities.get(ent).fields.get(name) if ent in entities else None
    return f.type if f is not None else None


# ---- lazy rows -------------------------------------------------------------------------------

class LazyEntities(dict):
    """The bound entities plus the derived ones, built on first access."""

    def __init__(self, base: dict, builders: dict) -> None:
        super().__init__({k: v for k, v in base.items() if k not in builders})
        self.builders = builders

    def __missing__(self, key: str) -> EntityData:
        if key not in self.builders:
            raise KeyError(key)
        value = self.builders[key]()
        self[key] = value
        return value

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self.builders

    def get(self, key, default=None):
        return self[key] if key in self else default


def attach(ev) -> None:
    """Give an evaluator its own view of the data in which derived entities appear on demand."""
    tables = match_tables(ev.m.tables)
    if not tables:
        return
    by_entity: dict[str, list[MatchTable]] = {}
    for t in tables:
        by_entity.setdefault(t.spec.entity, []).append(t)
    builders = {e: (lambda ts=ts: build(ev, ts)) for e, ts in by_entity.items()}
    ev.data = Dataset(LazyEntities(ev.data.entities, builders))


# ---- the join --------------------------------------------------------------------------------

def _items(ev, src: str, parent: str, sel_mask: np.ndarray) -> tuple[np.ndarray, Col]:
    """(parent row per item, code column of the items) for one bound name."""
    if "." in src:
        child, name = src.split(".", 1)
        rel = child_relation(child, parent, ev.m.entities)
        fk = ev.data.entities[child].rel[rel]
        col = ev.column(child, name)
    else:
        col = ev.column(parent, src)
        fk = np.arange(len(col), dtype=np.int64)
    keep = (fk >= 0) & sel_mask[np.clip(fk, 0, None)]
    if col.missing is not None:
        keep &= ~col.missing
    keep &= np.asarray(col.data) >= 0
    return fk[keep], col.take(np.nonzero(keep)[0])


def _code_ids(col: Col, cats: np.ndarray) -> np.ndarray:
    """The items' codes as ids in a table column's sorted dictionary (-1 when not there)."""
    qc = np.asarray(col.cats, dtype=str) if col.cats is not None else np.array([], dtype=str)
    if len(cats) == 0 or len(qc) == 0:
        return np.full(len(col), -1, dtype=np.int32)
    pos = np.searchsorted(cats, qc)
    pc = np.clip(pos, 0, len(cats) - 1)
    per_cat = np.where(cats[pc] == qc, pc, -1).astype(np.int32)
    return per_cat[np.asarray(col.data)]


class _Side:
    """The parent-side values bound to one match column: items (p, value)."""

    def __init__(self, ev, t: MatchTable, b, sel_mask: np.ndarray) -> None:
        ps, cols = zip(*(_items(ev, s, t.spec.parent, sel_mask) for s, _ in b.sources), strict=True)
        self.p = np.concatenate(ps)
        f = t.features[b.column]
        self.f = f
        if isinstance(f, CodeFeatures):
            self.ids = np.concatenate([_code_ids(c, f.cats) for c in cols])
            return
        self.ids = np.concatenate([_code_ids(c, f.cats) for c in cols])
        strs = [np.asarray(c.cats, dtype=str) for c in cols]
        self.letter = np.concatenate([np.array([ord(x[0]) if x else 0 for x in s], dtype=np.int32)[
            np.asarray(c.data)] if len(s) else np.zeros(len(c), np.int32) for s, c in zip(strs, cols, strict=True)])
        self.rubric = np.concatenate([np.array([rubric_number(x) for x in s], dtype=np.int32)[
            np.asarray(c.data)] if len(s) else np.zeros(len(c), np.int32) for s, c in zip(strs, cols, strict=True)])
        order = np.argsort(self.p, kind="stable")
        self.sorted_p = self.p[order]
        self.order = order


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """np.unique for large integer arrays by one sort (numpy's hash-based unique is much slower there)."""
    s = np.sort(a)
    return s[np.concatenate([[True], s[1:] != s[:-1]])] if len(s) else s


def _member(p_items: np.ndarray, v_items: np.ndarray, p: np.ndarray, v: np.ndarray, width: int) -> np.ndarray:
    """For each pair (p, v): is (p, v) among the items?"""
    keys = sorted_unique(p_items.astype(np.int64) * width + v_items)
    q = p.astype(np.int64) * width + v
    if len(keys) == 0:
        return np.zeros(len(q), dtype=bool)
    pos = np.clip(np.searchsorted(keys, q), 0, len(keys) - 1)
    return keys[pos] == q


def _verify(side: _Side, p: np.ndarray, r: np.ndarray) -> np.ndarray:
    f = side.f
    if isinstance(f, CodeFeatures):
        v = f.ids[r]
        return (v < 0) | _member(side.p, side.ids, p, np.clip(v, 0, None), len(f.cats) + 1)
    kind = f.kind[r]
    ok = kind == EMPTY
    e = kind == EXACT
    if e.any():
        ok[e] = _member(side.p, side.ids, p[e], f.exact[r[e]], len(f.cats) + 1)
    c = kind == CLASS
    if c.any():
        ok[c] = _member(side.p, side.letter, p[c], f.letter[r[c]], 128)
    g = np.nonzero(kind == RANGE)[0]
    if len(g):
        lo_i = np.searchsorted(side.sorted_p, p[g], "left")
        hi_i = np.searchsorted(side.sorted_p, p[g], "right")
        cnt = hi_i - lo_i
        pair = np.repeat(np.arange(len(g)), cnt)
        start = np.repeat(lo_i - np.cumsum(cnt) + cnt, cnt)
        item = side.order[start + np.arange(len(pair))]
        rub = side.rubric[item]
        hit = (rub >= f.lo[r[g]][pair]) & (rub <= f.hi[r[g]][pair])
        ok[g] = np.bincount(pair[hit], minlength=len(g)) > 0
    return ok


def _expand(lo: np.ndarray, cnt: np.ndarray) -> np.ndarray:
    total = int(cnt.sum())
    return np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(total)


def _combo_items(a: _Side, b: _Side | None) -> tuple[np.ndarray, np.ndarray]:
    """(parent row, join key) for every item of one side, or every pair of items of two sides that
    belong to the same parent row (a case's services × its criteria: a few per case)."""
    ha = a.ids >= 0
    ap, av = a.p[ha], a.ids[ha].astype(np.int64)
    if b is None:
        return ap, av
    hb = b.ids >= 0
    bp, bv = b.p[hb], b.ids[hb].astype(np.int64)
    order = np.argsort(bp, kind="stable")
    bp, bv = bp[order], bv[order]
    lo = np.searchsorted(bp, ap, "left")
    cnt = np.searchsorted(bp, ap, "right") - lo
    pick = _expand(lo, cnt)
    return np.repeat(ap, cnt), combo_key(np.repeat(av, cnt), bv[pick], len(b.f.cats) + 1)


def _candidates(ev, t: MatchTable, sel_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sides = [_Side(ev, t, b, sel_mask) for b in t.spec.bindings]
    ps, rs = [], []
    for ci, (j, k) in enumerate(t.combos):    # rules reached through an exact cell or pair of cells
        rows = np.nonzero(t.anchor_col == ci)[0]
        if not len(rows):
            continue
        ip, keys = _combo_items(sides[j], None if k is None else sides[k])
        if not len(ip):
            continue
        vals = t.anchor_val[rows]
        order = np.argsort(vals, kind="stable")
        rows, vals = rows[order], vals[order]
        lo = np.searchsorted(vals, keys, "left")
        cnt = np.searchsorted(vals, keys, "right") - lo
        ps.append(np.repeat(ip, cnt))
        rs.append(rows[_expand(lo, cnt)])
    rest = np.nonzero(t.anchor_col < 0)[0]     # rules with only classes/ranges, or none
    if len(rest):
        sig = np.zeros((len(rest), 0), dtype=np.int64)
        for b in t.spec.bindings:
            f = t.features[b.column]
            if isinstance(f, IcdFeatures):
                sig = np.column_stack([sig, f.kind[rest], f.letter[rest], f.lo[rest], f.hi[rest]])
        groups, inv = np.unique(sig, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        all_p = np.nonzero(sel_mask)[0]
        for gi in range(len(groups)):
            grows = rest[inv == gi]
            anchor = next((s for s in sides if isinstance(s.f, IcdFeatures) and s.f.kind[grows[0]] != EMPTY), None)
            cand = all_p if anchor is None else sorted_unique(anchor.p)
            if anchor is not None:
                cand = cand[_verify(anchor, cand, np.full(len(cand), grows[0]))]
            ps.append(np.repeat(cand, len(grows)))
            rs.append(np.tile(grows, len(cand)))
    if not ps:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    p = np.concatenate(ps).astype(np.int64)
    r = np.concatenate(rs).astype(np.int64)
    key = sorted_unique(p * len(t.row_lines) + r)      # sorted by parent row, then rule
    p, r = key // len(t.row_lines), key % len(t.row_lines)
    ok = np.ones(len(p), dtype=bool)
    for side in sides:
        ok &= _verify(side, p, r)
    return p[ok], r[ok]


def build(ev, tables: list[MatchTable]) -> EntityData:
    spec = tables[0].spec
    par = ev.data.entities[spec.parent]
    as_of = par.as_of if par.as_of is not None else np.zeros(par.n, dtype=np.int64)
    parts = []
    for t in tables:
        if t.spec.when is not None:
            w = ev.column(spec.parent, t.spec.when[0])
            sel = np.asarray(w.data, dtype=bool) & (~w.missing if w.missing is not None else True)
        else:
            sel = np.ones(par.n, dtype=bool)
        p, r = _candidates(ev, t, np.broadcast_to(sel, (par.n,)).copy())
        live = (t.starts[r] <= as_of[p]) & (as_of[p] < t.ends[r])
        parts.append((t, p[live], r[live]))
    order_p = np.concatenate([p for _, p, _ in parts])
    order = np.argsort(order_p, kind="stable")          # by parent row, then table, then rule
    p_all = order_p[order]
    cols: dict[str, Col] = {}
    for c in tables[0].columns:
        cols[c] = _concat_take([(t.cols[c], r) for t, _, r in parts], order)
    names = np.array([t.name for t, _, _ in parts], dtype=object)
    which = np.concatenate([np.full(len(p), i, dtype=np.int32) for i, (_, p, _) in enumerate(parts)])[order]
    sorted_names = np.argsort(names.astype(str))
    rank = np.empty(len(names), dtype=np.int32)
    rank[sorted_names] = np.arange(len(names), dtype=np.int32)
    cols["table"] = Col(Type("code"), rank[which], None, names[sorted_names])
    lines = np.concatenate([np.asarray(t.row_lines, dtype=np.int64)[r] for t, _, r in parts])[order]
    cols["line"] = Col(Type("int"), lines)
    days = as_of[p_all]
    cols["as_of"] = Col(Type("date"), days)
    nums = np.asarray(cols[tables[0].keys[0]].data)
    keys = PairKeys(par.keys, p_all, names[which] if len(tables) > 1 else None, nums)
    ent = EntityData(spec.entity, len(p_all), cols, keys, days, {spec.parent: p_all})
    return ent


class PairKeys:
    """Row keys of a derived entity, "<parent key>:<rule number>" (with the table name when several
    tables feed the entity), made into strings only when someone reads them."""

    def __init__(self, parent_keys: np.ndarray, p: np.ndarray, tables: np.ndarray | None, nums: np.ndarray) -> None:
        self.parent_keys, self.p, self.tables, self.nums = parent_keys, p, tables, nums
        self._all: np.ndarray | None = None

    def _text(self, i: int) -> str:
        mid = f"{self.tables[i]}:" if self.tables is not None else ""
        return f"{self.parent_keys[self.p[i]]}:{mid}{self.nums[i]}"

    def materialize(self) -> np.ndarray:
        if self._all is None:
            self._all = np.array([self._text(i) for i in range(len(self.p))], dtype=object)
        return self._all

    def __len__(self) -> int:
        return len(self.p)

    def __getitem__(self, i):
        if isinstance(i, (int, np.integer)):
            return self._text(int(i))
        idx = np.arange(len(self.p))[i]
        return np.array([self._text(int(j)) for j in idx], dtype=object)

    def __eq__(self, other):   # row lookup by key (explain): compare only the candidates of that parent
        if not isinstance(other, str):
            return self.materialize() == other
        head = other.rsplit(":", 2 if self.tables is not None else 1)[0]
        parents = np.nonzero(self.parent_keys == head)[0]
        out = np.zeros(len(self.p), dtype=bool)
        for j in np.nonzero(np.isin(self.p, parents))[0]:
            out[j] = self._text(int(j)) == other
        return out

    __hash__ = None

    def __array__(self, dtype=None, copy=None):
        a = self.materialize()
        return a if dtype is None else a.astype(dtype)

    def astype(self, dtype):
        return self.materialize().astype(dtype)

    def tolist(self) -> list:
        return self.materialize().tolist()


def _concat_take(parts: list[tuple[Col, np.ndarray]], order: np.ndarray) -> Col:
    first = parts[0][0]
    if first.type.kind in ("code", "text"):
        cats = np.unique(np.concatenate([np.asarray(c.cats, dtype=str) for c, _ in parts]))
        datas = []
        for c, r in parts:
            remap = np.searchsorted(cats, np.asarray(c.cats, dtype=str)).astype(np.int32)
            d = np.asarray(c.data)[r]
            datas.append(np.where(d >= 0, remap[np.clip(d, 0, None)] if len(remap) else -1, -1).astype(np.int32))
        data = np.concatenate(datas)[order]
        miss = data < 0
        return Col(first.type.as_optional(True), data, miss if miss.any() else None, cats.astype(object))
    data = np.concatenate([np.asarray(c.data)[r] for c, r in parts])[order]
    miss = np.concatenate([c.missing[r] if c.missing is not None else np.zeros(len(r), bool) for c, r in parts])[order]
    return Col(first.type.as_optional(bool(miss.any())), data, miss if miss.any() else None)


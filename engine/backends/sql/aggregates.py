"""Aggregates and window functions as SQL (modes of dsl.ir.AggNode).

- child / keyed / pair / all / group below the top frame: a correlated subquery over the source;
- group or all at the top frame: a window ``OVER (PARTITION BY keys)`` over the entity's rows.

A group with an undetermined member (a required value or `where` that is NULL) has no value,
as in the numpy backend (engine/backends/numpy/eval_agg.py:_reduce): ``CASE WHEN MAX(bad) = 1 THEN NULL …``.

In a batched run (engine/backends/sql/batch.py: many inputs in one evaluation) the compiler names
the partition column (``batch``): it joins every group key, key table and PARTITION BY, and an
all-row aggregate reads only its own part's rows — no value ever mixes two inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from dsl import ir
from engine.backends.sql.dialect import SqlDialect, and_all, case, col, is_null, table


@dataclass
class AggSql:
    """What a primitive's SQL form works with (see dsl/primitives/aggregates.py)."""

    q: SqlDialect
    value: exp.Expression | None          # NULL on rows the filter drops
    kept: exp.Expression | None           # the `where` filter (None: every row)
    value_kind: str | None
    order: list[exp.Ordered] = field(default_factory=list)
    partition: list[exp.Expression] = field(default_factory=list)
    pick_query: object = None             # callable(last) → expression, for first/last
    is_window: bool = False

    def pick(self, last: bool) -> exp.Expression:
        return self.pick_query(last)

    def window(self, fn: exp.Expression, running: bool = False, integer: bool = False) -> exp.Expression:
        spec = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW") \
            if running else None
        w = exp.Window(this=fn, partition_by=self.partition, order=exp.Order(expressions=self.order), spec=spec)
        return self.q.bigint(w) if integer else w


def _batch(c, alias: str) -> exp.Expression | None:
    """The batch partition column of the row ``alias`` (None outside a batched run)."""
    name = getattr(c, "batch", None)
    return col(alias, name) if name else None


def _same_batch(c, a: str, b: str) -> list[exp.Expression]:
    x, y = _batch(c, a), _batch(c, b)
    return [] if x is None else [exp.EQ(this=x, expression=y)]


def _bad(c, node: ir.AggNode, value, where) -> exp.Expression | None:
    parts = []
    if where is not None and not node.where.type.optional:
        parts.append(is_null(where.copy()))
    if value is not None and not node.value.type.optional:
        v = is_null(value.copy())
        parts.append(exp.Paren(this=exp.And(this=exp.Paren(this=where.copy()), expression=v)) if where is not None else v)
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = exp.Or(this=out, expression=p)
    return case((out, exp.Literal.number(1)), default=exp.Literal.number(0))


def _orders(c, node: ir.AggNode, frames, rid: exp.Expression, last: bool) -> list[exp.Ordered]:
    out = []
    if node.order is not None:
        o = c.compile(node.order, frames)
        out.append(exp.Ordered(this=o, desc=node.desc != last, nulls_first=False))
    out.append(exp.Ordered(this=rid, desc=last))
    return out


def compile_aggregate(c, node: ir.AggNode, frames: list[str]) -> exp.Expression:
    from engine.backends.sql.base import SqlUnsupported, unsupported_text

    p = node.prim
    if p.sql is None:
        raise SqlUnsupported(unsupported_text(p), node.span)
    k = node.frame
    base = frames[: k + 1]
    sub = base + [node.source]
    same_rows = node.source == frames[k]
    if node.mode in ("group", "all") and same_rows and c.at_top(frames[: k + 1], k) \
            and (p.kind == "window" or p.name not in ("first", "last")):
        return _windowed(c, node, sub)
    if p.kind == "window":
        raise SqlUnsupported(f"оконная функция «{p.name}» внутри агрегата: в SQL пока не поддержано", node.span)
    a = c.fresh("s")
    with c.with_aliases({k + 1: a}):
        kt = _key_table(c, node, sub, k)
        if kt is not None:
            kx, kname, conds = kt
            src = exp.Table(this=exp.to_identifier(kname, quoted=True), alias=exp.TableAlias(this=exp.to_identifier(kx)))
            join_on = exp.EQ(this=col(a, "_rid"), expression=col(kx, "_src"))
        else:
            conds = _match(c, node, sub, a, k) + (_same_batch(c, a, c.alias(k)) if node.mode != "child" else [])
            src = table(c.names.entity_table[node.source], a)
            join_on = None
        where = c.compile(node.where, sub) if node.where is not None else None
        value = c.compile(node.value, sub) if node.value is not None else None
        order = c.compile(node.order, sub) if node.order is not None else None
        # the source rows of the group, each expression computed once: z(w, v, o, r)
        inner = exp.select(col(a, "_rid").as_("r")).from_(src.copy(), copy=False)
        if join_on is not None:
            inner = inner.join(table(c.names.entity_table[node.source], a), on=join_on.copy(), copy=False)
        for name, e in (("w", where), ("v", value), ("o", order)):
            if e is not None:
                inner = inner.select(exp.alias_(e, name), copy=False)
        if conds:
            inner = inner.where(and_all(conds), copy=False)
        inner = c.q.fence(c.attach_joins(inner, a))
        zw = col("z", "w") if where is not None else None
        zv = col("z", "v") if value is not None else None
        bad = _bad(c, node, zv, zw)
        kept_value = case((zw, zv), default=exp.Null()) if zw is not None and zv is not None else zv

        def query(select_expr, extra=None, orders=None):
            q = exp.select(select_expr).from_(exp.Subquery(this=inner.copy(), alias=exp.TableAlias(
                this=exp.to_identifier("z"))), copy=False)
            if extra is not None:
                q = q.where(extra, copy=False)
            if orders:
                q = q.order_by(*orders, copy=False).limit(1, copy=False)
            return exp.Subquery(this=q)

        def pick(last: bool):
            orders = []
            if order is not None:
                orders.append(exp.Ordered(this=col("z", "o"), desc=node.desc != last, nulls_first=False))
            orders.append(exp.Ordered(this=col("z", "r"), desc=last))
            return query(zv.copy(), zw.copy() if zw is not None else None, orders)

        aggsql = AggSql(c.q, kept_value, zw, node.value.type.kind if node.value is not None else None,
                        pick_query=pick)
        res = p.sql(aggsql)
        if p.name in ("first", "last"):
            if bad is None:
                return res
            flag = query(exp.Max(this=bad))
            return case((exp.EQ(this=flag, expression=exp.Literal.number(1)), exp.Null()), default=res)
        if bad is not None:
            res = case((exp.EQ(this=exp.Max(this=bad), expression=exp.Literal.number(1)), exp.Null()), default=res)
        return query(res)


def _key_table(c, node: ir.AggNode, sub, k: int):
    """Keyed, pair and group aggregates: the source's key expressions are computed once into an
    indexed temporary table (``@@K.id@@``, created by the run before the level that needs it), so
    each current row finds its group by an index lookup instead of evaluating the keys of every
    source row. None when the keys read anything but the source row."""
    from dsl import ir as _ir

    if node.mode not in ("keyed", "pair", "group") or not node.keys_src:
        return None
    for key in node.keys_src:
        for n in _ir.walk(key):
            if isinstance(n, (_ir.FieldRef, _ir.ParamRef, _ir.Lookup)) and n.frame != k + 1:
                return None
            if isinstance(n, (_ir.AggNode, _ir.FuncCall, _ir.ArgRef)):
                return None
    with c.with_aliases({k + 1: "t0"}), c.join_scope("t0") as joins:
        cols = [c.compile(key, [None] * (k + 1) + [node.source]) for key in node.keys_src]
        joins = dict(joins)
    optional = [key.type.optional for key in node.keys_src]
    order = sorted(range(len(cols)), key=lambda i: optional[i])      # indexable (required) keys first
    part = _batch(c, "t0")
    sel = exp.select(exp.alias_(col("t0", "_rid"), "_src"),
                     *[exp.alias_(cols[i], exp.to_identifier(f"k{i}", quoted=True)) for i in order],
                     *([exp.alias_(part, exp.to_identifier("kb", quoted=True))] if part is not None else [])).from_(
        table(c.names.entity_table[node.source], "t0"), copy=False)
    text = c.q.render(c.attach_joins(sel, "t0", joins))
    import hashlib

    kid = "kt" + hashlib.sha1(text.encode()).hexdigest()[:12]
    c.key_tables[kid] = (node.source, text, [f"k{i}" for i in order] + (["kb"] if part is not None else []))
    kx = c.fresh("kx")
    if node.mode == "group":
        with c.with_aliases({k + 1: c.alias(k)}):
            cur = [c.compile(key, sub) for key in node.keys_src]
    else:
        cur = [c.compile(kc, sub[:-1]) for kc in node.keys_cur]
        optional = [o or kc.type.optional for o, kc in zip(optional, node.keys_cur, strict=True)]
    conds = []
    for i, cv in enumerate(cur):
        left, right = col(kx, f"k{i}"), exp.Paren(this=cv)
        conds.append(exp.Paren(this=exp.NullSafeEQ(this=left, expression=right) if optional[i]
                               else exp.EQ(this=left, expression=right)))
    if part is not None:
        conds.append(exp.EQ(this=col(kx, "kb"), expression=_batch(c, c.alias(k))))
    return kx, f"@@K.{kid}@@", conds


def _match(c, node: ir.AggNode, sub, a: str, k: int) -> list[exp.Expression]:
    """Conditions tying source rows (alias a) to the current row (frame k)."""
    if node.mode == "child":
        return [exp.EQ(this=col(a, "_r_" + node.relation), expression=col(c.alias(k), "_rid"))]
    if node.mode == "all":
        return []
    out = []
    if node.mode == "group":
        pairs = []
        for key in node.keys_src:
            s = c.compile(key, sub)
            with c.with_aliases({k + 1: c.alias(k)}):
                cur = c.compile(key, sub)
            pairs.append((s, cur, key.type.optional))
    else:
        cur_frames = sub[:-1]
        pairs = [(c.compile(ks, sub), c.compile(kc, cur_frames), ks.type.optional or kc.type.optional)
                 for ks, kc in zip(node.keys_src, node.keys_cur, strict=True)]
    for s, cur, optional in pairs:
        # an absent key is a key value of its own (numpy dense_keys); required keys use `=` (indexable)
        s, cur = exp.Paren(this=s), exp.Paren(this=cur)
        out.append(exp.Paren(this=exp.NullSafeEQ(this=s, expression=cur) if optional else exp.EQ(this=s, expression=cur)))
    return out


def _windowed(c, node: ir.AggNode, sub: list[str]) -> exp.Expression:
    """Same-entity group (or every row) at the top frame: OVER (PARTITION BY keys)."""
    p = node.prim
    with c.with_aliases({1: "t0"}):
        keys = [c.compile(kx, sub) for kx in node.keys_src]
        part = _batch(c, "t0")
        if part is not None:
            keys.append(part)
        where = c.compile(node.where, sub) if node.where is not None else None
        value_ir = node.value if node.value is not None else (node.args[0] if node.args else None)
        value = c.compile(value_ir, sub) if value_ir is not None else None
        orders = _orders(c, node, sub, col("t0", "_rid"), False) if p.kind == "window" else []
    if p.kind == "window":
        part = keys + ([case((where, exp.Literal.number(1)), default=exp.Literal.number(0))] if where is not None else [])
        a = AggSql(c.q, value, where, value_ir.type.kind if value_ir is not None else None, orders, part,
                   is_window=True)
        res = p.sql(a)
        return case((where.copy(), res), default=exp.Literal.number(0)) if where is not None else res
    kept_value = case((where, value), default=exp.Null()) if where is not None and value is not None else value
    a = AggSql(c.q, kept_value, where, node.value.type.kind if node.value is not None else None)
    res = _over(p.sql(a), keys)
    fake = _FakeNode(node)
    bad = _bad(c, fake, value, where)
    if bad is None:
        return res
    flag = exp.Window(this=exp.Max(this=bad), partition_by=[x.copy() for x in keys])
    return case((exp.EQ(this=flag, expression=exp.Literal.number(1)), exp.Null()), default=res)


class _FakeNode:
    def __init__(self, node):
        self.where = node.where
        self.value = node.value


def _over(e: exp.Expression, keys: list[exp.Expression]) -> exp.Expression:
    """Every aggregate call inside e gets OVER (PARTITION BY keys)."""
    def wrap(n):
        if isinstance(n, exp.AggFunc) and not isinstance(n.parent, exp.Window):
            return exp.Window(this=n.copy(), partition_by=[x.copy() for x in keys])
        return n
    if isinstance(e, exp.AggFunc):
        return wrap(e)
    return e.transform(wrap, copy=True)

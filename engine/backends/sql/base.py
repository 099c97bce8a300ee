"""Generic SQL from the typed IR (dsl/ir.py) — never from rule text.

Every IR node becomes a sqlglot expression over the row aliases of its frames: frame k is
``t{k}``; an aggregate opens frame k+1 in a correlated subquery, or — for a same-entity group
at the top frame — a window ``OVER (PARTITION BY …)``. Missing values are NULL and follow the
numpy backend's rules (engine/backends/numpy/colops.py): arithmetic and comparisons spread them, and/or are
three-valued, an undetermined `if` condition gives no value, a code compared with an optional
code treats «absent» as a value of its own.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from sqlglot import exp

from dsl import ir
from dsl.diagnostics import Span
from engine.backends.sql.aggregates import compile_aggregate
from engine.backends.sql.dialect import SqlDialect, and_all, case, col, is_null, not_null, or_all, table
from engine.runtime.model import Methodology


class SqlUnsupported(Exception):
    """A construct the SQL backend cannot express; reported as a diagnostic at ``span``."""

    def __init__(self, message: str, span: Span | None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


@dataclass
class Names:
    """Where things live in the database during one run."""

    entity_table: dict[str, str]            # entity → its current table (grows by definition levels)
    lookup_table: dict[str, str]            # methodology table → its temp table
    has_asof: set[str]                      # entities whose rows carry an as-of date

    def column(self, m: Methodology, entity: str, name: str) -> str:
        return ("d_" if (entity, name) in m.defs else "f_") + name


@dataclass
class Validation:
    """A per-row condition that must not hold (a decision table's hit policy), checked after a level."""

    column: str
    expr: exp.Expression
    node: ir.DecideNode


@dataclass
class Compiler:
    q: SqlDialect
    m: Methodology
    names: Names
    context_day: int | None = None
    validations: list[Validation] = field(default_factory=list)
    key_tables: dict[str, tuple[str, str, list[str]]] = field(default_factory=dict)   # id → (source, SELECT, keys)
    joins: dict[str, dict[str, tuple[str, exp.Expression]]] = field(default_factory=dict)  # frame alias → join alias → (table, ON)
    _alias_map: dict[int, str] = field(default_factory=dict)
    _args: list[list[exp.Expression]] = field(default_factory=list)
    _call_frames: list[int] = field(default_factory=list)
    _n: int = 0

    # ---- frames ---------------------------------------------------------------------------
    def alias(self, k: int) -> str:
        return self._alias_map.get(k, f"t{k}")

    def fresh(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def with_aliases(self, mapping: dict[int, str]):
        c = self
        outer = dict(c._alias_map)

        class _Ctx:
            def __enter__(self_inner):
                c._alias_map.update(mapping)

            def __exit__(self_inner, *a):
                c._alias_map = outer
        return _Ctx()

    def day(self, k: int, frames: list[str]) -> exp.Expression | None:
        if k == ir.CALLER_FRAME:
            k = self._call_frames[-1] if self._call_frames else -1
        if k < 0 or frames[k] is None or frames[k] not in self.names.has_asof:
            return None
        return col(self.alias(k), "_asof")

    def at_top(self, frames: list[str], k: int) -> bool:
        """Frame k is the query's own row set (all rows of the entity): windows may be used."""
        return len(frames) == 1 and k == 0 and self.alias(0) == "t0"

    # ---- dispatch -------------------------------------------------------------------------
    def compile(self, node: ir.IR, frames: list[str]) -> exp.Expression:
        return getattr(self, "_" + type(node).__name__)(node, frames)

    def literal(self, value, kind: str) -> exp.Expression:
        if value is None:
            return exp.Null()
        if kind == "bool":
            return exp.true() if value else exp.false()
        if kind in ("code", "text"):
            return exp.Literal.string(str(value))
        if kind == "number":
            return self.q.flt(float(value))
        return self.q.num(int(value))

    def _Const(self, node: ir.Const, frames):
        return self.literal(node.value, node.type.kind)

    def _FieldRef(self, node: ir.FieldRef, frames):
        name = self.names.column(self.m, node.entity, node.name)
        if not node.path:
            return col(self.alias(node.frame), name)
        return col(self.related(node.frame, frames, node.path), name)

    # ---- relation lookups as joins ------------------------------------------------------------
    def related(self, k: int, frames: list[str], path: tuple[str, ...] | list[str]) -> str:
        """The alias of the row reached from frame k's row along ``path`` (relation after
        relation): a LEFT JOIN on ``_rid`` registered for the SELECT whose FROM defines frame k
        (one per distinct path, reused by every expression there), so the value is a column of
        that SELECT — never a correlated subquery (Spark allows outer references one level deep
        only; both Spark and PostgreSQL plan these joins as hash joins)."""
        owner = self.alias(k)
        joins = self.joins.setdefault(owner, {})
        ent, parent, hops = frames[k], owner, []
        for rel in path:
            hops.append(rel)
            target = self.m.entities[ent].relations[rel].entity
            alias = _join_alias(owner, hops)
            if alias not in joins:
                joins[alias] = (self.names.entity_table[target], exp.EQ(
                    this=col(alias, "_rid"), expression=col(parent, "_r_" + rel)))
            ent, parent = target, alias
        return parent

    def _innermost(self, owners: set[str] | None, frames: list[str]) -> str | None:
        """Of the frame aliases ``owners``, the innermost (the others enclose it); None when there
        are none or one is not a frame of this expression."""
        if not owners:
            return None
        depth = {self.alias(k): k for k in range(len(frames))}
        if not owners <= depth.keys():
            return None
        return max(owners, key=depth.__getitem__)

    def join_scope(self, alias: str):
        """Collect the joins registered for ``alias`` apart (a separate statement whose FROM also
        names its rows ``alias``, e.g. a key table): yields the dict they land in; the outer ones
        are restored on exit."""
        c = self

        class _Scope:
            def __enter__(self_inner):
                self_inner.saved = c.joins.pop(alias, None)
                self_inner.own = c.joins.setdefault(alias, {})
                return self_inner.own

            def __exit__(self_inner, *a):
                c.joins.pop(alias, None)
                if self_inner.saved is not None:
                    c.joins[alias] = self_inner.saved
        return _Scope()

    def attach_joins(self, q: exp.Select, alias: str, joins: dict | None = None) -> exp.Select:
        """Add the LEFT JOINs registered for ``alias`` to q (whose FROM defines ``alias``)."""
        for jalias, (tname, on) in (self.joins.pop(alias, {}) if joins is None else joins).items():
            q = q.join(table(tname, jalias), on=on.copy(), join_type="left", copy=False)
        return q

    def join_texts(self, alias: str) -> dict[str, str]:
        """The joins registered for ``alias`` as SQL text (alias → `` LEFT JOIN …``), for a FROM
        written as text; texts of several compilations merge as dicts (parents stay first)."""
        return {a: " " + self.q.render(exp.Join(this=table(t, a), on=on, side="LEFT"))
                for a, (t, on) in self.joins.pop(alias, {}).items()}

    def _ParamRef(self, node: ir.ParamRef, frames):
        from engine.backends.numpy.evaluator import EvalError

        p = self.m.params[node.name]
        kind = p.type.kind
        live = [x for x in p.periods if x.value is not None]
        day = self.day(node.frame, frames)
        if day is None:
            if self.context_day is None:
                if len(live) == 1:
                    return self.literal(live[0].value, kind)
                raise EvalError(f"параметр «{p.name}» зависит от даты, а дата расчёта не задана", node.span)
            day = self.q.num(self.context_day)
        if len(live) == 1 and live[0].start <= -(2**30) and live[0].end >= 2**40:
            return self.literal(live[0].value, kind)
        whens = [(and_all([exp.GTE(this=day.copy(), expression=self.q.num(x.start)),
                           exp.LT(this=day.copy(), expression=self.q.num(x.end))]), self.literal(x.value, kind))
                 for x in live]
        return case(*whens, default=exp.Null()) if whens else exp.Null()

    def _Lookup(self, node: ir.Lookup, frames):
        from engine.backends.numpy.evaluator import EvalError

        t = self.m.tables[node.table]
        if t.name not in self.names.lookup_table:
            raise SqlUnsupported(f"таблица «{t.name}» не загружена в базу (таблица правил?)", node.span)
        keys = [exp.Paren(this=self.compile(key, frames)) for key in node.keys]
        day = None
        if t.dated:
            day = self.day(node.frame, frames)
            if day is None:
                if self.context_day is None:
                    raise EvalError(f"таблица «{t.name}» датирована, а дата расчёта не задана", node.span)
                day = self.q.num(self.context_day)
        tname = self.names.lookup_table[t.name]

        def conds(a: str) -> exp.Expression:
            out = [exp.EQ(this=col(a, "k_" + k), expression=key.copy()) for k, key in zip(t.keys, keys, strict=True)]
            if day is not None:
                out += [exp.LTE(this=col(a, "_s"), expression=day.copy()), exp.LT(this=day.copy(), expression=col(a, "_e"))]
            return and_all(out)

        owner = self._innermost(_row_owners(keys + ([day] if day is not None else [])), frames)
        if owner is not None:
            # a (key, as-of date) hits at most one row (E0606: keys unique, periods disjoint), so
            # a LEFT JOIN keeps the rows and «no row» is NULL, as the scalar subquery; it joins the
            # innermost frame the keys and date read (an outer row's as-of date in its ON clause
            # is one level deep, which Spark and PostgreSQL both accept)
            alias = f"{owner}__lk" + hashlib.sha1(f"{tname}|{self.q.render(conds('_'))}".encode()).hexdigest()[:10]
            self.joins.setdefault(owner, {}).setdefault(alias, (tname, conds(alias)))
            if node.column is None:
                return exp.Paren(this=exp.Not(this=is_null(col(alias, "_s"))))
            return col(alias, "c_" + node.column)
        a = self.fresh("x")
        src = table(tname, a)
        if node.column is None:
            return exp.Exists(this=exp.select(exp.Literal.number(1)).from_(src, copy=False).where(conds(a), copy=False))
        return exp.Subquery(this=exp.select(col(a, "c_" + node.column)).from_(src, copy=False).where(conds(a), copy=False))

    def _Convert(self, node: ir.Convert, frames):
        x = self.compile(node.operand, frames)
        if node.to == "float":
            return self.q.as_float(x, node.operand.type.kind)
        return exp.Mul(this=exp.Paren(this=x), expression=exp.Literal.number(100))

    def _Unary(self, node: ir.Unary, frames):
        x = exp.Paren(this=self.compile(node.operand, frames))
        return exp.Paren(this=exp.Not(this=x) if node.op == "not" else exp.Neg(this=x))

    def _Binary(self, node: ir.Binary, frames):
        a = self.compile(node.left, frames)
        b = self.compile(node.right, frames)
        op = node.op
        lt, rt = node.left.type, node.right.type
        if lt.kind in ("code", "text") or rt.kind in ("code", "text"):
            a, b = exp.Paren(this=a), exp.Paren(this=b)
            if lt.optional or rt.optional:      # «absent» is a value of its own (two-valued)
                e = exp.Paren(this=exp.NullSafeEQ(this=a, expression=b))
                return e if op == "==" else exp.Paren(this=exp.Not(this=e))
            return exp.Paren(this=exp.EQ(this=a, expression=b) if op == "==" else exp.NEQ(this=a, expression=b))
        if op in ("and", "or"):
            cls = exp.And if op == "and" else exp.Or
            return exp.Paren(this=cls(this=exp.Paren(this=a), expression=exp.Paren(this=b)))
        if node.type.kind == "number" or op == "/":
            a = self.q.as_float(a, lt.kind) if lt.kind != "number" else a
            b = self.q.as_float(b, rt.kind) if rt.kind != "number" else b
        cls = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul, "/": exp.Div, "==": exp.EQ, "!=": exp.NEQ,
               "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}[op]
        return exp.Paren(this=cls(this=exp.Paren(this=a), expression=exp.Paren(this=b)))

    def _IfNode(self, node: ir.IfNode, frames):
        c = self.compile(node.cond, frames)
        # an undetermined condition gives no value (not the else branch)
        return case((c, self.compile(node.then, frames)),
                    (exp.Paren(this=exp.Not(this=exp.Paren(this=c.copy()))), self.compile(node.otherwise, frames)),
                    default=exp.Null())

    def _InSetNode(self, node: ir.InSetNode, frames):
        x = self.compile(node.operand, frames)
        kind = node.operand.type.kind
        parts: list[exp.Expression] = []
        if node.values:
            parts.append(exp.In(this=exp.Paren(this=x), expressions=[self.literal(v, kind) for v in node.values]))
        for lo, hi in node.ranges:
            parts.append(exp.Between(this=exp.Paren(this=x.copy()), low=self.literal(lo, kind), high=self.literal(hi, kind)))
        hit = or_all(parts) if parts else exp.false()
        if node.operand.type.optional:      # an absent optional value is in no set
            hit = exp.Coalesce(this=hit, expressions=[exp.false()])
        return exp.Paren(this=exp.Not(this=exp.Paren(this=hit))) if node.negated else hit

    def _CallNode(self, node: ir.CallNode, frames):
        p = node.prim
        if p.sql is None:
            raise SqlUnsupported(unsupported_text(p), node.span)
        args = [self.compile(a, frames) for a in node.args]
        consts = [a.value if isinstance(a, ir.Const) else None for a in node.args]
        try:
            return exp.Paren(this=p.sql(self.q, args, [a.type for a in node.args], consts))
        except NotImplementedError as e:
            raise SqlUnsupported(str(e), node.span) from None

    def _ArgRef(self, node: ir.ArgRef, frames):
        return self._args[-1][node.index].copy()

    def _FuncCall(self, node: ir.FuncCall, frames):
        args = [self.compile(a, frames) for a in node.args]
        caller = self._call_frames[-1] if node.frame == ir.CALLER_FRAME and self._call_frames else node.frame
        self._args.append(args)
        self._call_frames.append(caller)
        try:
            return self.compile(node.body, frames)
        finally:
            self._args.pop()
            self._call_frames.pop()

    def _AggNode(self, node: ir.AggNode, frames):
        return compile_aggregate(self, node, frames)

    def _DecideNode(self, node: ir.DecideNode, frames):
        from engine.backends.sql.decide import compile_decide

        return compile_decide(self, node, frames)


def unsupported_text(p) -> str:
    why = f": {p.sql_unsupported}" if p.sql_unsupported else ""
    return f"функция «{p.name}» не имеет SQL-формы{why}"


# what a hoisted lookup key may contain: nothing that can raise (a division, a cast, an overflow)
# on rows where the expression around it would not have evaluated it
_SAFE_KEY = (exp.Column, exp.Identifier, exp.Literal, exp.Paren, exp.Coalesce, exp.Case, exp.If, exp.Null,
             exp.Boolean, exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE, exp.NullSafeEQ, exp.And, exp.Or,
             exp.Not, exp.Is, exp.In, exp.Between, exp.Neg)


def _row_owners(parts: list[exp.Expression]) -> set[str] | None:
    """The frame aliases whose rows determine ``parts`` (their columns, or those of their joins),
    None when the parts contain anything but plain safe operations."""
    owners = set()
    for e in parts:
        for n in e.walk():
            if not isinstance(n, _SAFE_KEY):
                return None
            if isinstance(n, exp.Column):
                owners.add(n.table.split("__")[0])
    return owners


def _join_alias(owner: str, path: list[str]) -> str:
    """Deterministic (the same path gives the same alias in every definition of a level)."""
    tail = "__".join(path)
    if not re.fullmatch(r"[A-Za-z0-9_]+", tail) or len(tail) > 40:     # PostgreSQL cuts names at 63 bytes
        tail = "h" + hashlib.sha1(tail.encode()).hexdigest()[:10]
    return f"{owner}__{tail}"


__all__ = ["Compiler", "Names", "SqlUnsupported", "Validation", "is_null", "not_null"]

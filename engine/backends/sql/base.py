"""Generic SQL from the typed IR (dsl/ir.py) — never from rule text.

Every IR node becomes a sqlglot expression over the row aliases of its frames: frame k is
``t{k}``; an aggregate opens frame k+1 in a correlated subquery, or — for a same-entity group
at the top frame — a window ``OVER (PARTITION BY …)``. Missing values are NULL and follow the
numpy backend's rules (engine/backends/numpy/colops.py): arithmetic and comparisons spread them, and/or are
three-valued, an undetermined `if` condition gives no value, a code compared with an optional
code treats «absent» as a value of its own.
"""

from __future__ import annotations

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
        ref = col(self.alias(node.frame), "_rid")
        ent = frames[node.frame]
        if not node.path:
            return col(self.alias(node.frame), name)
        link = col(self.alias(node.frame), "_r_" + node.path[0])
        ent = self.m.entities[ent].relations[node.path[0]].entity
        for rel in node.path[1:]:
            a = self.fresh("p")
            link = exp.Subquery(this=exp.select(col(a, "_r_" + rel)).from_(
                table(self.names.entity_table[ent], a), copy=False).where(
                exp.EQ(this=col(a, "_rid"), expression=link), copy=False))
            ent = self.m.entities[ent].relations[rel].entity
        del ref
        a = self.fresh("p")
        return exp.Subquery(this=exp.select(col(a, name)).from_(table(self.names.entity_table[ent], a), copy=False).where(
            exp.EQ(this=col(a, "_rid"), expression=link), copy=False))

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
        a = self.fresh("x")
        conds = [exp.EQ(this=col(a, "k_" + k), expression=exp.Paren(this=self.compile(key, frames)))
                 for k, key in zip(t.keys, node.keys, strict=True)]
        if t.dated:
            day = self.day(node.frame, frames)
            if day is None:
                if self.context_day is None:
                    raise EvalError(f"таблица «{t.name}» датирована, а дата расчёта не задана", node.span)
                day = self.q.num(self.context_day)
            conds += [exp.LTE(this=col(a, "_s"), expression=day), exp.LT(this=day.copy(), expression=col(a, "_e"))]
        src = table(self.names.lookup_table[t.name], a)
        if node.column is None:
            return exp.Exists(this=exp.select(exp.Literal.number(1)).from_(src, copy=False).where(and_all(conds), copy=False))
        return exp.Subquery(this=exp.select(col(a, "c_" + node.column)).from_(src, copy=False).where(and_all(conds), copy=False))

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


__all__ = ["Compiler", "Names", "SqlUnsupported", "Validation", "is_null", "not_null"]

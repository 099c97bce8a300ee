"""The SQL backend's evaluator: data into tables, definitions level by level, values back as columns.

The interface mirrors engine.evaluator.Evaluator where callers need it: ``column(entity, name)``
returns a dsl.columns.Col, ``defects(names)`` the defects table — so tests compare both backends
value for value.
"""

from __future__ import annotations

import numpy as np
from sqlglot import exp

from dsl.columns import Col
from dsl.diagnostics import DiagnosticError
from engine.backends.sql.base import Compiler, Names, SqlUnsupported
from engine.backends.sql.dialect import col, ident, table
from engine.backends.sql.plan import check_nodes, def_deps, plan, unsupported
from engine.dataset import Dataset
from engine.evaluator import EvalError
from engine.model import Methodology


class SqlEvaluator:
    def __init__(self, session, m: Methodology, data: Dataset, context_day: int | None = None) -> None:
        self.s = session
        self.q = session.dialect
        self.m = m
        self.data = data
        self.context_day = context_day
        self.prefix = session.new_prefix()
        tables = session.ensure_lookup_tables(m)
        base = {e: f"{self.prefix}_{e}_0" for e in data.entities if e in m.entities}
        has_asof = {e for e, d in data.entities.items() if d.as_of is not None}
        self.names = Names(base, tables, has_asof)
        for e in base:
            session.load_entity(base[e], m.entities[e], data.entities[e])
        self.done: set[tuple[str, str]] = set()
        self.cache: dict[tuple[str, str], Col] = {}

    def compiler(self) -> Compiler:
        return Compiler(self.q, self.m, self.names, self.context_day)

    # ---- definitions -------------------------------------------------------------------------
    def ensure(self, wanted: list[tuple[str, str]], checks: list[str] = ()) -> None:
        """Materialize the definitions (and those the checks read) not yet in the database."""
        need = [k for k in wanted if k in self.m.defs]
        for cname in checks:
            ci = self.m.checks[cname]
            if ci.ir is not None:
                for n in check_nodes(ci.ir):
                    need += sorted(def_deps(self.m, n))
        need = [k for k in dict.fromkeys(need) if k not in self.done]
        if not need:
            return
        p = plan(self.m, need)
        todo = [k for lv in p.levels for k in lv if k not in self.done]
        diags = unsupported(self.m, todo, list(checks), self._compile_probe)
        if diags:
            raise DiagnosticError(diags)
        for i, lv in enumerate(p.levels):
            by_ent: dict[str, list[str]] = {}
            for ent, name in lv:
                if (ent, name) not in self.done:
                    by_ent.setdefault(ent, []).append(name)
            for ent, names in by_ent.items():
                self._materialize(ent, names, i)
                self.done.update((ent, n) for n in names)

    def _compile_probe(self, node, entity: str) -> None:
        self.compiler().compile(node, [entity])

    def _materialize(self, ent: str, names: list[str], level: int) -> None:
        c = self.compiler()
        exprs = []
        for n in names:
            info = self.m.defs[(ent, n)]
            exprs.append(exp.alias_(c.compile(info.ir, [ent]), ident("d_" + n)))
        exprs += [exp.alias_(v.expr, ident(v.column)) for v in c.validations]
        old = self.names.entity_table[ent]
        new = f"{self.prefix}_{ent}_{level + 1}_{len(self.done)}"
        sel = exp.select(exp.Column(this=exp.Star(), table=exp.to_identifier("t0")), *exprs).from_(table(old, "t0"))
        self.s.create_table_as(new, self.q.render(sel), self._def_error(ent, names))
        self.names.entity_table[ent] = new
        for v in c.validations:
            bad = self.s.fetch(f'SELECT _rid FROM "{new}" WHERE "{v.column}" LIMIT 1')
            if bad:
                key = str(self.data.entities[ent].keys[int(bad[0][0])])
                raise EvalError(f"таблица решений ({v.node.policy}): совпали несколько строк", v.node.span, ent, key)

    def _def_error(self, ent: str, names: list[str]):
        def on_error(message: str) -> EvalError:
            info = self.m.defs[(ent, names[0])]
            if "division by zero" in message:
                return EvalError("деление на ноль", info.ir.span if info.ir else info.provenance.span)
            return EvalError(f"ошибка SQL при расчёте {ent}.{', '.join(names)}: {message}", info.provenance.span)
        return on_error

    # ---- values back -------------------------------------------------------------------------
    def column(self, entity: str, name: str) -> Col:
        key = (entity, name)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        if key in self.m.defs:
            self.ensure([key])
            typ, cname = self.m.defs[key].type, "d_" + name
        else:
            return self.data.entities[entity].cols[name]
        rows = self.s.fetch(f'SELECT "{cname}" FROM "{self.names.entity_table[entity]}" ORDER BY _rid')
        out = to_col([r[0] for r in rows], typ)
        self.cache[key] = out
        return out

    def defects(self, names: list[str] | None = None):
        from engine.backends.sql.checks import run_checks_sql

        return run_checks_sql(self, names)

    def close(self) -> None:
        self.s.end_run()


def to_col(values: list, typ) -> Col:
    n = len(values)
    missing = np.fromiter((v is None for v in values), dtype=bool, count=n)
    kind = typ.kind
    if kind in ("code", "text"):
        strs = np.array(["" if v is None else str(v) for v in values], dtype=object)
        present = strs[~missing].astype(str)
        cats = np.unique(present) if len(present) else np.array([], dtype=str)
        data = np.full(n, -1, dtype=np.int32)
        if len(present):
            data[~missing] = np.searchsorted(cats, present)
        return Col(typ, data, missing if missing.any() else None, cats.astype(object))
    dtype = {"bool": np.bool_, "number": np.float64}.get(kind, np.int64)
    fill = False if kind == "bool" else 0
    data = np.array([fill if v is None else v for v in values], dtype=dtype)
    if kind == "bool" and missing.any():
        data = data & ~missing
    return Col(typ, data, missing if missing.any() else None)


__all__ = ["SqlEvaluator", "SqlUnsupported", "to_col", "col"]

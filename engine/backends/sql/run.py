"""The SQL backend's evaluator: data into tables, definitions level by level, values back as columns.

The interface mirrors engine.backends.numpy.evaluator.Evaluator where callers need it: ``column(entity, name)``
returns a dsl.columns.Col, ``defects(names)`` the defects table — so tests compare both backends
value for value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from dsl.columns import Col
from dsl.diagnostics import DiagnosticError
from engine.backends.numpy.evaluator import EvalError
from engine.backends.sql.base import Compiler, Names, SqlUnsupported
from engine.backends.sql.dialect import BackendUnsupported, col, unsupported_diagnostic
from engine.backends.sql.match import MATCH, derived_entities, ensure_rule_tables
from engine.backends.sql.match import build as build_match
from engine.backends.sql.plan import check_nodes, def_deps, entity_deps, plan, unsupported
from engine.runtime.dataset import Dataset
from engine.runtime.model import Methodology

_PLACEHOLDER = re.compile(r"@@([EK])\.(\w+)@@")


@dataclass
class BatchCompiler(Compiler):
    """The run's compiler; ``batch`` names the partition column of a batched run (read by
    engine/backends/sql/aggregates.py), None otherwise."""

    batch: str | None = None


class SqlEvaluator:
    def __init__(self, session, m: Methodology, data: Dataset, context_day: int | None = None,
                 batch_field: str | None = None) -> None:
        """``batch_field``: the hidden field whose value separates the inputs of a batched run
        (engine/backends/sql/batch.py); aggregates and windows never cross it."""
        self.s = session
        self.q = session.dialect
        self.m = m
        derived = derived_entities(m)              # rule-table entities: built in SQL (sql/match.py)
        self.data = data = Dataset({e: d for e, d in data.entities.items() if e not in derived})
        self.context_day = context_day
        self.prefix = session.new_prefix()
        tables = session.ensure_lookup_tables(m)
        ensure_rule_tables(session, m)
        # compiled SQL names entity tables by placeholder (@@E.entity@@): the text is cached per
        # methodology and reused by every run, each substituting its current tables
        self.current = {e: f"{self.prefix}_{e}_0" for e in data.entities if e in m.entities}
        has_asof = {e for e, d in data.entities.items() if d.as_of is not None} | set(derived)
        self.names = Names({e: f"@@E.{e}@@" for e in m.entities}, tables, has_asof)
        self.batch = "f_" + batch_field if batch_field else None
        self.refused: tuple[int, str, tuple[str, ...]] | None = None    # the step the database refused to plan
        self.loaded = False        # the data go into the database at the first statement (after the E0901 check)
        self.done: set[tuple[str, str]] = set()
        self.cache: dict[tuple[str, str], Col] = {}
        params = tuple((n, tuple((x.start, x.end, repr(x.value)) for x in p.periods)) for n, p in m.params.items())
        self.sig = (m.content_hash, hash(params), context_day, frozenset(has_asof), frozenset(self.current),
                    self.batch)
        self.sql_cache = session.__dict__.setdefault("sql_cache", {})
        self.key_sql = session.__dict__.setdefault("key_sql", {})     # key tables of keyed/pair aggregates
        self.key_real: dict[str, str] = {}

    def load(self) -> None:
        """The entity tables of the data, once: a run that stops at E0901 never loads them."""
        if not self.loaded:
            self.loaded = True
            for e, name in self.current.items():
                self.s.load_entity(name, self.m.entities[e], self.data.entities[e])

    def sql(self, text: str) -> str:
        """Executable SQL: placeholders → this run's current entity tables and key tables (created
        on first use, from the source's current table)."""
        self.load()
        def name(mo: re.Match) -> str:
            if mo.group(1) == "E":
                return self.current[mo.group(2)]
            kid = mo.group(2)
            real = self.key_real.get(kid)
            if real is None:
                source, select, keys = self.key_sql[kid]
                real = f"{self.prefix}_{kid}"
                self.s.create_key_table(real, self.sql(select), keys)
                self.key_real[kid] = real
            return real
        return _PLACEHOLDER.sub(name, text)

    def compiled(self, ent: str, name: str) -> tuple[str, list, dict[str, str]]:
        """SQL of one definition (cached): (select expression, [(validation column, sql, node)],
        the relation joins its level's FROM needs)."""
        key = (self.sig, "def", ent, name)
        hit = self.sql_cache.get(key)
        if hit is None:
            c = self.compiler()
            try:
                e = c.compile(self.m.defs[(ent, name)].ir, [ent])
                vals = [(f"_v_{name}_{i}", self.q.render(v.expr), v.node) for i, v in enumerate(c.validations)]
                hit = ("ok", self.q.render(e), vals, c.join_texts("t0"))
            except SqlUnsupported as u:
                hit = ("err", u, None)
            self.sql_cache[key] = hit
        if hit[0] == "err":
            raise hit[1]
        return hit[1], hit[2], hit[3]

    def compiler(self) -> Compiler:
        return BatchCompiler(self.q, self.m, self.names, self.context_day, key_tables=self.key_sql, batch=self.batch)

    # ---- definitions -------------------------------------------------------------------------
    def _needed(self, wanted: list[tuple[str, str]], checks) -> list[tuple[str, str]]:
        need = [k for k in wanted if k in self.m.defs]
        for cname in checks:
            ci = self.m.checks[cname]
            if ci.ir is not None:
                for n in check_nodes(ci.ir):
                    need += sorted(def_deps(self.m, n))
                need += entity_deps(self.m, ci.entity)
        return [k for k in dict.fromkeys(need) if k not in self.done]

    def steps(self, wanted: list[tuple[str, str]], checks=()) -> list[tuple[int, str, tuple[str, ...]]]:
        """The statements ``ensure`` would run for these definitions and checks, in order: (level,
        entity, definitions of that entity at that level) — one ``CREATE TABLE … AS`` each."""
        need = self._needed(wanted, checks)
        out = []
        for i, lv in enumerate(plan(self.m, need).levels if need else []):
            by_ent: dict[str, list[str]] = {}
            for ent, name in lv:
                if (ent, name) not in self.done:
                    by_ent.setdefault(ent, []).append(name)
            out += [(i, ent, tuple(names)) for ent, names in by_ent.items()]
        return out

    def ensure(self, wanted: list[tuple[str, str]], checks: list[str] = ()) -> None:
        """Materialize the definitions (and those the checks read) not yet in the database."""
        steps = self.steps(wanted, checks)
        if not steps:
            return
        todo = [(ent, n) for _, ent, names in steps for n in names]
        diags = unsupported(self.m, todo, list(checks), self.compiled, self._check_probe)
        if diags:
            raise DiagnosticError(diags)
        self.load()
        for i, ent, names in steps:
            self._materialize(ent, list(names), i)
            self.done.update((ent, n) for n in names)

    def _check_probe(self, info) -> None:
        from engine.backends.sql.checks import _check_sql

        _check_sql(self, info)

    def _materialize(self, ent: str, names: list[str], level: int) -> None:
        if ent == MATCH:              # rule-table entities' rows (engine/backends/sql/match.py)
            for entity in names:
                build_match(self, entity)
            return
        parts, checks, joins = [], [], {}
        for n in names:
            text, vals, more = self.compiled(ent, n)
            joins.update(more)
            parts.append(f'{text} AS "d_{n}"')
            parts += [f'{v} AS "{col_}"' for col_, v, _ in vals]
            checks += vals
        old = self.current[ent]
        new = f"{self.prefix}_{ent}_{level + 1}_{len(self.done)}"
        sel = f'SELECT t0.*, {", ".join(self.sql(p) for p in parts)} FROM "{old}" AS t0' + self.sql("".join(joins.values()))
        try:
            self.s.create_table_as(new, sel, self._def_error(ent, names), self.data.entities[ent].n)
        except BackendUnsupported as e:
            self.refused = (level, ent, tuple(names))
            info = self.m.defs[(ent, names[0])]
            raise unsupported_diagnostic(e, f"{ent}.{', '.join(names)}", info.provenance.span) from None
        self.current[ent] = new
        for col_, _, node in checks:
            bad = self.s.fetch(f'SELECT _rid FROM "{new}" WHERE "{col_}" LIMIT 1')
            if bad:
                key = str(self.data.entities[ent].keys[int(bad[0][0])])
                raise EvalError(f"таблица решений ({node.policy}): совпали несколько строк", node.span, ent, key)

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
        self.load()
        rows = self.s.fetch(f'SELECT "{cname}" FROM "{self.current[entity]}" ORDER BY _rid')
        out = to_col([r[0] for r in rows], typ)
        self.cache[key] = out
        return out

    def columns(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Col]:
        """Several values at once: the definitions of one entity come back in one query."""
        self.ensure([k for k in keys if k in self.m.defs])
        by_ent: dict[str, list[str]] = {}
        for ent, name in dict.fromkeys(keys):
            if (ent, name) in self.m.defs and (ent, name) not in self.cache:
                by_ent.setdefault(ent, []).append(name)
        for ent, names in by_ent.items():
            cols = ", ".join(f'"d_{n}"' for n in names)
            self.load()
            rows = self.s.fetch(f'SELECT {cols} FROM "{self.current[ent]}" ORDER BY _rid')
            for j, n in enumerate(names):
                self.cache[(ent, n)] = to_col([r[j] for r in rows], self.m.defs[(ent, n)].type)
        return {k: self.column(*k) for k in keys}

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

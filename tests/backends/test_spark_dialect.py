"""The Spark dialect: the SQL of every primitive example is generated and parses back as Spark
SQL (sqlglot). Execution on a Spark session: test_primitives_sql.py, test_differential_spark.py."""

from __future__ import annotations

import sqlglot

from dsl.diagnostics import Diagnostics, Span
from dsl.parser import parse_expression
from dsl.primitives import REGISTRY
from dsl.typecheck import check_expression
from engine.backends.numpy.adhoc import _example_world
from engine.backends.sql.base import Compiler, Names
from engine.backends.sql.spark import SparkDialect


def test_every_elementwise_example_renders_as_spark_sql():
    m, _ = _example_world()
    q = SparkDialect()
    done = 0
    for p in REGISTRY.values():
        for text, _want in p.examples:
            if p.kind != "elementwise":
                continue
            diags = Diagnostics()
            node = check_expression(m.symbols, diags, parse_expression(text, Span("<пример>", 1, 1, 1, len(text) + 1)), None)
            sql = q.render(Compiler(q, m, Names({"t": "t"}, {}, set())).compile(node, [None]))
            sqlglot.parse_one(f"SELECT {sql}", read="spark")     # raises on invalid Spark SQL
            assert '"' not in sql.replace("'\"'", "")            # Spark quotes identifiers with backticks
            done += 1
    assert done >= 25
    assert "DATE_ADD" in q.render(q.days_to_date(sqlglot.exp.column("d")))


def _outer_depth(root: sqlglot.exp.Expression) -> int:
    """The deepest outer reference: how many expression subqueries (scalar, EXISTS) lie between a
    column and the SELECT whose FROM/JOIN defines its alias (a FROM-subquery is the same level, as
    for Spark, which allows one)."""
    exp = sqlglot.exp
    deepest = 0
    for c in root.find_all(exp.Column):
        if not c.table:
            continue
        crossed, child, node = 0, c, c.parent
        while node is not None:
            if isinstance(node, exp.Select):
                sources = [node.args.get("from_") or node.args.get("from")] + list(node.args.get("joins") or [])
                if any(s is not None and s.this.alias_or_name == c.table for s in sources):
                    break
            if isinstance(child, exp.Subquery) and not isinstance(node, exp.From | exp.Join) \
                    or isinstance(child, exp.Exists):
                crossed += 1
            child, node = node, node.parent
        deepest = max(deepest, crossed)
    return deepest


def test_shipped_definitions_reference_outer_rows_one_level_deep():
    """Relation and table lookups are joins of the level (base.py: related, _Lookup), so no
    definition or check of the shipped 2025 packages reads an outer row two subqueries deep — what
    Spark refuses to plan (the kaluga disp_cost lookup did before the hoisting)."""
    from tests.backends.test_differential import ROOT, _package

    q = SparkDialect()
    for pkg in ("methodologies/kaluga/2025", "methodologies/federal/2025"):
        m = _package(ROOT / pkg)
        names = Names({e: e for e in m.entities}, {t: t for t in m.tables}, set(m.entities))
        nodes = [(ent, info.ir) for (ent, _), info in m.defs.items() if info.ir is not None]
        nodes += [(ci.entity, ci.ir.when) for ci in m.checks.values() if ci.ir is not None and ci.ir.when is not None]
        for ent, node in nodes:
            c = Compiler(q, m, names, 20000)
            try:
                e = c.compile(node, [ent])
            except Exception:      # what SQL cannot express (E0901) is tested elsewhere
                continue
            stmt = c.attach_joins(sqlglot.exp.select(e).from_(sqlglot.exp.to_table(ent).as_("t0")), "t0")
            assert _outer_depth(stmt) <= 1, (pkg, ent, q.render(stmt)[:400])

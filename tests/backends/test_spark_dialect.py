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

"""Every primitive's registry entry has a SQL form whose examples give on PostgreSQL what they
give on numpy — or it is declared unsupported and the SQL backend says so at its position."""

from __future__ import annotations

import pytest

from dsl.diagnostics import DiagnosticError
from dsl.primitives import REGISTRY
from engine.backends.numpy.adhoc import evaluate_example
from engine.backends.sql.examples import sql_example

EXAMPLES = [(p, expr, want) for p in REGISTRY.values() for expr, want in p.examples]
# Spark plans each statement slowly (seconds on 2 cores): the default suite runs every fourth example and
# the unsupported ones; all of them run with -m slow.
SPARK_EXAMPLES = [pytest.param(*e, id=f"{e[0].kind}:{e[1]}",
                               marks=() if i % 4 == 0 or e[0].sql is None else pytest.mark.slow)
                  for i, e in enumerate(EXAMPLES)]
UNSUPPORTED = sorted(f"{p.kind}:{p.name}" for p in REGISTRY.values() if p.sql is None)


def test_every_entry_has_a_sql_form_or_says_why_not():
    for p in REGISTRY.values():
        assert p.sql is not None or p.sql_unsupported, f"{p.kind}:{p.name}: нет SQL-формы и нет причины"
    assert UNSUPPORTED == ["window:distribute"]      # the gap, visible


@pytest.mark.postgres
@pytest.mark.parametrize("prim,expr,want", EXAMPLES, ids=[f"{e[0].kind}:{e[1]}" for e in EXAMPLES])
def test_example_same_on_postgres_and_numpy(pg, prim, expr, want):
    per_row = prim.kind != "elementwise"
    if prim.sql is None:
        with pytest.raises(DiagnosticError) as e:
            sql_example(pg, expr, per_row)
        d = e.value.diagnostics[0]
        assert d.code == "E0901" and f"«{prim.name}»" in d.message and d.span.column >= 1
        return
    assert sql_example(pg, expr, per_row) == evaluate_example(expr, per_row) == want


@pytest.mark.parametrize("prim,expr,want", SPARK_EXAMPLES)
def test_example_same_on_spark_and_numpy(spark, prim, expr, want):
    """The same examples executed as Spark SQL on the local SparkSession."""
    per_row = prim.kind != "elementwise"
    if prim.sql is None:
        with pytest.raises(DiagnosticError) as e:
            sql_example(spark, expr, per_row)
        assert e.value.diagnostics[0].code == "E0901"
        return
    assert sql_example(spark, expr, per_row) == want

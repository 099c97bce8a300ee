"""Primitive examples evaluated by the SQL backend (the registry test compares them with numpy)."""

from __future__ import annotations

from sqlglot import exp

from dsl.diagnostics import Diagnostic, DiagnosticError, Diagnostics, Span
from dsl.parser import parse_expression
from dsl.typecheck import check_expression
from engine.backends.numpy.adhoc import _example_world, _show
from engine.backends.sql.base import SqlUnsupported
from engine.backends.sql.dialect import col, table
from engine.backends.sql.run import SqlEvaluator, to_col


def sql_example(session, text: str, per_row: bool) -> str:
    """Value of an example as text (as engine.backends.numpy.adhoc.evaluate_example), computed in the database;
    a primitive without a SQL form raises DiagnosticError (E0901) at its position."""
    m, data = _example_world()
    diags = Diagnostics()
    span = Span("<пример>", 1, 1, 1, len(text) + 1)
    node = check_expression(m.symbols, diags, parse_expression(text, span), "t" if per_row else None)
    diags.raise_if_errors()
    ev = SqlEvaluator(session, m, data)
    try:
        c = ev.compiler()
        try:
            e = c.compile(node, ["t" if per_row else None])
        except SqlUnsupported as u:
            raise DiagnosticError([Diagnostic("E0901", f"{u.message} (SQL-вычислитель)", u.span or span)]) from None
        q = exp.select(e)
        if per_row:
            q = c.attach_joins(exp.select(e, col("t0", "_rid")).from_(table(ev.names.entity_table["t"], "t0")), "t0") \
                .order_by(col("t0", "_rid"))
        rows = session.fetch(ev.sql(session.dialect.render(q)))
        out = to_col([r[0] for r in rows], node.type)
        values = [_show(out.value_at(i), out) for i in range(len(out))]
        return "[" + ", ".join(values) + "]" if per_row else values[0]
    finally:
        ev.close()

"""Spark SQL: only what differs from the generic SQL (dates, collation). Executed by
engine/backends/sql/spark_session.py on a local pyspark session (docs/sql-backend.md)."""

from __future__ import annotations

from sqlglot import exp

from engine.backends.sql.dialect import SqlDialect

_EPOCH = exp.cast(exp.Literal.string("1970-01-01"), "DATE")


class SparkDialect(SqlDialect):
    name = "spark"
    sqlglot = "spark"

    def days_to_date(self, e: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="DATE_ADD", expressions=[_EPOCH.copy(), exp.cast(e, "INT")])

    def date_to_days(self, e: exp.Expression) -> exp.Expression:
        return self.bigint(exp.Anonymous(this="DATEDIFF", expressions=[e, _EPOCH.copy()]))

    @staticmethod
    def fence(q: exp.Select) -> exp.Select:
        return q

    def binary_text(self, e: exp.Expression) -> exp.Expression:
        return e          # Spark compares strings by their UTF-8 bytes: code point order already

"""Generic SQL building blocks (sqlglot expressions); a dialect module overrides only what differs.

Representation in SQL (the same as the numpy columns, so results compare exactly):
bool → BOOLEAN, int / money (kopecks) / date (days since 1970-01-01) → BIGINT,
number → DOUBLE PRECISION, code / text → TEXT; a missing value is NULL.
"""

from __future__ import annotations

from sqlglot import exp

TYPES = {"bool": "BOOLEAN", "int": "BIGINT", "money": "BIGINT", "date": "BIGINT",
         "number": "DOUBLE", "code": "TEXT", "text": "TEXT"}


class BackendUnsupported(Exception):
    """A statement the database itself refuses to plan (e.g. Spark's one-level limit on outer
    references of correlated subqueries): reported as E0901 at the definition or check, never as
    a value."""

    def __init__(self, backend: str, message: str) -> None:
        super().__init__(message)
        self.backend, self.message = backend, message


def unsupported_diagnostic(e: BackendUnsupported, what: str, span):
    from dsl.diagnostics import Diagnostic, DiagnosticError

    return DiagnosticError([Diagnostic("E0901", f"{what}: не поддерживается на {e.backend}: {e.message}", span)])


class SqlDialect:
    name = "generic"
    sqlglot = "postgres"     # the sqlglot dialect the text is rendered in

    def render(self, e: exp.Expression) -> str:
        return e.sql(dialect=self.sqlglot)

    def type_name(self, kind: str) -> str:
        return exp.DataType.build(TYPES[kind]).sql(dialect=self.sqlglot)

    # ---- literals and casts --------------------------------------------------------------
    @staticmethod
    def num(v: int) -> exp.Expression:
        lit = exp.Literal.number(abs(int(v)))
        return exp.Neg(this=lit) if v < 0 else lit

    def flt(self, v: float) -> exp.Expression:
        """A float literal that is a double in every dialect (a bare 2.5 is NUMERIC in PostgreSQL)."""
        return exp.cast(exp.Literal.number(repr(float(v))), "DOUBLE")

    @staticmethod
    def double(e: exp.Expression) -> exp.Expression:
        return exp.cast(e, "DOUBLE")

    @staticmethod
    def bigint(e: exp.Expression) -> exp.Expression:
        return exp.cast(e, "BIGINT")

    def as_float(self, e: exp.Expression, kind: str) -> exp.Expression:
        """int/money/number as a double (money in roubles), as the numpy backend's _as_float."""
        if kind == "money":
            return exp.Div(this=self.double(e), expression=self.flt(100.0))
        if kind == "number":
            return e
        return self.double(e)

    @staticmethod
    def paren(e: exp.Expression) -> exp.Expression:
        return exp.Paren(this=e)

    @staticmethod
    def fence(q: exp.Select) -> exp.Select:
        """Keep a subquery from being flattened into its caller (PostgreSQL: OFFSET 0), so a filter on
        its computed columns is applied after the key lookup, not to every source row."""
        return q.offset(0, copy=False)

    # ---- dates (days since epoch) -----------------------------------------------------------
    def days_to_date(self, e: exp.Expression) -> exp.Expression:
        return exp.Add(this=exp.cast(exp.Literal.string("1970-01-01"), "DATE"), expression=exp.cast(e, "INT"))

    def date_to_days(self, e: exp.Expression) -> exp.Expression:
        return self.bigint(self.paren(exp.Sub(this=e, expression=exp.cast(exp.Literal.string("1970-01-01"), "DATE"))))

    def date_part(self, part: str, days: exp.Expression) -> exp.Expression:
        cls = {"year": exp.Year, "month": exp.Month, "day": exp.Day}[part]
        return self.bigint(cls(this=self.days_to_date(days)))

    def make_date(self, y: exp.Expression, m: exp.Expression) -> exp.Expression:
        """First day of month m of year y; a month outside 1–12 rolls over (month 13 = January of
        the next year), as numpy's datetime64[M] arithmetic does."""
        carry = exp.Floor(this=exp.Div(this=exp.Paren(this=exp.Sub(this=m, expression=exp.Literal.number(1))),
                                       expression=self.flt(12.0)))
        year = exp.cast(exp.Add(this=y, expression=carry), "INT")
        month = exp.cast(exp.Sub(this=m.copy(), expression=exp.Mul(this=exp.Literal.number(12), expression=carry.copy())),
                         "INT")
        return exp.Anonymous(this="MAKE_DATE", expressions=[year, month, exp.Literal.number(1)])

    # ---- text --------------------------------------------------------------------------------
    def binary_text(self, e: exp.Expression) -> exp.Expression:
        """Text compared by code point (as Python compares str), whatever the database collation."""
        return exp.Collate(this=e, expression=exp.Identifier(this="C", quoted=True))

    @staticmethod
    def regex(e: exp.Expression, pattern: str) -> exp.Expression:
        return exp.RegexpLike(this=e, expression=exp.Literal.string(pattern))


def case(*whens: tuple[exp.Expression, exp.Expression], default: exp.Expression | None = None) -> exp.Expression:
    return exp.Case(ifs=[exp.If(this=c, true=v) for c, v in whens], default=default)


def is_null(e: exp.Expression) -> exp.Expression:
    # parenthesized: sqlglot does not add the parentheses `NOT x IS NULL` needs
    return exp.Paren(this=exp.Is(this=exp.Paren(this=e), expression=exp.Null()))


def not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=is_null(e))


def any_null(*es: exp.Expression) -> exp.Expression:
    out = is_null(es[0])
    for e in es[1:]:
        out = exp.Or(this=out, expression=is_null(e))
    return exp.Paren(this=out)


def strict(args: list[exp.Expression], body: exp.Expression) -> exp.Expression:
    """NULL when any argument is NULL (the numpy backend's merge of missing masks), else body."""
    return case((any_null(*args), exp.Null()), default=body)


def or_all(es: list[exp.Expression]) -> exp.Expression:
    out = es[0]
    for e in es[1:]:
        out = exp.Or(this=out, expression=e)
    return exp.Paren(this=out)


def and_all(es: list[exp.Expression]) -> exp.Expression:
    out = es[0]
    for e in es[1:]:
        out = exp.And(this=out, expression=e)
    return out


def ident(name: str) -> exp.Identifier:
    return exp.to_identifier(name, quoted=True)


def col(alias: str, name: str) -> exp.Column:
    return exp.Column(this=ident(name), table=exp.to_identifier(alias))


def table(name: str, alias: str) -> exp.Table:
    return exp.Table(this=ident(name), alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _quarter(self, days: exp.Expression) -> exp.Expression:
    m = self.date_part("month", days)
    return case(*[(exp.LTE(this=m.copy(), expression=exp.Literal.number(3 * i)), exp.Literal.number(i))
                  for i in (1, 2, 3)], default=exp.Literal.number(4))


def _strip_blanks(self, e: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="REPLACE", expressions=[e, exp.Literal.string(" "), exp.Literal.string("")])


SqlDialect.quarter = _quarter
SqlDialect.strip_blanks = _strip_blanks

"""Date primitives. Dates are int64 days since 1970-01-01."""

from __future__ import annotations

import numpy as np

from dsl.columns import Col
from dsl.primitives.registry import primitive
from dsl.primitives.typing_helpers import require_kind
from dsl.types import DATE, INT, Type


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, day


def _age_sql(q, args, types, consts):
    from sqlglot import exp

    (b, a) = args
    by, bm, bd = (q.date_part(p, b) for p in ("year", "month", "day"))
    ay, am, ad = (q.date_part(p, a.copy()) for p in ("year", "month", "day"))
    before = exp.Or(this=exp.LT(this=am, expression=bm),
                    expression=exp.And(this=exp.EQ(this=am.copy(), expression=bm.copy()),
                                       expression=exp.LT(this=ad, expression=bd)))
    flag = exp.Case(ifs=[exp.If(this=before, true=exp.Literal.number(1))], default=exp.Literal.number(0))
    return exp.Sub(this=exp.Sub(this=ay, expression=by), expression=flag)


def _make_date_sql(q, args, types, consts):
    from sqlglot import exp

    y, m, d = args
    first = q.date_to_days(q.make_date(y, m))
    return exp.Sub(this=exp.Add(this=first, expression=d), expression=exp.Literal.number(1))


def _dates(*names: str):
    def typer(args: list[Type], consts: list[object]) -> Type:
        for i, (t, name) in enumerate(zip(args, names, strict=False)):
            require_kind(t, ("date",), i, name)
        return INT
    return typer


@primitive("age_at", "age_at(birth: date, at: date) -> int", min_args=2, max_args=2,
           typer=_dates("дата рождения", "дата"),
           doc="Полных лет на дату: возраст пациента на дату начала случая и т. п.",
           examples=[("age_at(2000-03-15, 2025-03-14)", "24"), ("age_at(2000-03-15, 2025-03-15)", "25")],
           sql=_age_sql)
def _age_at(birth: Col, at: Col) -> Col:
    by, bm, bd = _ymd(birth.data)
    ay, am, ad = _ymd(at.data)
    before = (am < bm) | ((am == bm) & (ad < bd))
    return Col(INT, (ay - by - before.astype(np.int64)).astype(np.int64))


@primitive("days_between", "days_between(from: date, to: date) -> int", min_args=2, max_args=2,
           typer=_dates("начало", "конец"),
           doc="Число дней от первой даты до второй (to − from).",
           examples=[("days_between(2025-01-30, 2025-02-02)", "3")],
           sql=lambda q, args, types, consts: __import__("sqlglot").exp.Sub(this=args[1], expression=args[0]))
def _days_between(a: Col, b: Col) -> Col:
    return Col(INT, np.asarray(b.data, dtype=np.int64) - np.asarray(a.data, dtype=np.int64))


@primitive("year_of", "year_of(d: date) -> int", min_args=1, max_args=1, typer=_dates("дата"),
           doc="Год даты.", examples=[("year_of(2025-03-31)", "2025")],
           sql=lambda q, args, types, consts: q.date_part("year", args[0]))
def _year_of(d: Col) -> Col:
    return Col(INT, _ymd(d.data)[0])


@primitive("month_of", "month_of(d: date) -> int", min_args=1, max_args=1, typer=_dates("дата"),
           doc="Номер месяца даты (1–12).", examples=[("month_of(2025-03-31)", "3")],
           sql=lambda q, args, types, consts: q.date_part("month", args[0]))
def _month_of(d: Col) -> Col:
    return Col(INT, _ymd(d.data)[1])


@primitive("quarter_of", "quarter_of(d: date) -> int", min_args=1, max_args=1, typer=_dates("дата"),
           doc="Номер квартала даты (1–4).", examples=[("quarter_of(2025-08-01)", "3")],
           sql=lambda q, args, types, consts: q.quarter(args[0]))
def _quarter_of(d: Col) -> Col:
    return Col(INT, (_ymd(d.data)[1] - 1) // 3 + 1)


def _make_date_typer(args: list[Type], consts: list[object]) -> Type:
    for i, name in enumerate(("год", "месяц", "день")):
        require_kind(args[i], ("int",), i, name)
    return DATE


@primitive("make_date", "make_date(year: int, month: int, day: int) -> date", min_args=3, max_args=3,
           typer=_make_date_typer,
           doc="Дата из года, месяца и дня (например, первое число отчётного месяца).",
           examples=[("make_date(2025, 3, 1)", "2025-03-01")], sql=_make_date_sql)
def _make_date(y: Col, m: Col, d: Col) -> Col:
    yy = np.asarray(y.data, dtype=np.int64)
    mm = np.asarray(m.data, dtype=np.int64)
    months = (yy - 1970) * 12 + (mm - 1)
    first = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return Col(DATE, first + np.asarray(d.data, dtype=np.int64) - 1)

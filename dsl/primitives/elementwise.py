"""Elementwise primitives: rounding, min/max/abs, optionals, conversions."""

from __future__ import annotations

import numpy as np

from dsl.columns import Col, unify_codes
from dsl.primitives.registry import PrimitiveTypeError, primitive
from dsl.primitives.rounding import (
    round_half_up,
    round_half_up_sql,
    round_half_up_sql_dynamic,
    to_kopecks,
    to_kopecks_sql,
)
from dsl.primitives.typing_helpers import literal_int, numeric_join, require_kind
from dsl.types import BOOL, INT, MONEY, NUMBER, Type


def _sqlexp():
    from sqlglot import exp

    return exp


def _as_float(c: Col) -> np.ndarray:
    if c.type.kind == "money":
        return np.asarray(c.data, dtype=np.float64) / 100.0
    return np.asarray(c.data, dtype=np.float64)


# SQL forms (engine/backends/sql): q is the SQL dialect, args the arguments' sqlglot expressions,
# types their types, consts their literal values (None where not a literal)

def _round_sql(q, args, types, consts):

    x = q.as_float(args[0], types[0].kind)
    if consts[1] is not None:
        return round_half_up_sql(q, x, int(consts[1]))
    return round_half_up_sql_dynamic(q, x, args[1])


def _minmax_sql(fn):
    def form(q, args, types, consts):
        kinds = {t.kind for t in types}
        if kinds <= {"int"} or kinds == {"date"}:
            vals = list(args)
        elif "money" in kinds:
            vals = [a if t.kind == "money" else exp_mul100(a) for a, t in zip(args, types, strict=True)]
        else:
            vals = [q.as_float(a, t.kind) for a, t in zip(args, types, strict=True)]
        exp = _sqlexp()
        cls = exp.Least if fn == "LEAST" else exp.Greatest
        nulls = [exp.Is(this=a.copy(), expression=exp.Null()) for a in args]
        any_null = nulls[0]
        for n in nulls[1:]:
            any_null = exp.Or(this=any_null, expression=n)
        # LEAST/GREATEST skip NULLs; a missing argument makes the numpy result missing
        return exp.Case(ifs=[exp.If(this=any_null, true=exp.Null())],
                        default=cls(this=vals[0], expressions=vals[1:]))
    return form


def exp_mul100(a):
    from sqlglot import exp

    return exp.Mul(this=a, expression=exp.Literal.number(100))


def _round_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("int", "number", "money"), 0, "число")
    require_kind(args[1], ("int",), 1, "число знаков")
    return NUMBER


@primitive("round", "round(x: number, digits: int) -> number", min_args=2, max_args=2,
           typer=_round_typer,
           doc="Округление по правилам арифметики (половина — от нуля) до digits знаков после запятой; "
               "digits может быть параметром (точность из тарифного соглашения).",
           examples=[("round(2.675, 2)", "2.68"), ("round(-1.5, 0)", "-2.0"), ("round(1234.5, -2)", "1200.0")],
           sql=_round_sql)
def _round(x: Col, digits: Col) -> Col:
    d = np.asarray(digits.data)
    if d.size == 0:
        return Col(NUMBER, np.zeros(0, dtype=np.float64))
    if d.ndim == 0 or (d.strides and d.strides[0] == 0) or len(np.unique(d)) == 1:
        return Col(NUMBER, round_half_up(_as_float(x), int(d.flat[0])))
    out = np.empty(len(d), dtype=np.float64)
    xf = np.broadcast_to(_as_float(x), d.shape)
    for v in np.unique(d):
        rows = d == v
        out[rows] = round_half_up(xf[rows], int(v))
    return Col(NUMBER, out)


def _round_money_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("int", "number", "money"), 0, "сумма в рублях")
    if len(args) == 2:
        require_kind(args[1], ("int",), 1, "число знаков")
        d = literal_int(consts, 1, "число знаков")
        if d not in (0, 1, 2):
            raise PrimitiveTypeError("деньги округляются до 0, 1 или 2 знаков (рубли, гривенники, копейки)", 1)
    return MONEY


@primitive("round_money", "round_money(x: number, digits: int = 2) -> money", min_args=1, max_args=2,
           typer=_round_money_typer,
           doc="Явная точка округления денег: рубли → копейки, половина — от нуля; digits = 0 — до рубля.",
           examples=[("round_money(28147.26 * 7.25)", "204067.64"), ("round_money(10764.4, 0)", "10764.00")],
           sql=lambda q, args, types, consts: args[0] if types[0].kind == "money" and (len(args) == 1 or consts[1] == 2)
           else to_kopecks_sql(q, q.as_float(args[0], types[0].kind), 2 if len(args) == 1 else int(consts[1])))
def _round_money(x: Col, digits: Col | None = None) -> Col:
    d = int(np.asarray(digits.data)[0]) if digits is not None else 2
    if x.type.kind == "money" and d == 2:
        return Col(MONEY, np.asarray(x.data))
    return Col(MONEY, to_kopecks(_as_float(x), d))


def _minmax_typer(args: list[Type], consts: list[object]) -> Type:
    for i, t in enumerate(args):
        require_kind(t, ("int", "number", "money", "date"), i, "значение")
    kinds = {t.kind for t in args}
    if "date" in kinds:
        if kinds != {"date"}:
            raise PrimitiveTypeError("даты сравниваются только с датами")
        return args[0]
    return numeric_join(args)


def _minmax(fn, args: tuple[Col, ...]) -> Col:
    kinds = {a.type.kind for a in args}
    if kinds <= {"int"} or kinds == {"date"}:
        out = np.asarray(args[0].data)
        for a in args[1:]:
            out = fn(out, np.asarray(a.data))
        return Col(args[0].type.required, out)
    if "money" in kinds:
        out = np.asarray(args[0].data, dtype=np.int64) * (100 if args[0].type.kind == "int" else 1)
        for a in args[1:]:
            out = fn(out, np.asarray(a.data, dtype=np.int64) * (100 if a.type.kind == "int" else 1))
        return Col(MONEY, out)
    out = _as_float(args[0])
    for a in args[1:]:
        out = fn(out, _as_float(a))
    return Col(NUMBER, out)


@primitive("min", "min(a, b, …) -> того же типа", min_args=2, typer=_minmax_typer,
           doc="Наименьшее из значений в каждой строке (для агрегата по строкам — min(x by …)).",
           examples=[("min(3, 1, 2)", "1"), ("min(1.5, 2)", "1.5")], sql=_minmax_sql("LEAST"))
def _min(*args: Col) -> Col:
    return _minmax(np.minimum, args)


@primitive("max", "max(a, b, …) -> того же типа", min_args=2, typer=_minmax_typer,
           doc="Наибольшее из значений в каждой строке.",
           examples=[("max(3, 1, 2)", "3"), ("max(2025-01-01, 2024-12-31)", "2025-01-01")],
           sql=_minmax_sql("GREATEST"))
def _max(*args: Col) -> Col:
    return _minmax(np.maximum, args)


def _abs_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("int", "number", "money"), 0, "число")
    return args[0]


@primitive("abs", "abs(x) -> того же типа", min_args=1, max_args=1, typer=_abs_typer,
           doc="Модуль числа.", examples=[("abs(-2.5)", "2.5"), ("abs(3)", "3")],
           sql=lambda q, args, types, consts: _sqlexp().Abs(this=args[0]))
def _abs(x: Col) -> Col:
    return Col(x.type, np.abs(np.asarray(x.data)))


def _default_typer(args: list[Type], consts: list[object]) -> Type:
    a, b = args
    if b.optional:
        raise PrimitiveTypeError("значение по умолчанию само не может отсутствовать", 1, code="E0205")
    if a.kind == b.kind or (a.kind in ("number", "money") and b.kind == "int") \
            or {a.kind, b.kind} == {"code", "text"}:
        return a.required
    raise PrimitiveTypeError(f"значение по умолчанию типа {b} не подходит к значению типа {a}", 1)


@primitive("default", "default(x: optional T, value: T) -> T", min_args=2, max_args=2,
           typer=_default_typer, handles_missing=True,
           doc="Значение x, а где его нет — value. Единственный способ использовать необязательное значение.",
           examples=[("default(2, 0)", "2")],
           sql=lambda q, args, types, consts: _sqlexp().Coalesce(
               this=args[0], expressions=[exp_mul100(args[1]) if types[0].kind == "money" and types[1].kind == "int"
                                          else args[1]]))
def _default(x: Col, value: Col) -> Col:
    kind = x.type.kind
    if x.missing is None:
        return Col(x.type.required, np.asarray(x.data), None, x.cats)
    if kind in ("code", "text"):
        a, b, cats = unify_codes(x, value)
        return Col(x.type.required, np.where(x.missing, b, a).astype(np.int32), None, cats)
    vd = np.asarray(value.data)
    if kind == "money" and value.type.kind == "int":
        vd = vd * 100
    data = np.where(x.missing, vd, np.asarray(x.data)).astype(np.asarray(x.data).dtype)
    return Col(x.type.required, data)


@primitive("present", "present(x: optional T) -> bool", min_args=1, max_args=1,
           typer=lambda args, consts: BOOL, handles_missing=True,
           doc="Истина, если значение есть (поле заполнено, строка справочника найдена).",
           examples=[("present(1)", "true")],
           sql=lambda q, args, types, consts: _sqlexp().Not(this=_sqlexp().Is(this=_sqlexp().Paren(this=args[0]),
                                                                             expression=_sqlexp().Null())))
def _present(x: Col) -> Col:
    n = len(x)
    if x.missing is None:
        return Col(BOOL, np.ones(n, dtype=bool))
    return Col(BOOL, ~x.missing)


def _to_number_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("int", "number", "money"), 0, "число")
    return NUMBER


@primitive("to_number", "to_number(x: int | money) -> number", min_args=1, max_args=1,
           typer=_to_number_typer,
           doc="Явное приведение к дробному числу (деньги — в рублях).",
           examples=[("to_number(7)", "7.0")],
           sql=lambda q, args, types, consts: q.as_float(args[0], types[0].kind))
def _to_number(x: Col) -> Col:
    return Col(NUMBER, _as_float(x))


def _round_int_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("int", "number", "money"), 0, "число")
    return INT


@primitive("round_int", "round_int(x: number) -> int", min_args=1, max_args=1, typer=_round_int_typer,
           doc="Целое число, округлённое по правилам арифметики (половина — от нуля): объёмы в единицах, "
               "например норматив × численность.",
           examples=[("round_int(2.5)", "3"), ("round_int(0.29 * 1234)", "358"), ("round_int(-2.5)", "-3")],
           sql=lambda q, args, types, consts: q.bigint(round_half_up_sql(q, q.as_float(args[0], types[0].kind), 0)))
def _round_int(x: Col) -> Col:
    return Col(INT, round_half_up(_as_float(x), 0).astype(np.int64))

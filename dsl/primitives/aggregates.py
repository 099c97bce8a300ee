"""Aggregates (per group → one value) and window functions (per row within its group)."""

from __future__ import annotations

import numpy as np

from dsl.columns import Col
from dsl.primitives.grouping import Groups
from dsl.primitives.registry import PrimitiveTypeError, primitive
from dsl.primitives.typing_helpers import require_kind
from dsl.types import BOOL, INT, NUMBER, Type

# SQL forms (engine/backends/sql/aggregates.py): `a` gives the value with the `where` filter applied
# (a.value: NULL on rows the filter drops), a.kept (the filter) and the dialect a.q; an aggregate
# returns an aggregate-function expression (run per group: GROUP BY, correlated subquery or
# OVER (PARTITION BY …)); a window function returns a window expression built by a.window(…).


def _sx():
    from sqlglot import exp

    return exp


def _sum_sql(a):
    exp = _sx()
    if a.value_kind == "number":
        return exp.Coalesce(this=exp.Sum(this=a.value), expressions=[a.q.flt(0.0)])
    return a.q.bigint(exp.Coalesce(this=exp.Sum(this=a.value), expressions=[exp.Literal.number(0)]))


def _count_sql(a):
    exp = _sx()
    if a.kept is None:
        return exp.Count(this=exp.Star())
    return exp.Count(this=exp.Case(ifs=[exp.If(this=a.kept, true=exp.Literal.number(1))]))


# Aggregate typers receive [value type] (count: [] or the entity) and a flag in consts[0]:
# True when the group can never be empty (then min/max/first need no default).


def _sum_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("int", "number", "money"), 0, "значение")
    return args[0].required


@primitive("sum", "sum(x [by …] [where …]) -> тип x", kind="aggregate", min_args=1, max_args=1,
           examples=[("sum(x by g)", "[4, 4, 7, 7]"), ("sum(x where x > 2)", "[8, 8, 8, 8]")],
           typer=_sum_typer, doc="Сумма по строкам группы или по связанным строкам (деньги — точно, в копейках).",
           sql=_sum_sql)
def _agg_sum(values: Col, groups: Groups) -> Col:
    data = np.asarray(values.data)
    zero = 0 if data.dtype.kind in "iu" else 0.0
    return Col(values.type.required, groups.reduce(np.add, data, zero))


@primitive("count", "count(E [by …] [where …]) -> int", kind="aggregate", min_args=1, max_args=1,
           examples=[("count(t by g)", "[2, 2, 2, 2]"), ("count(t by g where x > 2)", "[1, 1, 1, 1]")],
           typer=lambda args, consts: INT, doc="Число строк в группе (или связанных строк).", sql=_count_sql)
def _agg_count(values: Col | None, groups: Groups) -> Col:
    return Col(INT, groups.counts.copy())


def _minmax_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("int", "number", "money", "date"), 0, "значение")
    never_empty = bool(consts and consts[0])
    return args[0].as_optional(not never_empty)


def _minmax(ufunc: np.ufunc, values: Col, groups: Groups) -> Col:
    data = np.asarray(values.data)
    fill = 0 if data.dtype.kind in "iu" else 0.0
    out = groups.reduce(ufunc, data, fill)
    missing = ~groups.nonempty
    return Col(values.type.as_optional(bool(missing.any())), out, missing if missing.any() else None)


@primitive("min", "min(x [by …] [where …]) -> optional тип x", kind="aggregate", min_args=1, max_args=1,
           examples=[("min(x by g)", "[1, 1, 2, 2]")],
           typer=_minmax_typer, doc="Наименьшее значение в группе; пустая группа — нет значения.",
           sql=lambda a: _sx().Min(this=a.value))
def _agg_min(values: Col, groups: Groups) -> Col:
    return _minmax(np.minimum, values, groups)


@primitive("max", "max(x [by …] [where …]) -> optional тип x", kind="aggregate", min_args=1, max_args=1,
           examples=[("max(x by g)", "[3, 3, 5, 5]")],
           typer=_minmax_typer, doc="Наибольшее значение в группе; пустая группа — нет значения.",
           sql=lambda a: _sx().Max(this=a.value))
def _agg_max(values: Col, groups: Groups) -> Col:
    return _minmax(np.maximum, values, groups)


def _bool_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("bool",), 0, "условие")
    return BOOL


@primitive("any", "any(cond [by …] [where …]) -> bool", kind="aggregate", min_args=1, max_args=1,
           examples=[("any(x > 4 by g)", "[false, false, true, true]")],
           typer=_bool_typer, doc="Истина, если условие выполнено хотя бы в одной строке группы.",
           sql=lambda a: _sx().Coalesce(this=_sx().LogicalOr(this=a.value), expressions=[_sx().false()]))
def _agg_any(values: Col, groups: Groups) -> Col:
    return Col(BOOL, groups.reduce(np.logical_or, np.asarray(values.data, dtype=bool), False))


@primitive("all", "all(cond [by …] [where …]) -> bool", kind="aggregate", min_args=1, max_args=1,
           examples=[("all(x > 1 by g)", "[false, false, true, true]")],
           typer=_bool_typer, doc="Истина, если условие выполнено во всех строках группы (пустая — истина).",
           sql=lambda a: _sx().Coalesce(this=_sx().LogicalAnd(this=a.value), expressions=[_sx().true()]))
def _agg_all(values: Col, groups: Groups) -> Col:
    return Col(BOOL, groups.reduce(np.logical_and, np.asarray(values.data, dtype=bool), True))


def _avg_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("int", "number", "money"), 0, "значение")
    return NUMBER.as_optional(not (consts and consts[0]))


@primitive("avg", "avg(x [by …] [where …]) -> optional number", kind="aggregate", min_args=1, max_args=1,
           examples=[("avg(x by g)", "[2.0, 2.0, 3.5, 3.5]")],
           typer=_avg_typer, doc="Среднее значение в группе (деньги — в рублях).",
           sql=lambda a: _sx().Avg(this=a.q.as_float(a.value, a.value_kind)))
def _agg_avg(values: Col, groups: Groups) -> Col:
    data = np.asarray(values.data, dtype=np.float64)
    if values.type.kind == "money":
        data = data / 100.0
    s = groups.reduce(np.add, data, 0.0)
    cnt = groups.counts
    missing = cnt == 0
    out = np.divide(s, np.where(missing, 1, cnt))
    return Col(NUMBER.as_optional(bool(missing.any())), out, missing if missing.any() else None)


def _first_typer(args: list[Type], consts: list[object]) -> Type:
    if args[0].optional:
        raise PrimitiveTypeError("значение может отсутствовать; задайте default(…)", 0, code="E0205")
    return args[0].as_optional(not (consts and consts[0]))


def _pick(values: Col, groups: Groups, order_keys: list[np.ndarray], last: bool) -> Col:
    order = groups.ordered(order_keys)
    pos = groups.position_in_group(order)
    n = len(pos)
    if last:
        target = groups.counts[groups.g] - 1
    else:
        target = np.zeros(n, dtype=np.int64)
    chosen = np.nonzero(pos == target)[0] if n else np.zeros(0, np.int64)
    idx = np.zeros(groups.n, dtype=np.int64)
    idx[groups.g[chosen]] = chosen
    data = np.asarray(values.data)[idx] if n else np.zeros(groups.n, dtype=np.asarray(values.data).dtype)
    missing = ~groups.nonempty
    return Col(values.type.as_optional(bool(missing.any())), data, missing if missing.any() else None,
               values.cats)


@primitive("first", "first(x [by …] [where …] order by k) -> тип x", kind="aggregate", min_args=1,
           max_args=1, examples=[("first(x by g order by k)", "[3, 3, 2, 2]")],
           typer=_first_typer, sql=lambda a: a.pick(last=False),
           doc="Значение x в первой строке группы по порядку order by (при равенстве — по порядку строк).")
def _agg_first(values: Col, groups: Groups, order_keys: list[np.ndarray]) -> Col:
    return _pick(values, groups, order_keys, last=False)


@primitive("last", "last(x [by …] [where …] order by k) -> тип x", kind="aggregate", min_args=1,
           max_args=1, examples=[("last(x by g order by k)", "[1, 1, 5, 5]")],
           typer=_first_typer, doc="Значение x в последней строке группы по порядку order by.",
           sql=lambda a: a.pick(last=True))
def _agg_last(values: Col, groups: Groups, order_keys: list[np.ndarray]) -> Col:
    return _pick(values, groups, order_keys, last=True)


@primitive("rank", "rank(E by … order by k [desc]) -> int", kind="window", min_args=1, max_args=1,
           examples=[("rank(t by g order by x)", "[2, 1, 1, 2]"), ("rank(t by g order by x desc)", "[1, 2, 2, 1]")],
           typer=lambda args, consts: INT, sql=lambda a: a.window(_sx().RowNumber()),
           doc="Номер строки в своей группе по порядку order by, начиная с 1 (равные — по порядку строк).")
def _win_rank(groups: Groups, order_keys: list[np.ndarray]) -> Col:
    order = groups.ordered(order_keys)
    return Col(INT, groups.position_in_group(order) + 1)


def _running_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("int", "number", "money"), 0, "значение")
    return args[0].required


@primitive("running_sum", "running_sum(x by … [where …] order by k) -> тип x", kind="window", min_args=1, max_args=1,
           examples=[("running_sum(x by g order by k)", "[3, 4, 2, 7]"), ("running_sum(x by g order by k desc)", "[4, 1, 7, 5]")],
           typer=_running_typer,
           sql=lambda a: a.window(_sx().Sum(this=a.value), running=True, integer=a.value_kind != "number"),
           doc="Нарастающий итог в группе по порядку order by, включая текущую строку (равные — по порядку "
               "строк): расходование лимита, очерёдность оплаты. Деньги — точно, в копейках.")
def _win_running_sum(groups: Groups, order_keys: list[np.ndarray], values: Col) -> Col:
    order = groups.ordered(order_keys)         # group-major, then by order keys, then row
    v = np.asarray(values.data)[order]
    c = np.cumsum(v)
    before = c - v                             # running total before each sorted row
    g = groups.g[order]
    first = groups.starts[g]                   # sorted position where each row's group begins
    out = np.empty_like(c)
    out[order] = c - before[first] if len(c) else c
    return Col(values.type.required, out)


def _distribute_typer(args: list[Type], consts: list[object]) -> Type:
    total, weights = args[0], args[1]
    require_kind(total, ("int", "money"), 0, "распределяемый итог")
    require_kind(weights, ("int", "number", "money"), 1, "веса")
    if len(args) == 3:
        cap = args[2]
        if cap.kind not in ("int", "money") or (cap.kind != total.kind and cap.kind != "int"):
            raise PrimitiveTypeError(f"ограничения должны иметь тип {total.kind}", 2)
    return total.required


@primitive("distribute", "distribute(total: int|money, weights, caps: optional int|money [by …] [where …])",
           kind="window", min_args=2, max_args=3, examples=[("distribute(10, x by g)", "[8, 2, 3, 7]"), ("distribute(10, x, 4 by g)", "[4, 4, 4, 4]")],
           typer=_distribute_typer,
           sql_unsupported="распределение с ограничениями итеративно (водоналив и наибольшие остатки) и в SQL "
                           "пока не выражено; рассчитайте этот пакет встроенным вычислителем (--backend numpy)",
           doc="Распределение итога группы по строкам пропорционально весам, с ограничениями сверху; "
               "целые единицы (штуки или копейки) методом наибольших остатков — сумма равна итогу точно.")
def _win_distribute(groups: Groups, total: Col, weights: Col, caps: Col | None = None) -> Col:
    from dsl.primitives.distribute import distribute_groups

    return distribute_groups(groups, total, weights, caps)

"""Code primitives: prefixes and ICD-10 range membership. Computed once per dictionary entry."""

from __future__ import annotations

import re

import numpy as np

from dsl.columns import Col
from dsl.primitives.registry import PrimitiveTypeError, primitive
from dsl.primitives.typing_helpers import literal_int, require_kind
from dsl.types import BOOL, CODE, Type

_ICD = re.compile(r"^[A-Z]\d{2}(\.\d{1,2})?$")


def _on_cats(col: Col, fn) -> np.ndarray:
    """Apply fn to each dictionary entry, then spread to rows (missing rows → False)."""
    cats = col.cats if col.cats is not None else np.array([], dtype=object)
    per_cat = np.fromiter((bool(fn(str(c))) for c in cats), dtype=bool, count=len(cats))
    data = np.asarray(col.data)
    if len(per_cat) == 0:
        return np.zeros(data.shape, dtype=bool)
    out = per_cat[np.clip(data, 0, None)]
    return out & (data >= 0)


def _literal_strings(consts: list[object], start: int, what: str) -> list[str]:
    out = []
    for i in range(start, len(consts)):
        v = consts[i]
        if not isinstance(v, str):
            raise PrimitiveTypeError(f"{what} должен быть строкой, записанной прямо в правиле", i)
        out.append(v)
    return out


def parse_icd_ranges(specs: list[str]) -> list[tuple[str, str]]:
    """'C00-D09' → ('C00', 'D09'); 'A15' → ('A15', 'A15'); 'A15.1' stays a prefix of its own."""
    ranges = []
    for s in specs:
        s = s.strip().upper()
        lo, _, hi = s.partition("-")
        hi = hi or lo
        if not (_ICD.match(lo) and _ICD.match(hi)) or lo > hi:
            raise ValueError(s)
        ranges.append((lo, hi))
    return ranges


def icd_matches(code: str, ranges: list[tuple[str, str]]) -> bool:
    c = code.strip().upper()
    for lo, hi in ranges:
        n = max(len(lo), len(hi))
        head = c[:n]
        if lo <= head <= hi:
            return True
    return False


# SQL forms (engine/backends/sql): codes are TEXT; comparisons by code point as in Python

def _sqlx():
    from sqlglot import exp

    return exp


def _icd_sql(q, args, types, consts):
    exp = _sqlx()
    c = exp.Upper(this=exp.Trim(this=args[0]))
    parts = []
    for lo, hi in parse_icd_ranges([str(v) for v in consts[1:]]):
        n = max(len(lo), len(hi))
        head = q.binary_text(exp.Substring(this=c.copy(), start=exp.Literal.number(1), length=exp.Literal.number(n)))
        parts.append(exp.And(this=exp.GTE(this=head, expression=q.binary_text(exp.Literal.string(lo))),
                             expression=exp.LTE(this=head.copy(), expression=q.binary_text(exp.Literal.string(hi)))))
    return _any_of(parts)


def _any_of(parts):
    """(p1 OR p2 OR …) of sqlglot conditions."""
    exp = _sqlx()
    out = parts[0]
    for p in parts[1:]:
        out = exp.Or(this=out, expression=p)
    return exp.Paren(this=out)


def _starts_sql(q, args, types, consts):
    exp = _sqlx()
    parts = [exp.EQ(this=exp.Substring(this=args[0].copy(), start=exp.Literal.number(1),
                                       length=exp.Literal.number(len(str(p)))), expression=exp.Literal.string(str(p)))
             for p in consts[1:]]
    return _any_of(parts)


def _list_has_sql(q, args, types, consts):
    # ';' + list without blanks + ';' contains ';' + code + ';' (items are trimmed in numpy)
    exp = _sqlx()
    semi = exp.Literal.string(";")
    hay = exp.DPipe(this=exp.DPipe(this=semi, expression=q.strip_blanks(args[0])), expression=semi.copy())
    needle = exp.DPipe(this=exp.DPipe(this=semi.copy(), expression=args[1]), expression=semi.copy())
    return exp.GT(this=exp.StrPosition(this=hay, substr=needle), expression=exp.Literal.number(0))


def _icd_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("code", "text"), 0, "код МКБ-10")
    specs = _literal_strings(consts, 1, "диапазон МКБ-10")
    if not specs:
        raise PrimitiveTypeError("укажите хотя бы один диапазон, например \"C00-D09\"")
    for i, s in enumerate(specs, start=1):
        try:
            parse_icd_ranges([s])
        except ValueError:
            raise PrimitiveTypeError(f"«{s}» — не диапазон МКБ-10 (ожидалось вида \"C00-D09\" или \"A15\")",
                                     i) from None
    return BOOL


@primitive("icd_in", "icd_in(ds: code, range: text, …) -> bool", min_args=2, typer=_icd_typer,
           doc="Диагноз входит в один из диапазонов рубрик МКБ-10 (\"C00-D09\", \"P00-P96\", \"A15\").",
           examples=[('icd_in("C18.7", "C00-D09")', "true"), ('icd_in("E11.9", "C00-D09", "E10-E14")', "true"),
                     ('icd_in("K35", "C00-D09")', "false")], sql=_icd_sql)
def _icd_in(ds: Col, *ranges: Col) -> Col:
    specs = [str(r.cats[0]) for r in ranges]
    parsed = parse_icd_ranges(specs)
    return Col(BOOL, _on_cats(ds, lambda c: icd_matches(c, parsed)))


def _starts_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("code", "text"), 0, "код")
    if not _literal_strings(consts, 1, "префикс"):
        raise PrimitiveTypeError("укажите хотя бы один префикс")
    return BOOL


@primitive("starts_with", "starts_with(x: code, prefix: text, …) -> bool", min_args=2, typer=_starts_typer,
           doc="Код начинается с одного из префиксов (например, КСГ круглосуточного стационара — \"st\").",
           examples=[('starts_with("st02.003", "st")', "true"), ('starts_with("ds02.001", "st", "zz")', "false")],
           sql=_starts_sql)
def _starts_with(x: Col, *prefixes: Col) -> Col:
    ps = tuple(str(p.cats[0]) for p in prefixes)
    return Col(BOOL, _on_cats(x, lambda c: c.startswith(ps)))


def _matches_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("code", "text"), 0, "код")
    [pattern] = _literal_strings(consts, 1, "шаблон")
    try:
        re.compile(pattern)
    except re.error as e:
        raise PrimitiveTypeError(f"«{pattern}» — неверное регулярное выражение: {e}", 1) from None
    return BOOL


@primitive("matches", "matches(x: code, pattern: text) -> bool", min_args=2, max_args=2, typer=_matches_typer,
           doc="Код содержит совпадение с регулярным выражением (^ — начало, $ — конец кода; например, тип "
               "отправителя в имени файла: matches(filename, \"^([HCT]|D[A-Z])[ST]\")).",
           examples=[('matches("HS76002T76_2503", "^([HCT]|D[A-Z])[ST]")', "true"),
                     ('matches("120250301", "1$")', "true"), ('matches("HM760001T76_2503", "^H[ST]")', "false")],
           sql=lambda q, args, types, consts: q.regex(args[0], str(consts[1])))
def _matches(x: Col, pattern: Col) -> Col:
    rx = re.compile(str(pattern.cats[0]))
    return Col(BOOL, _on_cats(x, lambda c: rx.search(c) is not None))


def _prefix_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("code", "text"), 0, "код")
    require_kind(args[1], ("int",), 1, "длина")
    literal_int(consts, 1, "длина")
    return CODE


@primitive("prefix", "prefix(x: code, n: int) -> code", min_args=2, max_args=2, typer=_prefix_typer,
           doc="Первые n символов кода (рубрика МКБ-10 из подрубрики: prefix(ds1, 3)).",
           examples=[('prefix("C18.7", 3)', '"C18"')],
           sql=lambda q, args, types, consts: _sqlx().Substring(this=args[0], start=_sqlx().Literal.number(1),
                                                                length=_sqlx().Literal.number(int(consts[1]))))
def _prefix(x: Col, n: Col) -> Col:
    k = int(np.asarray(n.data)[0])
    cats = x.cats if x.cats is not None else np.array([], dtype=object)
    cut = np.array([str(c)[:k] for c in cats], dtype=object)
    new_cats, inv = np.unique(cut.astype(str), return_inverse=True) if len(cut) else (np.array([], dtype=str), np.array([], dtype=np.int64))
    data = np.asarray(x.data)
    mapped = np.where(data >= 0, inv[np.clip(data, 0, None)] if len(inv) else -1, -1).astype(np.int32)
    return Col(CODE, mapped, x.missing, new_cats.astype(object))


def _list_has_typer(args: list[Type], consts: list[object]) -> Type:
    require_kind(args[0], ("code", "text"), 0, "список кодов")
    require_kind(args[1], ("code", "text"), 1, "код")
    return BOOL


@primitive("list_has", "list_has(list: text, code: code) -> bool", min_args=2, max_args=2, typer=_list_has_typer,
           doc="Код входит в список, записанный через «;» (например, применённые КСЛП SL_KOEF → sl_koef).",
           examples=[('list_has("1;5;12", "5")', "true"), ('list_has("1;5;12", "2")', "false")],
           sql=_list_has_sql)
def _list_has(lst: Col, code: Col) -> Col:
    lst_items = [frozenset(x.strip() for x in str(c).split(";") if x.strip()) for c in lst.cats]
    ld, cd = np.asarray(lst.data), np.asarray(code.data)
    ld_b, cd_b = np.broadcast_arrays(ld, cd)
    pairs = np.stack([ld_b, cd_b], axis=1)
    uniq, inv = np.unique(pairs, axis=0, return_inverse=True)
    per = np.array([a >= 0 and b >= 0 and str(code.cats[b]) in lst_items[a] for a, b in uniq], dtype=bool)
    return Col(BOOL, per[inv.reshape(-1)] if len(per) else np.zeros(len(ld_b), bool))

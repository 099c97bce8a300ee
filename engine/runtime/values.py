"""Conversion of literal values from YAML/CSV/data into typed Python values (exact money)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

import numpy as np

from dsl.columns import EPOCH
from dsl.types import Type


class ValueError_(ValueError):
    """A value that does not fit its declared type; message is Russian."""


def parse_date(v) -> dt.date:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    s = str(v).strip()
    try:
        if len(s) == 10 and s[2] == "." and s[5] == ".":
            return dt.date(int(s[6:]), int(s[3:5]), int(s[:2]))
        if len(s) == 8 and s.isdigit():
            return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
        return dt.date.fromisoformat(s)
    except (ValueError, TypeError):
        raise ValueError_(f"«{s}» — не дата (ожидалось ГГГГ-ММ-ДД или ДД.ММ.ГГГГ)") from None


def to_kopecks(v) -> int:
    try:
        d = Decimal(str(v).strip().replace(",", ".").replace(" ", "").replace("\u00a0", ""))
    except InvalidOperation:
        raise ValueError_(f"«{v}» — не денежная сумма") from None
    if not d.is_finite():
        raise ValueError_(f"«{v}» — не денежная сумма")
    k = d * 100
    if k != k.to_integral_value():
        raise ValueError_(f"«{v}»: у суммы больше двух знаков после запятой — округлите в источнике")
    return int(k)


def convert(v, typ: Type):
    """Python value of a literal for a declared type; dates as days since epoch, money as kopecks."""
    if v is None or (isinstance(v, str) and v.strip() == ""):
        return None
    k = typ.kind
    if k == "money":
        return to_kopecks(v)
    if k == "int":
        if isinstance(v, bool):
            raise ValueError_(f"«{v}» — не целое число")
        try:
            d = Decimal(str(v).strip())
        except InvalidOperation:
            raise ValueError_(f"«{v}» — не целое число") from None
        if d != d.to_integral_value():
            raise ValueError_(f"«{v}» — не целое число")
        return int(d)
    if k == "number":
        if isinstance(v, bool):
            raise ValueError_(f"«{v}» — не число")
        try:
            return float(Decimal(str(v).strip().replace(",", ".")))
        except InvalidOperation:
            raise ValueError_(f"«{v}» — не число") from None
    if k == "bool":
        if isinstance(v, bool):
            return v
        s = str(v).strip().lower()
        if s in ("1", "true", "да", "yes"):
            return True
        if s in ("0", "false", "нет", "no"):
            return False
        raise ValueError_(f"«{v}» — не логическое значение (1/0, true/false, да/нет)")
    if k == "date":
        return (parse_date(v) - EPOCH).days
    return str(v).strip() if not isinstance(v, str) else v


def display(value, typ: Type) -> str:
    """Human text of a typed Python value (money with two decimals)."""
    if value is None:
        return "—"
    k = typ.kind
    if k == "money":
        sign = "-" if value < 0 else ""
        a = abs(int(value))
        return f"{sign}{a // 100}.{a % 100:02d}"
    if k == "date":
        if isinstance(value, dt.date):
            return value.isoformat()
        return (EPOCH + dt.timedelta(days=int(value))).isoformat()
    if k == "bool":
        return "true" if value else "false"
    if k == "number":
        text = repr(float(value))
        return text if len(text) <= 15 else f"{float(value):.12g}"   # 14481.765269999998 → 14481.76527
    return str(value)


def display_column(col) -> list[str]:
    """`display` of every row of a column (the same text as row by row), a few unique values at a time."""
    n = len(col)
    k = col.type.kind
    data = np.asarray(col.data)
    if k in ("code", "text"):
        table = np.array([str(c) for c in (col.cats if col.cats is not None else [])] + ["—"], dtype=object)
        out = table[np.where(data >= 0, data, len(table) - 1)]
    elif k == "bool":
        out = np.where(data.astype(bool), "true", "false").astype(object)
    elif k in ("int", "money", "date", "number"):
        cast = float if k == "number" else int
        uniq, inv = np.unique(data, return_inverse=True)
        out = np.array([display(cast(v), col.type) for v in uniq.tolist()], dtype=object)[inv.reshape(-1)]
    else:
        return [display(col.value_at(i), col.type) for i in range(n)]
    if col.missing is not None:
        out[np.asarray(col.missing, dtype=bool)] = "—"
    return out.tolist()

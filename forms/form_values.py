"""Form values for display: converting a cell's value to its column, text templates, numbers."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from dsl.columns import EPOCH
from dsl.types import Type
from engine.runtime.values import display
from forms import model as fm
from forms.definition_model import ColumnDef
from forms.render.layout import format_cell

KIND = {"int": fm.ValueKind.INT, "money": fm.ValueKind.MONEY, "number": fm.ValueKind.NUMBER,
        "text": fm.ValueKind.TEXT}


def fill(text: str | None, values: dict) -> str | None:
    if text is None:
        return None
    out = text
    for k, v in values.items():
        out = out.replace("{" + k + "}", str(v)).replace("$" + k, str(v))
    return out


def convert(v, t: Type, c: ColumnDef):
    if v is None:
        return None
    if c.kind == "number":
        if t.kind == "money":
            return Decimal(int(v)) / 100
        if t.kind == "int":
            return int(v)
        return Decimal(repr(float(v))).quantize(Decimal(1).scaleb(-c.decimals), ROUND_HALF_UP)
    if c.kind == "text":
        if t.kind in ("code", "text"):
            return str(v)
        if t.kind == "number":
            return format_value(Decimal(repr(float(v))), fm.ValueKind.NUMBER, 2)
        return display(v, t) if t.kind != "bool" else ("да" if v else "нет")
    return int(v)


def format_value(v, kind: fm.ValueKind, decimals: int) -> str:
    col = fm.Column("x", "x", kind if kind in fm.COLUMN_KINDS else fm.ValueKind.TEXT, decimals)
    return format_cell(fm.Cell(v), col, sep=" ")


def show(v, t: Type) -> str:
    if v is None:
        return "—"
    if t.kind == "money":
        return format_value(int(v), fm.ValueKind.MONEY, 2)
    if t.kind == "int":
        return format_value(int(v), fm.ValueKind.INT, 0)
    if t.kind == "number":
        return format_value(Decimal(repr(float(v))).normalize(), fm.ValueKind.NUMBER, 4)
    return str(v)


def day_of(text: str | None) -> int | None:
    if not text:
        return None
    return (dt.date.fromisoformat(str(text)) - EPOCH).days

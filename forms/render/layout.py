"""Renderer-independent layout of a form's table: the full column list (stub + data),
the header grid with absolute positions, the column-number row and formatted cell text.

Every renderer starts from :class:`TableLayout`, so the header geometry and the number
formatting («1 234 567,89») are decided in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from forms.model import Cell, Column, RenderedForm, Row, ValueKind

NARROW_NBSP = "\u202f"  # thousands separator in HTML/PDF (narrow no-break space)
DASH = "\u2013"  # «–» for a deliberately unfilled cell
RUSSIAN_LETTERS = "АБВГ"  # Rosstat numbering of the stub columns

Align = Literal["left", "center", "right"]


def group_thousands(digits: str, sep: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


def format_decimal(value: int | Decimal, scale: int, sep: str = NARROW_NBSP) -> str:
    """Exact Russian number formatting, round half up: 1234567.891, 2 → «1 234 567,89»."""
    quantum = Decimal(1).scaleb(-scale)
    fixed = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
    sign = "-" if fixed < 0 else ""
    whole, _, frac = f"{abs(fixed):f}".partition(".")
    text = sign + group_thousands(whole, sep)
    return f"{text},{frac}" if scale else text


def format_money(kopecks: int, sep: str = NARROW_NBSP) -> str:
    """123456789 kopecks → «1 234 567,89»."""
    return format_decimal(Decimal(kopecks).scaleb(-2), 2, sep)


def exact_number(cell: Cell, column: Column) -> int | Decimal | None:
    """The exact numeric value of a cell as a spreadsheet or XML should hold it."""
    kind = cell.effective_kind(column)
    if kind is ValueKind.MONEY:
        return Decimal(cell.value).scaleb(-2)  # type: ignore[arg-type]
    if kind is ValueKind.INT:
        return cell.value  # type: ignore[return-value]
    if kind is ValueKind.NUMBER:
        quantum = Decimal(1).scaleb(-column.scale)
        return Decimal(cell.value).quantize(quantum, rounding=ROUND_HALF_UP)  # type: ignore[arg-type]
    return None


def format_cell(cell: Cell, column: Column, sep: str = NARROW_NBSP) -> str:
    kind = cell.effective_kind(column)
    if kind is ValueKind.EMPTY:
        return ""
    if kind is ValueKind.DASH:
        return DASH
    if kind is ValueKind.TEXT:
        return str(cell.value)
    if kind is ValueKind.MONEY:
        return format_money(cell.value, sep)  # type: ignore[arg-type]
    return format_decimal(cell.value, column.scale if kind is ValueKind.NUMBER else 0, sep)  # type: ignore[arg-type]


def cell_align(cell: Cell, column: Column) -> Align:
    kind = cell.effective_kind(column)
    if kind is ValueKind.TEXT:
        return "left"
    return "center" if kind is ValueKind.DASH else "right"


@dataclass(frozen=True, slots=True)
class LayoutColumn:
    title: str
    width_mm: float
    align: Align


@dataclass(frozen=True, slots=True)
class GridCell:
    """A header cell placed on the full grid (0-based row/column, stub included)."""

    text: str
    row: int
    col: int
    rowspan: int
    colspan: int


class TableLayout:
    def __init__(self, form: RenderedForm, sep: str = NARROW_NBSP) -> None:
        self.form = form
        self.sep = sep
        stub = form.stub
        self.columns: list[LayoutColumn] = [LayoutColumn(stub.label_title, stub.label_width_mm, "left")]
        if stub.code_title is not None:
            self.columns.append(LayoutColumn(stub.code_title, stub.code_width_mm, "center"))
        self.stub_count = len(self.columns)
        self.columns += [LayoutColumn(c.label, c.width_mm, "right" if c.kind is not ValueKind.TEXT else "left")
                         for c in form.columns]
        self.header_height = len(form.header)
        self.header = self._grid()
        self.numbers = self._numbers()

    def _grid(self) -> list[list[GridCell]]:
        height = self.header_height
        rows: list[list[GridCell]] = [[] for _ in range(height)]
        for i in range(self.stub_count):
            rows[0].append(GridCell(self.columns[i].title, 0, i, height, 1))
        taken = [[False] * len(self.form.columns) for _ in range(height)]
        for r, header_row in enumerate(self.form.header):
            c = 0
            for cell in header_row:
                while taken[r][c]:
                    c += 1
                for rr in range(r, r + cell.rowspan):
                    for cc in range(c, c + cell.colspan):
                        taken[rr][cc] = True
                rows[r].append(GridCell(cell.text, r, c + self.stub_count, cell.rowspan, cell.colspan))
                c += cell.colspan
        return rows

    def _numbers(self) -> list[str] | None:
        numbering = self.form.column_numbering
        if numbering == "none":
            return None
        total = len(self.columns)
        if numbering == "sequential":
            return [str(i) for i in range(1, total + 1)]
        letters = list(RUSSIAN_LETTERS[: self.stub_count])
        return letters + [str(i) for i in range(1, total - self.stub_count + 1)]

    def stub_texts(self, row: Row) -> list[str]:
        texts = [row.label]
        if self.stub_count == 2:
            texts.append(row.code or "")
        return texts

    def value_texts(self, row: Row) -> list[str]:
        return [format_cell(cell, col, self.sep) for cell, col in zip(row.cells, self.form.columns, strict=True)]

    def value_aligns(self, row: Row) -> list[Align]:
        return [cell_align(cell, col) for cell, col in zip(row.cells, self.form.columns, strict=True)]

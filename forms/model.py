"""The neutral rendered-form model.

A report form definition, evaluated over a run, produces a :class:`RenderedForm`: a title
block, a table (stub columns "label" and "row code", data columns, a multi-level header
with merged cells, typed rows) and a footer with notes and signatures. Renderers in
:mod:`forms.render` turn one model into HTML, XLSX, PDF or XML; they never compute values.

Values are exact: money is ``int`` kopecks, fractional numbers are ``Decimal`` (or ``int``),
counts are ``int``. A model is validated when constructed; an inconsistent one raises
:class:`FormModelError` with a Russian message that names the offending header cell or row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Literal

Orientation = Literal["portrait", "landscape"]
ColumnNumbering = Literal["rosstat", "sequential", "none"]


class FormModelError(ValueError):
    """An inconsistent rendered-form model (the message is in Russian)."""


class ValueKind(StrEnum):
    """How a cell value is typed and formatted."""

    INT = "int"  # a count: 1 234
    MONEY = "money"  # int kopecks: 1 234 567,89
    NUMBER = "number"  # int or Decimal with Column.decimals digits: 1,25
    TEXT = "text"
    EMPTY = "empty"  # nothing to show (blank cell)
    DASH = "dash"  # a deliberate «–»: the indicator is not filled for this row


COLUMN_KINDS = frozenset({ValueKind.INT, ValueKind.MONEY, ValueKind.NUMBER, ValueKind.TEXT})
CellValue = int | Decimal | str | None


@dataclass(frozen=True, slots=True)
class Cell:
    """One table value. ``kind`` None means "the column's kind"; a None value is empty."""

    value: CellValue = None
    kind: ValueKind | None = None

    @classmethod
    def dash(cls) -> Cell:
        return cls(None, ValueKind.DASH)

    def effective_kind(self, column: Column) -> ValueKind:
        if self.kind is not None:
            return self.kind
        return ValueKind.EMPTY if self.value is None else column.kind


@dataclass(frozen=True, slots=True)
class Column:
    """A data column. ``width_mm`` is a hint; renderers scale widths to the page."""

    code: str
    label: str
    kind: ValueKind = ValueKind.INT
    decimals: int = 0  # for NUMBER; MONEY is always 2, INT always 0
    width_mm: float = 25.0

    @property
    def scale(self) -> int:
        """Digits after the decimal point for this column's numbers."""
        if self.kind is ValueKind.MONEY:
            return 2
        return self.decimals if self.kind is ValueKind.NUMBER else 0


@dataclass(frozen=True, slots=True)
class HeaderCell:
    """A header cell over data columns; spans are counted in data columns and header rows."""

    text: str
    colspan: int = 1
    rowspan: int = 1


@dataclass(frozen=True, slots=True)
class Stub:
    """The two leading columns: indicator name and row code (Rosstat «А» and «Б»)."""

    label_title: str = "Наименование показателя"
    code_title: str | None = "№ строки"
    label_width_mm: float = 70.0
    code_width_mm: float = 14.0


@dataclass(slots=True)
class Row:
    """A table row. A section row is a full-width group heading without cells."""

    label: str
    cells: Sequence[Cell] = ()
    code: str | None = None
    level: int = 0  # indentation of the label: 0, 1 («в том числе»), 2 …
    is_total: bool = False
    is_section: bool = False


@dataclass(frozen=True, slots=True)
class TitleBlock:
    name: str  # «Акт медико-экономического контроля»
    code: str | None = None  # «14-МЕД (ОМС)»
    period: str | None = None  # «за январь – июнь 2025 г.»
    organisation: str | None = None
    approval: tuple[str, ...] = ()  # top-right lines: «Приложение № 3», «к приказу ТФОМС …»
    lines: tuple[str, ...] = ()  # further centred lines: «Единица измерения: руб.»


@dataclass(frozen=True, slots=True)
class Signature:
    """Rendered as «Руководитель ____________ / И. И. Иванов /»."""

    role: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Footer:
    notes: tuple[str, ...] = ()
    signatures: tuple[Signature, ...] = ()
    stamp: bool = False  # print «М. П.» after the signatures


@dataclass(frozen=True, slots=True)
class FormMeta:
    form_id: str
    form_version: str
    methodology: str  # "federal/2025@1.0.0"
    generated_at: datetime

    def caption(self) -> str:
        stamp = self.generated_at.strftime("%d.%m.%Y %H:%M")
        return (
            f"Сформировано {stamp}; форма {self.form_id} версии {self.form_version}; "
            f"методика {self.methodology}"
        )


@dataclass(slots=True)
class RenderedForm:
    title: TitleBlock
    columns: Sequence[Column]
    rows: Sequence[Row]
    meta: FormMeta
    header: Sequence[Sequence[HeaderCell]] = ()  # empty: one header row from column labels
    stub: Stub = field(default_factory=Stub)
    footer: Footer = field(default_factory=Footer)
    orientation: Orientation = "portrait"
    page_size: str = "A4"
    column_numbering: ColumnNumbering = "rosstat"

    def __post_init__(self) -> None:
        self.columns = tuple(self.columns)
        self.rows = tuple(self.rows)
        self.header = tuple(tuple(r) for r in self.header) or (
            tuple(HeaderCell(c.label) for c in self.columns),
        )
        validate(self)

    @property
    def has_code_column(self) -> bool:
        return self.stub.code_title is not None


def validate(form: RenderedForm) -> None:
    """Raise :class:`FormModelError` if the form cannot be rendered consistently."""
    where = f"Форма {form.meta.form_id}"
    if form.page_size != "A4":
        raise FormModelError(f"{where}: формат страницы {form.page_size!r} не поддерживается (только A4)")
    if form.orientation not in ("portrait", "landscape"):
        raise FormModelError(f"{where}: ориентация {form.orientation!r} — ожидается portrait или landscape")
    if not form.columns:
        raise FormModelError(f"{where}: нет ни одного столбца")
    _validate_columns(form, where)
    _validate_header(form, where)
    for index, row in enumerate(form.rows, start=1):
        _validate_row(form, row, index, where)


def _validate_columns(form: RenderedForm, where: str) -> None:
    seen: set[str] = set()
    for column in form.columns:
        if column.code in seen:
            raise FormModelError(f"{where}: код столбца {column.code!r} повторяется")
        seen.add(column.code)
        if column.kind not in COLUMN_KINDS:
            raise FormModelError(
                f"{where}, столбец {column.code!r}: тип {column.kind.value!r} недопустим для столбца"
            )
        if column.decimals < 0 or column.width_mm <= 0:
            raise FormModelError(f"{where}, столбец {column.code!r}: отрицательная точность или ширина")


def _validate_header(form: RenderedForm, where: str) -> None:
    """Lay the header cells on a grid, as HTML does, and require an exact cover."""
    width, height = len(form.columns), len(form.header)
    taken = [[False] * width for _ in range(height)]
    for r, header_row in enumerate(form.header):
        c = 0
        for k, cell in enumerate(header_row, start=1):
            name = f"{where}, заголовок: строка {r + 1}, ячейка {k} «{cell.text}»"
            if cell.colspan < 1 or cell.rowspan < 1:
                raise FormModelError(f"{name}: colspan и rowspan должны быть не меньше 1")
            while c < width and taken[r][c]:
                c += 1
            if c + cell.colspan > width:
                raise FormModelError(
                    f"{name} (colspan={cell.colspan}) начинается в столбце {c + 1} и выходит "
                    f"за пределы таблицы: в форме {width} столбцов данных"
                )
            if r + cell.rowspan > height:
                raise FormModelError(
                    f"{name} (rowspan={cell.rowspan}) выходит за пределы заголовка: "
                    f"в заголовке {height} строк"
                )
            for rr in range(r, r + cell.rowspan):
                for cc in range(c, c + cell.colspan):
                    if taken[rr][cc]:
                        raise FormModelError(f"{name} перекрывает другую ячейку заголовка")
                    taken[rr][cc] = True
            c += cell.colspan
        if not all(taken[r]):
            missing = taken[r].index(False) + 1
            raise FormModelError(
                f"{where}, заголовок: строка {r + 1} не покрывает столбец {missing} "
                f"(столбцов данных {width})"
            )


def _validate_row(form: RenderedForm, row: Row, index: int, where: str) -> None:
    name = f"{where}, строка {index} «{row.label}»" + (f" (код {row.code})" if row.code else "")
    if row.level < 0:
        raise FormModelError(f"{name}: отрицательный уровень отступа")
    if row.is_section:
        if row.cells:
            raise FormModelError(f"{name}: строка-раздел не должна содержать ячеек")
        return
    row.cells = tuple(row.cells)
    if len(row.cells) != len(form.columns):
        raise FormModelError(
            f"{name}: {len(row.cells)} ячеек, а столбцов данных {len(form.columns)}"
        )
    for cell, column in zip(row.cells, form.columns, strict=True):
        problem = _value_problem(cell, column)
        if problem:
            raise FormModelError(f"{name}, столбец {column.code!r}: {problem}")


def _value_problem(cell: Cell, column: Column) -> str | None:
    kind = cell.effective_kind(column)
    value = cell.value
    if kind in (ValueKind.EMPTY, ValueKind.DASH):
        return None if value is None else f"значение {value!r} в ячейке типа {kind.value}"
    if value is None:
        return None
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if kind in (ValueKind.INT, ValueKind.MONEY) and not is_int:
        unit = "копейках" if kind is ValueKind.MONEY else "штуках"
        return f"ожидается целое число (в {unit}), получено {type(value).__name__} {value!r}"
    if kind is ValueKind.NUMBER and not (is_int or isinstance(value, Decimal)):
        return f"ожидается int или Decimal, получено {type(value).__name__} {value!r}"
    if kind is ValueKind.NUMBER and isinstance(value, Decimal) and not value.is_finite():
        return f"нечисловое значение {value!r}"
    if kind is ValueKind.TEXT and not isinstance(value, str):
        return f"ожидается текст, получено {type(value).__name__} {value!r}"
    return None

"""XLSX renderer (openpyxl): title rows, merged multi-level header, column-number row,
exact numeric cells with number formats, borders, frozen panes below the header, print
setup (A4, orientation, fit to width, header rows repeated on each printed page)."""

from __future__ import annotations

import io
import math
import os
import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from engine.oms.io.spreadsheet import neutralize_workbook
from forms.model import Column, RenderedForm, Row, ValueKind
from forms.render.layout import DASH, TableLayout, exact_number
from forms.render.output import write_atomically

MM_PER_CHAR = 1.9  # an Excel "character" of the default font is about 7 px = 1.85 mm
POINTS_PER_LINE = 12.0
FONT_NAME = "Arial"
THIN = Side(style="thin", color="000000")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
REGULAR = Font(name=FONT_NAME, size=9)
BOLD = Font(name=FONT_NAME, size=9, bold=True)
SMALL = Font(name=FONT_NAME, size=7)
TITLE = Font(name=FONT_NAME, size=12, bold=True)
HEADER_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)
CENTER = Alignment(horizontal="center", vertical="center")
RIGHT = Alignment(horizontal="right", vertical="center")
LEFT_WRAP = Alignment(horizontal="left", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="top")
ALIGNMENTS = {"left": LEFT_WRAP, "center": CENTER, "right": RIGHT}


def number_format(column: Column) -> str:
    """Excel format of a column: counts «#,##0», money «#,##0.00», numbers with N decimals."""
    if column.kind is ValueKind.TEXT:
        return "@"
    scale = column.scale
    return "#,##0" + ("." + "0" * scale if scale else "")


def estimate_lines(text: str, width_mm: float, font_pt: float = 9.0) -> int:
    """Word-wrapped line count of ``text`` in a cell ``width_mm`` wide (an estimate)."""
    per_line = max(1, int(width_mm / (font_pt * 0.19)))
    lines, used = 1, 0
    for word in text.split():
        need = len(word) + (1 if used else 0)
        if used and used + need > per_line:
            lines, used = lines + 1, len(word)
        else:
            used += need
        lines += max(0, math.ceil(len(word) / per_line) - 1)
    return lines


class _SheetWriter:
    def __init__(self, ws: Worksheet, form: RenderedForm) -> None:
        self.ws = ws
        self.form = form
        self.layout = TableLayout(form)
        self.ncols = len(self.layout.columns)
        self.row = 1

    def merged_line(self, text: str, font: Font, align: Alignment, first: int = 1, height: float = 0) -> None:
        ws = self.ws
        cell = ws.cell(self.row, first, text)
        cell.font, cell.alignment = font, align
        if first < self.ncols:
            ws.merge_cells(start_row=self.row, start_column=first, end_row=self.row, end_column=self.ncols)
        if height:
            ws.row_dimensions[self.row].height = height
        self.row += 1

    def width_mm(self, first: int, last: int) -> float:
        return sum(c.width_mm for c in self.layout.columns[first - 1 : last])

    def title(self) -> None:
        title = self.form.title
        half = max(1, self.ncols // 2 + 1)
        for line in title.approval:
            self.merged_line(line, REGULAR, LEFT_WRAP, first=half)
        if title.code:
            self.merged_line(title.code, BOLD, Alignment(horizontal="right"), first=half)
        self.row += 1 if title.approval or title.code else 0
        full = self.width_mm(1, self.ncols)
        self.merged_line(title.name, TITLE, HEADER_ALIGN, height=16 * estimate_lines(title.name, full, 12))
        for line in (title.period, title.organisation, *title.lines):
            if line:
                self.merged_line(line, REGULAR, HEADER_ALIGN,
                                 height=POINTS_PER_LINE * estimate_lines(line, full))
        self.row += 1

    def header(self) -> tuple[int, int]:
        ws, layout, top = self.ws, self.layout, self.row
        lines = [1] * layout.header_height
        for grid_row in layout.header:
            for g in grid_row:
                r, c = top + g.row, g.col + 1
                for rr in range(r, r + g.rowspan):
                    for cc in range(c, c + g.colspan):
                        ws.cell(rr, cc).border = BORDER
                cell = ws.cell(r, c, g.text)
                cell.alignment, cell.font = HEADER_ALIGN, REGULAR
                if g.rowspan > 1 or g.colspan > 1:
                    ws.merge_cells(start_row=r, start_column=c, end_row=r + g.rowspan - 1,
                                   end_column=c + g.colspan - 1)
                need = estimate_lines(g.text, self.width_mm(c, c + g.colspan - 1))
                last = g.row + g.rowspan - 1
                lines[last] = max(lines[last], need - sum(lines[g.row : last]))
        for i, count in enumerate(lines):
            ws.row_dimensions[top + i].height = POINTS_PER_LINE * count + 2
        self.row = top + layout.header_height
        if layout.numbers is not None:
            for i, text in enumerate(layout.numbers, start=1):
                cell = ws.cell(self.row, i, text)
                cell.alignment, cell.font, cell.border = CENTER, SMALL, BORDER
            self.row += 1
        return top, self.row - 1

    def body(self) -> None:
        stub = self.layout.stub_count
        formats = [number_format(c) for c in self.form.columns]
        for row in self.form.rows:
            if row.is_section:
                self.section(row)
                continue
            font = BOLD if row.is_total else REGULAR
            self.stub_cells(row, font)
            aligns = self.layout.value_aligns(row)
            self.fit_height(row, aligns)
            for i, (cell, column) in enumerate(zip(row.cells, self.form.columns, strict=True)):
                kind = cell.effective_kind(column)
                value = DASH if kind is ValueKind.DASH else (
                    cell.value if kind is ValueKind.TEXT else exact_number(cell, column))
                target = self.ws.cell(self.row, stub + i + 1, value)
                target.font, target.border, target.alignment = font, BORDER, ALIGNMENTS[aligns[i]]
                if kind is not ValueKind.DASH:
                    target.number_format = formats[i]
            self.row += 1

    def fit_height(self, row: Row, aligns: list[str]) -> None:
        """Set the height of a row whose label or text values wrap (no reader autofits them)."""
        columns = self.layout.columns
        lines = estimate_lines(row.label, columns[0].width_mm - row.level * 3.5)
        stub = self.layout.stub_count
        for i, (cell, align) in enumerate(zip(row.cells, aligns, strict=True)):
            if align == "left" and isinstance(cell.value, str):
                lines = max(lines, estimate_lines(cell.value, columns[stub + i].width_mm))
        if lines > 1:
            self.ws.row_dimensions[self.row].height = POINTS_PER_LINE * lines + 1

    def stub_cells(self, row: Row, font: Font) -> None:
        texts = self.layout.stub_texts(row)
        label = self.ws.cell(self.row, 1, texts[0])
        label.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True,
                                    indent=row.level * 2) if row.level else LEFT_WRAP
        label.font, label.border = font, BORDER
        if len(texts) == 2:
            code = self.ws.cell(self.row, 2, texts[1])
            code.font, code.border, code.alignment = font, BORDER, CENTER
            code.number_format = "@"

    def section(self, row: Row) -> None:
        for c in range(1, self.ncols + 1):
            self.ws.cell(self.row, c).border = BORDER
        self.merged_line(row.label, BOLD, Alignment(horizontal="left", indent=row.level * 2))

    def footer(self) -> None:
        footer = self.form.footer
        self.row += 1
        for note in footer.notes:
            self.merged_line(note, REGULAR, LEFT)
        self.row += 1 if footer.signatures else 0
        for signature in footer.signatures:
            self.merged_line(f"{signature.role}  ____________________  / {signature.name or '____________'} /",
                             REGULAR, LEFT)
        if footer.stamp:
            self.row += 1
            self.merged_line("М. П.", REGULAR, LEFT)
        self.row += 1
        self.merged_line(self.form.meta.caption(), SMALL, LEFT)


def _sheet_title(form: RenderedForm) -> str:
    return re.sub(r"[\[\]:*?/\\]", " ", form.title.code or "Форма")[:31].strip() or "Форма"


def build_workbook(form: RenderedForm) -> Workbook:
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(form)
    writer = _SheetWriter(ws, form)
    for i, column in enumerate(writer.layout.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = round(column.width_mm / MM_PER_CHAR, 1)
    writer.title()
    header_top, header_bottom = writer.header()
    ws.freeze_panes = ws.cell(header_bottom + 1, writer.layout.stub_count + 1)
    writer.body()
    writer.footer()
    ws.print_title_rows = f"{header_top}:{header_bottom}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = form.orientation
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.right.text = "Стр. &P из &N"
    wb.properties.title = form.title.name
    wb.properties.creator = "Metodika"
    wb.properties.created = wb.properties.modified = form.meta.generated_at
    wb.properties.subject = form.meta.caption()
    neutralize_workbook(wb)  # text from registries/users never runs as a formula
    return wb


def render_xlsx(form: RenderedForm) -> bytes:
    buffer = io.BytesIO()
    build_workbook(form).save(buffer)
    return buffer.getvalue()


def write_xlsx(form: RenderedForm, path: str | os.PathLike[str]) -> Path:
    return write_atomically(path, render_xlsx(form))

"""Drawing the form's table with fpdf2: merged multi-level header repeated on every page,
wrapped and indented row labels, right-aligned numbers, bold totals, section rows.

The geometry is computed by hand (not with ``FPDF.table``) so that the header is laid out
once and redrawn cheaply on each page of a long table.
"""

from __future__ import annotations

from dataclasses import dataclass

from fpdf import FPDF

from forms.model import Row
from forms.render.layout import Align, TableLayout

FONT = "DejaVu"
BODY_PT = 7.5
HEADER_PT = 7.0
NUMBERS_PT = 6.0
PT_MM = 0.3528
LINE_FACTOR = 1.2
PAD_X = 1.0
PAD_Y = 0.8
INDENT_MM = 4.0
BORDER_MM = 0.2
ALIGN = {"left": "L", "center": "C", "right": "R"}


def line_height(size_pt: float) -> float:
    return size_pt * PT_MM * LINE_FACTOR


@dataclass(frozen=True, slots=True)
class Box:
    """A header box relative to the header's top-left corner."""

    x: float
    y: float
    w: float
    h: float
    lines: list[str]
    size: float


class TableDrawer:
    def __init__(self, pdf: FPDF, layout: TableLayout, left: float, width: float, bottom: float) -> None:
        self.pdf = pdf
        self.layout = layout
        self.left = left
        self.bottom = bottom
        total = sum(c.width_mm for c in layout.columns)
        self.widths = [width * c.width_mm / total for c in layout.columns]
        self.xs = [left]
        for w in self.widths:
            self.xs.append(self.xs[-1] + w)
        self.width = width
        self.header_boxes, self.header_h = self._header_geometry()

    # --- text helpers -------------------------------------------------------------------
    def text_width(self, text: str) -> float:
        """Width in mm in the current font: the glyph advances fpdf2 uses, without its overhead."""
        pdf = self.pdf
        widths = pdf.current_font.cw
        return sum(widths[ord(c)] for c in text) * pdf.font_size_pt * 0.001 / pdf.k

    def wrap(self, text: str, width: float) -> list[str]:
        """Greedy word wrap into ``width`` minus padding; a word longer than a line is split."""
        room = width - 2 * PAD_X
        if self.text_width(text) <= room:
            return [text]
        space = self.text_width(" ")
        lines: list[str] = []
        current, used = "", 0.0
        for word in text.split():
            word_w = self.text_width(word)
            if current and used + space + word_w <= room:
                current, used = f"{current} {word}", used + space + word_w
                continue
            if current:
                lines.append(current)
            while word_w > room and len(word) > 1:
                cut = max(1, next((i for i in range(len(word), 0, -1)
                                   if self.text_width(word[:i]) <= room), 1))
                lines.append(word[:cut])
                word = word[cut:]
                word_w = self.text_width(word)
            current, used = word, word_w
        lines.append(current)
        return lines

    def _text_block(self, x: float, y: float, w: float, h: float, lines: list[str], align: str,
                    size_pt: float) -> None:
        """Lines centred vertically in the box, aligned horizontally inside the padding."""
        pdf = self.pdf
        lh = line_height(size_pt)
        top = y + (h - lh * len(lines)) / 2
        baseline = 0.5 * lh + 0.3 * size_pt / pdf.k
        for i, line in enumerate(lines):
            if not line:
                continue
            if align == "L":
                left = x + PAD_X
            else:
                free = w - 2 * PAD_X - self.text_width(line)
                left = x + PAD_X + (free if align == "R" else free / 2)
            pdf.text(left, top + i * lh + baseline, line)

    # --- header -------------------------------------------------------------------------
    def _fitting_size(self, text: str, room: float, size: float) -> float:
        """Shrink the font (down to 70 %) so that the longest word is not split."""
        self.pdf.set_font(FONT, "", size)
        longest = max((self.text_width(word) for word in text.split()), default=0.0)
        return size if longest <= room else max(size * 0.7, size * room / longest)

    def _header_geometry(self) -> tuple[list[Box], float]:
        layout = self.layout
        cells = [cell for row in layout.header for cell in row]
        sizes: dict[int, float] = {}
        wrapped: dict[int, list[str]] = {}
        for c in cells:
            width = self.xs[c.col + c.colspan] - self.xs[c.col]
            sizes[id(c)] = self._fitting_size(c.text, width - 2 * PAD_X, HEADER_PT)
            self.pdf.set_font(FONT, "", sizes[id(c)])
            wrapped[id(c)] = self.wrap(c.text, width)
        need = {id(c): len(wrapped[id(c)]) * line_height(sizes[id(c)]) + 2 * PAD_Y for c in cells}
        heights = [line_height(HEADER_PT) + 2 * PAD_Y] * layout.header_height
        for c in sorted(cells, key=lambda c: c.rowspan):
            have = sum(heights[c.row : c.row + c.rowspan])
            if need[id(c)] > have:
                heights[c.row + c.rowspan - 1] += need[id(c)] - have
        tops = [sum(heights[:r]) for r in range(layout.header_height + 1)]
        boxes = [
            Box(self.xs[c.col] - self.left, tops[c.row], self.xs[c.col + c.colspan] - self.xs[c.col],
                tops[c.row + c.rowspan] - tops[c.row], wrapped[id(c)], sizes[id(c)])
            for c in cells
        ]
        total = tops[-1]
        if layout.numbers is not None:
            number_h = line_height(NUMBERS_PT) + PAD_Y
            boxes += [Box(self.xs[i] - self.left, total, self.widths[i], number_h, [text], NUMBERS_PT)
                      for i, text in enumerate(layout.numbers)]
            total += number_h
        return boxes, total

    def draw_header(self) -> None:
        pdf = self.pdf
        style, size = pdf.font_style, pdf.font_size_pt
        y0 = pdf.get_y()
        for box in self.header_boxes:
            pdf.set_font(FONT, "", box.size)
            pdf.rect(self.left + box.x, y0 + box.y, box.w, box.h)
            self._text_block(self.left + box.x, y0 + box.y, box.w, box.h, box.lines, "C", box.size)
        pdf.set_y(y0 + self.header_h)
        pdf.set_font(FONT, style, size)

    # --- body ---------------------------------------------------------------------------
    def _ensure_space(self, h: float) -> None:
        if self.pdf.get_y() + h > self.bottom:
            self.pdf.add_page()
            self.draw_header()

    def draw_rows(self) -> None:
        for row in self.layout.form.rows:
            if row.is_section:
                self._draw_section(row)
            else:
                self._draw_row(row)

    def _draw_section(self, row: Row) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, "B", BODY_PT)
        indent = row.level * INDENT_MM
        lines = self.wrap(row.label, self.width - indent)
        h = len(lines) * line_height(BODY_PT) + 2 * PAD_Y
        self._ensure_space(h + line_height(BODY_PT) + 2 * PAD_Y)  # keep the heading with a row
        y = pdf.get_y()
        pdf.rect(self.left, y, self.width, h)
        self._text_block(self.left + indent, y, self.width - indent, h, lines, "L", BODY_PT)
        pdf.set_y(y + h)

    def _draw_row(self, row: Row) -> None:
        """Label and text values wrap (the row grows); numbers stay on one line."""
        pdf, layout = self.pdf, self.layout
        pdf.set_font(FONT, "B" if row.is_total else "", BODY_PT)
        indent = row.level * INDENT_MM
        stub = layout.stub_texts(row)
        texts: list[str] = stub[1:] + layout.value_texts(row)
        aligns: list[Align] = ["center"] * (len(stub) - 1) + layout.value_aligns(row)
        blocks = {0: self.wrap(stub[0], self.widths[0] - indent)}
        for i, (text, align) in enumerate(zip(texts, aligns, strict=True), start=1):
            if align == "left" and text:
                blocks[i] = self.wrap(text, self.widths[i])
        h = max(len(lines) for lines in blocks.values()) * line_height(BODY_PT) + 2 * PAD_Y
        self._ensure_space(h)
        y = pdf.get_y()
        for x, w in zip(self.xs, self.widths, strict=False):
            pdf.rect(x, y, w, h)
        self._text_block(self.xs[0] + indent, y, self.widths[0] - indent, h, blocks[0], "L", BODY_PT)
        for i, (text, align) in enumerate(zip(texts, aligns, strict=True), start=1):
            if i in blocks:
                self._text_block(self.xs[i], y, self.widths[i], h, blocks[i], "L", BODY_PT)
            elif text:
                self._fit_text(self.xs[i], y, self.widths[i], h, text, ALIGN[align], row.is_total)
        pdf.set_y(y + h)

    def _fit_text(self, x: float, y: float, w: float, h: float, text: str, align: str, bold: bool) -> None:
        """One-line value; the font shrinks (down to 60 %) rather than overflow the cell."""
        size = BODY_PT
        room = w - 2 * PAD_X
        width = self.text_width(text)
        if width > room:
            size = max(BODY_PT * 0.6, BODY_PT * room / width)
            self.pdf.set_font(FONT, "B" if bold else "", size)
        self._text_block(x, y, w, h, [text], align, size)
        if size != BODY_PT:
            self.pdf.set_font(FONT, "B" if bold else "", BODY_PT)

"""PDF renderer (fpdf2): A4 in the form's orientation, embedded DejaVu Sans (Cyrillic,
text-selectable), title block, the table with its header repeated on every page,
notes, signatures and «Стр. N из M» on each page."""

from __future__ import annotations

import os
from datetime import UTC
from pathlib import Path

from fpdf import FPDF

from forms.model import RenderedForm
from forms.render.layout import TableLayout
from forms.render.output import write_atomically
from forms.render.pdf_table import BODY_PT, FONT, TableDrawer, line_height

FONTS = Path(__file__).resolve().parent.parent / "fonts"
REGULAR_TTF = FONTS / "DejaVuSans.ttf"
BOLD_TTF = FONTS / "DejaVuSans-Bold.ttf"
MARGIN = 10.0
BOTTOM_MARGIN = 12.0
TITLE_PT = 11.0
SMALL_PT = 6.5
APPROVAL_WIDTH = 75.0
SIGNATURE_LINE = "_" * 24


class FormPDF(FPDF):
    """FPDF with the page-number footer «Стр. N из M»."""

    def footer(self) -> None:
        self.set_y(-BOTTOM_MARGIN + 3)
        self.set_font(FONT, "", SMALL_PT)
        self.cell(0, 4, f"Стр. {self.page_no()} из {{nb}}", align="R")


def _new_document(form: RenderedForm) -> FormPDF:
    pdf = FormPDF(orientation="L" if form.orientation == "landscape" else "P", unit="mm", format="A4")
    pdf.add_font(FONT, "", str(REGULAR_TTF))
    pdf.add_font(FONT, "B", str(BOLD_TTF))
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(False)
    pdf.alias_nb_pages()
    generated = form.meta.generated_at
    pdf.set_creation_date(generated if generated.tzinfo else generated.replace(tzinfo=UTC))
    pdf.set_title(form.title.name)
    pdf.set_subject(form.meta.caption())
    pdf.set_creator("Metodika")
    pdf.set_lang("ru")
    return pdf


def _centered(pdf: FPDF, text: str, size: float, style: str = "") -> None:
    pdf.set_font(FONT, style, size)
    pdf.set_x(MARGIN)
    pdf.multi_cell(pdf.epw, line_height(size), text, align="C", new_x="LMARGIN", new_y="NEXT")


def _draw_title(pdf: FPDF, form: RenderedForm) -> None:
    title = form.title
    right = pdf.w - MARGIN
    if title.approval:
        pdf.set_font(FONT, "", BODY_PT)
        for line in title.approval:
            pdf.set_x(right - APPROVAL_WIDTH)
            pdf.multi_cell(APPROVAL_WIDTH, line_height(BODY_PT), line, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    if title.code:
        pdf.set_font(FONT, "B", BODY_PT + 0.5)
        width = pdf.get_string_width(title.code) + 6
        pdf.set_x(right - width)
        pdf.cell(width, 6, title.code, border=1, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.ln(2)
    _centered(pdf, title.name, TITLE_PT, "B")
    for line in (title.period, title.organisation, *title.lines):
        if line:
            pdf.ln(0.5)
            _centered(pdf, line, BODY_PT + 1)
    pdf.ln(3)


def _draw_footer(pdf: FPDF, form: RenderedForm, bottom: float) -> None:
    footer = form.footer
    lh = line_height(BODY_PT + 0.5)
    need = (len(footer.notes) + 1) * lh + len(footer.signatures) * 8 + (8 if footer.stamp else 0) + 8
    pdf.ln(3)
    if pdf.get_y() + need > bottom:
        pdf.add_page()
    pdf.set_font(FONT, "", BODY_PT + 0.5)
    for note in footer.notes:
        pdf.multi_cell(pdf.epw, lh, note, align="L", new_x="LMARGIN", new_y="NEXT")
    if footer.signatures:
        pdf.ln(3)
        role_w = max(pdf.get_string_width(s.role) for s in footer.signatures) + 4
        for signature in footer.signatures:
            pdf.ln(3)
            pdf.cell(role_w, lh, signature.role)
            pdf.cell(pdf.get_string_width(SIGNATURE_LINE) + 2, lh, SIGNATURE_LINE)
            pdf.cell(0, lh, f"/ {signature.name or '____________'} /", new_x="LMARGIN", new_y="NEXT")
    if footer.stamp:
        pdf.ln(4)
        pdf.cell(0, lh, "М. П.", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, "", SMALL_PT)
    pdf.multi_cell(pdf.epw, line_height(SMALL_PT), form.meta.caption(), align="L",
                   new_x="LMARGIN", new_y="NEXT")


def render_pdf(form: RenderedForm) -> bytes:
    pdf = _new_document(form)
    pdf.add_page()
    pdf.set_line_width(0.2)
    _draw_title(pdf, form)
    bottom = pdf.h - BOTTOM_MARGIN
    drawer = TableDrawer(pdf, TableLayout(form), MARGIN, pdf.epw, bottom)
    drawer.draw_header()
    drawer.draw_rows()
    _draw_footer(pdf, form, bottom)
    return bytes(pdf.output())


def write_pdf(form: RenderedForm, path: str | os.PathLike[str]) -> Path:
    return write_atomically(path, render_pdf(form))

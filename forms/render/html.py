"""HTML renderer: a printable page (A4, @page orientation) from the Jinja2 template."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jinja2

from forms.model import RenderedForm
from forms.render.layout import TableLayout
from forms.render.output import write_atomically

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE_NAME = "form.html.j2"
INDENT_MM = 4.0

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _rows(layout: TableLayout) -> list[dict[str, Any]]:
    rows = []
    for row in layout.form.rows:
        item: dict[str, Any] = {
            "label": row.label,
            "indent": f"{1 + row.level * INDENT_MM:g}",
            "section": row.is_section,
            "total": row.is_total,
        }
        if not row.is_section:
            item["code"] = row.code or "" if layout.stub_count == 2 else None
            item["cells"] = list(zip(layout.value_texts(row), layout.value_aligns(row), strict=True))
        rows.append(item)
    return rows


def render_html(form: RenderedForm) -> str:
    layout = TableLayout(form)
    total = sum(c.width_mm for c in layout.columns)
    widths = [f"{100 * c.width_mm / total:.2f}" for c in layout.columns]
    return _env.get_template(TEMPLATE_NAME).render(
        title=form.title,
        orientation=form.orientation,
        widths=widths,
        header=layout.header,
        numbers=layout.numbers,
        rows=_rows(layout),
        footer=form.footer,
        caption=form.meta.caption(),
    )


def write_html(form: RenderedForm, path: str | os.PathLike[str]) -> Path:
    return write_atomically(path, render_html(form).encode("utf-8"))

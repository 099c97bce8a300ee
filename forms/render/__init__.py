"""Renderers of the neutral rendered-form model (:mod:`forms.model`).

``render(form, fmt, path)`` writes one form in one format. Each format lives in its own
module exposing ``write_<fmt>(form, path, **options)``; adding a format means adding a module
and one line to ``RENDERERS``.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any

from forms.model import RenderedForm

RENDERERS: dict[str, str] = {
    "html": "forms.render.html:write_html",
    "xlsx": "forms.render.xlsx:write_xlsx",
    "pdf": "forms.render.pdf:write_pdf",
    "xml": "forms.render.xml:write_xml",  # needs mapping=XmlMapping(...)
    "csv": "forms.render.csv:write_csv",
}


class UnknownFormatError(ValueError):
    pass


def render(form: RenderedForm, fmt: str, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write ``form`` to ``path`` as ``fmt`` (html, xlsx, pdf, xml, csv); returns the path.

    The file appears complete or not at all. XML needs ``mapping=XmlMapping(...)``.
    """
    target = RENDERERS.get(fmt.lower())
    if target is None:
        known = ", ".join(sorted(RENDERERS))
        raise UnknownFormatError(f"Неизвестный формат выгрузки {fmt!r}; доступны: {known}")
    module_name, function_name = target.split(":")
    writer = getattr(importlib.import_module(module_name), function_name)
    return writer(form, path, **options)

"""Generic XML writer: a form serialized through a per-form mapping supplied by the caller.

The mapping names the root element, an optional header element with fixed values, an
optional container for the rows, the element written per table row, and for each field
whether it is an attribute or a child element and which column (or the row code/label) it
comes from. Numbers are written exactly in XML notation (``1234567.89``: dot, no grouping).
The output is windows-1251 or utf-8 as the mapping says, and is validated against an XSD
when one is given; an invalid document is never written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from lxml import etree

from forms.model import Cell, Column, RenderedForm, Row, ValueKind
from forms.render.layout import exact_number
from forms.render.output import write_atomically

ROW_CODE = "@code"
ROW_LABEL = "@label"


class XmlMappingError(ValueError):
    """The mapping does not fit the form."""


class XmlValidationError(ValueError):
    """The document does not conform to the XSD; ``errors`` lists «line:column: message»."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message + "\n" + "\n".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class XmlField:
    source: str  # a column code, ROW_CODE or ROW_LABEL
    name: str  # element or attribute name
    attribute: bool = False


@dataclass(frozen=True, slots=True)
class XmlMapping:
    root: str
    row: str
    fields: tuple[XmlField, ...]
    encoding: Literal["utf-8", "windows-1251"] = "utf-8"
    header: str | None = None  # e.g. "ZGLV"
    header_fields: tuple[tuple[str, str], ...] = ()  # (element, text) inside the header
    rows_container: str | None = None
    include_totals: bool = True
    include_empty: bool = False  # write <X/> for an empty or dashed cell instead of omitting it
    xsd: Path | None = None


def xml_value(cell: Cell, column: Column) -> str | None:
    """A cell's text in XML notation, or None for an empty/dashed cell."""
    kind = cell.effective_kind(column)
    if kind in (ValueKind.EMPTY, ValueKind.DASH) or cell.value is None:
        return None
    if kind is ValueKind.TEXT:
        return str(cell.value)
    number = exact_number(cell, column)
    return f"{number:f}" if isinstance(number, Decimal) else str(number)


def _check_mapping(form: RenderedForm, mapping: XmlMapping) -> dict[str, int]:
    index = {column.code: i for i, column in enumerate(form.columns)}
    if mapping.encoding not in ("utf-8", "windows-1251"):
        raise XmlMappingError(f"Кодировка {mapping.encoding!r} не поддерживается: utf-8 или windows-1251")
    for f in mapping.fields:
        if f.source not in index and f.source not in (ROW_CODE, ROW_LABEL):
            known = ", ".join(index)
            raise XmlMappingError(
                f"Поле {f.name!r} ссылается на неизвестный столбец {f.source!r} формы "
                f"{form.meta.form_id}; столбцы: {known}"
            )
    return index


def _row_element(parent: etree._Element, row: Row, form: RenderedForm, mapping: XmlMapping,
                 index: dict[str, int]) -> None:
    element = etree.SubElement(parent, mapping.row)
    for f in mapping.fields:
        if f.source == ROW_CODE:
            text = row.code
        elif f.source == ROW_LABEL:
            text = row.label
        else:
            i = index[f.source]
            text = xml_value(row.cells[i], form.columns[i])
        if text is None and not mapping.include_empty:
            continue
        if f.attribute:
            element.set(f.name, text or "")
        else:
            etree.SubElement(element, f.name).text = text


def build_tree(form: RenderedForm, mapping: XmlMapping) -> etree._Element:
    index = _check_mapping(form, mapping)
    root = etree.Element(mapping.root)
    if mapping.header:
        header = etree.SubElement(root, mapping.header)
        for name, text in mapping.header_fields:
            etree.SubElement(header, name).text = text
    parent = etree.SubElement(root, mapping.rows_container) if mapping.rows_container else root
    for row in form.rows:
        if row.is_section or (row.is_total and not mapping.include_totals):
            continue
        _row_element(parent, row, form, mapping, index)
    return root


def _safe_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def validate_tree(root: etree._Element, xsd: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(xsd), _safe_parser()))
    # Validate what a reader will see: the serialized document, so positions are real lines.
    document = etree.fromstring(etree.tostring(root, pretty_print=True), _safe_parser())
    if not schema.validate(document):
        errors = [f"{e.line}:{e.column}: {e.message}" for e in schema.error_log]
        raise XmlValidationError(f"Документ не соответствует схеме {xsd.name}:", errors)


def render_xml(form: RenderedForm, mapping: XmlMapping) -> bytes:
    root = build_tree(form, mapping)
    if mapping.xsd is not None:
        validate_tree(root, Path(mapping.xsd))
    return etree.tostring(root, encoding=mapping.encoding, xml_declaration=True, pretty_print=True)


def write_xml(form: RenderedForm, path: str | os.PathLike[str], mapping: XmlMapping) -> Path:
    return write_atomically(path, render_xml(form, mapping))

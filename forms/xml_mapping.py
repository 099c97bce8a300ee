"""A form definition's ``xml:`` section → the renderer's XmlMapping."""

from __future__ import annotations

from forms.definition_model import XmlDef
from forms.render.xml import ROW_CODE, ROW_LABEL, XmlField, XmlMapping

SOURCES = {"@code": ROW_CODE, "@label": ROW_LABEL, "row_code": ROW_CODE, "row_label": ROW_LABEL}


def xml_mapping(x: XmlDef, params: dict[str, str] | None = None) -> XmlMapping:
    params = params or {}
    header = tuple((k, params.get(v[1:], v) if v.startswith("$") else v) for k, v in x.header_fields)
    return XmlMapping(root=x.root, row=x.row,
                      fields=tuple(XmlField(SOURCES.get(s, s), n, a) for s, n, a in x.fields),
                      encoding=x.encoding, header=x.header, header_fields=header,
                      rows_container=x.rows_container, include_totals=x.include_totals)

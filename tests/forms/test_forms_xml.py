from __future__ import annotations

from pathlib import Path

import pytest
from form_samples import ksg_tariffs, mek_act
from lxml import etree

from forms.render.xml import (
    ROW_CODE,
    ROW_LABEL,
    XmlField,
    XmlMapping,
    XmlMappingError,
    XmlValidationError,
    render_xml,
    write_xml,
)

MEK_MAPPING = XmlMapping(
    root="AKT_MEK",
    header="ZGLV",
    header_fields=(("VERSION", "1.0"), ("PERIOD", "2025-06")),
    rows_container="STROKI",
    row="STR",
    fields=(
        XmlField(ROW_CODE, "N", attribute=True),
        XmlField(ROW_LABEL, "NAIM"),
        XmlField("presented_cases", "KOL"),
        XmlField("presented_sum", "SUM"),
        XmlField("rejected_sum", "SUM_NP"),
    ),
    encoding="windows-1251",
)

XSD = """<?xml version="1.0" encoding="utf-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:element name="AKT_MEK">
    <xs:complexType><xs:sequence>
      <xs:element name="ZGLV"><xs:complexType><xs:sequence>
        <xs:element name="VERSION" type="xs:string"/><xs:element name="PERIOD" type="xs:gYearMonth"/>
      </xs:sequence></xs:complexType></xs:element>
      <xs:element name="STROKI"><xs:complexType><xs:sequence>
        <xs:element name="STR" maxOccurs="unbounded"><xs:complexType>
          <xs:sequence>
            <xs:element name="NAIM" type="xs:string"/>
            <xs:element name="KOL" type="xs:nonNegativeInteger" minOccurs="0"/>
            <xs:element name="SUM" type="xs:decimal" minOccurs="0"/>
            <xs:element name="SUM_NP" type="xs:decimal"/>
          </xs:sequence>
          <xs:attribute name="N" type="xs:string" use="required"/>
        </xs:complexType></xs:element>
      </xs:sequence></xs:complexType></xs:element>
    </xs:sequence></xs:complexType>
  </xs:element>
</xs:schema>
"""


def test_windows_1251_document_with_exact_numbers(tmp_path: Path) -> None:
    data = write_xml(mek_act(), tmp_path / "akt.xml", mapping=MEK_MAPPING).read_bytes()
    assert data.startswith(b"<?xml version='1.0' encoding='windows-1251'?>")
    assert "Медицинская помощь в стационарных условиях".encode("cp1251") in data
    root = etree.fromstring(data)
    rows = root.findall("STROKI/STR")
    assert len(rows) == 9  # 10 rows, but the section heading is not a data row
    first = rows[0]
    assert first.get("N") == "01" and first.findtext("SUM") == "45678901.23" and first.findtext("KOL") == "1250"
    dashed = root.find("STROKI/STR[@N='05']")
    assert dashed is not None and dashed.find("SUM") is None and dashed.findtext("SUM_NP") == "1501234.56"
    assert root.findtext("ZGLV/PERIOD") == "2025-06"


def test_xsd_validation_passes_and_fails_with_positions(tmp_path: Path) -> None:
    xsd = tmp_path / "akt.xsd"
    xsd.write_text(XSD, encoding="utf-8")
    render_xml(mek_act(), _with(MEK_MAPPING, xsd=xsd))
    bad = _with(MEK_MAPPING, xsd=xsd, header_fields=(("VERSION", "1.0"), ("PERIOD", "июнь")))
    target = tmp_path / "bad.xml"
    with pytest.raises(XmlValidationError) as error:
        write_xml(mek_act(), target, mapping=bad)
    assert "PERIOD" in str(error.value) and "gYearMonth" in str(error.value)
    assert error.value.errors[0].startswith("4:")  # line of <PERIOD> in the document
    assert not target.exists()  # nothing half-written


def test_utf8_numbers_with_decimals_and_without_totals() -> None:
    mapping = XmlMapping(root="TARIF", row="KSG", include_totals=False, fields=(
        XmlField(ROW_CODE, "N_KSG", attribute=True), XmlField("kz", "KOEF_Z"), XmlField("tariff_5", "TS")))
    root = etree.fromstring(render_xml(ksg_tariffs(), mapping))
    assert root.find("KSG[@N_KSG='st02.001']").findtext("KOEF_Z") == "0.93"
    assert root.find("KSG[@N_KSG='st02.001']").findtext("TS") == "36647.73"


def test_unknown_column_in_mapping_is_named() -> None:
    mapping = _with(MEK_MAPPING, fields=(XmlField("acepted_sum", "SUM"),))
    with pytest.raises(XmlMappingError, match="неизвестный столбец 'acepted_sum'.*accepted_sum"):
        render_xml(mek_act(), mapping)


def _with(mapping: XmlMapping, **changes: object) -> XmlMapping:
    from dataclasses import replace

    return replace(mapping, **changes)  # type: ignore[arg-type]

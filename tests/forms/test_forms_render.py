from __future__ import annotations

import time
from pathlib import Path

import pytest
from form_samples import long_register, mek_act

from forms.render import UnknownFormatError, render
from forms.render.xml import ROW_CODE, XmlField, XmlMapping


@pytest.mark.parametrize(("fmt", "magic"), [("html", b"<!DOCTYPE html>"), ("xlsx", b"PK"), ("pdf", b"%PDF-")])
def test_render_dispatches_by_format(fmt: str, magic: bytes, tmp_path: Path) -> None:
    path = render(mek_act(), fmt, tmp_path / f"act.{fmt}")
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [f"act.{fmt}"]  # no temporary files left


def test_render_xml_needs_a_mapping(tmp_path: Path) -> None:
    mapping = XmlMapping(root="R", row="S", fields=(XmlField(ROW_CODE, "N", attribute=True),))
    assert b"<S N=\"01\"/>" in render(mek_act(), "xml", tmp_path / "a.xml", mapping=mapping).read_bytes()
    with pytest.raises(TypeError):
        render(mek_act(), "xml", tmp_path / "b.xml")


def test_unknown_format_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownFormatError, match="'docx'.*html, pdf, xlsx, xml"):
        render(mek_act(), "docx", tmp_path / "a.docx")


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["html", "xlsx", "pdf"])
def test_ten_thousand_rows_render_in_reasonable_time(fmt: str, tmp_path: Path) -> None:
    form = long_register(10_000)
    started = time.perf_counter()
    render(form, fmt, tmp_path / f"big.{fmt}")
    assert time.perf_counter() - started < 60

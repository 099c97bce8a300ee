from __future__ import annotations

import re
from pathlib import Path

import pytest
from form_samples import ksg_tariffs, long_register, mek_act
from pypdf import PdfReader

from forms.render.pdf import write_pdf

NN = "\u202f"


def _read(form, tmp_path: Path) -> PdfReader:  # type: ignore[no-untyped-def]
    return PdfReader(write_pdf(form, tmp_path / f"{form.meta.form_id}.pdf"))


def _text(page) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"[ \n]+", " ", page.extract_text())


def _embedded_fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"
            names.add(str(font["/BaseFont"]).split("+")[-1])
    return names


def test_mek_act_text_fonts_and_page(tmp_path: Path) -> None:
    reader = _read(mek_act(), tmp_path)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 portrait, points
    text = _text(reader.pages[0])
    for expected in ("Акт медико-экономического контроля", "Принято к оплате", "Не принято к оплате",
                     "в том числе посещения с профилактической целью", f"45{NN}678{NN}901,23",
                     f"79{NN}463{NN}469,62", "Руководитель", "/ И. И. Иванов /", "М. П.", "Стр. 1 из 1"):
        assert expected in text, expected
    assert _embedded_fonts(reader) == {"DejaVuSansBook", "DejaVuSansBold"}


def test_long_table_repeats_header_and_numbers_pages(tmp_path: Path) -> None:
    form = long_register()
    reader = _read(form, tmp_path)
    pages = len(reader.pages)
    assert 5 <= pages <= 15
    seen_codes = []
    for number, page in enumerate(reader.pages, start=1):
        text = _text(page)
        assert f"Стр. {number} из {pages}" in text
        if number < pages or "Предъявлено" in text:
            assert "Предъявлено, руб." in text and "Медицинская организация" in text, number
        seen_codes += re.findall(r"код МО (\d+)\)", text)
    assert seen_codes == [str(750000 + i) for i in range(1, 301)]  # every row once, in order
    assert "Итого по СМО" in _text(reader.pages[-1])


def test_landscape_form(tmp_path: Path) -> None:
    reader = _read(ksg_tariffs(), tmp_path)
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)
    text = _text(reader.pages[0])
    assert "Стоимость законченного случая по уровням оказания помощи, руб." in text
    assert f"117{NN}655,55" in text and "Реинфузия аутокрови" in text and "st36.009" in text


@pytest.mark.parametrize("build", [mek_act, ksg_tariffs])
def test_pdf_is_deterministic(build, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a = write_pdf(build(), tmp_path / "a.pdf").read_bytes()
    b = write_pdf(build(), tmp_path / "b.pdf").read_bytes()
    assert a == b


def test_long_text_values_wrap_inside_their_column(tmp_path: Path) -> None:
    from forms.model import Cell

    form = long_register(3)
    row = form.rows[1]
    row.cells = (Cell("Счёт дополнительный повторное предъявление после МЭК"), *row.cells[1:])
    lines = _read(form, tmp_path).pages[0].extract_text().splitlines()
    first = next(i for i, line in enumerate(lines) if "Счёт" in line)
    last = next(i for i, line in enumerate(lines) if "МЭК" in line)
    assert last > first  # the value is spread over several lines of its cell

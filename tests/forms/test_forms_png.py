"""PDF pages rasterized with pdftoppm and compared with golden PNGs within a tolerance."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from form_golden import GOLDEN, UPDATE_GOLDEN, image_difference, images_match, pdf_page_png
from form_samples import SAMPLES, mek_act

from forms.render.pdf import write_pdf

PAGES = [("mek_act", 1), ("ksg_tariffs", 1), ("long_register", 1), ("long_register", -1)]


@pytest.mark.parametrize(("name", "page"), PAGES)
def test_pdf_page_matches_golden_png(name: str, page: int, tmp_path: Path) -> None:
    from pypdf import PdfReader

    pdf = write_pdf(SAMPLES[name](), tmp_path / f"{name}.pdf")
    number = page if page > 0 else len(PdfReader(pdf).pages)
    label = f"{name}-{'last' if page < 0 else page}"
    png = pdf_page_png(pdf, number, tmp_path / label)
    golden = GOLDEN / f"{label}.png"
    if UPDATE_GOLDEN:
        shutil.copy(png, golden)
    mean, strong = image_difference(png, golden)
    assert images_match(png, golden), (
        f"{label}: mean difference {mean:.3f}, changed pixels {strong:.4%}; compare {png} with {golden}")


def test_the_comparison_detects_a_layout_change(tmp_path: Path) -> None:
    form = mek_act()
    form.stub = dataclasses.replace(form.stub, label_width_mm=form.stub.label_width_mm + 25)
    png = pdf_page_png(write_pdf(form, tmp_path / "changed.pdf"), 1, tmp_path / "changed")
    assert not images_match(png, GOLDEN / "mek_act-1.png")


from __future__ import annotations

import re

from form_golden import GOLDEN, UPDATE_GOLDEN
from form_samples import mek_act

from forms.model import RenderedForm
from forms.render.html import render_html


def normalize(html: str) -> str:
    """Collapse ASCII layout whitespace only: the narrow no-break spaces in numbers must stay."""
    html = re.sub(r">[ \t\r\n]+<", "><", html)
    return re.sub(r"[ \t\r\n]+", " ", html).strip()


def test_html_matches_golden(sample: tuple[str, RenderedForm]) -> None:
    name, form = sample
    golden = GOLDEN / f"{name}.html"
    html = render_html(form)
    if UPDATE_GOLDEN:
        golden.write_text(html, encoding="utf-8")
    assert normalize(html) == normalize(golden.read_text(encoding="utf-8")), (
        f"{name}: HTML differs from {golden}; set METODIKA_UPDATE_GOLDEN=1 to accept a deliberate change")


def test_html_structure_of_the_mek_act() -> None:
    html = normalize(render_html(mek_act()))
    assert "size: A4 portrait;" in html
    assert '<th rowspan="2">Наименование показателя</th>' in html
    assert '<th colspan="2">Принято к оплате</th>' in html
    assert '<td class="right">45\u202f678\u202f901,23</td>' in html
    assert '<tr class="total">' in html and "<td class=\"left\" style=\"padding-left: 1mm\">Итого</td>" in html
    assert "padding-left: 5mm\">в том числе посещения" in html
    assert "ГБУЗ «Областная клиническая больница № 1»" in html  # escaped safely, not mangled


def test_html_escapes_markup_in_labels() -> None:
    form = mek_act()
    form.rows[0].label = "<script>alert(1)</script>"
    assert "&lt;script&gt;" in render_html(form)

"""Form definitions: overlays, control ratios, positioned errors for malformed definitions."""

from __future__ import annotations

from pathlib import Path

import pytest
from form_world import build

from dsl.diagnostics import DiagnosticError, SourceCache
from forms.definition import DEFINITIONS_DIR, load_form

ACT = DEFINITIONS_DIR / "mek_act.yaml"


def _write(tmp: Path, text: str, name: str = "f.yaml") -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def _error(path: Path) -> str:
    with pytest.raises(DiagnosticError) as e:
        build("x", form=load_form(path))
    return e.value.render(SourceCache())


def test_regional_overlay_adds_row_and_column_and_overrides_cell(tmp_path):
    p = _write(tmp_path, f"""id: mek_act_76
version: 1.0.0
extends: {ACT}
title: Акт МЭК (Ярославская область)
columns:
  - {{code: share, label: "Доля не принятого, %", kind: number, decimals: 2, after: withheld,
     cell: 'if sum(case.billed) > 0 then to_number(sum(case.withheld)) * 100 / to_number(sum(case.billed)) else 0'}}
rows:
  - {{code: "05", label: в том числе случаи МО 000001, level: 1, where: case.lpu == "000001"}}
cells:
  r04.fine: sum(case.fine where case.accepted > 0)
""")
    form = load_form(p)
    assert form.extends == ["mek_act"] and [c.code for c in form.columns][:4] == ["cases", "billed", "withheld", "share"]
    rows = {r.code: r for r in build("mek_act", form=form).form.rows}
    assert rows["05"].cells[0].value == 197
    assert rows["01"].cells[3].value > 0 and rows["04"].cells[5].value == 0
    assert len(load_form(ACT).columns) == 5  # the base is untouched


def test_violated_control_names_cells_and_values(tmp_path):
    p = _write(tmp_path, f"""id: broken_act
version: 1.0.0
extends: {ACT}
cells:
  r01.withheld: sum(case.withheld) + round_money(1.0)
""")
    result = build("mek_act", form=load_form(p))
    failed = {c.id: c for c in result.failed}
    assert set(failed) == {"КС1", "КС3"}
    msg = failed["КС1"].message
    assert "r01.billed == r01.withheld + r01.accepted" in msg
    assert "стр. 01 «Предъявлено к оплате — всего», гр. «Не принято» = 69 030,86" in msg
    assert msg.startswith("НАРУШЕНО: КС1 — Предъявлено должно равняться сумме не принятого и принятого: ")
    assert ("; левая часть «r01.billed» = 2 193 680,07; правая часть «r01.withheld + r01.accepted» = "
            "2 193 681,07; ") in msg
    assert failed["КС3"].message == (
        "НАРУШЕНО: КС3: r02.withheld == r01.withheld; левая часть «r02.withheld» = 69 029,86; "
        "правая часть «r01.withheld» = 69 030,86; стр. 02 «Не принято к оплате по результатам МЭК — всего», "
        "гр. «Не принято» = 69 029,86; стр. 01 «Предъявлено к оплате — всего», гр. «Не принято» = 69 030,86")
    assert "; ;" not in msg and not msg.endswith("; ")
    assert (failed["КС1"].span.line, failed["КС1"].span.column) == (45, 22)  # the check text in mek_act.yaml
    assert any("нарушено" in n or "Предъявлено должно" in n for n in result.form.footer.notes)


BASE = """id: bad
version: 1.0.0
title: Плохая форма
columns:
  - {code: cases, label: Случаи, kind: int, cell: count(case)}
  - {code: billed, label: Сумма, kind: money, cell: sum(case.billed)}
"""


@pytest.mark.parametrize(("tail", "where", "words"), [
    ("rows:\n  - {code: \"01\", label: Всего}\ncontrols:\n  - {id: К1, check: r01.cases >= r02.cases}\n",
     "f.yaml:10:34", "нет строки с кодом «02»"),
    ("rows:\n  - {code: \"01\", label: Всего, cells: {cases: sum(case.billed)}}\n",
     "f.yaml:8:47", "столбец типа int"),
    ("rows:\n  - {code: \"01\", label: Всего, cells: {cases: 'count(case where case.usl_ok == \"1\")'}}\n",
     "f.yaml:8:", "E02"),
    ("rows:\n  - {code: \"1a\", label: Всего}\n", "f.yaml:8:12", "код строки «1a»"),
    ("header:\n  - [Случаи]\nrows:\n  - {code: \"01\", label: Всего}\n", "f.yaml:8:", "нет ячейки над столбцом «billed»"),
    ("rows:\n  - {code: \"01\", label: Всего, cells: {cases: count(case where case.usl_okk == 1)}}\n",
     "f.yaml:8:", "usl_ok"),
    ("rows:\n  - {code: \"01\", label: Всего, cells: {cases: r01.cases + 1}}\n", "f.yaml:8:", "циклическая"),
])
def test_malformed_definition_is_positioned(tmp_path, tail, where, words):
    text = _error(_write(tmp_path, BASE + tail))
    assert where in text and words in text, text


def test_unknown_yaml_key_and_missing_extends(tmp_path):
    text = _error(_write(tmp_path, BASE + "rowz: []\n"))
    assert "f.yaml:7:1" in text and "rows" in text
    text = _error(_write(tmp_path, "id: x\nversion: 1\ntitle: x\nextends: nope_form\n"))
    assert "f.yaml:4:10" in text

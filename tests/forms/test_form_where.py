"""`where` in `repeat` and in rows of methodology-sourced forms works or is rejected with a
position; unknown keys and names are positioned errors; generated columns (issue 16, papercut 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from form_world import build

from dsl.diagnostics import DiagnosticError, SourceCache
from forms.definition import load_form

TARIFF = """id: t
version: 1.0.0
title: Тарифы
source: methodology
parameters:
  as_of: {label: Дата, default: "2025-03-01"}
columns:
  - {code: kz, label: КЗ, kind: number, decimals: 2, cell: 'default(ksg[$key].koef_z, 0)'}
"""


def _write(tmp: Path, text: str) -> Path:
    p = tmp / "f.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _error(tmp: Path, text: str) -> str:
    with pytest.raises(DiagnosticError) as e:
        build("x", form=load_form(_write(tmp, text)))
    return e.value.render(SourceCache())


def test_where_of_a_table_repeat_selects_rows(tmp_path):
    p = _write(tmp_path, TARIFF + "rows:\n  - repeat: {table: ksg, where: 'default(ksg[$key].usl_ok, 0) == 2', "
                                  "label: \"{name}\", code: \"{key}\"}\n")
    rows = build("x", form=load_form(p)).form.rows
    assert [r.code for r in rows] == ["ds02.001", "ds02.005"]
    p = _write(tmp_path, TARIFF + "rows:\n  - repeat: {table: ksg, label: \"{name}\", code: \"{key}\"}\n")
    assert len(build("x", form=load_form(p)).form.rows) == 8    # without where: every КСГ


@pytest.mark.parametrize(("tail", "where", "words"), [
    # an unknown name in a table repeat's where (was silently ignored)
    ("rows:\n  - repeat: {table: ksg, where: 'ksg[$key].usl_okk == 2'}\n", "f.yaml:10:", "usl_okk"),
    # a where that is not a condition
    ("rows:\n  - repeat: {table: ksg, where: 'ksg[$key].koef_z'}\n", "f.yaml:10:", "ожидалось условие"),
    # a row's where in a form over a methodology filters nothing: rejected
    ("rows:\n  - {label: Все, where: 'base_rate_ks > base_rate_ds', repeat: {table: ksg}}\n", "f.yaml:10:",
     "where в форме по методике (source: methodology) не действует"),
    ("rows:\n  - {code: \"01\", label: Итог, where: 'true'}\n", "f.yaml:10:", "не действует"),
    # unknown keys
    ("rows:\n  - repeat: {table: ksg, wher: 'true'}\n", "f.yaml:10:", "неизвестное поле «wher»"),
    ("rows:\n  - {label: x, repeat: {table: ksg}, whre: 'true'}\n", "f.yaml:10:", "неизвестное поле «whre»"),
    # unknown table
    ("rows:\n  - repeat: {table: ksgg}\n", "f.yaml:10:", "нет таблицы «ksgg»"),
])
def test_repeat_and_row_where_errors_are_positioned(tmp_path, tail, where, words):
    text = _error(tmp_path, TARIFF + tail)
    assert where in text and words in text, text


def test_where_of_a_values_repeat_in_a_run_form_checks_names(tmp_path):
    text = _error(tmp_path, """id: x
version: 1.0.0
title: x
columns:
  - {code: cases, label: Случаи, kind: int, cell: count(case)}
rows:
  - label: "{key}"
    repeat: {values: case.lpu, where: case.usl_okk == 1}
""")
    assert "f.yaml:8:" in text and "usl_okk" in text, text


LEVELS = TARIFF + """  - code: lvl
    label: "ур. {key}"
    kind: money
    repeat: {table: level_coef, field: level}
    applies: 'exists(level_coef[default(ksg[$key].usl_ok, 1), $col])'
    cell: 'round_money(to_number(base_rate_ks) * default(ksg[$key].koef_z, 0) * default(level_coef[default(ksg[$key].usl_ok, 1), $col].kus, 0))'
header:
  - [{text: КЗ, rowspan: 2}, {text: По уровням, columns: lvl}]
  - [{labels: lvl}]
rows:
  - repeat: {table: ksg, where: 'default(ksg[$key].usl_ok, 0) == 1', code: "{key}"}
"""


def test_generated_columns_and_their_header(tmp_path):
    form = build("x", form=load_form(_write(tmp_path, LEVELS))).form
    assert [c.code for c in form.columns] == ["kz", "lvl_1", "lvl_2", "lvl_3"]
    assert [c.label for c in form.columns][1:] == ["ур. 1", "ур. 2", "ур. 3"]
    assert [(h.text, h.colspan) for h in form.header[0]] == [("КЗ", 1), ("По уровням", 3)]
    assert [h.text for h in form.header[1]] == ["ур. 1", "ур. 2", "ур. 3"]


@pytest.mark.parametrize(("change", "words"), [
    (("field: level}", "field: levl}"), "в таблице «level_coef» нет столбца «levl»"),
    (("table: level_coef,", "table: level_coeff,"), "нет таблицы «level_coeff»"),
    (("{labels: lvl}", "{labels: lv}"), "нет столбца-шаблона «lv»"),
    (("field: level}", "field: level, filed: x}"), "неизвестное поле «filed»"),
    (("applies: 'exists(", "applies: 'existz("), "неизвестная функция «existz»"),
])
def test_generated_column_errors_are_positioned(tmp_path, change, words):
    text = _error(tmp_path, LEVELS.replace(*change))
    assert "f.yaml:" in text and words in text, text


def test_child_header_replaces_the_parents_header(tmp_path):
    from forms.definition import DEFINITIONS_DIR

    act = DEFINITIONS_DIR / "mek_act.yaml"
    base = load_form(act)
    labels = [c.label for c in base.columns]
    p = _write(tmp_path, f"id: act2\nversion: 1.0.0\nextends: {act}\nheader:\n  - [{', '.join(labels)}]\n")
    child = load_form(p)
    assert [[h.text for h in row] for row in child.header] == [labels]
    assert len(base.header) != 1 or [h.text for h in base.header[0]] != labels   # the parent's was different
    text = _error(tmp_path, f"id: act2\nversion: 1.0.0\nextends: {act}\nheader:\n  - [{labels[0]}]\n")
    assert "нет ячейки над столбцом «billed»" in text and "f.yaml:5:3" in text, text

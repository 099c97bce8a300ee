"""The tariff appendix (form ksg_tariff) takes its level columns from the package's level table
(issue 16, papercut 2) and is driven by the same formula as the case price (papercut 5).

Published figures: Приложение 8 к Тарифному соглашению на оплату медицинской помощи по ОМС на
территории Орловской области на 2023 год от 13 января 2023 года, «Тарифы на оплату законченного
случая лечения по КСГ в условиях круглосуточного стационара», уровни/подуровни 1, 2.1, 2.2, 3.1,
3.2 — https://base.garant.ru/406254991/38d0e20d10a9099ed1e190abf152a12a (rows of the published
excerpt). The package is tests/forms/data/orel2023 (its parameters and tables cite the source;
the base rate 25 973,00 is derived from the st01.001 row and labelled `assumption:`).
"""

from __future__ import annotations

from pathlib import Path

from engine.runtime.compile_cache import compile_cached as compile_package
from forms.build import build_form
from forms.definition import load_form, resolve_form_path

OREL = Path(__file__).parent / "data" / "orel2023"

# code → tariffs at levels 1, 2.1, 2.2, 3.1, 3.2 (rubles as printed in the appendix)
PUBLISHED = {
    "st01.001": ["12986.50"] * 5,
    "st02.001": ["21739.40", "22947.15", "24154.89", "26811.93", "27295.03"],
    "st02.002": ["7272.44"] * 5,
    "st02.003": ["22908.19", "24180.86", "25453.54", "28253.43", "28762.50"],
    "st02.004": ["23609.46", "24921.09", "26232.73", "29118.33", "29642.98"],
    "st02.005": ["17298.02", "18259.02", "19220.02", "21334.22", "21718.62"],
}


def kopecks(text: str) -> int:
    rub, _, kop = text.partition(".")
    return int(rub) * 100 + int(kop.ljust(2, "0"))


def appendix(pkg: Path, as_of: str = "2023-03-01"):
    return build_form(load_form(resolve_form_path("ksg_tariff")), methodology=compile_package(pkg), params={"as_of": as_of})


def level_cells(result) -> tuple[list[str], dict[str, list]]:
    form = result.form
    idx = [i for i, c in enumerate(form.columns) if c.code.startswith("level_")]
    labels = [form.columns[i].label for i in idx]
    rows = {r.code: [r.cells[i] for i in idx] for r in form.rows if not r.is_section}
    return labels, rows


def test_appendix_equals_the_published_sublevel_table_to_the_kopeck():
    result = appendix(OREL)
    labels, rows = level_cells(result)
    assert labels == ["1", "2.1", "2.2", "3.1", "3.2"]
    assert {code: [c.value for c in cells] for code, cells in rows.items()} == \
        {code: [kopecks(v) for v in vals] for code, vals in PUBLISHED.items()}
    assert not result.failed
    header = [h.text for h in result.form.header[1]]
    assert header == labels     # the second header row is made of the level labels


def _overlay(tmp: Path, level_rows: str, extra_params: str = "", rules: str = "") -> Path:
    pkg = tmp / "region"
    (pkg / "tables").mkdir(parents=True)
    (pkg / "methodology.yaml").write_text(
        f"id: region\nversion: 1.0.0\ntitle: регион\nextends: {OREL}\ntables: [tables.yaml]\n"
        + ("parameters: [parameters.yaml]\n" if extra_params else "") + ("modules: [r.rules]\n" if rules else ""),
        encoding="utf-8")
    (pkg / "tables.yaml").write_text(
        "level_coef:\n  override: true\n  file: tables/level_coef.csv\n  label: КУС\n  key: [usl_ok, level]\n"
        "  columns: {usl_ok: int, level: code, kus: number}\n  dated: true\n", encoding="utf-8")
    (pkg / "tables" / "level_coef.csv").write_text("usl_ok,level,kus,DATEBEG,DATEEND\n" + level_rows, encoding="utf-8")
    if extra_params:
        (pkg / "parameters.yaml").write_text(extra_params, encoding="utf-8")
    if rules:
        (pkg / "r.rules").write_text(rules, encoding="utf-8")
    return pkg


def test_missing_coefficient_is_an_empty_cell_and_a_failed_control(tmp_path):
    pkg = _overlay(tmp_path, "1,1,0.90,01.01.2023,\n1,2.1,,01.01.2023,\n1,2.2,1,01.01.2023,\n")
    result = appendix(pkg)
    labels, rows = level_cells(result)
    assert labels == ["1", "2.1", "2.2"]
    assert rows["st02.001"][1].value is None and rows["st02.001"][1].kind is None   # empty, not a dash
    assert rows["st02.001"][0].value == kopecks("21739.40")
    assert rows["st01.001"][1].value == kopecks("12986.50")   # «без КУС»: no coefficient needed
    failed = [c for c in result.failed]
    assert [c.id for c in failed] == ["level_2: обязательна"]
    assert failed[0].message.startswith("НАРУШЕНО: гр. «2.1» не заполнена (нет значения) в 4 стр.: стр. st02.001 ")
    assert "стр. st01.001" not in failed[0].message and "стр. st02.002" not in failed[0].message
    assert any(n.startswith("НАРУШЕНО: гр. «2.1»") for n in result.form.footer.notes)


def test_levels_of_another_condition_are_dashes_in_this_section(tmp_path):
    pkg = _overlay(tmp_path, "1,1,0.90,01.01.2023,\n1,2.1,0.95,01.01.2023,\n2,1.1,0.80,01.01.2023,\n")
    result = appendix(pkg)
    labels, rows = level_cells(result)
    assert labels == ["1", "2.1", "1.1"]
    assert rows["st02.001"][2].kind is not None and rows["st02.001"][2].value is None   # «–»: ДС level
    assert [c.value for c in rows["st02.001"][:2]] == [kopecks("21739.40"), kopecks("22947.15")]
    assert not result.failed
    sections = [r.label for r in result.form.rows if r.is_section]
    assert sections == ["Круглосуточный стационар", "Дневной стационар"]


def test_rounding_is_a_parameter(tmp_path):
    levels = "1,1,0.90,01.01.2023,\n"
    params = ("ksg_round_digits:\n  override: true\n  type: int\n  label: точность\n  values:\n    2023-01-01: 1\n")
    _, rows = level_cells(appendix(_overlay(tmp_path, levels, params)))
    # 25 973 × 1,01 × 0,90 = 23 609,457 → 23 609,5 (0,1 ₽) instead of 23 609,46
    assert rows["st02.004"][0].value == kopecks("23609.50")
    assert rows["st02.001"][0].value == kopecks("21739.40")


def test_one_override_of_the_rounding_changes_appendix_and_case_price(tmp_path):
    from engine.testing import run_tests

    rules = ('@label "Округление: КС — до 0,1 ₽ (проверка одной точки округления)"\n'
             'override def ksg_round(x: number, usl_ok: int) -> money = round_money(round(x, 1))\n')
    pkg = _overlay(tmp_path, "1,2.1,0.95,01.01.2023,\n1,3.2,1.13,01.01.2023,\n", rules=rules)
    _, rows = level_cells(appendix(pkg))
    # 24 921,0935 → 24 921,10; 29 642,98490 → 29 643,00
    assert [c.value for c in rows["st02.004"]] == [kopecks("24921.10"), kopecks("29643.00")]
    (pkg / "t.yaml").write_text(
        "defaults:\n  case: {usl_ok: 1, idsp: 33, rslt: 101, ishod: 101, vidpom: 31, for_pom: 3,\n"
        "         date_z_1: 2023-03-01, date_z_2: 2023-03-09, sumv: 0}\n"
        "  sl: {profil: 136, ds1: O26.8, date_1: 2023-03-01, date_2: 2023-03-09, sum_m: 0}\n"
        "cases:\n  - name: цена случая — та же, что в приложении\n    input:\n      patient: [{key: p1}]\n"
        "      case: [{key: c1, lpu: \"570001\"}, {key: c2, lpu: \"570002\"}]\n"
        "      sl: [{key: s1, case_ref: c1, n_ksg: st02.004}, {key: s2, case_ref: c2, n_ksg: st02.004}]\n"
        "    output:\n      sl: {s1: {ksg_cost: 24921.10}, s2: {ksg_cost: 29643.00}}\n", encoding="utf-8")
    m = compile_package(pkg)
    m.tests = [pkg / "t.yaml"]
    report = run_tests(m)
    assert report.failed == 0, [f for r in report.results for f in r.failures]

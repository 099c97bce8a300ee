"""`catalogue coverage`: implemented / missing Q015 IDs with reasons, and which have both tests."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from api.cli.main import main
from dsl.diagnostics import DiagnosticError
from engine.oms.coverage import coverage
from engine.runtime.compiler import compile_package
from tests.dsl.harness import FIXTURE

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "methodologies" / "federal" / "2025" / "catalogue" / "q015_ids.csv"
REFERENCE = ROOT.parent / "shared" / "reference" / "ffoms-catalogue" / "q015_checks.csv"

RULES = '''
check q015_003f_00_0010 on case:
    catalogue "003F.00.0010"
    kinds H
    code "1.4.3"
    title "Длительность не заполнена"
    when kd == 0

check q015_001f_00_0060 on case:
    catalogue "001F.00.0060"
    code "1.4.4"
    title "Профиль не из справочника"
    when profil == 0

check q015_002f_00_0100 on case:
    catalogue "002F.00.0100"
    code "1.4.4"
    title "Отключаемая"
    when kd < 0

disable check q015_002f_00_0100 because "в регионе не применяется"
'''

TESTS = '''
defaults:
  account: {dschet: 2025-03-31, code_mo: "760002", summav: 0, file_type: H, year: 2025, month: 3}
  case: {usl_ok: 1, profil: 97, lpu: "760002", ds1: H25.1, rslt: 101, kd: 5, sumv: 100.00,
         date_z_1: 2025-03-01, date_z_2: 2025-03-10}
  patient: {dr: 1980-01-01}
cases:
  - name: длительность ноль
    checks: [q015_003f_00_0010]
    input: {case: [{key: c1, kd: 0}]}
    defects: [{check: q015_003f_00_0010, row: c1}]
  - name: длительность есть
    checks: [q015_003f_00_0010]
    input: {case: [{key: c1, kd: 1}]}
    defects: []
  - name: профиль ноль (только срабатывание)
    checks: [q015_001f_00_0060]
    input: {case: [{key: c1, profil: 0}]}
    defects: [{check: q015_001f_00_0060, row: c1}]
  - name: неверный тест не засчитывается
    checks: [q015_001f_00_0060]
    input: {case: [{key: c1, profil: 0}]}
    defects: []
'''


def _package(tmp: Path, missing: str = "001F.00.0031: нужен справочник F032, его нет в пакете\n") -> Path:
    (tmp / "catalogue").mkdir(parents=True)
    with (tmp / "catalogue" / "q015_ids.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "level", "books"])
        for ident in ("001F.00.0031", "001F.00.0060", "002F.00.0100", "003F.00.0010", "003F.00.0020"):
            w.writerow([ident, "SL", ""])
    (tmp / "catalogue" / "missing.yaml").write_text(missing, encoding="utf-8")
    (tmp / "checks.rules").write_text(RULES, encoding="utf-8")
    (tmp / "tests.yaml").write_text(TESTS, encoding="utf-8")
    (tmp / "methodology.yaml").write_text(
        f"id: cov\nversion: 0.0.1\ntitle: cov\nextends: {FIXTURE}\nmodules: [checks.rules]\ntests: [tests.yaml]\n",
        encoding="utf-8")
    return tmp


def test_coverage_counts_implemented_missing_with_reasons_and_tests(tmp_path):
    cov = coverage(compile_package(_package(tmp_path)))
    by = {c.id: c for c in cov.ids}
    assert [c.id for c in cov.implemented] == ["001F.00.0060", "003F.00.0010"]
    assert by["003F.00.0010"].tested and len(by["003F.00.0010"].firing) == 1
    assert by["001F.00.0060"].firing and not by["001F.00.0060"].not_firing   # the failing case does not count
    assert by["001F.00.0031"].reason == "нужен справочник F032, его нет в пакете"
    assert by["002F.00.0100"].disabled == "в регионе не применяется" and not by["002F.00.0100"].implemented
    assert by["003F.00.0020"].reason is None and not by["003F.00.0020"].implemented


def test_cli_prints_figures_reasons_and_honours_min(tmp_path, capsys):
    pkg = _package(tmp_path)
    assert main(["catalogue", "coverage", str(pkg)]) == 0
    out = capsys.readouterr().out
    assert "реализовано: 2, из них с тестом срабатывания и несрабатывания: 1" in out
    assert "001F.00.0031  нужен справочник F032" in out and "002F.00.0100  отключена: в регионе не применяется" in out
    assert "003F.00.0020  причина не указана" in out
    assert "001F.00.0060  q015_001f_00_0060: нет теста несрабатывания" in out
    assert main(["catalogue", "coverage", str(pkg), "--min", "2"]) == 1
    assert "меньше требуемых 2" in capsys.readouterr().err
    assert main(["catalogue", "coverage", str(pkg), "--json", "--no-tests"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["implemented"] == 2 and doc["missing"] == 3 and doc["tests_run"] is False


def test_malformed_id_in_missing_list_is_positioned(tmp_path):
    m = compile_package(_package(tmp_path, "001F.00.0031: есть\n01F.00.31: опечатка\n"))
    with pytest.raises(DiagnosticError) as e:
        coverage(m)
    d = e.value.diagnostics[0]
    assert d.code == "E0704" and d.span.line == 2 and "01F.00.31" in d.message


def test_implemented_id_declared_missing_is_a_warning(tmp_path):
    cov = coverage(compile_package(_package(tmp_path, "003F.00.0010: нет\n")), run=False)
    assert any("003F.00.0010" in w and "реализован" in w for w in cov.warnings)


@pytest.mark.skipif(not REFERENCE.exists(), reason="нет справочных данных shared/reference")
def test_shipped_id_list_is_the_reference_catalogue():
    with REFERENCE.open(encoding="utf-8") as fh:
        ref = [(r["id"], r["level"], r["nsi_refs"]) for r in csv.DictReader(fh)]
    with SHIPPED.open(encoding="utf-8") as fh:
        shipped = [(r["id"], r["level"], r["books"]) for r in csv.DictReader(fh)]
    assert shipped == ref and len(shipped) == 321


def test_catalogue_files_linked_from_outside_the_package_are_not_read(tmp_path):
    pkg = _package(tmp_path / "pkg")
    outside = tmp_path / "outside.yaml"
    outside.write_text("003F.00.0020: прочитано из чужого каталога\n", encoding="utf-8")
    (pkg / "catalogue" / "missing.yaml").unlink()
    (pkg / "catalogue" / "missing.yaml").symlink_to(outside)
    by = {c.id: c for c in coverage(compile_package(pkg), run=False).ids}
    assert by["003F.00.0020"].reason is None
    assert by["001F.00.0031"].reason is None

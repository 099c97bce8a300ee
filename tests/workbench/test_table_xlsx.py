"""`metodika table export|import` (issue 16, Excel round-trip): export → edit one cell → import →
`diff` shows exactly that change and the hash changes; a broken workbook is rejected with sheet
and cell, and the package's files stay as they were."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from api.cli.main import main

FIXTURE = Path(__file__).parents[1] / "dsl" / "fixture"
CSV = ("code,koef_z,name,DATEBEG,DATEEND\n"
       "st02.003,0.98,Родоразрешение,01.01.2025,\n"
       "st21.001,0.49,Операции на органе зрения (уровень 1),01.01.2025,30.06.2025\n"
       "st21.001,0.51,Операции на органе зрения (уровень 1),01.07.2025,\n"
       "ds02.001,0.83,\"Осложнения беременности, родов\",01.01.2025,\n")


def make(tmp: Path, name: str = "pkg") -> Path:
    pkg = tmp / name
    (pkg / "tables").mkdir(parents=True)
    (pkg / "methodology.yaml").write_text(
        f"id: xl\nversion: 1.0.0\ntitle: тест\nextends: {FIXTURE}\ntables: [tables.yaml]\n", encoding="utf-8")
    (pkg / "tables.yaml").write_text(
        "ksg:\n  override: true\n  file: tables/ksg.csv\n  label: КСГ\n  key: [code]\n"
        "  columns: {code: code, koef_z: number, name: text}\n  dated: true\n", encoding="utf-8")
    (pkg / "tables" / "ksg.csv").write_text(CSV, encoding="utf-8")
    return pkg


@pytest.fixture
def exported(tmp_path):
    pkg = make(tmp_path)
    xlsx = tmp_path / "ksg.xlsx"
    assert main(["table", "export", str(pkg), "ksg", "--xlsx", str(xlsx)]) == 0
    return pkg, xlsx


def edit(xlsx: Path, out: Path, change) -> Path:
    wb = load_workbook(xlsx)
    change(wb["ksg"])
    wb.save(out)
    return out


def test_export_writes_typed_cells_with_russian_date_columns(exported):
    _, xlsx = exported
    ws = load_workbook(xlsx)["ksg"]
    assert [c.value for c in ws[1]] == ["code", "koef_z", "name", "ДАТАНАЧ", "ДАТАКОН"]
    assert [c.value for c in ws[3]] == ["st21.001", 0.49, "Операции на органе зрения (уровень 1)",
                                        dt.datetime(2025, 1, 1), dt.datetime(2025, 6, 30)]
    assert ws["E2"].value is None and ws["C5"].value == "Осложнения беременности, родов"


def test_edit_one_cell_import_diff_shows_exactly_that_change(exported, tmp_path, capsys):
    pkg, xlsx = exported
    old = tmp_path / "old"
    shutil.copytree(pkg, old)
    assert main(["hash", str(pkg)]) == 0
    hash_before = capsys.readouterr().out.split()[0]
    edited = edit(xlsx, tmp_path / "edited.xlsx", lambda ws: ws.__setitem__("B4", 0.52))
    assert main(["table", "import", str(pkg), "ksg", str(edited)]) == 0
    assert "изменено ячеек 1" in capsys.readouterr().out
    assert main(["hash", str(pkg)]) == 0
    assert capsys.readouterr().out.split()[0] != hash_before
    new_lines = (pkg / "tables" / "ksg.csv").read_text(encoding="utf-8").splitlines()
    assert [a for a, b in zip(CSV.splitlines(), new_lines, strict=True) if a != b] == \
        ["st21.001,0.51,Операции на органе зрения (уровень 1),01.07.2025,"]
    assert main(["diff", str(old), str(pkg)]) == 0
    out = capsys.readouterr().out
    changes = [ln.strip() for ln in out.splitlines() if ln.strip().startswith(("~", "+", "−"))]
    assert changes == ["~ ksg [st21.001, с 2025-07-01]: koef_z: 0.51 → 0.52"]


def test_reimport_without_edits_changes_nothing(exported):
    pkg, xlsx = exported
    assert main(["table", "import", str(pkg), "ksg", str(xlsx)]) == 0
    assert (pkg / "tables" / "ksg.csv").read_text(encoding="utf-8") == CSV


def _bad_date(ws):
    ws["D3"] = "32.13.2025"


def _wrong_type(ws):
    ws["B2"] = "девять десятых"


def _missing_column(ws):
    ws.delete_cols(2)


def _duplicate_key(ws):
    ws.append(["st02.003", 1.5, "Родоразрешение (повтор)", dt.datetime(2025, 3, 1), None])


def _end_before_start(ws):
    ws["E2"] = dt.datetime(2024, 12, 31)


def _empty_key(ws):
    ws["A5"] = None


@pytest.mark.parametrize(("change", "words"), [
    (_bad_date, "лист «ksg», ячейка D3 («ДАТАНАЧ»): «32.13.2025»"),
    (_wrong_type, "лист «ksg», ячейка B2 («koef_z»): «девять десятых» — не число"),
    (_missing_column, "лист «ksg», строка 1: нет столбца «koef_z»"),
    (_duplicate_key, "лист «ksg», строка 6: для ключа (st02.003) периоды действия пересекаются со строкой 2"),
    (_end_before_start, "лист «ksg», строка 2: ДАТАКОН раньше ДАТАНАЧ"),
    (_empty_key, "лист «ksg», ячейка A5 («code»): пустой ключ"),
])
def test_broken_workbook_is_rejected_with_sheet_and_cell(exported, tmp_path, capsys, change, words):
    pkg, xlsx = exported
    before = {p: p.read_bytes() for p in pkg.rglob("*") if p.is_file()}
    bad = edit(xlsx, tmp_path / "bad.xlsx", change)
    assert main(["table", "import", str(pkg), "ksg", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "файлы пакета не изменены" in err and words in err, err
    assert {p: p.read_bytes() for p in pkg.rglob("*") if p.is_file()} == before


def test_unknown_sheet_table_and_inherited_table(exported, tmp_path, capsys):
    pkg, xlsx = exported
    wb = load_workbook(xlsx)
    wb["ksg"].title = "КСГ"
    wb.save(tmp_path / "renamed.xlsx")
    assert main(["table", "import", str(pkg), "ksg", str(tmp_path / "renamed.xlsx")]) == 1
    assert "нет листа «ksg» (листы: КСГ, описание)" in capsys.readouterr().err
    assert main(["table", "import", str(pkg), "level", str(xlsx)]) == 1
    assert "таблица «level» определена в пакете fixture@1.0.0" in capsys.readouterr().err
    assert main(["table", "export", str(pkg), "kgs", "--xlsx", str(tmp_path / "x.xlsx")]) == 1
    assert "нет таблицы «kgs»" in capsys.readouterr().err
    (tmp_path / "not.xlsx").write_text("a,b\n", encoding="utf-8")
    assert main(["table", "import", str(pkg), "ksg", str(tmp_path / "not.xlsx")]) == 1
    assert "не читается как XLSX" in capsys.readouterr().err


def test_a_table_the_package_rejects_is_put_back(exported, tmp_path, capsys):
    """The sheet is valid on its own, but the fixture's rule table refers to st21.001: the package
    no longer compiles, the CSV is restored."""
    pkg, xlsx = exported
    bad = edit(xlsx, tmp_path / "no_st21.xlsx", lambda ws: ws.delete_rows(3, 2))
    assert main(["table", "import", str(pkg), "ksg", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "пакет с ними не компилируется; файлы восстановлены" in err and "st21.001" in err, err
    assert (pkg / "tables" / "ksg.csv").read_text(encoding="utf-8") == CSV

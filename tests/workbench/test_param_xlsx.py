"""`metodika param export|import`: parameters with their periods through XLSX; only the edited
value changes in the YAML; a broken sheet is rejected with sheet and cell, nothing changes."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from api.cli.main import main

FIXTURE = Path(__file__).parents[1] / "dsl" / "fixture"
PARAMS = """# Тарифы региона (комментарий сохраняется)
base_rate:
  override: true
  type: money
  label: Базовая ставка, КС
  unit: руб.
  values:
    2025-01-01: 28147.26   # ТС, п. 4.1
    2025-07-01: {value: 30000.00, reference: "ДС № 2 к ТС"}
"""


def make(tmp: Path) -> Path:
    pkg = tmp / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "methodology.yaml").write_text(
        f"id: xp\nversion: 1.0.0\ntitle: тест\nextends: {FIXTURE}\nparameters: [parameters.yaml]\n", encoding="utf-8")
    (pkg / "parameters.yaml").write_text(PARAMS, encoding="utf-8")
    return pkg


def rows_of(ws, name):
    return [r for r in ws.iter_rows(min_row=2) if r[0].value == name]


@pytest.fixture
def exported(tmp_path):
    pkg = make(tmp_path)
    xlsx = tmp_path / "p.xlsx"
    assert main(["param", "export", str(pkg), "--xlsx", str(xlsx)]) == 0
    return pkg, xlsx


def edit(xlsx: Path, out: Path, change) -> Path:
    wb = load_workbook(xlsx)
    change(wb["параметры"])
    wb.save(out)
    return out


def test_edit_one_value_only_that_text_changes_and_diff_shows_it(exported, tmp_path, capsys):
    pkg, xlsx = exported
    old = tmp_path / "old"
    shutil.copytree(pkg, old)
    ws = load_workbook(xlsx)["параметры"]
    assert [(r[1].value, r[2].value) for r in rows_of(ws, "base_rate")] == \
        [(dt.datetime(2025, 1, 1), 28147.26), (dt.datetime(2025, 7, 1), 30000)]

    def change(ws):
        rows_of(ws, "base_rate")[0][2].value = 28200.1
    assert main(["param", "import", str(pkg), str(edit(xlsx, tmp_path / "e.xlsx", change))]) == 0
    assert "base_rate с 2025-01-01: 28147.26 → 28200.10" in capsys.readouterr().out
    assert (pkg / "parameters.yaml").read_text(encoding="utf-8") == PARAMS.replace("28147.26   #", "28200.10   #")
    assert main(["diff", str(old), str(pkg)]) == 0
    changes = [ln.strip() for ln in capsys.readouterr().out.splitlines() if ln.strip().startswith("~")]
    assert changes == ["~ base_rate «Базовая ставка, КС» с 2025-01-01: 28147.26 → 28200.10 руб."]


def test_new_period_and_end_of_force(exported, tmp_path, capsys):
    pkg, xlsx = exported

    def change(ws):
        ws.append(["base_rate", dt.datetime(2026, 1, 1), "не действует"])
    assert main(["param", "import", str(pkg), str(edit(xlsx, tmp_path / "e.xlsx", change))]) == 0
    text = (pkg / "parameters.yaml").read_text(encoding="utf-8")
    assert "    2026-01-01: null\n" in text and "# Тарифы региона" in text
    assert main(["check", str(pkg)]) == 0


def _bad_date(ws):
    rows_of(ws, "base_rate")[0][1].value = "31.02.2025"


def _wrong_type(ws):
    rows_of(ws, "base_rate")[1][2].value = 30000.005


def _unknown(ws):
    ws.append(["base_rat", dt.datetime(2025, 1, 1), 1])


def _inherited(ws):
    rows_of(ws, "max_days")[0][2].value = 5


@pytest.mark.parametrize(("change", "words"), [
    (_bad_date, "лист «параметры», ячейка B2 («ДАТАНАЧ»): «31.02.2025»"),
    (_wrong_type, "лист «параметры», ячейка C3 («значение», money)"),
    (_unknown, "нет параметра «base_rat»"),
    (_inherited, "параметр «max_days» определён в пакете fixture@1.0.0"),
])
def test_broken_sheet_is_rejected_with_sheet_and_cell(exported, tmp_path, capsys, change, words):
    pkg, xlsx = exported
    before = (pkg / "parameters.yaml").read_bytes()
    assert main(["param", "import", str(pkg), str(edit(xlsx, tmp_path / "bad.xlsx", change))]) == 1
    err = capsys.readouterr().err
    assert "файлы пакета не изменены" in err and words in err, err
    assert (pkg / "parameters.yaml").read_bytes() == before

"""`metodika form` over the output directory of a run."""

from __future__ import annotations

from form_world import INSURED, MONTH, PACKAGE, PLAN, write_run
from openpyxl import load_workbook

from api.cli.main import main


def test_form_command_renders_from_run_directory(tmp_path, capsys):
    run = write_run(tmp_path / "run")
    common = ["--run", str(run), "--package", str(PACKAGE), "--registry", str(MONTH), "--insured", str(INSURED)]
    assert main(["form", "mek_act", *common, "--format", "xlsx", "--out", str(tmp_path / "act.xlsx"),
                 "--param", "period=за март 2025 г."]) == 0
    ws = load_workbook(tmp_path / "act.xlsx").active
    assert any(row[1] == "01" for row in ws.iter_rows(values_only=True))
    assert main(["form", "ksg_report", *common, "--format", "xml", "--out", str(tmp_path / "k.xml")]) == 0
    assert (tmp_path / "k.xml").read_bytes().startswith(b"<?xml version='1.0' encoding='windows-1251'?>")
    assert main(["form", "plan_fact", *common, "--input", f"plan={PLAN}", "--out", str(tmp_path / "p.html")]) == 0
    assert main(["form", "ksg_tariff", "--package", str(PACKAGE), "--format", "pdf",
                 "--out", str(tmp_path / "t.pdf")]) == 0
    assert main(["form", "smo_register", *common, "--strict", "--out", str(tmp_path / "r.html")]) == 3
    assert "НАРУШЕНО" in capsys.readouterr().err


def test_form_command_reports_positioned_error(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: bad\nversion: 1\ntitle: x\ncolumns:\n  - {code: c, kind: moneyy}\nrows: []\n", encoding="utf-8")
    assert main(["form", str(bad), "--package", str(PACKAGE)]) == 1
    err = capsys.readouterr().err
    assert "bad.yaml:5:" in err and "moneyy" in err


def test_the_packages_schema_copy_equals_the_federal_schema():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    copy = (Path(PACKAGE) / "federal_schema.yaml").read_text(encoding="utf-8").split("\n", 2)[2]
    assert copy == (root / "methodologies" / "federal" / "2025" / "schema.yaml").read_text(encoding="utf-8")

"""``--out`` holds exactly one run (engine/oms/outdir.py): a failed run never leaves an earlier run's
results beside its protocol, nor an old run.json saying «done»."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from api_helpers import ERZ, MONTH, PKG

from api.cli.main import main

ARGS = ["run", str(PKG), "--insured", str(ERZ), "--no-store"]


def _status(out: Path) -> str:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))["status"]


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("METODIKA_HOME", str(tmp_path / "home"))
    return tmp_path


def _broken_registry(tmp_path: Path) -> Path:
    """The month's files with one XML cut in the middle: the registry fails ФЛК."""
    bad = tmp_path / "bad-month"
    shutil.copytree(MONTH, bad)
    xml = sorted(p for p in bad.rglob("*") if p.suffix.upper() == ".XML" and p.name.upper().startswith("H"))[0]
    data = xml.read_bytes()
    xml.write_bytes(data[: len(data) // 2])
    return bad


def test_a_failed_run_replaces_the_earlier_one(home):
    out = home / "out"
    assert main([*ARGS, "--registry", str(MONTH), "--out", str(out)]) == 0
    assert _status(out) == "done" and (out / "case_settlement.csv").is_file()
    assert main([*ARGS, "--registry", str(_broken_registry(home)), "--out", str(out)]) == 1
    assert _status(out) == "flk_failed"
    assert (out / "flk_protocol.html").is_file() and not (out / "case_settlement.csv").exists()
    assert not (out / "defects.csv").exists() and _leftovers(home) == []


def test_a_crash_while_writing_leaves_only_the_failure(home, monkeypatch, capsys):
    out = home / "out"
    assert main([*ARGS, "--registry", str(MONTH), "--out", str(out)]) == 0
    import forms.mek_outputs

    def half_written(res, stage, registry=None):
        (stage / "case_settlement.csv").write_text("case\n", encoding="utf-8")
        raise RuntimeError("disk went away")

    monkeypatch.setattr(forms.mek_outputs, "write_outputs", half_written)
    assert main([*ARGS, "--registry", str(MONTH), "--out", str(out)]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["run.json"] and _status(out) == "internal_error"
    assert _leftovers(home) == []
    assert "внутренняя ошибка программы" in capsys.readouterr().err


def test_a_directory_that_is_not_a_run_is_not_replaced(home, capsys):
    out = home / "documents"
    out.mkdir()
    (out / "letter.txt").write_text("keep me", encoding="utf-8")
    assert main([*ARGS, "--registry", str(MONTH), "--out", str(out)]) == 1
    assert (out / "letter.txt").read_text(encoding="utf-8") == "keep me"
    assert "не пуст и не содержит результатов прошлого расчёта" in capsys.readouterr().err

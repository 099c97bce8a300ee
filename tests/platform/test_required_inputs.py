"""A reference input missing for a check: one clear notice naming the check and the input; every check runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.cli.main import main
from engine.runtime.compiler import compile_package
from engine.runtime.required_inputs import inputs_read, reference_entities

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "methodologies" / "federal" / "2025"
MONTH = ROOT / "examples" / "registries" / "2025-03"
REF = ROOT / "examples" / "reference"


def _run(tmp: Path, name: str, *tables: str) -> tuple[int, dict, str]:
    args = ["run", str(PKG), "--registry", str(MONTH), "--insured", str(MONTH / "ERZ_2025-03.csv"),
            "--out", str(tmp / name), "--no-store"]
    for t in tables:
        args += ["--table", f"{t}={REF / (t + '.csv')}"]
    rc = main(args)
    return rc, json.loads((tmp / name / "run.json").read_text(encoding="utf-8")), name


def test_missing_calendar_is_one_notice_and_other_checks_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rc, without, _ = _run(tmp_path, "without")
    out = capsys.readouterr().out
    assert rc == 0
    lines = [x for x in out.splitlines() if "«waiting_time»" in x]
    assert len(lines) == 1 and "(1.1)" in lines[0] and "calendar_day" in lines[0] and "--table calendar_day=" in lines[0]
    notice = next(n for n in without["notices"] if n["check"] == "waiting_time")
    assert notice["inputs"] == ["calendar_day"] and notice["code"] == "1.1"
    assert without["defects"] > 0, "the other checks ran"
    rc, with_cal, _ = _run(tmp_path, "with", "calendar_day")
    assert rc == 0 and not any(n["check"] == "waiting_time" for n in with_cal["notices"])
    assert with_cal["defects"] >= without["defects"]


def test_every_ground_names_its_inputs() -> None:
    m = compile_package(PKG)
    refs = reference_entities(m)
    assert {"account", "case", "sl", "service", "patient"}.isdisjoint(refs)
    expected = {"waiting_time": {"calendar_day"}, "off_profile_stay": {"profile_diagnosis"},
                "dn_not_included": {"dn_diagnosis"}, "not_in_program": {"program_exclusion"},
                "other_source": {"other_payer"}, "license_terms": {"license_violation"},
                "doctor_not_accredited": {"specialist"}, "worker_not_accredited": {"specialist"},
                "included_in_other_tariff": {"tariff_inclusion", "paid_case"},
                "included_in_percapita": {"attachment", "percapita_scope"}, "duplicate_case": set()}
    for check, inputs in expected.items():
        assert inputs_read(m, check) & refs == inputs, check

"""Across months and submissions (SQLite and PostgreSQL): the history of accepted cases in the
database feeds the next month's МЭК, and a second registry for the same МО × period is refused."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from api_helpers import ApiEnv, zip_dir
from history_months import FEDERAL, INCLUSION, Months, corrected, make_months
from sqlalchemy import func, select

from api.cli.main import main
from api.db.models import AcceptedCase, Registry, RegistrySubmission, Run
from api.db.session import make_sessionmaker


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> Months:
    return make_months(tmp_path_factory.mktemp("months"))


def _defects(out: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    with (out / "defects.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            found.setdefault(row["row"].split("/")[-1], set()).add(row["code"])
    return found


def _run(months: Months, registry: Path, out: Path) -> int:
    return main(["run", str(FEDERAL), "--registry", str(registry), "--insured", str(months.erz),
                 "--table", f"tariff_inclusion={INCLUSION}", "--out", str(out)])


def test_cli_february_history_flags_march(db, months: Months, tmp_path: Path,  # type: ignore[no-untyped-def]
                                          monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("METODIKA_DATABASE_URL", db.url)
    monkeypatch.setenv("METODIKA_HOME", str(tmp_path / "home"))
    assert _run(months, months.feb, tmp_path / "feb") == 0
    sessions = make_sessionmaker(db.engine)
    with sessions() as s:
        feb_accepted = s.scalar(select(func.count()).select_from(AcceptedCase))
        source = s.scalar(select(AcceptedCase).where(AcceptedCase.idcase == months.source))
    assert feb_accepted == 40 and source is not None and source.period == "2025-02" and source.idsp == 30
    assert _defects(tmp_path / "feb") == {}

    assert _run(months, months.mar, tmp_path / "mar") == 0
    found = _defects(tmp_path / "mar")
    assert "1.10.1" in found[months.rebilled], "the February case billed again in March"
    assert "1.10.3" in found[months.visit], "a visit of the February обращение billed separately in March"
    with sessions() as s:
        run = s.scalars(select(Run).order_by(Run.id.desc())).first()
        assert run is not None and run.input_hashes.get("paid_case:history")
        periods = set(s.scalars(select(AcceptedCase.period)))
        rebilled = s.scalar(select(func.count()).select_from(AcceptedCase).where(
            AcceptedCase.idcase.in_([months.rebilled, months.visit])))
    assert periods == {"2025-02", "2025-03"} and rebilled == 0, "refused cases are not history"

    # the same March files again: refused, nothing stored
    capsys.readouterr()
    assert _run(months, months.mar, tmp_path / "mar2") == 1
    assert "API-RESUBMIT-SAME" in capsys.readouterr().err
    # another March registry of the МО without PR_NOV = 1: refused
    assert _run(months, corrected(months.mar, tmp_path / "mar_new", "0"), tmp_path / "mar3") == 1
    err = capsys.readouterr().err
    assert "API-RESUBMIT:" in err and "PR_NOV = 1" in err
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Registry)) == 2
    # a correction (every record PR_NOV = 1) is accepted; its records are checked against the history
    assert _run(months, corrected(months.mar, tmp_path / "mar_fix", "1"), tmp_path / "mar4") == 0
    fixed = _defects(tmp_path / "mar4")
    assert "1.10.3" in fixed.pop(months.visit), "never accepted: only its inclusion in the обращение"
    assert len(fixed) == 31 and all("1.10.1" in codes for codes in fixed.values()), "accepted before: 1.10.1"
    with sessions() as s:
        kinds = list(s.scalars(select(RegistrySubmission.kind).order_by(RegistrySubmission.id)))
    assert kinds == ["first", "first", "correction"]


def _publish_federal(env: ApiEnv) -> int:
    r = env.client.post("/methodologies/versions", headers=env.h("economist"),
                        files={"archive": ("federal.zip", zip_dir(FEDERAL), "application/zip")})
    assert r.status_code in (200, 201), r.text
    return int(r.json()["id"])


def _api_run(env: ApiEnv, version: int, registry: int, months: Months) -> dict:
    files = [("insured", ("ERZ.csv", months.erz.read_bytes(), "text/csv")),
             ("tables", ("tariff_inclusion.csv", INCLUSION.read_bytes(), "text/csv"))]
    r = env.client.post("/runs", headers=env.h("economist"), files=files,
                        data={"methodology_version_id": str(version), "registry_id": str(registry)})
    assert r.status_code == 202, r.text
    return env.wait_run(r.json()["id"])


def test_api_resubmission_refused_and_history_across_months(env: ApiEnv, months: Months) -> None:
    version = _publish_federal(env)
    feb = env.upload(sorted(months.feb.glob("*.XML")), wait=True)
    assert feb.status_code == 201, feb.text
    assert _api_run(env, version, feb.json()["id"], months)["status"] == "done"

    mar = env.upload(sorted(months.mar.glob("*.XML")), wait=True)
    assert mar.status_code == 201, mar.text
    run = _api_run(env, version, mar.json()["id"], months)
    assert run["status"] == "done", run
    notices = {n["check"]: n for n in run["notices"]}
    assert notices["waiting_time"]["inputs"] == ["calendar_day"] and "1.10.3" not in str(notices.get(
        "included_in_other_tariff", "")), "history and tariff_inclusion were given: 1.10.3 lost nothing"
    r = env.client.get(f"/runs/{run['id']}/defects", headers=env.h("economist"), params={"limit": 500})
    assert r.status_code == 200, r.text
    codes = {(d["row_key"].split("/")[-1], d["code"]) for d in r.json()["items"]}
    assert (months.rebilled, "1.10.1") in codes and (months.visit, "1.10.3") in codes

    again = env.upload(sorted(months.mar.glob("*.XML")), wait=True)
    assert again.status_code == 409, again.text
    body = again.json()
    assert body["type"].endswith("resubmission") and body["errors"][0]["code"] == "API-RESUBMIT-SAME"
    background = env.upload(sorted(months.mar.glob("*.XML")))
    assert background.status_code == 202
    state = env.wait_registry(background.json()["id"])
    assert state["status"] == "rejected"
    protocol = env.client.get(f"/registries/{state['id']}/protocol", headers=env.h("economist")).json()
    assert [e["code"] for e in protocol["errors"]] == ["API-RESUBMIT-SAME"]
    flk_p = env.client.get(f"/registries/{state['id']}/flk_p", headers=env.h("economist"),
                           params={"file": "HM000001T76_25031.XML"})
    assert flk_p.status_code == 200 and b"<OSHIB>API-RESUBMIT-SAME</OSHIB>" in flk_p.content
    assert flk_p.content.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')


def test_history_of_a_month_with_every_file_kind_skips_cases_without_conditions():
    """A D-file case has no USL_OK/profile: it is not kept in the history, and storing does not fail."""
    from api.store.history import accepted_rows
    from engine.oms.pipeline import process
    from engine.runtime.compiler import compile_package

    root = Path(__file__).resolve().parents[2]
    month = root / "examples" / "registries" / "2025-09"
    res = process(compile_package(root / "methodologies" / "federal" / "2025"), [month],
                  {"insured": month / "ERZ_2025-09.csv"})
    rows = accepted_rows(res, "2025-09")
    assert rows and all(r["usl_ok"] is not None and r["profil"] is not None for r in rows)
    d_cases = res.run.data.entities["case"].cols["usl_ok"].missing
    assert d_cases is not None and d_cases.any()      # the month does have D cases

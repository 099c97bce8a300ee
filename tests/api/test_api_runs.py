"""Runs through the API: results and defects with filters and paging, explain, reproducibility."""

from __future__ import annotations

from api_helpers import MO, SMO, ApiEnv
from sqlalchemy import select

from api.db.models import AuditEvent, Run, RunDefect, RunResult


def stored(env: ApiEnv, run_id: int) -> tuple[list, list]:
    with env.sessions() as s:
        res = sorted((r.entity, r.row_key, r.mo_code, r.smo_code, repr(sorted(r.values.items())))
                     for r in s.scalars(select(RunResult).where(RunResult.run_id == run_id)))
        dfs = sorted((d.entity, d.row_key, d.code, d.title, d.withheld_kopecks, d.fine_kopecks, d.mo_code,
                      d.smo_code, repr(sorted(d.values.items())))
                     for d in s.scalars(select(RunDefect).where(RunDefect.run_id == run_id)))
    return res, dfs


def test_run_stores_results_defects_and_provenance(month: ApiEnv) -> None:
    run = month.client.get(f"/runs/{month.run_id}", headers=month.h("economist")).json()
    assert run["status"] == "done" and run["progress"] == 1.0 and run["error"] is None
    assert run["methodology"] == "api-test@1.0.0" and len(run["methodology_sha256"]) == 64
    assert run["engine_version"] and {"registry:columns.npz", "insured:ERZ_2025-03.csv"} <= set(run["input_hashes"])
    assert run["timings"]["total_s"] > 0 and run["started_at"] and run["finished_at"]
    cases = month.all_pages(f"/runs/{month.run_id}/results", entity="case", limit=37)
    assert len(cases) == 450 and len({c["id"] for c in cases}) == 450
    c = cases[0]["values"]
    assert isinstance(c["cost"], int) and isinstance(c["billed_kopecks"], int)
    assert c["accepted_kopecks"] == c["billed_kopecks"] - c["withheld_kopecks"]
    assert sum(x["values"]["billed_kopecks"] for x in cases) == 219368007  # 2 193 680,07 ₽
    defects = month.all_pages(f"/runs/{month.run_id}/defects")
    assert {d["code"] for d in defects} == {"1.2.1", "1.10.2"}
    d = next(x for x in defects if x["code"] == "1.2.1")
    assert d["entity"] == "patient" and d["withheld_kopecks"] > 0 and d["details"]["rule"].startswith("rules/")
    with month.sessions() as s:
        assert s.scalar(select(Run.status).where(Run.id == month.run_id)) == "done"
        actions = set(s.scalars(select(AuditEvent.action)))
    assert {"methodology.publish", "registry.upload", "registry.import", "run.start", "run.done"} <= actions


def test_filters_and_paging(month: ApiEnv) -> None:
    url = f"/runs/{month.run_id}/results"
    page = month.client.get(url, headers=month.h("economist"), params={"entity": "case", "mo": MO, "limit": 10})
    body = page.json()
    assert len(body["items"]) == 10 and body["next_after"] == body["items"][-1]["id"]
    assert body["types"]["case.cost"] == "money" and body["masked"]  # economist: no personal_data.read
    mo_rows = month.all_pages(url, entity="case", mo=MO)
    assert len(mo_rows) == body["total"] and {r["mo_code"] for r in mo_rows} == {MO}
    smo_rows = month.all_pages(url, entity="case", smo=SMO)
    assert {r["smo_code"] for r in smo_rows} == {SMO} and 0 < len(smo_rows) < 450
    both = month.all_pages(url, entity="case", mo=MO, smo=SMO)
    assert {(r["mo_code"], r["smo_code"]) for r in both} == {(MO, SMO)}
    dups = month.all_pages(f"/runs/{month.run_id}/defects", code="1.10.2")
    assert dups and {d["code"] for d in dups} == {"1.10.2"} and {d["entity"] for d in dups} == {"case"}
    assert month.all_pages(f"/runs/{month.run_id}/defects", entity="service") == []
    bad = month.client.get(url, headers=month.h("economist"), params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "limit"]


def test_explain_a_case(month: ApiEnv) -> None:
    key = month.all_pages(f"/runs/{month.run_id}/results", entity="case", limit=1000)[5]["row_key"]
    r = month.client.get(f"/runs/{month.run_id}/explain", headers=month.h("economist"),
                         params={"key": key, "name": "cost"})
    assert r.status_code == 200, r.text
    tree = r.json()["tree"]
    assert tree["kind"] == "definition" and tree["package"] == "api-test@1.0.0"
    assert tree["source"].startswith("rules/cases.rules:13:") and tree["label"] == "Стоимость случая к оплате"
    kinds = {c["kind"] for c in tree["children"]}
    assert "definition" in kinds or "field" in kinds
    assert "cost" in r.json()["text"]
    missing = month.client.get(f"/runs/{month.run_id}/explain", headers=month.h("economist"),
                               params={"key": key, "name": "nope"})
    assert missing.status_code == 404 and missing.json()["errors"][0]["loc"] == ["query", "name"]


def test_same_inputs_give_same_results(month: ApiEnv) -> None:
    second = month.start_run()
    first = month.client.get(f"/runs/{month.run_id}", headers=month.h("economist")).json()
    assert second["id"] != first["id"] and second["input_hashes"] == first["input_hashes"]
    assert second["methodology_sha256"] == first["methodology_sha256"]
    assert second["engine_version"] == first["engine_version"]
    a, b = stored(month, first["id"]), stored(month, second["id"])
    assert a == b and len(a[0]) == 450 and len(a[1]) == 31


def test_run_without_insured_register_fails_cleanly(month: ApiEnv) -> None:
    run = month.start_run(insured=False)
    assert run["status"] == "done"  # the register is optional in the schema: every patient is uninsured
    defects = month.all_pages(f"/runs/{run['id']}/defects", code="1.2.1")
    assert len(defects) == 450

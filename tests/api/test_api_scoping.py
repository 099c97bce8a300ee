"""Data scoping and personal data through the API: МО operator, СМО operator, СМО medic."""

from __future__ import annotations

from api_helpers import MO, OTHER_MO, SMO, ApiEnv

from api.store.personal import MASK


def test_mo_operator_sees_only_its_mo(month: ApiEnv) -> None:
    run = month.run_id
    assert month.client.get(f"/runs/{run}", headers=month.h("mo_op")).status_code == 200
    assert [r["id"] for r in month.client.get("/runs", headers=month.h("mo_op")).json()] == [run]
    rows = month.all_pages(f"/runs/{run}/results", "mo_op")
    assert rows and {r["mo_code"] for r in rows} == {MO}
    everyone = month.all_pages(f"/runs/{run}/results", "economist", mo=MO)
    assert len(rows) == len(everyone)
    assert month.all_pages(f"/runs/{run}/results", "mo_op", mo=OTHER_MO) == []
    defects = month.all_pages(f"/runs/{run}/defects", "mo_op")
    assert defects and {d["mo_code"] for d in defects} == {MO}
    foreign = month.all_pages(f"/runs/{run}/results", "economist", mo=OTHER_MO)[0]["row_key"]
    r = month.client.get(f"/runs/{run}/explain", headers=month.h("mo_op"), params={"key": foreign, "name": "cost"})
    assert r.status_code == 404
    own = rows[0]["row_key"]
    ok = month.client.get(f"/runs/{run}/explain", headers=month.h("mo_op"), params={"key": own, "name": "cost"})
    assert ok.status_code == 200 and not ok.json()["masked"]  # its own patients' data
    # the registry has three МО: it belongs to none of them
    assert month.client.get(f"/registries/{month.registry_id}", headers=month.h("mo_op")).status_code == 404


def test_smo_operator_sees_only_its_insured(month: ApiEnv) -> None:
    run = month.run_id
    rows = month.all_pages(f"/runs/{run}/results", "smo_op")
    assert rows and {r["smo_code"] for r in rows} == {SMO}
    assert len(rows) == len(month.all_pages(f"/runs/{run}/results", "economist", smo=SMO))
    defects = month.all_pages(f"/runs/{run}/defects", "smo_op")
    assert defects and {d["smo_code"] for d in defects} == {SMO}
    assert month.client.get(f"/registries/{month.registry_id}", headers=month.h("smo_op")).status_code == 403
    assert month.client.post("/runs", headers=month.h("smo_op"), data={}).status_code == 403
    foreign = month.all_pages(f"/runs/{run}/results", "economist", smo="76003")[0]["row_key"]
    r = month.client.get(f"/runs/{run}/explain", headers=month.h("smo_op"), params={"key": foreign, "name": "cost"})
    assert r.status_code == 404


def test_personal_data_is_masked_without_the_right(month: ApiEnv) -> None:
    run = month.run_id
    masked = month.all_pages(f"/runs/{run}/defects", "smo_op", code="1.10.2")
    full = month.all_pages(f"/runs/{run}/defects", "smo_medic", code="1.10.2")
    assert masked and len(masked) == len(full)
    assert all(d["details"]["message"].endswith(f"(ЕНП {MASK})") for d in masked)
    assert all(MASK not in d["details"]["message"] for d in full)
    assert "personal_keys" not in full[0]["details"] and "message_masked" not in full[0]["details"]
    insured = month.all_pages(f"/runs/{run}/defects", "economist", code="1.2.1")
    assert all("полис ***" in d["details"]["message"] for d in insured)
    key = masked[0]["row_key"]
    for user, hidden in (("smo_op", True), ("smo_medic", False)):
        r = month.client.get(f"/runs/{run}/explain", headers=month.h(user),
                             params={"key": key, "name": "patient_enp"})
        assert r.status_code == 200 and r.json()["masked"] is hidden
        text = r.json()["text"]
        assert (MASK in text) is hidden, text


def test_permissions_of_run_endpoints(month: ApiEnv) -> None:
    assert month.client.get(f"/runs/{month.run_id}").status_code == 401
    assert month.client.get(f"/runs/{month.run_id}/results", headers=month.h("nsi")).status_code == 403
    assert month.client.get(f"/runs/{month.run_id}/defects", headers=month.h("nsi")).status_code == 403
    other = month.client.get(f"/runs/{month.run_id}", headers=month.h("mo_op2"))
    assert other.status_code == 200  # 000002 has cases in this run
    assert {r["mo_code"] for r in month.all_pages(f"/runs/{month.run_id}/results", "mo_op2")} == {OTHER_MO}

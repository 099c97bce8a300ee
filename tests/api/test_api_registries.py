"""Registries through the API: background import, ФЛК rejection storing nothing, scope of uploads."""

from __future__ import annotations

from pathlib import Path

from api_helpers import MONTH, ApiEnv, month_files
from sqlalchemy import func, select

from api.db.models import AuditEvent, Registry
from api.store.columnar import file_sha256, load_tables


def _broken(tmp: Path) -> list[Path]:
    """The 000001 pair with one case's DATE_Z_1 made invalid: an XSD format error."""
    h = MONTH / "HM000001T76_25031.XML"
    text = h.read_bytes().replace(b"<DATE_Z_1>2025-", b"<DATE_Z_1>2025/", 1)
    bad = tmp / h.name
    bad.write_bytes(text)
    return [bad, MONTH / "LM000001T76_25031.XML"]


def test_upload_imports_in_background(env: ApiEnv) -> None:
    r = env.upload(month_files())
    assert r.status_code == 202 and r.headers["location"] == f"/registries/{r.json()['id']}"
    assert r.json()["status"] in ("uploaded", "importing", "imported")
    body = env.wait_registry(r.json()["id"])
    assert body["status"] == "imported" and body["progress"] == 1.0 and body["period"] == "2025-03"
    assert body["counts"]["case"] == 450 and body["mo_code"] is None  # three МО in one upload
    assert set(body["filenames"]) == {p.name for p in month_files()}
    npz = env.home / "registries" / f"{body['id']}.npz"
    assert body["input_sha256"]["columns.npz"] == file_sha256(npz)
    assert len(load_tables(npz)["case"]["key"]) == 450
    assert not (env.home / "uploads" / str(body["id"])).exists()
    protocol = env.client.get(f"/registries/{body['id']}/protocol", headers=env.h("economist")).json()
    assert protocol["errors"] == [] and protocol["status"] == "imported"


def test_malformed_registry_is_rejected_and_nothing_is_stored(env: ApiEnv, tmp_path: Path) -> None:
    r = env.upload(_broken(tmp_path), wait=True)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["type"].endswith(":flk") and "ФЛК" in body["detail"]
    err = body["errors"][0]
    assert err["code"] == "FLK-XSD-FORMAT" and err["loc"][0] == "HM000001T76_25031.XML" and err["loc"][1] > 1
    assert "DATE_Z_1" in err["loc"][2]
    with env.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Registry)) == 0
        assert s.scalar(select(func.count()).where(AuditEvent.action == "registry.reject")) == 1
    assert not list((env.home / "registries").glob("*")) if (env.home / "registries").exists() else True


def test_background_rejection_keeps_protocol_but_no_data(env: ApiEnv, tmp_path: Path) -> None:
    r = env.upload(_broken(tmp_path))
    assert r.status_code == 202
    body = env.wait_registry(r.json()["id"])
    assert body["status"] == "rejected" and body["errors"] >= 1 and "ФЛК" in body["error"]
    assert not (env.home / "registries" / f"{body['id']}.npz").exists()
    assert not (env.home / "uploads" / str(body["id"])).exists()
    protocol = env.client.get(f"/registries/{body['id']}/protocol", headers=env.h("economist")).json()
    assert protocol["errors"][0]["code"] == "FLK-XSD-FORMAT" and protocol["errors"][0]["n_zap"]
    env.publish()
    run = env.client.post("/runs", headers=env.h("economist"),
                          data={"methodology_version_id": str(env.version_id), "registry_id": str(body["id"])})
    assert run.status_code == 409 and run.json()["errors"][0]["loc"] == ["body", "registry_id"]


def test_good_upload_with_wait_is_created(env: ApiEnv) -> None:
    r = env.upload([MONTH / "HM000002T76_25031.XML", MONTH / "LM000002T76_25031.XML"], wait=True)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "imported" and r.json()["mo_code"] == "000002"


def test_mo_operator_uploads_only_its_own_mo(env: ApiEnv) -> None:
    own = env.upload([MONTH / "HM000001T76_25031.XML", MONTH / "LM000001T76_25031.XML"], "mo_op", wait=True)
    assert own.status_code == 201 and own.json()["mo_code"] == "000001"
    foreign = env.upload([MONTH / "HM000002T76_25031.XML", MONTH / "LM000002T76_25031.XML"], "mo_op")
    body = env.wait_registry(foreign.json()["id"], "mo_op")
    assert body["status"] == "rejected"
    protocol = env.client.get(f"/registries/{body['id']}/protocol", headers=env.h("mo_op")).json()
    assert protocol["errors"][0]["code"] == "API-MO-SCOPE"
    explicit = env.upload(month_files()[:1], "mo_op", data={"mo_code": "000002"})
    assert explicit.status_code == 403
    mine = {r["id"] for r in env.client.get("/registries", headers=env.h("mo_op")).json()}
    assert mine == {own.json()["id"], body["id"]}
    assert env.client.get("/registries", headers=env.h("mo_op2")).json() == []
    assert env.client.get(f"/registries/{own.json()['id']}", headers=env.h("mo_op2")).status_code == 404
    assert env.client.get("/registries", headers=env.h("smo_op")).status_code == 403
    assert env.upload(month_files()[:1], "medic").status_code == 403


def test_upload_validation_errors_have_field_paths(env: ApiEnv) -> None:
    r = env.client.post("/registries", headers=env.h("economist"), data={"period": "март"},
                        files=[("files", ("H.xml", b"<x/>", "application/xml"))])
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "period"]
    none = env.client.post("/registries", headers=env.h("economist"))
    assert none.status_code == 422 and none.json()["errors"][0]["loc"] == ["body", "files"]

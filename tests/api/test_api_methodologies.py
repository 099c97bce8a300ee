"""Methodologies through the API: publish, immutability, diagnostics, views, tests, diff."""

from __future__ import annotations

from api_helpers import PKG, ApiEnv, zip_dir
from sqlalchemy import func, select

from api.db.models import AuditEvent, MethodologyVersion

BROKEN_RULES = (PKG / "rules" / "cases.rules").read_text(encoding="utf-8").replace(
    "sl_total: money = sum(sl.sum_m)", "sl_total: money = sum(sl.sum_mm)")


def test_publish_is_idempotent_and_audited(env: ApiEnv) -> None:
    r = env.publish()
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["created"] and first["package_id"] == "api-test" and len(first["sha256"]) == 64
    again = env.publish()
    assert again.status_code == 200 and again.json()["id"] == first["id"] and not again.json()["created"]
    with env.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MethodologyVersion)) == 1
        assert s.scalar(select(func.count()).where(AuditEvent.action == "methodology.publish")) == 1


def test_same_version_with_other_content_is_refused(env: ApiEnv) -> None:
    assert env.publish().status_code == 201
    changed = (PKG / "parameters.yaml").read_text(encoding="utf-8").replace("1.0", "0.5")
    r = env.publish({"parameters.yaml": changed})
    assert r.status_code == 409, r.text
    assert "неизменна" in r.json()["detail"]


def test_package_with_errors_is_not_published(env: ApiEnv) -> None:
    r = env.publish({"rules/cases.rules": BROKEN_RULES})
    assert r.status_code == 422, r.text
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    err = body["errors"][0]
    assert err["loc"][0] == "rules/cases.rules" and isinstance(err["loc"][1], int) and err["loc"][2] > 1
    assert "sum_mm" in err["msg"] and err["code"].startswith("E")
    with env.sessions() as s:
        assert s.scalar(select(func.count()).select_from(MethodologyVersion)) == 0


def test_check_reports_diagnostics_and_runs_tests(env: ApiEnv) -> None:
    bad = env.client.post("/methodologies/check", headers=env.h("nsi"),
                          files={"archive": ("p.zip", zip_dir(PKG, {"rules/cases.rules": BROKEN_RULES}))})
    assert bad.status_code == 200 and not bad.json()["ok"]
    diag = bad.json()["diagnostics"][0]
    assert diag["span"]["file"] == "rules/cases.rules" and diag["span"]["line"] == 8
    good = env.client.post("/methodologies/check", headers=env.h("economist"), data={"tests": "true"},
                           files={"archive": ("p.zip", zip_dir(PKG))})
    assert good.json()["ok"] and good.json()["tests"]["passed"] == 1 and good.json()["tests"]["failed"] == 0
    denied = env.client.post("/methodologies/check", headers=env.h("mo_op"), files={"archive": ("p.zip", b"x")})
    assert denied.status_code == 403
    junk = env.client.post("/methodologies/check", headers=env.h("economist"),
                           files={"archive": ("p.zip", b"not a zip")})
    assert junk.status_code == 422 and junk.json()["errors"][0]["loc"] == ["body", "archive"]


def test_views_files_tests_and_diff(env: ApiEnv) -> None:
    v1 = env.publish().json()["id"]
    h = env.h("mo_op")  # every role reads methodologies
    assert env.client.post("/methodologies/versions", headers=h, files={"archive": ("p.zip", b"")}).status_code == 403
    listing = env.client.get("/methodologies", headers=h).json()
    assert listing[0]["package_id"] == "api-test" and listing[0]["versions"][0]["id"] == v1
    files = {f["path"] for f in env.client.get(f"/methodologies/versions/{v1}/files", headers=h).json()}
    assert {"methodology.yaml", "rules/cases.rules", "schema.yaml", "tests/cost.yaml"} <= files
    text = env.client.get(f"/methodologies/versions/{v1}/files/rules/cases.rules", headers=h)
    assert text.status_code == 200 and "services_total" in text.text
    view = env.client.get(f"/methodologies/versions/{v1}/resolved", headers=h).json()
    cost = next(d for d in view["definitions"] if d["name"] == "cost")
    assert cost["package"] == "api-test@1.0.0" and cost["source"]["file"] == "rules/cases.rules"
    assert cost["source"]["line"] == 13 and cost["label"] == "Стоимость случая к оплате"
    param = view["parameters"][0]
    assert param["name"] == "share_duplicate" and param["periods"][0]["from"] == "2025-01-01"
    assert {c["name"] for c in view["checks"]} == {"duplicate_case", "not_insured"}
    assert any(f["personal"] for e in view["entities"] if e["name"] == "patient" for f in e["fields"])
    tests = env.client.post(f"/methodologies/versions/{v1}/tests", headers=env.h("economist")).json()
    assert tests["passed"] == 1 and tests["cases"][0]["file"].endswith("tests/cost.yaml")
    manifest = (PKG / "methodology.yaml").read_text(encoding="utf-8").replace("1.0.0", "1.1.0")
    params = (PKG / "parameters.yaml").read_text(encoding="utf-8").replace(
        "2025-01-01: 1.0", "2025-01-01: 1.0\n    2025-04-01: 0.5")
    v2 = env.publish({"methodology.yaml": manifest, "parameters.yaml": params}).json()["id"]
    diff = env.client.get(f"/methodologies/versions/{v1}/diff/{v2}", headers=h).json()
    assert diff["from"] == "api-test@1.0.0" and diff["to"] == "api-test@1.1.0"
    change = next(c for c in diff["changes"] if c["name"] == "share_duplicate")
    assert change["kind"] == "parameter" and any("0.5" in line for line in change["details"])
    assert env.client.get("/methodologies/versions/999", headers=h).status_code == 404

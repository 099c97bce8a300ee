"""`backend` of POST /runs: the shipped month run with the SQL backend (PostgreSQL) gives the same
totals and the same defects as the default (numpy) run; an unknown backend is a field-level 422.
The platform database is SQLite and PostgreSQL (tests/conftest.py); the SQL backend always runs
on PostgreSQL (METODIKA_SQL_URL, or the platform's own database when it is PostgreSQL)."""

from __future__ import annotations

from typing import Any

from api_helpers import ERZ, ApiEnv


def _start(env: ApiEnv, backend: str | None) -> Any:
    data = {"methodology_version_id": str(env.version_id), "registry_id": str(env.registry_id)}
    if backend is not None:
        data["backend"] = backend
    return env.client.post("/runs", headers=env.h("economist"), data=data,
                           files={"insured": ("ERZ_2025-03.csv", ERZ.read_bytes(), "text/csv")})


def _defects(env: ApiEnv, run_id: int) -> list[tuple]:
    rows = env.all_pages(f"/runs/{run_id}/defects")
    return sorted((d["entity"], d["row_key"], d["code"], d["withheld_kopecks"], d["fine_kopecks"]) for d in rows)


def test_postgres_run_gives_the_default_runs_totals_and_defects(month: ApiEnv, pg_available, monkeypatch):
    from tests.conftest import _require_pg, pg_url

    _require_pg(pg_available)
    if month.db.backend == "sqlite":
        monkeypatch.setenv("METODIKA_SQL_URL", pg_url())
    base = month.wait_run(month.run_id)
    r = _start(month, "postgres")
    assert r.status_code == 202, r.text
    assert r.json()["backend"] == "postgres"
    sql = month.wait_run(r.json()["id"])
    assert base["status"] == sql["status"] == "done", sql.get("error")
    assert base["backend"] == "numpy" and "sql_load_s" in (sql["timings"] or {})     # really two backends
    h = month.h("economist")
    t_np = month.client.get(f"/runs/{base['id']}/totals", headers=h).json()
    t_sql = month.client.get(f"/runs/{sql['id']}/totals", headers=h).json()
    assert t_np.pop("run_id") == base["id"] and t_sql.pop("run_id") == sql["id"]
    assert t_np == t_sql and t_np["withheld_kopecks"] > 0, t_np
    d_np, d_sql = _defects(month, base["id"]), _defects(month, sql["id"])
    assert d_np == d_sql and len(d_np) > 0


def test_unknown_backend_is_a_field_level_422(env: ApiEnv):
    env.publish()
    env.upload_month()
    r = _start(env, "oracle")
    assert r.status_code == 422, r.text
    body = r.json()
    assert any(e["loc"][-1] == "backend" for e in body["errors"]), body

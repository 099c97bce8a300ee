"""An integer beyond 64 bits in any path or query parameter is a 422 naming the field, never a 500;
the web pages answer such addresses with an HTML error page, not JSON."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from platform_helpers import Database, add_users, client_for, login
from sqlalchemy.orm import Session, sessionmaker

from api.auth.roles import Role
from api.web import auth_pages, explain, forms_pages, methodologies, registries, runs

HUGE = "99999999999999999999999"
PARAM = re.compile(r"\{([^}:]+)(?::path)?\}")


def _is_integer(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "integer" or any(s.get("type") == "integer" for s in schema.get("anyOf", []))


def integer_params(openapi: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(method, path template, parameter, where) for every integer path/query parameter."""
    out = []
    for path, ops in openapi["paths"].items():
        for method, op in ops.items():
            for prm in op.get("parameters", []):
                if prm["in"] in ("path", "query") and _is_integer(prm.get("schema", {})):
                    out.append((method, path, prm["name"], prm["in"]))
    return out


def _url(path: str, name: str, where: str) -> tuple[str, dict[str, str]]:
    def fill(m: re.Match[str]) -> str:
        return HUGE if m.group(1) == name else ("1" if m.group(1).endswith("_id") else "x")

    url = PARAM.sub(fill, path)
    return url, ({name: HUGE} if where == "query" else {})


def test_every_integer_parameter_rejects_int64_overflow(db: Database, sessions: sessionmaker[Session]) -> None:
    add_users(sessions, [Role.ADMIN, Role.ECONOMIST, Role.HEAD])
    client = client_for(db.engine)
    headers = [login(client, r.value) for r in (Role.ECONOMIST, Role.ADMIN, Role.HEAD)]
    params = integer_params(client.app.openapi())  # type: ignore[attr-defined]
    names = {(p, n) for _, p, n, _ in params}
    # the sweep really covers ids in paths and cursors/offsets in queries
    assert {("/runs/{run_id}", "run_id"), ("/runs", "offset"), ("/runs/{run_id}/defects", "after"),
            ("/users/{user_id}", "user_id"), ("/audit/events", "after")} <= names
    checked = 0
    for method, path, name, where in params:
        url, query = _url(path, name, where)
        for h in headers:  # the first role allowed to call the route
            r = client.request(method.upper(), url, params=query, headers=h, json={} if method != "get" else None)
            if r.status_code not in (401, 403):
                break
        assert r.status_code == 422, (method, path, name, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/problem+json")
        locs = [e["loc"] for e in r.json()["errors"]]
        assert [where, name] in locs, (path, name, locs)
        checked += 1
    assert checked >= 15


def test_start_run_form_ids_are_bounded(db: Database, sessions: sessionmaker[Session]) -> None:
    add_users(sessions, [Role.ECONOMIST])
    client = client_for(db.engine)
    r = client.post("/runs", headers=login(client, "economist"),
                    data={"methodology_version_id": HUGE, "registry_id": "1"})
    assert r.status_code == 422
    assert ["body", "methodology_version_id"] in [e["loc"] for e in r.json()["errors"]]


def _web_login(client: TestClient, user: str) -> None:
    page = client.get("/web/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = client.post("/web/login", data={"username": user, "password": "correct-horse-1", "csrf": csrf.group(1),
                                        "next": "/web/"}, follow_redirects=False)
    assert r.status_code == 303


def test_web_pages_answer_overflow_and_unknown_pages_with_html(db: Database,
                                                               sessions: sessionmaker[Session]) -> None:
    add_users(sessions, [Role.ECONOMIST])
    client = client_for(db.engine)
    _web_login(client, "economist")
    modules = (auth_pages, registries, runs, explain, forms_pages, methodologies)
    web_paths = sorted({r.path for m in modules for r in m.router.routes
                        if "_id}" in r.path and "GET" in r.methods})
    assert "/web/runs/{run_id}" in web_paths and "/web/registries/{registry_id}" in web_paths
    for path in web_paths:
        url = PARAM.sub(lambda m: HUGE if m.group(1).endswith("_id") else "x", path)
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 422, (path, r.status_code)
        assert r.headers["content-type"].startswith("text/html"), path
        assert "<html" in r.text.lower() and "_id" in r.text
    r = client.get("/web/no-such-page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    # the web pages' forgiving numeric query values never reach the driver either
    r = client.get("/web/runs/new", params={"registry": HUGE})
    assert r.status_code == 200

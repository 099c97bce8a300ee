"""Server-side sessions: logout, password change, deactivation and role change revoke tokens; a
reactivated user's old tokens stay dead; the administrator lists and revokes a user's tokens."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from platform_helpers import PASSWORD, TEST_SECRET, Database, add_users, client_for, login
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from test_platform_cli import run

from api.auth.roles import Role
from api.auth.tokens import issue_token
from api.db.config import DATABASE_URL_ENV, HOME_ENV
from api.db.models import AuditEvent, AuthToken, User


def _uid(sessions: sessionmaker[Session], login_name: str) -> int:
    with sessions() as session:
        return session.scalars(select(User.id).where(User.login == login_name)).one()


def _ok(client: TestClient, headers: dict[str, str]) -> int:
    return client.get("/me", headers=headers).status_code


@pytest.fixture
def setup(db: Database, sessions: sessionmaker[Session]) -> tuple[TestClient, dict[str, str], int]:
    add_users(sessions, [Role.ADMIN, Role.ECONOMIST])
    client = client_for(db.engine)
    return client, login(client, "admin"), _uid(sessions, "economist")


def test_logout_revokes_only_that_token(setup: tuple[TestClient, dict[str, str], int]) -> None:
    client, _, _ = setup
    first, second = login(client, "economist"), login(client, "economist")
    assert client.post("/auth/logout", headers=first).status_code == 204
    r = client.get("/me", headers=first)
    assert r.status_code == 401 and "отозван" in r.json()["detail"]
    assert _ok(client, second) == 200
    assert client.post("/auth/logout", headers=first).status_code == 401


@pytest.mark.parametrize("change", [{"password": "another-pass-2"}, {"role": "head"}, {"active": False}])
def test_account_changes_revoke_every_token(setup: tuple[TestClient, dict[str, str], int],
                                            change: dict[str, object]) -> None:
    client, admin, uid = setup
    tokens = [login(client, "economist") for _ in range(2)]
    assert client.patch(f"/users/{uid}", headers=admin, json=change).status_code == 200
    assert [_ok(client, t) for t in tokens] == [401, 401]


def test_reactivated_user_old_tokens_stay_dead(setup: tuple[TestClient, dict[str, str], int],
                                               sessions: sessionmaker[Session]) -> None:
    client, admin, uid = setup
    old = login(client, "economist")
    assert client.delete(f"/users/{uid}", headers=admin).status_code == 204
    assert client.patch(f"/users/{uid}", headers=admin, json={"active": True}).status_code == 200
    assert _ok(client, old) == 401
    assert _ok(client, login(client, "economist")) == 200
    with sessions() as session:
        reasons = {t.revoked_reason for t in session.scalars(select(AuthToken).where(AuthToken.user_id == uid))}
        events = [json.loads(e.payload) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "auth.tokens_revoked"))]
    assert reasons == {"deactivated", None}
    assert events == [{"login": "economist", "count": 1, "reason": "deactivated"}]


def test_token_without_a_session_row_is_refused(setup: tuple[TestClient, dict[str, str], int]) -> None:
    """A validly signed token that the server never recorded (or one from before migration 0003)."""
    client, _, uid = setup
    forged, _ = issue_token(TEST_SECRET, uid, "economist")
    assert _ok(client, {"Authorization": f"Bearer {forged}"}) == 401


def test_admin_lists_and_revokes_tokens(setup: tuple[TestClient, dict[str, str], int]) -> None:
    client, admin, uid = setup
    a, b, c = (login(client, "economist") for _ in range(3))
    client.post("/auth/logout", headers=a)
    rows = client.get(f"/users/{uid}/tokens", headers=admin).json()
    assert len(rows) == 3 and sorted(r["state"] for r in rows) == ["active", "active", "revoked"]
    assert {r["channel"] for r in rows} == {"api"} and all(len(r["jti"]) == 32 for r in rows)
    assert [r["revoked_reason"] for r in rows if r["state"] == "revoked"] == ["logout"]
    live = [r["jti"] for r in rows if r["state"] == "active"]
    assert client.delete(f"/users/{uid}/tokens/{live[0]}", headers=admin).status_code == 204
    assert sorted([_ok(client, b), _ok(client, c)]) == [200, 401]
    assert client.delete(f"/users/{uid}/tokens", headers=admin).json() == {"revoked": 1}
    assert [_ok(client, b), _ok(client, c)] == [401, 401]
    assert client.delete(f"/users/{uid}/tokens/{'0' * 32}", headers=admin).status_code == 404
    assert client.get(f"/users/{uid}/tokens", headers=login(client, "economist")).status_code == 403


def test_cli_lists_and_revokes_tokens(db: Database, sessions: sessionmaker[Session], tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, db.url)
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "home"))  # one home (audit key) for the app and the CLI
    add_users(sessions, [Role.ECONOMIST])
    client = client_for(db.engine)
    live = login(client, "economist")
    assert run(["users", "tokens", "economist"]) == 0
    out = capsys.readouterr().out
    assert "действует" in out and re.search(r"^[0-9a-f]{32} +api ", out, re.M)
    assert run(["users", "tokens", "economist", "--revoke-all"]) == 0
    assert "Отозвано токенов пользователя «economist»: 1" in capsys.readouterr().out
    assert _ok(client, live) == 401
    assert run(["users", "tokens", "nobody"]) == 1


def test_web_logout_revokes_the_cookie(setup: tuple[TestClient, dict[str, str], int]) -> None:
    client, _, _ = setup
    page = client.get("/web/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = client.post("/web/login", data={"username": "economist", "password": PASSWORD, "csrf": csrf.group(1),
                                        "next": "/web/"}, follow_redirects=False)
    assert r.status_code == 303
    cookie = client.cookies.get("metodika_session")
    home = client.get("/web/")
    assert home.status_code == 200
    token = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert token
    assert client.post("/web/logout", data={"csrf": token.group(1)}, follow_redirects=False).status_code == 303
    # the browser dropped the cookie; a copy kept by someone else is dead too
    assert _ok(client, {"Authorization": f"Bearer {cookie}"}) == 401
    client.cookies.set("metodika_session", cookie or "")
    assert client.get("/web/", follow_redirects=False).status_code == 303

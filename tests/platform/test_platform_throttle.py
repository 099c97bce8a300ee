"""Sign-in throttling per account and per client address: 429 + Retry-After with a Russian message,
no Argon2 hash and no audit row for a throttled attempt; an unknown login is never stored verbatim."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from platform_helpers import PASSWORD, TEST_SECRET, Database, add_users
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import api.auth.users as users_module
from api.auth.roles import Role
from api.auth.throttle import ThrottlePolicy
from api.db.models import AuditEvent, LoginFailure
from api.server.app import create_app
from api.server.settings import Settings

POLICY = ThrottlePolicy(window=timedelta(minutes=15), free_per_login=3, free_per_client=6, base_delay=60,
                        max_delay=600)


@pytest.fixture
def client(db: Database, sessions: sessionmaker[Session]) -> TestClient:
    add_users(sessions, [Role.ECONOMIST, Role.HEAD])
    settings = Settings(database_url="unused://", secret_key=TEST_SECRET, login_policy=POLICY)
    return TestClient(create_app(settings, engine=db.engine), raise_server_exceptions=False)


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password verification (an Argon2 computation) the server makes."""
    calls: list[str] = []
    real = users_module.verify_password

    def counting(stored: str | None, password: str) -> bool:
        calls.append(password)
        return real(stored, password)

    monkeypatch.setattr(users_module, "verify_password", counting)
    return calls


def _try(client: TestClient, user: str, password: str) -> int:
    return client.post("/auth/token", data={"username": user, "password": password}).status_code


def _age(sessions: sessionmaker[Session], seconds: float) -> None:
    """Move every recorded failure ``seconds`` into the past (time passing, without sleeping)."""
    with sessions() as session, session.begin():
        for row in session.scalars(select(LoginFailure)):
            row.failed_at -= timedelta(seconds=seconds)


def _audit_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_account_is_throttled_without_hashing_or_auditing(client: TestClient, hashes: list[str],
                                                          sessions: sessionmaker[Session]) -> None:
    assert [_try(client, "economist", f"wrong-{i}") for i in range(3)] == [401, 401, 401]
    assert len(hashes) == 3
    before = _audit_count(sessions)
    r = client.post("/auth/token", data={"username": "economist", "password": PASSWORD})
    assert r.status_code == 429 and r.headers["content-type"].startswith("application/problem+json")
    assert 55 <= int(r.headers["Retry-After"]) <= 60
    assert re.fullmatch(r"Слишком много неудачных попыток входа\. Повторите попытку через \d+ с\.",
                        r.json()["detail"])
    assert len(hashes) == 3 and _audit_count(sessions) == before  # nothing computed, nothing logged
    # another account from the same address is not held up by the first one's counter
    assert _try(client, "head", PASSWORD) == 200
    # once the delay has passed, the right password works and clears the account's counter
    _age(sessions, 61)
    assert _try(client, "economist", PASSWORD) == 200
    assert _try(client, "economist", "wrong-again") == 401 and _try(client, "economist", PASSWORD) == 200


def test_backoff_doubles_after_the_free_attempts(client: TestClient, sessions: sessionmaker[Session]) -> None:
    waits = []
    for _ in range(3):
        while (status := _try(client, "economist", "wrong")) == 401:
            pass
        assert status == 429
        r = client.post("/auth/token", data={"username": "economist", "password": "wrong"})
        waits.append(int(r.headers["Retry-After"]))
        _age(sessions, waits[-1])  # let exactly the required delay pass
    assert [round(w / 60) for w in waits] == [1, 2, 4]


def test_client_address_is_throttled_across_logins(client: TestClient) -> None:
    statuses = [_try(client, f"guess{i}", "whatever-1") for i in range(7)]
    assert statuses == [401] * 6 + [429]
    assert _try(client, "economist", PASSWORD) == 429  # the address, not the account, is held up


def test_unknown_login_is_not_stored_verbatim(client: TestClient, sessions: sessionmaker[Session]) -> None:
    typed = "Tr0ub4dor&3-typed-in-the-login-field"
    assert _try(client, typed, "x") == 401
    assert _try(client, "economist", "wrong") == 401
    with sessions() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")
                                    .order_by(AuditEvent.seq)))
        keys = list(session.scalars(select(LoginFailure.key)))
    unknown, known = (json.loads(r.payload) for r in rows)
    assert unknown["login"] == "<неизвестный логин>" and unknown["login_length"] == len(typed)
    assert unknown["reason"] == "unknown_login" and typed not in rows[0].payload
    assert known["login"] == "economist" and known["reason"] == "bad_password"
    assert all(typed not in k and "economist" not in k for k in keys)


def test_web_login_is_throttled_with_an_html_page(client: TestClient) -> None:
    for _ in range(3):
        _try(client, "economist", "wrong")
    page = client.get("/web/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = client.post("/web/login", data={"username": "economist", "password": PASSWORD, "csrf": csrf.group(1)},
                    follow_redirects=False)
    assert r.status_code == 429 and r.headers["content-type"].startswith("text/html")
    assert "Повторите попытку через" in r.text and int(r.headers["Retry-After"]) > 0

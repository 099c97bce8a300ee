"""Sign-in, /me, users CRUD, problem+json errors and the version header."""

from __future__ import annotations

import json

from fastapi import APIRouter
from platform_helpers import PASSWORD, Database, add_users, client_for, login
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.audit.verify import verify_chain
from api.auth.roles import Role
from api.db.models import AuditEvent
from api.server.version import VERSION_HEADER, engine_version

PROBLEM = "application/problem+json"


def _events(sessions: sessionmaker[Session], action: str) -> list[AuditEvent]:
    with sessions() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))
        )


def test_login_success_and_failure_are_audited(db: Database, sessions: sessionmaker[Session]) -> None:
    add_users(sessions, [Role.ECONOMIST])
    client = client_for(db.engine)
    bad = client.post("/auth/token", data={"username": "economist", "password": "wrong-password"})
    assert bad.status_code == 401
    assert bad.headers["content-type"].startswith(PROBLEM)
    assert bad.json()["title"] == "Требуется вход в систему"
    assert client.post("/auth/token", data={"username": "nobody", "password": "x" * 9}).status_code == 401
    headers = login(client, "economist")
    me = client.get("/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["role"] == "economist" and me.json()["role_label"] == "Экономист"
    assert "run.start" in me.json()["permissions"] and "user.manage" not in me.json()["permissions"]

    failed = _events(sessions, "auth.login_failed")
    assert [json.loads(e.payload)["reason"] for e in failed] == ["bad_password", "unknown_login"]
    assert "wrong-password" not in " ".join(e.payload for e in failed)  # never the password
    ok = _events(sessions, "auth.login")
    assert [e.actor for e in ok] == ["economist"]
    with sessions() as session:
        assert verify_chain(session).ok


def test_users_crud_and_audited_role_change(db: Database, sessions: sessionmaker[Session]) -> None:
    add_users(sessions, [Role.ADMIN])
    client = client_for(db.engine)
    admin = login(client, "admin")
    created = client.post(
        "/users",
        headers=admin,
        json={
            "login": "petrova",
            "password": PASSWORD,
            "role": "mo_operator",
            "mo_code": "560001",
            "full_name": "Петрова Анна Сергеевна",
        },
    )
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    assert created.json()["mo_code"] == "560001"
    user_headers = login(client, "petrova")
    assert client.get("/users", headers=user_headers).status_code == 403

    dup = client.post(
        "/users", headers=admin, json={"login": "petrova", "password": PASSWORD, "role": "head"}
    )
    assert dup.status_code == 409 and dup.json()["errors"][0]["loc"] == ["body", "login"]
    no_scope = client.patch(f"/users/{uid}", headers=admin, json={"role": "smo_operator"})
    assert no_scope.status_code == 422 and no_scope.json()["errors"][0]["loc"] == ["body", "smo_code"]

    changed = client.patch(f"/users/{uid}", headers=admin, json={"role": "economist"})
    assert (
        changed.status_code == 200
        and changed.json()["role"] == "economist"
        and changed.json()["mo_code"] is None
    )
    # a role change ends the user's sessions; a new sign-in carries the new role
    assert client.get("/me", headers=user_headers).status_code == 401
    user_headers = login(client, "petrova")
    assert "run.start" in client.get("/me", headers=user_headers).json()["permissions"]
    [event] = _events(sessions, "user.role_changed")
    payload = json.loads(event.payload)
    assert (event.actor, event.object_id) == ("admin", str(uid))
    assert payload["before"] == {"role": "mo_operator", "mo": "560001"} and payload["after"] == {
        "role": "economist"
    }
    created_event = _events(sessions, "user.created")[-1]
    assert "Петрова" not in created_event.payload  # no personal data in the log

    assert client.get(f"/users/{uid}", headers=admin).json()["login"] == "petrova"
    assert client.delete(f"/users/{uid}", headers=admin).status_code == 204
    assert client.get("/me", headers=user_headers).status_code == 401  # deactivated: token no longer works
    assert _events(sessions, "user.deactivated")[0].object_id == str(uid)
    assert client.get("/users/999999", headers=admin).status_code == 404
    me = client.get("/me", headers=admin).json()
    assert client.patch(f"/users/{me['id']}", headers=admin, json={"active": False}).status_code == 409


def test_bad_payload_problem_names_the_field(db: Database, sessions: sessionmaker[Session]) -> None:
    add_users(sessions, [Role.ADMIN])
    client = client_for(db.engine)
    admin = login(client, "admin")
    response = client.post("/users", headers=admin, json={"login": "x1", "password": "short", "role": "king"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == 422 and body["title"] == "Ошибка в данных запроса"
    assert body["type"].endswith("validation")
    locs = {tuple(e["loc"]): e["msg"] for e in body["errors"]}
    assert locs[("body", "password")] == "слишком короткое значение"
    assert locs[("body", "role")] == "недопустимое значение"
    missing = client.post("/users", headers=admin, json={"login": "x1"}).json()["errors"]
    assert {"loc": ["body", "password"], "msg": "обязательное поле не заполнено"} in missing
    broken = client.post(
        "/users", headers={**admin, "Content-Type": "application/json"}, content=b'{"login": '
    )
    assert broken.status_code == 422 and broken.json()["errors"][0]["msg"] == "некорректный JSON"


def test_unexpected_error_is_a_problem_without_details(db: Database) -> None:
    router = APIRouter()

    @router.get("/_boom")
    def boom() -> None:
        raise RuntimeError("секрет СНИЛС 123-456-789 00")

    response = client_for(db.engine, [router]).get("/_boom")
    assert response.status_code == 500 and response.headers["content-type"].startswith(PROBLEM)
    assert "СНИЛС" not in response.text and response.headers[VERSION_HEADER] == engine_version()


def test_errors_and_headers(db: Database) -> None:
    client = client_for(db.engine)
    for response in (
        client.get("/health"),
        client.get("/me"),
        client.get("/no-such-page"),
        client.get("/me", headers={"Authorization": "Bearer not-a-jwt"}),
    ):
        assert response.headers[VERSION_HEADER] == engine_version()
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    unauth = client.get("/me")
    assert unauth.status_code == 401 and unauth.headers["WWW-Authenticate"] == "Bearer"
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and missing.json()["title"] == "Не найдено"
    assert (
        client.get("/me", headers={"Authorization": "Bearer not-a-jwt"}).json()["detail"]
        == "Недействительный токен"
    )
    spec = client.get("/openapi.json").json()
    assert spec["paths"]["/auth/token"]["post"]["summary"] == "Получить токен"
    assert PROBLEM in spec["paths"]["/users"]["post"]["responses"]["422"]["content"]

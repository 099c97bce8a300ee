"""Shared helpers of the platform tests: users of every role, an API client, tokens."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.audit.chain import HOME_INFO
from api.auth.roles import Role, ScopeKind
from api.auth.users import Scope, create_user, set_branch
from api.db.session import make_sessionmaker
from api.server.app import create_app
from api.server.settings import Settings
from api.worker import worker_for


@dataclass(frozen=True)
class Database:
    """A fresh database for one test; ``url`` works for the CLI too (schema pinned in the URL)."""

    backend: str
    url: str
    engine: Engine


PASSWORD = "correct-horse-1"
TEST_SECRET = "test-secret-key-not-for-production"
MO_CODE, SMO_CODE, BRANCH_CODE = "560001", "56001", "north"


def scope_for(role: Role) -> Scope:
    return {
        ScopeKind.MO: Scope(mo_code=MO_CODE),
        ScopeKind.SMO: Scope(smo_code=SMO_CODE),
        ScopeKind.BRANCH: Scope(branch_code=BRANCH_CODE),
        ScopeKind.NONE: Scope(),
    }[role.scope]


def add_users(sessions: sessionmaker[Session], roles: Iterable[Role] = tuple(Role)) -> dict[Role, str]:
    """One user per role (login = role id), plus the branch the branch roles need."""
    logins: dict[Role, str] = {}
    with sessions() as session, session.begin():
        set_branch(session, BRANCH_CODE, "Северный филиал", [MO_CODE, "560002"], actor="test")
        for role in roles:
            create_user(
                session, login=role.value, password=PASSWORD, role=role, scope=scope_for(role), actor="test"
            )
            logins[role] = role.value
    return logins


def client_for(db_engine: Engine, extra_routers: Iterable[APIRouter] = ()) -> TestClient:
    settings = Settings(database_url="unused://", secret_key=TEST_SECRET)
    app = create_app(settings, engine=db_engine, extra_routers=extra_routers)
    return TestClient(app, raise_server_exceptions=False)


def app_with_users(db_engine: Engine, home: Path, users: Mapping[str, tuple[Role, Scope]],
                   threads: int | None = None) -> tuple[FastAPI, sessionmaker[Session]]:
    """An app with its own METODIKA_HOME and its background worker; ``users`` by login, password PASSWORD."""
    sessions = make_sessionmaker(db_engine)
    sessions.configure(info={HOME_INFO: str(home)})  # the audit key and checkpoints of the app's home
    with sessions() as session, session.begin():
        for login_name, (role, scope) in users.items():
            create_user(session, login=login_name, password=PASSWORD, role=role, scope=scope, actor="test")
    app = create_app(Settings(database_url="unused://", secret_key=TEST_SECRET, home=home), engine=db_engine)
    if threads:
        app.state.worker_threads = threads
    worker_for(app)
    return app, sessions


def login(client: TestClient, user: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/auth/token", data={"username": user, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}

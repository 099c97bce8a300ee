"""Fixtures of the web page tests (the database fixtures, SQLite and PostgreSQL, are in tests/conftest.py): an app
with its own METODIKA_HOME, users of several roles, the federal methodology published."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from platform_helpers import Database, app_with_users
from sqlalchemy.orm import Session, sessionmaker
from web_helpers import FEDERAL, MONTH, start_run, upload, wait_state, web_login

from api.auth.roles import Role
from api.auth.users import Scope
from api.store.methodologies import publish

MO, OTHER_MO, SMO = "000001", "000002", "76001"
USERS: dict[str, tuple[Role, Scope]] = {
    "economist": (Role.ECONOMIST, Scope()),
    "head": (Role.HEAD, Scope()),
    "medic": (Role.MEDIC, Scope()),
    "admin": (Role.ADMIN, Scope()),
    "mo_op": (Role.MO_OPERATOR, Scope(mo_code=MO)),
    "smo_op": (Role.SMO_OPERATOR, Scope(smo_code=SMO)),
}


@dataclass
class WebEnv:
    db: Database
    home: Path
    app: object
    sessions: sessionmaker[Session]
    version_id: int = 0
    registry_id: int = 0
    run_id: int = 0

    def client(self, user: str | None = None) -> TestClient:
        c = TestClient(self.app, raise_server_exceptions=True, base_url="http://testserver")
        if user:
            r = web_login(c, user)
            assert r.status_code == 303, r.text
        return c

    def publish_federal(self) -> int:
        from engine.runtime.compiler import compile_package

        with self.sessions() as session:
            mv, _ = publish(session, compile_package(FEDERAL), actor="economist", user_id=None)
            session.commit()
            self.version_id = mv.id
        return self.version_id


@pytest.fixture
def env(db: Database, tmp_path: Path) -> Iterator[WebEnv]:
    home = tmp_path / "home"
    home.mkdir()
    app, sessions = app_with_users(db.engine, home, USERS)
    web = WebEnv(db, home, app, sessions)
    yield web
    app.state.worker.shutdown(wait_jobs=True)


@pytest.fixture
def month(env: WebEnv) -> WebEnv:
    """The shipped month uploaded through the page, imported, run with methodologies/federal/2025."""
    env.publish_federal()
    c = env.client("economist")
    r = upload(c, sorted(MONTH.glob("*.XML")))
    assert r.status_code == 303, r.text
    env.registry_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert wait_state(c, f"/web/registries/{env.registry_id}/state")["status"] == "imported"
    r = start_run(c, env.version_id, env.registry_id)
    assert r.status_code == 303, r.text
    env.run_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert wait_state(c, f"/web/runs/{env.run_id}/state")["status"] == "done"
    return env

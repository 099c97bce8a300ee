"""Fixtures: every database test runs on SQLite AND PostgreSQL.

PostgreSQL: ``METODIKA_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
Each test gets its own random schema (``search_path`` pinned on every connection), dropped
afterwards, so parallel runs never collide. If the server is unreachable the PostgreSQL half
is skipped — or fails when ``CI`` is set, because CI must run it.

Defined once here for the platform, API and web tests (``db``, ``empty_db``, ``sessions``,
``pg_available``). SQLAlchemy and the API are imported inside the fixtures, so tests that use
no database (dsl, engine, forms) import nothing more than before. ``tests/platform`` is put on
``sys.path`` so that every test directory imports ``platform_helpers`` as the same module.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "platform"))

if TYPE_CHECKING:
    from platform_helpers import Database
    from sqlalchemy.orm import Session, sessionmaker

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_HOWTO = (
    "PostgreSQL недоступен ({reason}). Чтобы выполнить тесты на PostgreSQL, запустите сервер "
    "и укажите METODIKA_TEST_PG_URL=postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB "
    f"(по умолчанию {DEFAULT_PG_URL}); пользователь должен иметь право CREATE SCHEMA."
)


def pg_url() -> str:
    return os.environ.get("METODIKA_TEST_PG_URL") or DEFAULT_PG_URL


@pytest.fixture(scope="session")
def pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    from sqlalchemy import create_engine, text

    try:
        probe = create_engine(pg_url(), connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
        probe.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _require_pg(reason: str | None) -> None:
    if reason is None:
        return
    message = PG_HOWTO.format(reason=reason)
    if os.environ.get("CI"):
        pytest.fail("в CI тесты на PostgreSQL обязательны. " + message, pytrace=False)
    pytest.skip("тесты на PostgreSQL пропущены. " + message)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path, pg_available: str | None) -> Iterator[Database]:
    from platform_helpers import Database
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from api.db.session import make_engine

    if request.param == "sqlite":
        url = f"sqlite:///{(tmp_path / 'metodika.sqlite').as_posix()}"
        engine = make_engine(url)
        yield Database("sqlite", url, engine)
        engine.dispose()
        return
    _require_pg(pg_available)
    schema = f"metodika_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    base = make_url(pg_url())
    url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    engine = make_engine(pg_url(), search_path=schema)
    try:
        yield Database("postgresql", url, engine)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def db(empty_db: Database) -> Database:
    """A database migrated to the latest revision."""
    from api.db.migrate import upgrade

    upgrade(empty_db.engine)
    return empty_db


@pytest.fixture
def sessions(db: Database) -> sessionmaker[Session]:
    from api.db.session import make_sessionmaker

    return make_sessionmaker(db.engine)

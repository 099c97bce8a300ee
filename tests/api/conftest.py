"""Fixtures of the API tests (the database fixtures, SQLite AND PostgreSQL, are in tests/conftest.py): an app
with its own METODIKA_HOME, users of the roles the tests need, the shipped month run once."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import ApiEnv, make_env


@pytest.fixture
def env(db, tmp_path: Path) -> ApiEnv:  # type: ignore[no-untyped-def]
    api_env = make_env(db, tmp_path / "home")
    yield api_env
    api_env.close()


@pytest.fixture
def month(env: ApiEnv) -> ApiEnv:
    """The shipped month 2025-03 uploaded, imported and run with the test package and the ЕРЗ."""
    env.publish()
    env.upload_month()
    env.start_run()
    return env

"""Fixtures of the API tests: the platform's database fixtures (SQLite AND PostgreSQL), an app
with its own METODIKA_HOME, users of the roles the tests need, the shipped month run once."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PLATFORM = HERE.parent / "platform"
sys.path.insert(0, str(PLATFORM))
sys.path.insert(0, str(HERE))

_spec = importlib.util.spec_from_file_location("platform_conftest", PLATFORM / "conftest.py")
assert _spec is not None and _spec.loader is not None
_platform = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_platform)

pg_available = _platform.pg_available
empty_db = _platform.empty_db
db = _platform.db
sessions = _platform.sessions

from api_helpers import ApiEnv, make_env  # noqa: E402


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

"""The SQL backend's tests run on the real PostgreSQL server (127.0.0.1:5432, or
METODIKA_TEST_PG_URL): never skipped in CI (tests/conftest.py: _require_pg)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def pg(pg_available):
    from tests.conftest import _require_pg, pg_url

    _require_pg(pg_available)
    from engine.backends.sql.postgres import PgSession

    s = PgSession(pg_url())
    yield s
    s.close()


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the whole test session (pyspark is in the test extra: never skipped)."""
    from engine.backends.sql.spark_session import SparkSqlSession

    s = SparkSqlSession()
    yield s
    s.close()


def pytest_collection_modifyitems(config, items):
    """Spark plans every statement for seconds: its `slow` tests run only with ``-m slow``."""
    if "slow" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="долгий тест Spark: запускается с -m slow")
    for item in items:
        if "spark" in item.name and item.get_closest_marker("slow"):
            item.add_marker(skip)

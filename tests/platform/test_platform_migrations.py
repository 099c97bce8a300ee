"""Alembic migrations apply on SQLite and PostgreSQL and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from platform_helpers import Database
from sqlalchemy import inspect, select

from api.db.migrate import current_revision, downgrade, head_revision, upgrade
from api.db.models import GENESIS_HASH, AuditChainHead, Base
from api.db.session import make_sessionmaker

EXPECTED_TABLES = {
    "users",
    "branches",
    "branch_mos",
    "methodology_versions",
    "methodology_files",
    "registries",
    "runs",
    "run_results",
    "run_defects",
    "plans",
    "plan_corrections",
    "audit_events",
    "audit_chain_head",
    "accepted_cases",
    "registry_submissions",
    "auth_tokens",
    "login_failures",
}


def test_upgrade_creates_every_table(empty_db: Database) -> None:
    assert current_revision(empty_db.engine) is None
    upgrade(empty_db.engine)
    assert current_revision(empty_db.engine) == head_revision()
    tables = set(inspect(empty_db.engine).get_table_names())
    assert EXPECTED_TABLES <= tables
    with make_sessionmaker(empty_db.engine)() as session:
        head = session.scalar(select(AuditChainHead))
        assert head is not None and (head.id, head.last_seq, head.last_hash) == (1, 0, GENESIS_HASH)


def test_upgrade_is_idempotent_and_reversible(empty_db: Database) -> None:
    upgrade(empty_db.engine)
    upgrade(empty_db.engine)
    downgrade(empty_db.engine, "base")
    assert not EXPECTED_TABLES & set(inspect(empty_db.engine).get_table_names())
    upgrade(empty_db.engine)
    assert current_revision(empty_db.engine) == head_revision()


def test_migrations_match_models(db: Database) -> None:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_money_columns_are_integer_kopecks(db: Database) -> None:
    insp = inspect(db.engine)
    money = {
        ("run_defects", "withheld_kopecks"),
        ("run_defects", "fine_kopecks"),
        ("plans", "amount_kopecks"),
        ("plan_corrections", "delta_kopecks"),
    }
    for table, column in money:
        col = next(c for c in insp.get_columns(table) if c["name"] == column)
        assert "INT" in str(col["type"]).upper(), (table, column, col["type"])

"""``metodika db upgrade|current`` — the database schema (Alembic migrations)."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.db.config import database_url, is_embedded_default, redact_url
from api.db.migrate import current_revision, head_revision, upgrade
from api.db.session import make_engine, make_sessionmaker


class DatabaseNotReady(RuntimeError):
    """The configured database is unreachable or its schema is not at the latest revision."""


def open_database(url: str | None = None) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory for the configured database, schema checked.

    The embedded SQLite default is created/upgraded on the spot (nothing to administer);
    an external database must have been upgraded with ``metodika db upgrade``.
    """
    url = url or database_url()
    engine = make_engine(url)
    try:
        if is_embedded_default(url):
            upgrade(engine)
        elif current_revision(engine) != head_revision():
            raise DatabaseNotReady(
                f"схема базы {redact_url(url)} не обновлена: выполните «metodika db upgrade»"
            )
    except SQLAlchemyError as exc:
        engine.dispose()
        raise DatabaseNotReady(f"база данных {redact_url(url)} недоступна: {type(exc).__name__}") from exc
    return engine, make_sessionmaker(engine)


def _upgrade(args: argparse.Namespace) -> int:
    url = database_url()
    engine = make_engine(url)
    try:
        before = current_revision(engine)
        upgrade(engine, args.revision)
        after = current_revision(engine)
    except SQLAlchemyError as exc:
        print(
            f"Ошибка: не удалось обновить базу {redact_url(url)}: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    print(f"База данных: {redact_url(url)}")
    if before == after:
        print(f"Схема уже актуальна (ревизия {after}).")
    else:
        print(f"Схема обновлена: {before or 'пусто'} → {after}.")
    return 0


def _current(_: argparse.Namespace) -> int:
    url = database_url()
    engine = make_engine(url)
    try:
        rev = current_revision(engine)
    except SQLAlchemyError as exc:
        print(f"Ошибка: база {redact_url(url)} недоступна: {exc.__class__.__name__}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    head = head_revision()
    state = "актуальна" if rev == head else f"требуется обновление до {head}"
    print(f"База данных: {redact_url(url)}\nРевизия схемы: {rev or 'нет'} ({state})")
    return 0 if rev == head else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "db",
        help="база данных: миграции схемы",
        description="База данных платформы (METODIKA_DATABASE_URL или встроенный SQLite).",
    )
    db_sub = parser.add_subparsers(dest="db_command", metavar="ДЕЙСТВИЕ")
    db_sub.required = True
    up = db_sub.add_parser("upgrade", help="применить миграции схемы")
    up.add_argument("--revision", default="head", help="целевая ревизия (по умолчанию последняя)")
    up.set_defaults(handler=_upgrade)
    cur = db_sub.add_parser("current", help="показать ревизию схемы")
    cur.set_defaults(handler=_current)

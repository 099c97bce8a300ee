"""Persistence: SQLAlchemy 2 models, engine/session setup, Alembic migrations.

Public entry points:

* :func:`api.db.config.database_url` — the configured URL (``METODIKA_DATABASE_URL`` or the
  embedded SQLite file in ``METODIKA_HOME``);
* :func:`api.db.session.make_engine` / :func:`api.db.session.make_sessionmaker`;
* :func:`api.db.migrate.upgrade` — apply Alembic migrations;
* :mod:`api.db.models` — the ORM models.
"""

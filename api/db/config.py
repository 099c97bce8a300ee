"""Where the platform keeps its state: ``METODIKA_HOME`` and the database URL."""

from __future__ import annotations

import os
from pathlib import Path

DATABASE_URL_ENV = "METODIKA_DATABASE_URL"
HOME_ENV = "METODIKA_HOME"
SQLITE_FILENAME = "metodika.sqlite"


DEFAULT_HOME = ".metodika"


def metodika_home() -> Path:
    """``$METODIKA_HOME`` if set, otherwise ``./.metodika`` (created on first use): the database,
    stored registries, run inputs and the token key stay in one folder."""
    raw = os.environ.get(HOME_ENV)
    home = Path(raw).expanduser() if raw else Path.cwd() / DEFAULT_HOME
    home.mkdir(parents=True, exist_ok=True)
    return home


def default_sqlite_url() -> str:
    return f"sqlite:///{(metodika_home() / SQLITE_FILENAME).as_posix()}"


def database_url() -> str:
    """The configured database: ``METODIKA_DATABASE_URL`` or the embedded SQLite file."""
    return os.environ.get(DATABASE_URL_ENV) or default_sqlite_url()


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def is_embedded_default(url: str) -> bool:
    """True when ``url`` is the embedded default (no external server to manage)."""
    return url == default_sqlite_url()


def redact_url(url: str) -> str:
    """The URL with its password hidden, safe to print or log."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)

"""Evaluation backends of the typed IR: numpy (engine/backends/numpy/evaluator.py & co., in-process) and SQL
(engine/backends/sql: PostgreSQL; Spark SQL on a local pyspark session). See engine/backends/README.md.

The backend of a run is chosen by the caller (`metodika run --backend postgres`) with
``use_backend``; engine.backends.numpy.runner.run asks ``current()``, so the registry pipeline between them
(reading, ФЛК, settlement, storing) is the same for every backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

BACKENDS = ("numpy", "postgres", "spark")


@dataclass(frozen=True)
class Backend:
    name: str = "numpy"
    url: str | None = None        # the database of the SQL backend (default: METODIKA_SQL_URL or local)


_current: ContextVar[Backend | None] = ContextVar("metodika_backend", default=None)


def current() -> Backend:
    return _current.get() or Backend()


@contextmanager
def use_backend(name: str, url: str | None = None) -> Iterator[Backend]:
    if name not in BACKENDS:
        raise ValueError(f"неизвестный вычислитель «{name}»; доступны: {', '.join(BACKENDS)}")
    token = _current.set(Backend(name, url))
    try:
        yield current()
    finally:
        _current.reset(token)

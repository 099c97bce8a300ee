"""A whole run on the SQL backend: the outputs and the defects table, as engine.backends.numpy.runner.run gives
them, computed inside one database transaction (rolled back on any error: nothing half-written); on Spark
the run's temporary views, dropped at the end."""

from __future__ import annotations

import time

from engine.backends.numpy.checks import DefectTable
from engine.backends.sql.run import SqlEvaluator


def open_session(backend: str = "postgres", url: str | None = None):
    """A session of the named SQL backend: PostgreSQL (url or METODIKA_SQL_URL) or Spark (the
    process's local SparkSession; METODIKA_SPARK_MASTER)."""
    if backend == "spark":
        from engine.backends.sql.spark_session import SparkSqlSession

        return SparkSqlSession()
    from engine.backends.sql.postgres import PgSession

    return PgSession(url)


def run_sql(m, data, wanted: dict[str, list[str]], checks: bool, context_day: int | None, url: str | None,
            backend: str = "postgres"):
    from engine.backends.numpy.runner import RunResult

    session = open_session(backend, url)
    try:
        t0 = time.perf_counter()
        ev = SqlEvaluator(session, m, data, context_day)
        t1 = time.perf_counter()
        keys = [(e, n) for e, names in wanted.items() for n in names if e in data.entities]
        ev.ensure(keys, list(m.checks) if checks else [])
        values = {e: {n: ev.column(e, n) for n in names} for e, names in wanted.items() if e in data.entities}
        t2 = time.perf_counter()
        defects = ev.defects() if checks else DefectTable()
        t3 = time.perf_counter()
        session.end_run(commit=True)
    except BaseException:
        session.end_run(commit=False)
        raise
    finally:
        session.close()
    return RunResult(m, data, values, defects, {"sql_load_s": t1 - t0, "values_s": t2 - t1, "checks_s": t3 - t2},
                     _NoNotes())


class _NoNotes:
    """The SQL backend keeps no per-row notes of undetermined values (explain runs on numpy)."""

    unresolved_notes: dict = {}

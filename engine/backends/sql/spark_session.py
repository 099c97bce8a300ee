"""Spark SQL execution (pyspark, local mode by default): the same session interface as
engine.backends.sql.postgres.PgSession, so SqlEvaluator, the checks and the differential
comparator run unchanged.

Tables are temporary views. A level's ``CREATE TABLE … AS SELECT`` is a DataFrame that is computed
at once and cut from its lineage (``localCheckpoint``), so a chain of levels does not re-plan every
earlier level and an error (division by zero) is raised at the level that causes it. The session
runs in ANSI mode with double-quoted identifiers, so the few hand-written statements of the
evaluator ("d_x", "_rid") mean the same as on PostgreSQL. There are no transactions: a run's
views are dropped at its end (commit or not — nothing is written anywhere else).

pyspark is an optional dependency (the ``test`` extra); without it the session raises a clear error.
"""

from __future__ import annotations

import itertools
import os
import threading

from engine.backends.sql.dialect import BackendUnsupported
from engine.backends.sql.postgres import _py, col_values
from engine.backends.sql.spark import SparkDialect
from engine.runtime.dataset import EntityData
from engine.runtime.schema import EntityDef

DEFAULT_MASTER = "local[2]"
_lock = threading.Lock()
_shared = None     # one SparkSession per process (starting the JVM takes seconds)


class SparkUnavailable(RuntimeError):
    pass


def spark_session(master: str | None = None):
    """The process's SparkSession (created on first use; METODIKA_SPARK_MASTER or local[2])."""
    global _shared
    with _lock:
        if _shared is not None:
            return _shared
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise SparkUnavailable("вычислитель spark требует pyspark: pip install -e '.[test]'") from None
        master = master or os.environ.get("METODIKA_SPARK_MASTER") or DEFAULT_MASTER
        b = (SparkSession.builder.master(master).appName("metodika")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "2")
             .config("spark.default.parallelism", "2")
             .config("spark.sql.ansi.enabled", "true")
             .config("spark.sql.ansi.doubleQuotedIdentifiers", "true")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.caseSensitive", "true")
             .config("spark.driver.memory", os.environ.get("METODIKA_SPARK_MEMORY", "2g"))
             .config("spark.sql.adaptive.enabled", "false"))
        _shared = b.getOrCreate()
        from pyspark.logger import PySparkLogger

        for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
            PySparkLogger.getLogger(name).disabled = True
        _shared.sparkContext.setLogLevel("OFF")      # refusals are reported as E0901, not logged
        return _shared


def _spark_type(kind: str):
    from pyspark.sql import types as T

    return {"bool": T.BooleanType(), "int": T.LongType(), "money": T.LongType(), "date": T.LongType(),
            "number": T.DoubleType(), "code": T.StringType(), "text": T.StringType()}[kind]


def _refused(e: BaseException) -> bool:
    """Spark could not parse or plan the statement (a gap of Spark SQL, not a data error)."""
    from pyspark.errors import AnalysisException, ParseException

    return isinstance(e, AnalysisException | ParseException)


def _message(e: BaseException) -> str:
    text = str(e)
    if "DIVIDE_BY_ZERO" in text or "Division by zero" in text:
        return "division by zero"
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[0][:240] if lines else type(e).__name__


class LazyTables(dict):
    """Methodology table → view name; a table is loaded the first time its name is read."""

    def __init__(self, names: dict[str, str], load) -> None:
        super().__init__(names)
        self._load, self._loaded = load, set()

    def __getitem__(self, tname: str) -> str:
        view = super().__getitem__(tname)
        if tname not in self._loaded:
            self._load(tname, view)
            self._loaded.add(tname)
        return view


class SparkSqlSession:
    dialect = SparkDialect()

    def __init__(self, spark=None, master: str | None = None) -> None:
        self.spark = spark if spark is not None else spark_session(master)
        self.url = None
        self._lookup: dict[str, dict[str, str]] = {}
        self._ids = itertools.count(1)
        self._views: list[tuple[str, object]] = []     # this run's views (dropped at end_run)
        self._sid = f"s{id(self) % 100000}"

    def new_prefix(self) -> str:
        return f"{self._sid}_r{next(self._ids)}"

    def execute(self, sql: str, params=None) -> None:
        self.spark.sql(sql).collect()

    def fetch(self, sql: str) -> list[tuple]:
        from pyspark.errors import PySparkException

        try:
            return [tuple(r) for r in self.spark.sql(sql).collect()]
        except PySparkException as e:
            from engine.backends.numpy.evaluator import EvalError

            if _refused(e):
                raise BackendUnsupported("spark", _message(e)) from None
            raise EvalError(_message(e), None) from None

    def _register(self, name: str, df, keep: bool = False) -> None:
        df.createOrReplaceTempView(name)
        if not keep:
            self._views.append((name, df))

    def create_table_as(self, name: str, select_sql: str, on_error, rows: int = 0) -> None:
        from pyspark.errors import PySparkException

        try:
            df = self.spark.sql(select_sql).localCheckpoint(eager=True)
        except PySparkException as e:
            if _refused(e):
                raise BackendUnsupported("spark", _message(e)) from None
            raise on_error(_message(e)) from None
        self._register(name, df)

    def create_key_table(self, name: str, select_sql: str, keys: list[str]) -> None:
        self._register(name, self.spark.sql(select_sql).localCheckpoint(eager=True))

    def _frame(self, cols: list[tuple[str, object]], values: list[list], n: int):
        from pyspark.sql import types as T

        schema = T.StructType([T.StructField(c, t, True) for c, t in cols])
        rows = list(zip(*values, strict=True)) if n else []
        return self.spark.createDataFrame(rows, schema)

    def load_entity(self, name: str, ent: EntityDef, data: EntityData) -> None:
        import numpy as np
        from pyspark.sql import types as T

        cols: list[tuple[str, object]] = [("_rid", T.LongType())]
        values = [list(range(data.n))]
        if data.as_of is not None:
            cols.append(("_asof", T.LongType()))
            values.append([int(x) for x in np.asarray(data.as_of)])
        for rel, idx in data.rel.items():
            cols.append(("_r_" + rel, T.LongType()))
            values.append([int(x) if x >= 0 else None for x in np.asarray(idx)])
        for fname, c in data.cols.items():
            cols.append(("f_" + fname, _spark_type(c.type.kind)))
            values.append([_py(v) for v in col_values(c, data.n)])
        self._register(name, self._frame(cols, values, data.n).localCheckpoint(eager=True))

    def ensure_lookup_tables(self, m) -> LazyTables:
        """The methodology's reference tables (validity [DATEBEG, DATEEND + 1 day)), each loaded
        on first use and kept for the session: a Spark load is a job of its own (about a second),
        and a run reads a few of a package's many tables."""
        from engine.runtime.match import match_tables

        hit = self._lookup.get(m.content_hash)
        if hit is None:
            skip = {t.name for t in match_tables(m.tables)}
            base = f"{self._sid}_lk{len(self._lookup)}_{m.content_hash[:8]}"
            names = {tname: f"{base}_{i}" for i, tname in enumerate(m.tables) if tname not in skip}
            hit = self._lookup[m.content_hash] = LazyTables(names, lambda tname, view: self._load_table(m, tname, view))
        return hit

    def _load_table(self, m, tname: str, view: str) -> None:
        from pyspark.sql import types as T

        t = m.tables[tname]
        cols = [("k_" + k, _spark_type(t.columns[k].kind)) for k in t.keys]
        cols += [("c_" + c, _spark_type(typ.kind)) for c, typ in t.columns.items()]
        cols += [("_s", T.LongType()), ("_e", T.LongType())]
        rows = [[_py(r.get(k)) for k in t.keys] + [_py(r.get(c)) for c in t.columns] + [int(s), int(e)]
                for r, s, e in zip(t.rows, t.starts, t.ends, strict=True)]
        values = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in cols]
        self._register(view, self._frame(cols, values, len(rows)).localCheckpoint(eager=True), keep=True)

    def load_reference(self, name: str, columns: list[tuple[str, str]], rows: list, index: list[str]) -> None:
        """A view kept for the session (rule tables, engine/backends/sql/match.py): columns (name, kind)."""
        values = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in columns]
        frame = self._frame([(c, _spark_type(k)) for c, k in columns], values, len(rows))
        self._register(name, frame.localCheckpoint(eager=True), keep=True)

    def end_run(self, commit: bool = False) -> None:
        views, self._views = self._views, []
        for name, df in views:
            self.spark.catalog.dropTempView(name)
            df.unpersist()

    def close(self) -> None:
        """The SparkSession is shared by the process; only this session's views are dropped."""
        self.end_run()

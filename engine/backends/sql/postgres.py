"""PostgreSQL (and PostgreSQL-compatible MPP engines: Greenplum, Citus): dialect and session.

The session keeps one connection. Reference tables of a methodology are loaded once per
connection (temporary, kept across runs); a run's entity tables and definition levels are
temporary tables inside the run's transaction, so a failed run leaves nothing behind and a
finished one writes its results in the same transaction (all or nothing).
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from engine.backends.sql.dialect import SqlDialect
from engine.runtime.dataset import EntityData
from engine.runtime.schema import EntityDef

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
INDEX_FROM = 200     # row lookups by _rid / relation get an index (and statistics) from this size on


class PostgresDialect(SqlDialect):
    name = "postgres"
    sqlglot = "postgres"


def _py(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def col_values(c, n: int) -> list:
    """A bound column as Python values in the SQL representation (codes as text, NULL = missing)."""
    data = np.asarray(c.data)
    if c.type.kind in ("code", "text"):
        cats = np.asarray(c.cats, dtype=object) if c.cats is not None else np.array([], dtype=object)
        vals = np.empty(n, dtype=object)
        ok = data >= 0
        vals[ok] = cats[data[ok]] if len(cats) else None
        vals[~ok] = None
    else:
        vals = data.astype(object)
    if c.missing is not None:
        vals = vals.copy()
        vals[np.asarray(c.missing)] = None
    return vals.tolist()


class PgSession:
    dialect = PostgresDialect()

    def __init__(self, url: str | None = None, conn=None) -> None:
        import psycopg

        self.url = url or os.environ.get("METODIKA_SQL_URL") or DEFAULT_URL
        self.conn = conn if conn is not None else psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql"))
        self._lookup: dict[str, dict[str, str]] = {}
        self._ids = itertools.count(1)

    def new_prefix(self) -> str:
        return f"r{next(self._ids)}"

    def execute(self, sql: str, params=None) -> None:
        with self.conn.cursor() as cur:
            cur.execute(sql, params)

    def fetch(self, sql: str) -> list[tuple]:
        with self.conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    def create_table_as(self, name: str, select_sql: str, on_error, rows: int = INDEX_FROM) -> None:
        import psycopg

        try:
            self.execute(f'CREATE TEMP TABLE "{name}" AS {select_sql}')
        except psycopg.Error as e:
            self.conn.rollback()
            raise on_error(str(e).splitlines()[0]) from None
        self._index(name, rows >= INDEX_FROM)

    def create_key_table(self, name: str, select_sql: str, keys: list[str]) -> None:
        self.execute(f'CREATE TEMP TABLE "{name}" AS {select_sql}')
        self.execute(f'CREATE INDEX ON "{name}" ({", ".join(chr(34) + k + chr(34) for k in keys)})')
        self.execute(f'ANALYZE "{name}"')

    def _index(self, name: str, index: bool = True) -> None:
        """Statistics always (without them the planner misjudges correlated lookups); indexes on
        the row id and relations only for larger tables."""
        cols = [] if not index else [r[0] for r in self.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = "
            f"'pg_temp.\"{name}\"'::regclass AND attnum > 0 AND (attname = '_rid' OR attname LIKE '\\_r\\_%')")]
        for c in cols:
            self.execute(f'CREATE INDEX ON "{name}" ("{c}")')
        self.execute(f'ANALYZE "{name}"')

    def _copy(self, name: str, columns: list[str], rows) -> None:
        cols = ", ".join(f'"{c}"' for c in columns)
        with self.conn.cursor() as cur, cur.copy(f'COPY "{name}" ({cols}) FROM STDIN') as cp:
            for r in rows:
                cp.write_row(r)

    def load_entity(self, name: str, ent: EntityDef, data: EntityData) -> None:
        q = self.dialect
        cols = [("_rid", "BIGINT")]
        values = [list(range(data.n))]
        if data.as_of is not None:
            cols.append(("_asof", "BIGINT"))
            values.append(np.asarray(data.as_of).astype(object).tolist())
        for rel, idx in data.rel.items():
            cols.append(("_r_" + rel, "BIGINT"))
            arr = np.asarray(idx).astype(object)
            arr[np.asarray(idx) < 0] = None
            values.append(arr.tolist())
        for fname, c in data.cols.items():
            cols.append(("f_" + fname, q.type_name(c.type.kind)))
            values.append(col_values(c, data.n))
        ddl = ", ".join(f'"{c}" {t}' for c, t in cols)
        self.execute(f'CREATE TEMP TABLE "{name}" ({ddl})')
        self._copy(name, [c for c, _ in cols], zip(*values, strict=True) if data.n else [])
        self._index(name, data.n >= INDEX_FROM)

    def ensure_lookup_tables(self, m) -> dict[str, str]:
        """The methodology's reference tables (keys, columns, validity [DATEBEG, DATEEND + 1 day))."""
        from engine.runtime.match import match_tables

        hit = self._lookup.get(m.content_hash)
        if hit is not None:
            return hit
        q = self.dialect
        skip = {t.name for t in match_tables(m.tables)}
        out: dict[str, str] = {}
        base = f"lk{len(self._lookup)}_{m.content_hash[:8]}"
        for i, (tname, t) in enumerate(m.tables.items()):
            if tname in skip:
                continue
            name = f"{base}_{i}"
            cols = [("k_" + k, q.type_name(t.columns[k].kind)) for k in t.keys]
            cols += [("c_" + c, q.type_name(typ.kind)) for c, typ in t.columns.items()]
            cols += [("_s", "BIGINT"), ("_e", "BIGINT")]
            ddl = ", ".join(f'"{c}" {ty}' for c, ty in cols)
            self.execute(f'CREATE TEMP TABLE "{name}" ({ddl}) ON COMMIT PRESERVE ROWS')
            rows = [[_py(r.get(k)) for k in t.keys] + [_py(r.get(c)) for c in t.columns]
                    + [int(s), int(e)] for r, s, e in zip(t.rows, t.starts, t.ends, strict=True)]
            self._copy(name, [c for c, _ in cols], rows)
            if t.keys:
                self.execute(f'CREATE INDEX ON "{name}" ({", ".join(chr(34) + "k_" + k + chr(34) for k in t.keys)})')
            self.execute(f'ANALYZE "{name}"')
            out[tname] = name
        self.conn.commit()
        self._lookup[m.content_hash] = out
        return out

    def load_reference(self, name: str, columns: list[tuple[str, str]], rows: list, index: list[str]) -> None:
        """A table kept for the connection (rule tables, engine/backends/sql/match.py): columns (name, kind)."""
        ddl = ", ".join(f'"{c}" {self.dialect.type_name(k)}' for c, k in columns)
        self.execute(f'CREATE TEMP TABLE "{name}" ({ddl}) ON COMMIT PRESERVE ROWS')
        self._copy(name, [c for c, _ in columns], rows)
        for c in index:
            self.execute(f'CREATE INDEX ON "{name}" ("{c}")')
        self.execute(f'ANALYZE "{name}"')
        self.conn.commit()

    def end_run(self, commit: bool = False) -> None:
        if commit:
            self.conn.commit()
        else:
            self.conn.rollback()

    def close(self) -> None:
        self.conn.close()

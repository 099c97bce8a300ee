"""Bulk paths for storing a run's rows: COPY on PostgreSQL, one ``executemany`` on SQLite.

The rows are the ones ``api.store.execute.result_rows``/``defect_rows`` and
``api.store.history.accepted_rows`` describe; here results are built column at a time as
records (tuples with the JSON document already serialized), without a dict per row, and
streamed to the database inside the caller's transaction (the session's own connection), so a
failed run still stores nothing. The JSON text is what ``json.dumps`` of the row's dict gives —
the same text SQLAlchemy's JSON type stored before (tests/api/test_bulk_store.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from api.store.execute import SETTLEMENT_FIELDS, column_json
from engine.oms.pipeline import PipelineResult
from engine.oms.settlement import CASE

#: (entity, row_key, mo_code, smo_code, values as JSON text)
ResultRecord = tuple[str, str, Any, Any, str]

RESULT_COLUMNS = ("run_id", "entity", "row_key", "mo_code", "smo_code", "values")
DEFECT_COLUMNS = ("run_id", "entity", "row_key", "code", "title", "withheld_kopecks", "fine_kopecks", "values",
                  "mo_code", "smo_code")
HISTORY_COLUMNS = ("registry_id", "run_id", "period", "person", "lpu", "usl_ok", "profil", "idsp", "date_z_1",
                   "date_z_2", "rubric", "sump_kopecks", "idcase", "nschet")
_STR = json.encoder.encode_basestring_ascii   # what json.dumps (ensure_ascii) writes for a str


_CONST = {None: "null", True: "true", False: "false"}


def _float(v: float) -> str:
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    return float.__repr__(v)


def _fragment(v: Any) -> str:
    if v is None or v is True or v is False:
        return _CONST[v]
    t = type(v)
    if t is str:
        return _STR(v)
    if t is int:
        return int.__repr__(v)
    if t is float:
        return _float(v)
    if t is _Raw:
        return str(v)
    return json.dumps(v)     # lists and anything else


def _fragments(key: str, values: Iterable[Any]) -> list[str]:
    """``"key": value`` of every row, as json.dumps writes a dict item; one type path per column."""
    prefix = _STR(key) + ": "
    values = list(values)
    types = set(map(type, values))
    types.discard(type(None))
    if types <= {str}:
        return [prefix + ("null" if v is None else _STR(v)) for v in values]
    if types <= {int}:
        return [prefix + ("null" if v is None else int.__repr__(v)) for v in values]
    if types <= {bool}:
        return [prefix + _CONST[v] for v in values]
    if types <= {float}:
        return [prefix + ("null" if v is None else _float(v)) for v in values]
    return [prefix + _fragment(v) for v in values]


def _str_lists(lists: Iterable[Iterable[str]]) -> list[Any]:
    """Lists of codes as their JSON text (json.dumps of a list of str), wrapped to pass through."""
    return [_Raw("[" + ", ".join(map(_STR, c)) + "]") for c in lists]


class _Raw(str):
    """Already JSON text (see _fragments)."""


def result_records(res: PipelineResult, scope: dict[str, tuple[list, list]]) -> Iterator[ResultRecord]:
    """``run_results`` rows of a run, entity by entity, in the order ``result_rows`` gives them."""
    assert res.run is not None
    data, s = res.run.data, res.settlement
    entities = dict(res.run.values)
    if s is not None:
        entities.setdefault(CASE, {})
    for ent, cols in entities.items():
        keys = data.entities[ent].keys
        n = len(keys)
        items: dict[str, list[str]] = {name: _fragments(name, column_json(col)) for name, col in cols.items()}
        if ent == CASE and s is not None:
            for f in SETTLEMENT_FIELDS:
                items[f"{f}_kopecks"] = _fragments(f"{f}_kopecks", np.asarray(getattr(s, f)).tolist())
            items["defect_codes"] = _fragments("defect_codes", _str_lists(s.codes))
            items["applied_code"] = _fragments("applied_code", s.applied)
        mo, smo = scope[ent]
        texts = ["{" + ", ".join(t) + "}" for t in zip(*items.values(), strict=True)] if items else ["{}"] * n
        key_list = keys.tolist() if hasattr(keys, "tolist") else list(keys)
        yield from zip([ent] * n, map(str, key_list), mo, smo, texts, strict=True)


def defect_records(rows: list[dict[str, Any]]) -> Iterator[tuple]:
    for r in rows:
        yield (r["entity"], r["row_key"], r["code"], r["title"], r["withheld_kopecks"], r["fine_kopecks"],
               json.dumps(r["values"]), r["mo_code"], r["smo_code"])


def history_records(rows: list[dict[str, Any]]) -> Iterator[tuple]:
    for r in rows:
        yield (r["period"], r["person"], r["lpu"], r["usl_ok"], r["profil"], r["idsp"], r["date_z_1"].isoformat(),
               r["date_z_2"].isoformat(), r["rubric"], r["sump_kopecks"], r["idcase"], r["nschet"])


def write_rows(session: Session, table: str, columns: tuple[str, ...], head: tuple, records: Iterable[tuple],
               batch: int = 20000) -> int:
    """Append ``head + record`` rows to ``table`` on the session's connection; the number written."""
    conn = session.connection()
    raw = conn.connection.driver_connection
    names = ", ".join(f'"{c}"' for c in columns)
    n = 0
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for r in records:
                copy.write_row(head + r)
                n += 1
        return n
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})"
    cur = raw.cursor()
    try:
        chunk: list[tuple] = []
        for r in records:
            chunk.append(head + r)
            if len(chunk) >= batch:
                cur.executemany(sql, chunk)
                n += len(chunk)
                chunk = []
        if chunk:
            cur.executemany(sql, chunk)
            n += len(chunk)
    finally:
        cur.close()
    return n

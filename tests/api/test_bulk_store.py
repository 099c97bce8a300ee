"""The bulk store (COPY on PostgreSQL, executemany on SQLite) writes the same rows as the ORM
inserts it replaced: results, defects and accepted-case history of a run, row for row, in the
same order; on SQLite the stored JSON text is the same too. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from api.db.models import AcceptedCase, Registry, Run, RunDefect, RunResult, utcnow
from api.store.bulk import result_records
from api.store.execute import defect_rows, result_rows, row_scope
from api.store.history import accepted_rows
from api.store.methodologies import display_root, publish
from api.store.runs import store_outcome
from engine.backends.numpy.runner import ENGINE_VERSION
from engine.oms.pipeline import process
from engine.runtime.compiler import compile_package

ROOT = Path(__file__).resolve().parents[2]
MONTH = ROOT / "examples" / "registries" / "2025-09"
PERIOD = "2025-09"


@pytest.fixture(scope="module")
def processed():
    m = compile_package(ROOT / "methodologies" / "federal" / "2025")
    res = process(m, [MONTH], {"insured": MONTH / "ERZ_2025-09.csv"})
    assert res.status == "done"
    return m, res


def _new_run(sessions, m) -> tuple[int, int]:
    with sessions() as session, session.begin():
        mv, _ = publish(session, m, actor="test", user_id=None)
        reg = Registry(filenames=[], input_sha256={}, period=PERIOD, status="imported", progress=1.0)
        session.add(reg)
        session.flush()
        run = Run(methodology_version_id=mv.id, registry_id=reg.id, period=PERIOD, input_hashes={},
                  engine_version=ENGINE_VERSION, status="running", started_at=utcnow())
        session.add(run)
        session.flush()
        return reg.id, run.id


def _orm_store(sessions, reg_id: int, run_id: int, results, defects, history) -> None:
    """What store_outcome did before the bulk paths: ORM inserts of row dicts."""
    with sessions() as session, session.begin():
        for model, rows, extra in ((RunResult, results, {"run_id": run_id}), (RunDefect, defects, {"run_id": run_id}),
                                   (AcceptedCase, history, {"registry_id": reg_id, "run_id": run_id})):
            if rows:
                session.execute(insert(model), [{**r, **extra} for r in rows])


def _rows(sessions, model, where) -> list[dict[str, Any]]:
    with sessions() as session:
        out = []
        for r in session.scalars(select(model).where(where).order_by(model.id)):
            d = {c.name: getattr(r, c.name) for c in model.__table__.columns}
            for k in ("id", "run_id", "registry_id"):
                d.pop(k, None)
            out.append(d)
        return out


def test_bulk_store_writes_the_rows_the_orm_wrote(processed, db, sessions):
    m, res = processed
    scope = row_scope(m, res.run.data, res.settlement)
    results = result_rows(res, scope)
    defects = defect_rows(m, res, scope, display_root(m))
    history = accepted_rows(res, PERIOD)
    assert len(results) > 1000 and len(defects) > 10 and len(history) > 100

    old_reg, old_run = _new_run(sessions, m)
    _orm_store(sessions, old_reg, old_run, results, defects, history)
    new_reg, new_run = _new_run(sessions, m)
    store_outcome(sessions, new_run, result_records(res, scope), defects, {}, 0.0, res.counts, "test",
                  history=(new_reg, history))

    for model, old, new in ((RunResult, RunResult.run_id == old_run, RunResult.run_id == new_run),
                            (RunDefect, RunDefect.run_id == old_run, RunDefect.run_id == new_run),
                            (AcceptedCase, AcceptedCase.registry_id == old_reg, AcceptedCase.registry_id == new_reg)):
        a, b = _rows(sessions, model, old), _rows(sessions, model, new)
        assert len(a) == len(b) > 0, model.__tablename__
        assert a == b, model.__tablename__
    assert _rows(sessions, RunResult, RunResult.run_id == new_run) == results
    with sessions() as session:
        run = session.get(Run, new_run)
        assert run is not None and run.status == "done"
        if db.backend == "sqlite":   # the JSON text itself, as the ORM serialized it
            q = text('SELECT "values" FROM run_results WHERE run_id = :r ORDER BY id')
            assert session.execute(q, {"r": old_run}).scalars().all() == \
                session.execute(q, {"r": new_run}).scalars().all()


def test_bulk_store_replaces_history_and_fails_whole(processed, db, sessions):
    """Storing again replaces the registry's history; an error inside the transaction stores nothing."""
    m, res = processed
    scope = row_scope(m, res.run.data, res.settlement)
    history = accepted_rows(res, PERIOD)
    reg_id, run_id = _new_run(sessions, m)
    store_outcome(sessions, run_id, result_records(res, scope), [], {}, 0.0, res.counts, history=(reg_id, history))
    store_outcome(sessions, run_id, iter(()), [], {}, 0.0, res.counts, history=(reg_id, history[:5]))
    assert len(_rows(sessions, AcceptedCase, AcceptedCase.registry_id == reg_id)) == 5

    _, run2 = _new_run(sessions, m)

    def broken():
        yield from list(result_records(res, scope))[:10]
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        store_outcome(sessions, run2, broken(), [], {}, 0.0, res.counts)
    assert _rows(sessions, RunResult, RunResult.run_id == run2) == []

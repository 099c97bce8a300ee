"""SANK registries and the database store: the writers before and after streaming/bulk, on one run.

Usage:
  python -m benchmarks.e2e.bench_writers --month-dir /tmp/e2e/2025-09-50000-1 [--repeat 2]

Processes the month once (not timed), then times, alternately in this one process, the SANK
writer it replaced (the whole-tree writer, kept as the test oracle in tests/forms/sank_oracle.py)
and the streaming one, and storing the run's rows the old way (row dicts, SQLAlchemy ORM inserts
in batches of 5,000) and by the bulk paths (result records, COPY / executemany), on SQLite and
on PostgreSQL (fresh schema `outputs_bench_<pid>`). Wall seconds and CPU seconds (this process
plus its worker processes) — on a shared machine the CPU seconds are the comparable figure.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from benchmarks.e2e.bench_e2e import ROOT, Store


def cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, *args) -> tuple[float, float]:
    w, c = time.perf_counter(), cpu()
    fn(*args)
    return time.perf_counter() - w, cpu() - c


def orm_store(db: Store, m, res, period: str) -> None:
    """How a run's rows were stored before the bulk paths."""
    from sqlalchemy import insert

    from api.db.models import AcceptedCase, RunDefect, RunResult
    from api.store.execute import defect_rows, result_rows, row_scope
    from api.store.history import accepted_rows
    from api.store.methodologies import display_root

    reg_id, run_id = db.start(m, period, [], "")
    scope = row_scope(m, res.run.data, res.settlement)
    tables = ((RunResult, result_rows(res, scope), {"run_id": run_id}),
              (RunDefect, defect_rows(m, res, scope, display_root(m)), {"run_id": run_id}),
              (AcceptedCase, accepted_rows(res, period), {"registry_id": reg_id, "run_id": run_id}))
    with db.sessions() as session, session.begin():
        for model, rows, extra in tables:
            for i in range(0, len(rows), 5000):
                session.execute(insert(model), [{**r, **extra} for r in rows[i:i + 5000]])


def bulk_store(db: Store, m, res, period: str) -> None:
    from api.store.bulk import result_records
    from api.store.execute import defect_rows, row_scope
    from api.store.history import accepted_rows
    from api.store.methodologies import display_root
    from api.store.runs import store_outcome

    reg_id, run_id = db.start(m, period, [], "")
    scope = row_scope(m, res.run.data, res.settlement)
    store_outcome(db.sessions, run_id, result_records(res, scope), defect_rows(m, res, scope, display_root(m)),
                  {}, 0.0, res.counts, "bench", history=(reg_id, accepted_rows(res, period)))


def main() -> None:
    import sys

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--month-dir", required=True)
    ap.add_argument("--period", default="2025-09", help="reporting period of the month (history rows)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--db", nargs="*", default=["sqlite", "postgres"], help="backends to store in (none: SANK only)")
    a = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from engine.oms.pipeline import process
    from engine.runtime.compiler import compile_package
    from forms.mek_outputs import MekAct, write_sank_registries
    from tests.forms.sank_oracle import oracle_sank_registries

    month = Path(a.month_dir)
    m = compile_package(ROOT / "methodologies" / "federal" / "2025")
    res = process(m, [month], {"insured": next(month.glob("ERZ_*.csv"))})
    period = a.period
    n = len(res.settlement.keys)
    print(f"{month.name}: {n} cases, {sum(res.counts.values())} rows, {len(res.run.defects)} defects")
    act = MekAct()
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-writers-") as tmp:
        out = Path(tmp)
        for r in range(a.repeat):
            rows.append(("SANK: tree writer (before)",
                         *timed(oracle_sank_registries, res, [month], out / f"old{r}", act)))
            rows.append(("SANK: streaming, parallel (after)",
                         *timed(write_sank_registries, res, [month], out / f"new{r}", act)))
        for kind in a.db:
            db = Store(kind, out)
            try:
                for _ in range(a.repeat):
                    rows.append((f"store {kind}: ORM inserts (before)", *timed(orm_store, db, m, res, period)))
                    rows.append((f"store {kind}: bulk (after)", *timed(bulk_store, db, m, res, period)))
            finally:
                db.close()
    print(f"{'step':<40}{'wall, s':>9}{'CPU, s':>9}")
    for label, w, c in rows:
        print(f"{label:<40}{w:>9.2f}{c:>9.2f}")


if __name__ == "__main__":
    main()

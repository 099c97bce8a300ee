"""Runs: create (methodology version × registry × reference tables), execute, store results.

Results, defects and the final status are written in one transaction: a failed run stores
no rows. Reproducibility: the run records the methodology hash, the sha256 of every input
(registry files, its columnar file, reference tables) and the engine version; the same
hashes give the same stored rows (tests/api/test_api_runs.py).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import delete, update
from sqlalchemy.orm import Session, sessionmaker

from api.audit import append_event
from api.db.models import MethodologyVersion, Registry, Run, RunDefect, RunResult, User, utcnow
from api.store.bulk import (
    DEFECT_COLUMNS,
    RESULT_COLUMNS,
    ResultRecord,
    defect_records,
    result_records,
    write_rows,
)
from api.store.columnar import file_sha256, load_tables
from api.store.execute import defect_rows, execute, row_scope
from api.store.history import HISTORY_INPUT, accepted_rows, history_inputs, store_history
from api.store.methodologies import compile_version, display_root
from api.store.paths import run_inputs_dir
from api.store.registries import NPZ_HASH_KEY, UploadError, safe_name
from api.worker.diagnostics import failure_detail
from engine.backends.numpy.runner import ENGINE_VERSION

RUN_BACKENDS = ("numpy", "postgres")     # spark: CLI and tests only (a JVM per worker process)


def sql_url(sessions: sessionmaker[Session]) -> str | None:
    """The SQL backend's database: METODIKA_SQL_URL, else the platform's own when it is PostgreSQL."""
    import os

    env = os.environ.get("METODIKA_SQL_URL")
    if env:
        return env
    bind = sessions.kw.get("bind")
    url = getattr(bind, "url", None)
    if url is not None and url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql").render_as_string(hide_password=False)
    return None


class RunStartError(Exception):
    def __init__(self, message: str, *, status: int = 422, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.field = status, field


def create_run(session: Session, home: Path, mv: MethodologyVersion, reg: Registry,
               tables: list[tuple[str, str | None, BinaryIO]], *, user: User | None, backend: str = "numpy") -> Run:
    """A queued run; ``tables`` are (entity, file name, stream) reference CSVs saved with the run;
    ``backend`` is one of RUN_BACKENDS (the worker evaluates with it)."""
    if backend not in RUN_BACKENDS:
        raise RunStartError(f"неизвестный вычислитель «{backend}»; доступны: {', '.join(RUN_BACKENDS)}",
                            field="backend")
    if reg.status != "imported" or not reg.storage_path:
        raise RunStartError(f"реестр {reg.id} не импортирован (состояние «{reg.status}»)", status=409,
                            field="registry_id")
    hashes = {f"registry:{k}": v for k, v in sorted(reg.input_sha256.items())}
    run = Run(methodology_version_id=mv.id, registry_id=reg.id, mo_code=reg.mo_code, period=reg.period,
              input_hashes=dict(hashes), engine_version=ENGINE_VERSION, status="queued", progress=0.0, backend=backend,
              created_by=user.id if user else None)
    session.add(run)
    session.flush()
    folder = run_inputs_dir(home, run.id)
    seen: set[str] = set()
    try:
        for entity, filename, stream in tables:
            if not entity.isidentifier() or entity in seen:
                raise RunStartError(f"справочная таблица «{entity}»: недопустимое или повторное имя сущности",
                                    field="tables")
            seen.add(entity)
            name = safe_name(filename or f"{entity}.csv")
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{entity}.csv"
            with target.open("wb") as out:
                shutil.copyfileobj(stream, out)
            hashes[f"{entity}:{name}"] = file_sha256(target)
    except (UploadError, RunStartError):
        shutil.rmtree(folder, ignore_errors=True)
        raise
    run.input_hashes = dict(hashes)
    append_event(session, actor=user.login if user else "system", action="run.start", object_type="run",
                 object_id=str(run.id), payload={"methodology": f"{mv.package_id}@{mv.version}",
                                                 "methodology_sha256": mv.content_sha256,
                                                 "registry": reg.id, "inputs": hashes})
    return run


def _set(sessions: sessionmaker[Session], run_id: int, **values: Any) -> None:
    with sessions() as session, session.begin():
        session.execute(update(Run).where(Run.id == run_id).values(**values))


def fail_run(sessions: sessionmaker[Session], run_id: int, message: str, timings: dict[str, float],
             detail: str | None = None) -> None:
    with sessions() as session, session.begin():
        session.execute(update(Run).where(Run.id == run_id).values(
            status="failed", error=message, error_detail=detail, progress=1.0, finished_at=utcnow(),
            timings=timings))
        session.execute(delete(RunResult).where(RunResult.run_id == run_id))
        session.execute(delete(RunDefect).where(RunDefect.run_id == run_id))
        append_event(session, actor="system", action="run.fail", object_type="run", object_id=str(run_id),
                     payload={"error": message[:500]})


def execute_run(sessions: sessionmaker[Session], home: Path, run_id: int) -> str:
    """Execute a queued run (claimed atomically, so it runs once); returns the final status."""
    t0 = time.perf_counter()
    with sessions() as session, session.begin():
        claimed = session.execute(update(Run).where(Run.id == run_id, Run.status == "queued").values(
            status="running", started_at=utcnow(), progress=0.05)).rowcount
    if not claimed:
        return "skipped"
    timings: dict[str, float] = {}
    try:
        with sessions() as session:
            run = session.get(Run, run_id)
            assert run is not None
            mv = session.get(MethodologyVersion, run.methodology_version_id)
            reg = session.get(Registry, run.registry_id) if run.registry_id is not None else None
            assert mv is not None and reg is not None and reg.storage_path
            _ = list(mv.files)
            expected = dict(run.input_hashes)
            run_backend = run.backend or "numpy"
        m = compile_version(home, mv, fresh=True)
        t1 = time.perf_counter()
        timings["compile_s"] = t1 - t0
        npz = home / reg.storage_path
        if file_sha256(npz) != expected.get(f"registry:{NPZ_HASH_KEY}"):
            fail_run(sessions, run_id, "данные реестра изменены после импорта: хеш не совпадает", timings)
            return "failed"
        raw = load_tables(npz)
        folder = run_inputs_dir(home, run_id)
        extra = {p.stem: p for p in sorted(folder.glob("*.csv"))} if folder.is_dir() else {}
        raw, extra, history_hash = history_inputs(sessions, reg.id, reg.period, raw, extra)
        timings["load_s"] = time.perf_counter() - t1

        def progress(stage: str, share: float) -> None:
            _set(sessions, run_id, progress=round(0.1 + 0.8 * share, 3))

        from engine.backends import use_backend

        with use_backend(run_backend, sql_url(sessions) if run_backend == "postgres" else None):
            res, stage_timings = execute(m, raw, extra, progress)
        timings.update(stage_timings)
        if res.status != "done":
            text = "; ".join(str(p) for p in res.data_problems[:20])
            fail_run(sessions, run_id, f"ошибки во входных данных: {text}", timings)
            return "failed"
        t2 = time.perf_counter()
        assert res.run is not None
        scope = row_scope(m, res.run.data, res.settlement)
        results = result_records(res, scope)
        defects = defect_rows(m, res, scope, display_root(m))
        timings["rows_s"] = time.perf_counter() - t2
        store_outcome(sessions, run_id, results, defects, timings, t0, res.counts,
                      history=(reg.id, accepted_rows(res, reg.period)),
                      notices=[n.to_dict() for n in res.notices], input_hash=history_hash)
        return "done"
    except Exception as exc:  # noqa: BLE001 - record the failure; the message carries no data values
        from dsl.diagnostics import DiagnosticError
        from engine.backends.numpy.evaluator import EvalError

        if isinstance(exc, DiagnosticError):      # a construct the SQL backend cannot express (E0901)
            fail_run(sessions, run_id, "ошибка расчёта: " + "; ".join(d.render() for d in exc.diagnostics[:3]),
                     timings)
            return "failed"
        message = f"ошибка расчёта: {exc}" if isinstance(exc, EvalError) else (
            f"внутренняя ошибка расчёта ({type(exc).__name__}); обратитесь к администратору")
        fail_run(sessions, run_id, message, timings, failure_detail(exc))
        return "failed"


def store_outcome(sessions: sessionmaker[Session], run_id: int, results: Iterable[ResultRecord],
                  defects: list[dict[str, Any]], timings: dict[str, float], t0: float,
                  counts: dict[str, int], actor: str = "system", *,
                  history: tuple[int, list[dict[str, Any]]] | None = None, notices: list[dict] | None = None,
                  input_hash: str | None = None) -> None:
    """Results, defects, the registry's history of accepted cases and the run's notices, at once.

    ``results`` are records of ``api.store.bulk.result_records`` (streamed, not kept); every
    table is written by its bulk path (COPY on PostgreSQL, executemany on SQLite)."""
    t = time.perf_counter()
    with sessions() as session, session.begin():
        session.execute(update(Run).where(Run.id == run_id).values(status="done", progress=1.0,
                                                                   notices=notices or None))
        if input_hash is not None:
            run = session.get(Run, run_id)
            assert run is not None
            run.input_hashes = {**run.input_hashes, HISTORY_INPUT: input_hash}
        if history is not None:
            store_history(session, history[0], run_id, history[1])
        session.flush()
        n_results = write_rows(session, "run_results", RESULT_COLUMNS, (run_id,), results)
        write_rows(session, "run_defects", DEFECT_COLUMNS, (run_id,), defect_records(defects))
        timings["store_s"] = time.perf_counter() - t
        timings["total_s"] = time.perf_counter() - t0
        session.execute(update(Run).where(Run.id == run_id).values(
            finished_at=utcnow(), timings={k: round(v, 4) for k, v in timings.items()}))
        totals = {"withheld_kopecks": sum(d["withheld_kopecks"] for d in defects),
                  "fine_kopecks": sum(d["fine_kopecks"] for d in defects)}
        append_event(session, actor=actor, action="run.done", object_type="run", object_id=str(run_id),
                     payload={"results": n_results, "defects": len(defects), "rows": counts, **totals})

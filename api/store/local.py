"""Store a run made by ``metodika run`` (CLI) in the configured database, like the API does.

One read of the registry files serves both: the columnar file is written from it and the
run is executed on the same raw tables, then stored as methodology version + registry +
run + results + defects, each step audited with the CLI actor.
"""

from __future__ import annotations

import getpass
import shutil
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from api.audit import append_event
from api.db.models import Registry, Run, utcnow
from api.store.bulk import result_records
from api.store.columnar import file_sha256
from api.store.execute import defect_rows, execute, row_scope
from api.store.history import HISTORY_INPUT, accepted_rows, history_inputs
from api.store.methodologies import display_root, publish
from api.store.paths import run_inputs_dir
from api.store.registries import ImportOutcome, read_and_check, store_accepted
from api.store.runs import store_outcome
from api.store.submissions import SubmissionRefused
from engine.backends.numpy.runner import ENGINE_VERSION
from engine.oms.pipeline import PipelineResult, Progress
from engine.runtime.model import Methodology


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli:unknown"


def _registry_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        out.extend(sorted(x for x in p.iterdir() if x.is_file() and x.suffix.lower() in (".xml", ".zip"))
                   if p.is_dir() else [p])
    return out


def process_and_store(sessions: sessionmaker[Session], home: Path, m: Methodology, registry: list[Path],
                      extra: dict[str, Path], progress: Progress) -> tuple[PipelineResult, int | None]:
    """Read, check, store the registry, run and store the results; (result, run id or None)."""
    import time

    from api.store.columnar import load_tables

    actor = cli_actor()
    files = _registry_files(registry)
    progress("чтение и ФЛК", 0.0)
    staging = home / "uploads" / f"cli-{time.time_ns()}"
    staging.mkdir(parents=True)
    try:
        for f in files:
            shutil.copyfile(f, staging / f.name)
        with sessions() as session:
            outcome: ImportOutcome = read_and_check(staging, mo_code=None, period=None, session=session)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    hashes = {f.name: file_sha256(f) for f in files}
    if not outcome.ok and outcome.resubmission:
        with sessions() as session, session.begin():
            append_event(session, actor=actor, action="registry.reject", object_type="registry",
                         payload={"files": hashes, "errors": len(outcome.protocol), "rule": "resubmission"})
        return PipelineResult("submission_refused", protocol=outcome.protocol, input_hashes=hashes), None
    if not outcome.ok:
        from engine.oms.io import read_registry

        return PipelineResult("flk_failed", protocol=read_registry(files).protocol, input_hashes=hashes), None
    t0 = time.perf_counter()
    try:
        with sessions() as session, session.begin():
            mv, _ = publish(session, m, actor=actor, user_id=None)
            reg = Registry(filenames=sorted(hashes), input_sha256=hashes, period=outcome.period or "",
                           status="importing", progress=0.5)
            session.add(reg)
            session.flush()
            path = store_accepted(session, home, reg, outcome, actor=actor)
            run = Run(methodology_version_id=mv.id, registry_id=reg.id, mo_code=reg.mo_code, period=reg.period,
                      input_hashes={f"registry:{k}": v for k, v in reg.input_sha256.items()},
                      engine_version=ENGINE_VERSION, status="running", started_at=utcnow(), progress=0.1)
            session.add(run)
            session.flush()
            run_id = run.id
            inputs = run_inputs_dir(home, run_id)
            for entity, p in extra.items():
                if p.is_file():
                    inputs.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(p, inputs / f"{entity}.csv")
                    run.input_hashes = {**run.input_hashes, f"{entity}:{p.name}": file_sha256(p)}
    except SubmissionRefused as exc:  # the same МО × period was imported while this one was read
        with sessions() as session, session.begin():
            append_event(session, actor=actor, action="registry.reject", object_type="registry",
                         payload={"files": hashes, "errors": len(exc.protocol), "rule": "resubmission"})
        return PipelineResult("submission_refused", protocol=exc.protocol, input_hashes=hashes), None
    from api.store.runs import fail_run

    try:
        raw, extra, history_hash = history_inputs(sessions, reg.id, reg.period, load_tables(path), extra)
        res, timings = execute(m, raw, extra, progress)
        res.input_hashes = {k.removeprefix("registry:"): v for k, v in run.input_hashes.items()}
        if history_hash:
            res.input_hashes[HISTORY_INPUT] = history_hash
        if res.status != "done" or res.run is None:
            fail_run(sessions, run_id, "ошибки во входных данных", timings)
            return res, run_id
        scope = row_scope(m, res.run.data, res.settlement)
        store_outcome(sessions, run_id, result_records(res, scope), defect_rows(m, res, scope, display_root(m)),
                      timings, t0, res.counts, actor, history=(reg.id, accepted_rows(res, reg.period)),
                      notices=[n.to_dict() for n in res.notices], input_hash=history_hash)
    except BaseException as exc:
        fail_run(sessions, run_id, f"ошибка расчёта: {exc}" if type(exc).__name__ == "EvalError"
              else f"расчёт прерван ({type(exc).__name__})", {})
        raise
    progress("готово", 1.0)
    return res, run_id

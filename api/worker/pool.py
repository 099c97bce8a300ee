"""A pool of worker threads executing imports and runs recorded in the database.

Jobs are rows: a registry in state ``uploaded`` or a run in state ``queued``. A job is
claimed with a conditional UPDATE (``… WHERE status = 'queued'``), so it executes once
even when several processes share the database. The API process owns one pool
(created on first use, or at startup by the router lifespan, which also resubmits jobs
left by a previous process). ``python -m api.worker`` runs a standalone pool that polls.

Threads, not processes: the engine spends its time in numpy/numexpr, which release the
GIL; the registry reader starts its own processes for large submissions.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.db.models import Registry, Run

THREADS_ENV = "METODIKA_WORKER_THREADS"
log = logging.getLogger("metodika.worker")


def default_threads() -> int:
    raw = os.environ.get(THREADS_ENV)
    return max(1, int(raw)) if raw else max(2, min(4, os.cpu_count() or 2))


class Worker:
    def __init__(self, sessions: sessionmaker[Session], home: Path, threads: int | None = None) -> None:
        self.sessions = sessions
        self.home = home
        self.threads = threads or default_threads()
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="metodika-worker")
        self._futures: set[Future[str]] = set()
        self._lock = threading.Lock()

    def _submit(self, kind: str, job_id: int, fn: Callable[[], str]) -> Future[str]:
        def job() -> str:
            try:
                status = fn()
                log.info("%s %s: %s", kind, job_id, status)  # ids and states only, never data
                return status
            except Exception:
                log.exception("%s %s: сбой задания", kind, job_id)
                raise

        fut = self._pool.submit(job)
        with self._lock:
            self._futures.add(fut)
        fut.add_done_callback(self._forget)
        return fut

    def _forget(self, fut: Future[Any]) -> None:
        with self._lock:
            self._futures.discard(fut)

    def submit_import(self, registry_id: int) -> Future[str]:
        from api.store.registries import import_registry

        return self._submit("registry", registry_id, lambda: import_registry(self.sessions, self.home, registry_id))

    def submit_run(self, run_id: int) -> Future[str]:
        from api.store.runs import execute_run

        return self._submit("run", run_id, lambda: execute_run(self.sessions, self.home, run_id))

    def pending(self) -> int:
        with self._lock:
            return len(self._futures)

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._lock:
            futures = list(self._futures)
        done, not_done = wait(futures, timeout=timeout)
        return not not_done

    def recover(self, *, reset_running: bool = True) -> int:
        """Resubmit jobs waiting in the database; jobs left running by a dead process restart."""
        with self.sessions() as session, session.begin():
            if reset_running:
                session.execute(update(Registry).where(Registry.status == "importing").values(status="uploaded"))
                session.execute(update(Run).where(Run.status == "running").values(status="queued"))
        with self.sessions() as session:
            regs = list(session.scalars(select(Registry.id).where(Registry.status == "uploaded")))
            runs = list(session.scalars(select(Run.id).where(Run.status == "queued").order_by(Run.id)))
        for rid in regs:
            self.submit_import(rid)
        for rid in runs:
            self.submit_run(rid)
        return len(regs) + len(runs)

    def shutdown(self, wait_jobs: bool = True) -> None:
        self._pool.shutdown(wait=wait_jobs, cancel_futures=not wait_jobs)


_app_lock = threading.Lock()


def worker_for(app: Any) -> Worker:
    """The worker pool of a FastAPI application (created on first use)."""
    with _app_lock:
        worker = getattr(app.state, "worker", None)
        if worker is None:
            threads = getattr(app.state, "worker_threads", None)
            worker = Worker(app.state.sessions, app.state.settings.home, threads)
            app.state.worker = worker
        return worker

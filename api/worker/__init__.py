"""Background execution of registry imports and runs (see :mod:`api.worker.pool`)."""

from api.worker.pool import Worker, worker_for

__all__ = ["Worker", "worker_for"]

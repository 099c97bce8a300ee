"""Append-only, hash-chained audit log: :func:`append_event` and :func:`verify_chain`."""

from api.audit.chain import append_event
from api.audit.verify import VerifyReport, verify_chain

__all__ = ["VerifyReport", "append_event", "verify_chain"]

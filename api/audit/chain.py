"""Appending to the audit chain.

Concurrency: every append first locks the single chain-head row — ``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite an ``UPDATE`` of the head row as the first write, which takes the
database write lock — then reads the last sequence number and hash, inserts the record and
moves the head. Two transactions therefore can never append on the same predecessor, so
the chain cannot fork. The append is part of the caller's transaction: the state change and
its audit record are committed (or rolled back) together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.audit.canonical import canonical_json, check_payload, record_hash, sha256_hex
from api.db.models import AuditChainHead, AuditEvent

HEAD_ID = 1
SYSTEM_ACTOR = "system"
ANONYMOUS_ACTOR = "anonymous"


def _lock_head(session: Session) -> AuditChainHead:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(AuditChainHead).where(AuditChainHead.id == HEAD_ID).values(id=HEAD_ID))
        stmt = select(AuditChainHead).where(AuditChainHead.id == HEAD_ID)
    else:
        stmt = select(AuditChainHead).where(AuditChainHead.id == HEAD_ID).with_for_update()
    head = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        raise RuntimeError("audit chain head row is missing: run `metodika db upgrade`")
    return head


def append_event(
    session: Session,
    *,
    actor: str | None,
    action: str,
    object_type: str,
    object_id: object = None,
    payload: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one record to the chain inside the session's current transaction.

    ``actor`` is a login (``None`` → "system"); ``action`` a dotted name such as
    ``user.created``; ``payload`` a JSON-able mapping WITHOUT personal data (checked).
    The caller commits.
    """
    payload = dict(payload or {})
    check_payload(payload)
    payload_text = canonical_json(payload)
    head = _lock_head(session)
    occurred_at = (at or datetime.now(UTC)).astimezone(UTC)
    event = AuditEvent(
        seq=head.last_seq + 1,
        occurred_at=occurred_at,
        actor=actor or SYSTEM_ACTOR,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        payload=payload_text,
        payload_sha256=sha256_hex(payload_text),
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = record_hash(event)
    session.add(event)
    head.last_seq = event.seq
    head.last_hash = event.hash
    session.flush()
    return event

"""Appending to the audit chain.

Concurrency: every append first locks the single chain-head row — ``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite an ``UPDATE`` of the head row as the first write, which takes the
database write lock — then reads the last sequence number and hash, inserts the record and
moves the head. Two transactions therefore can never append on the same predecessor, so
the chain cannot fork. The append is part of the caller's transaction: the state change and
its audit record are committed (or rolled back) together.

Keyed hashes: a record's ``hash`` is HMAC-SHA256 with the audit key (api/audit/keys.py), kept
outside the database, so someone who can write to the database cannot recompute it. The chain
switches to keyed hashes at a marker record (action ``audit.keyed``, payload: chain id and key
id), itself keyed: a new chain starts with one as record №1; a chain written before the switch
keeps its plain-sha256 records and gets the marker at its first append after the upgrade. A
rotated key is another marker naming the new key. After the commit a signed checkpoint of the
head goes to the checkpoint file (api/audit/checkpoints.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.audit import checkpoints
from api.audit.canonical import canonical_json, check_payload, record_hmac, sha256_hex
from api.audit.keys import AuditKeyError, Keyring, derive, load_keyring, rotate_key
from api.db.config import metodika_home
from api.db.models import AuditChainHead, AuditEvent

HEAD_ID = 1
SYSTEM_ACTOR = "system"
ANONYMOUS_ACTOR = "anonymous"
KEYED_ACTION = "audit.keyed"
HOME_INFO = "metodika_home"  # Session.info key: the METODIKA_HOME whose key and checkpoint file to use


def home_of(session: Session) -> Path:
    home = session.info.get(HOME_INFO)
    return Path(home) if home else metodika_home()


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


def _insert(session: Session, head: AuditChainHead, key: bytes, *, actor: str, action: str, object_type: str,
            object_id: str | None, payload_text: str, at: datetime) -> AuditEvent:
    event = AuditEvent(
        seq=head.last_seq + 1,
        occurred_at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=payload_text,
        payload_sha256=sha256_hex(payload_text),
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = record_hmac(event, derive(key, "record"))
    session.add(event)
    head.last_seq, head.last_hash = event.seq, event.hash
    return event


def append_key_marker(session: Session, head: AuditChainHead, ring: Keyring, *, actor: str | None,
                      lost: str | None = None) -> AuditEvent:
    """Switch the chain to the key in force: a marker record hashed with that key."""
    assert ring.current is not None and ring.current_id is not None
    payload: dict[str, Any] = {"chain": head.chain_id or secrets.token_hex(16), "key_id": ring.current_id}
    if head.key_id:
        payload["previous_key_id"] = head.key_id
    elif head.last_seq:
        payload["previous"] = "sha256"  # records before this one are plain sha256 (before migration 0003)
    if lost:
        payload["lost_key_id"] = lost
    marker = _insert(session, head, ring.current, actor=actor or SYSTEM_ACTOR, action=KEYED_ACTION,
                     object_type="audit", object_id=payload["chain"], payload_text=canonical_json(payload),
                     at=datetime.now(UTC))
    if head.keyed_from_seq is None:
        head.keyed_from_seq = marker.seq
    head.chain_id, head.key_id = payload["chain"], ring.current_id
    return marker


def _key_in_force(session: Session, head: AuditChainHead, ring: Keyring) -> bytes:
    if ring.current is not None and head.key_id == ring.current_id:
        return ring.current
    if ring.current is not None and (head.key_id is None or head.key_id in ring.by_id):
        # the first keyed append, or the first after a rotation
        append_key_marker(session, head, ring, actor=SYSTEM_ACTOR)
        return ring.current
    raise AuditKeyError(
        f"ключ журнала аудита {head.key_id}, которым заверены последние записи, не найден в "
        f"{home_of(session)} (audit.key или audit-keys/{head.key_id}.key); действующий ключ: "
        f"{ring.current_id or 'нет'}. Восстановите файл ключа из резервной копии; если ключ утрачен, выполните "
        "`metodika audit rotate-key --lost` (записи под утраченным ключом останутся непроверяемыми)."
    )


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
    The caller commits; the checkpoint is written after the commit.
    """
    payload = dict(payload or {})
    check_payload(payload)
    payload_text = canonical_json(payload)
    head = _lock_head(session)
    home = home_of(session)
    # a key is generated only for a chain not yet keyed: a lost key must not be silently replaced
    ring = load_keyring(home, create=head.key_id is None)
    key = _key_in_force(session, head, ring)
    event = _insert(session, head, key, actor=actor or SYSTEM_ACTOR, action=action, object_type=object_type,
                    object_id=None if object_id is None else str(object_id), payload_text=payload_text,
                    at=(at or datetime.now(UTC)).astimezone(UTC))
    session.flush()
    assert head.chain_id is not None and head.key_id is not None
    checkpoints.after_commit(session, home, key, head.chain_id, event.seq, event.hash, head.key_id)
    return event


def rotate(session: Session, *, lost: bool = False, actor: str | None = None) -> tuple[str | None, str]:
    """Retire the key in force (or, ``lost``, give up the missing one) and start a segment of the
    chain under a new key: the marker record is appended in the caller's transaction."""
    head = _lock_head(session)
    home = home_of(session)
    old_id, new_id = rotate_key(home, lost=lost)
    ring = load_keyring(home)
    gone = head.key_id if head.key_id and head.key_id not in ring.by_id else None
    append_key_marker(session, head, ring, actor=actor, lost=gone)
    session.flush()
    checkpoints.after_commit(session, home, ring.current or b"", head.chain_id or "", head.last_seq,
                             head.last_hash, ring.current_id or "")
    return old_id, new_id


def checkpoint_now(session: Session) -> checkpoints.Checkpoint | None:
    """Write a checkpoint of the current head (``metodika audit checkpoint``); None for an unkeyed chain."""
    head = session.get(AuditChainHead, HEAD_ID, populate_existing=True)
    if head is None or head.chain_id is None or head.key_id is None:
        return None
    home = home_of(session)
    ring = load_keyring(home)
    key = ring.by_id.get(head.key_id)
    if key is None:
        raise AuditKeyError(f"нет ключа {head.key_id} журнала аудита в {home}")
    cp = checkpoints.sign(key, head.chain_id, head.last_seq, head.last_hash, datetime.now(UTC), head.key_id)
    checkpoints.write(home, cp)
    return cp

"""The append-only, hash-chained audit log and its chain head (the lock row)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db.models.base import Base, UtcDateTime

GENESIS_HASH = "0" * 64


class AuditEvent(Base):
    """One record. ``seq`` is assigned from the chain head: 1, 2, 3 … without gaps."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # canonical JSON text (not JSON/JSONB: PostgreSQL would reorder keys and break hashes)
    payload: Mapped[str] = mapped_column(Text)
    payload_sha256: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditChainHead(Base):
    """Single row (id = 1) holding the last sequence number and hash; appends lock it."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    # keyed hashing (HMAC-SHA256): id of the key in force and the first record hashed with a key;
    # NULL on a chain that has not switched yet (records before it are plain sha256)
    chain_id: Mapped[str | None] = mapped_column(String(32), default=None)
    key_id: Mapped[str | None] = mapped_column(String(32), default=None)
    keyed_from_seq: Mapped[int | None] = mapped_column(BigInteger, default=None)

"""Canonical serialization and hashing of audit records (the part verify must reproduce)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

# Keys that would carry personal data of patients or secrets; payloads must not contain them.
FORBIDDEN_PAYLOAD_KEYS = frozenset(
    {
        "password",
        "password_hash",
        "token",
        "fio",
        "fam",
        "im",
        "ot",
        "full_name",
        "snils",
        "npolis",
        "spolis",
        "polis",
        "enp",
        "dr",
        "docnum",
        "docser",
        "ss",
    }
)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"audit payload: cannot serialize {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 text kept as is."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_default)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def format_time(value: datetime) -> str:
    """UTC time with microseconds, e.g. ``2025-03-01T09:15:00.000000Z``."""
    if value.tzinfo is None:
        raise ValueError("naive datetime in the audit log")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_payload(payload: Mapping[str, Any]) -> None:
    """Reject payloads carrying personal data or secrets (keys anywhere in the structure)."""
    stack: list[Any] = [payload]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            for key, value in item.items():
                if str(key).casefold() in FORBIDDEN_PAYLOAD_KEYS:
                    raise ValueError(f"audit payload must not contain personal data or secrets: key {key!r}")
                stack.append(value)
        elif isinstance(item, list | tuple):
            stack.extend(item)


class ChainedRecord(Protocol):
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str | None
    payload_sha256: str
    prev_hash: str


def _record_text(record: ChainedRecord) -> str:
    return canonical_json([
        record.seq,
        format_time(record.occurred_at),
        record.actor,
        record.action,
        record.object_type,
        record.object_id,
        record.payload_sha256,
        record.prev_hash,
    ])


def record_hash(record: ChainedRecord) -> str:
    """Plain sha256 over the canonical JSON array of the record's fields (fixed order).

    Only the records written before the chain switched to keyed hashes use it; anyone with
    write access to the database can recompute it, so it proves nothing on its own.
    """
    return sha256_hex(_record_text(record))


def record_hmac(record: ChainedRecord, record_key: bytes) -> str:
    """HMAC-SHA256 with the record key (api/audit/keys.py) over the same canonical text."""
    return hmac.new(record_key, _record_text(record).encode("utf-8"), hashlib.sha256).hexdigest()

"""Signed checkpoints of the chain head, kept OUTSIDE the database.

After every committed transaction that appended to the chain, one line is appended to
``$METODIKA_HOME/audit-checkpoints.jsonl``::

    {"chain": …, "seq": 812, "hash": "…", "at": "2026-12-02T06:30:00.000000Z", "key_id": "…", "sig": "…"}

``sig`` is HMAC-SHA256 with the checkpoint key (derived from the audit key) over the canonical
JSON array ``[chain, seq, hash, at, key_id]``. A checkpoint says "on ``at`` the chain ``chain``
had at least ``seq`` records and record ``seq`` had hash ``hash``": whoever truncates the
database, moves the head back or rewrites the chain contradicts a checkpoint and cannot sign
a new one without the key. The file is written after the commit (a rolled-back transaction
leaves no checkpoint); a process that dies between the two leaves its last records
uncheckpointed until the next append or ``metodika audit checkpoint``.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from api.audit.canonical import canonical_json, format_time
from api.audit.keys import Keyring, derive

CHECKPOINT_FILENAME = "audit-checkpoints.jsonl"
_PENDING = "metodika_audit_checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    chain: str
    seq: int
    hash: str
    at: str
    key_id: str
    sig: str
    line: int = 0  # line number in the file (1-based), for messages

    def signed_text(self) -> str:
        return canonical_json([self.chain, self.seq, self.hash, self.at, self.key_id])

    def to_json(self) -> dict[str, Any]:
        return {"chain": self.chain, "seq": self.seq, "hash": self.hash, "at": self.at, "key_id": self.key_id,
                "sig": self.sig}


def sign(key: bytes, chain: str, seq: int, head_hash: str, at: datetime, kid: str) -> Checkpoint:
    unsigned = Checkpoint(chain, seq, head_hash, format_time(at), kid, "")
    sig = hmac.new(derive(key, "checkpoint"), unsigned.signed_text().encode(), hashlib.sha256).hexdigest()
    return Checkpoint(chain, seq, head_hash, unsigned.at, kid, sig)


def signature_ok(cp: Checkpoint, ring: Keyring) -> bool | None:
    """True/False; None when the key that signed it is not available."""
    key = ring.by_id.get(cp.key_id)
    if key is None:
        return None
    good = hmac.new(derive(key, "checkpoint"), cp.signed_text().encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(good, cp.sig)


def checkpoint_path(home: Path) -> Path:
    return home / CHECKPOINT_FILENAME


def write(home: Path, cp: Checkpoint) -> None:
    path = checkpoint_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(cp.to_json(), sort_keys=True) + "\n"
    with open(path, "a", encoding="ascii") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # one whole line per writer, across processes
        fh.write(line)
        fh.flush()


def read(home: Path) -> tuple[list[Checkpoint], list[int]]:
    """Checkpoints of the file and the numbers of lines that are not checkpoints (damaged)."""
    path = checkpoint_path(home)
    if not path.exists():
        return [], []
    out, bad = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, text in enumerate(fh, 1):
            if not text.strip():
                continue
            try:
                d = json.loads(text)
                out.append(Checkpoint(str(d["chain"]), int(d["seq"]), str(d["hash"]), str(d["at"]),
                                      str(d["key_id"]), str(d["sig"]), n))
            except (ValueError, KeyError, TypeError):
                bad.append(n)
    return out, bad


def _flush_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is not None:
        home, cp = pending
        write(home, cp)


def _drop_pending(session: Session, *_: Any) -> None:
    session.info.pop(_PENDING, None)


def after_commit(session: Session, home: Path, key: bytes, chain: str, seq: int, head_hash: str,
                 kid: str) -> None:
    """Write a checkpoint of (seq, hash) once the session's transaction commits."""
    session.info[_PENDING] = (home, sign(key, chain, seq, head_hash, datetime.now(UTC), kid))
    if not event.contains(session, "after_commit", _flush_pending):
        event.listen(session, "after_commit", _flush_pending)
        event.listen(session, "after_rollback", _drop_pending)
        event.listen(session, "after_soft_rollback", _drop_pending)

"""The audit key: the secret that makes the chain's hashes and the checkpoints unforgeable.

Kept OUTSIDE the database: ``METODIKA_AUDIT_KEY`` (at least 32 characters) or the file
``$METODIKA_HOME/audit.key`` (64 hex digits, mode 0600), generated on first use. Retired keys
(after ``metodika audit rotate-key``) are kept in ``$METODIKA_HOME/audit-keys/<key id>.key`` so
the records hashed with them still verify. A key is known by its id: the first 16 hex digits of
``sha256("metodika-audit-key-id:" + key)``, which says nothing about the key itself.

Two keys are derived from it (HMAC-SHA256 with a fixed label), one for the records and one for
the checkpoints, so a value computed for one purpose is never valid for the other.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

AUDIT_KEY_ENV = "METODIKA_AUDIT_KEY"
KEY_FILENAME = "audit.key"
RETIRED_DIR = "audit-keys"
MIN_KEY_LENGTH = 32


class AuditKeyError(RuntimeError):
    """The key the chain needs is missing or not the one in force; the message says what to do."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"metodika-audit-key-id:" + key).hexdigest()[:16]


def derive(key: bytes, purpose: str) -> bytes:
    return hmac.new(key, f"metodika-audit:{purpose}".encode(), hashlib.sha256).digest()


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text + "\n")


def _read_key(path: Path) -> bytes:
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


@dataclass
class Keyring:
    """The key in force (``current``) and every key a record may have been hashed with, by id."""

    current: bytes | None = None
    by_id: dict[str, bytes] = field(default_factory=dict)

    @property
    def current_id(self) -> str | None:
        return key_id(self.current) if self.current is not None else None

    def add(self, key: bytes) -> None:
        self.by_id[key_id(key)] = key


def load_keyring(home: Path, *, create: bool = False) -> Keyring:
    """The keys under ``home`` (and the env key); ``create`` generates ``audit.key`` when there is none."""
    ring = Keyring()
    retired = home / RETIRED_DIR
    if retired.is_dir():
        for p in sorted(retired.glob("*.key")):
            ring.add(_read_key(p))
    env = os.environ.get(AUDIT_KEY_ENV)
    path = home / KEY_FILENAME
    if env:
        if len(env) < MIN_KEY_LENGTH:
            raise AuditKeyError(f"{AUDIT_KEY_ENV} должен быть не короче {MIN_KEY_LENGTH} символов")
        ring.current = env.encode("utf-8")
    elif path.exists():
        ring.current = _read_key(path)
    elif create:
        key = secrets.token_bytes(32)
        try:
            _write_private(path, key.hex())
            ring.current = key
        except FileExistsError:  # another process created it first
            ring.current = _read_key(path)
    if ring.current is not None:
        ring.add(ring.current)
    return ring


def rotate_key(home: Path, *, lost: bool = False) -> tuple[str | None, str]:
    """Retire ``audit.key`` (kept under audit-keys/, unless ``lost``) and generate a new one.

    Returns (old key id or None, new key id). With ``METODIKA_AUDIT_KEY`` set the key is the
    operator's to change: refused.
    """
    if os.environ.get(AUDIT_KEY_ENV):
        raise AuditKeyError(f"ключ задан переменной {AUDIT_KEY_ENV}: смените её значение, а прежний ключ "
                            f"положите в {home / RETIRED_DIR}/<id>.key")
    path = home / KEY_FILENAME
    old_id = None
    if path.exists():
        old = _read_key(path)
        old_id = key_id(old)
        if lost:
            raise AuditKeyError(f"ключ {old_id} на месте ({path}): --lost только когда файла ключа нет")
        target = home / RETIRED_DIR / f"{old_id}.key"
        if not target.exists():
            _write_private(target, old.hex())
        path.unlink()
    key = secrets.token_bytes(32)
    _write_private(path, key.hex())
    return old_id, key_id(key)

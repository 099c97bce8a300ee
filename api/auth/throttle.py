"""Throttling of sign-in attempts, per account and per client address.

Failed attempts are rows of ``login_failures`` under a key ``login:<hmac>`` or
``client:<hmac>`` (keyed hashes: neither the typed login nor the address is stored). Within a
sliding window (``window``), the first ``free_per_login`` failures of an account — or
``free_per_client`` failures of a client address — cost nothing; after that each further
attempt must wait ``base_delay · 2^(failures − free)`` seconds (at most ``max_delay``) after
the last failure. A throttled attempt is answered 429 with Retry-After **before** any password
hash is computed and without an audit record, so a flood costs neither Argon2 time nor audit
rows. A successful sign-in clears the account's counter (not the client's: one valid account
must not reset the counter an address earned by guessing others).

The count-then-insert is not serialised: N requests racing in the same instant may all pass
the check; the excess is bounded by the concurrency of the server, not by the attacker's rate.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.auth.users import authenticate
from api.db.models import LoginFailure, User, utcnow


@dataclass(frozen=True)
class ThrottlePolicy:
    window: timedelta = timedelta(minutes=15)
    free_per_login: int = 5
    free_per_client: int = 20
    base_delay: float = 1.0  # seconds
    max_delay: float = 900.0  # seconds

    @classmethod
    def from_env(cls) -> ThrottlePolicy:
        def num(name: str, default: float) -> float:
            raw = os.environ.get(name)
            return float(raw) if raw else default

        d = cls()
        return cls(
            window=timedelta(seconds=num("METODIKA_LOGIN_WINDOW_SECONDS", d.window.total_seconds())),
            free_per_login=int(num("METODIKA_LOGIN_FREE_ATTEMPTS", d.free_per_login)),
            free_per_client=int(num("METODIKA_LOGIN_FREE_PER_CLIENT", d.free_per_client)),
            base_delay=num("METODIKA_LOGIN_BASE_DELAY_SECONDS", d.base_delay),
            max_delay=num("METODIKA_LOGIN_MAX_DELAY_SECONDS", d.max_delay),
        )


class Throttled(Exception):
    """Too many failed attempts; ``retry_after`` is whole seconds to wait."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"Слишком много неудачных попыток входа. Повторите попытку через {retry_after} с.")


def _key(secret: str, kind: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"throttle:{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:64]}"


def keys_for(secret: str, login: str, client: str | None) -> list[tuple[str, str]]:
    """(kind, key) pairs an attempt counts under."""
    keys = [("login", _key(secret, "login", login.strip().casefold()))]
    if client:
        keys.append(("client", _key(secret, "client", client)))
    return keys


def retry_after(session: Session, policy: ThrottlePolicy, keys: list[tuple[str, str]],
                now: datetime | None = None) -> int | None:
    """Seconds the attempt must still wait, or None when it may proceed."""
    now = now or utcnow()
    since = now - policy.window
    wait = 0.0
    for kind, key in keys:
        count, last = session.execute(
            select(func.count(), func.max(LoginFailure.failed_at))
            .where(LoginFailure.key == key, LoginFailure.failed_at > since)
        ).one()
        free = policy.free_per_login if kind == "login" else policy.free_per_client
        if count >= free and last is not None:
            if last.tzinfo is None:  # SQLite aggregate bypasses the column type
                last = last.replace(tzinfo=now.tzinfo)
            delay = min(policy.max_delay, policy.base_delay * 2 ** (count - free))
            wait = max(wait, (last - now).total_seconds() + delay)
    return math.ceil(wait) if wait > 0 else None


def guarded_authenticate(session: Session, secret: str, policy: ThrottlePolicy, login: str, password: str,
                         *, client: str | None) -> User | None:
    """:func:`api.auth.users.authenticate` behind the throttle; raises :class:`Throttled`.

    The caller commits (also after a failure, so the failure is counted and audited).
    """
    keys = keys_for(secret, login, client)
    now = utcnow()
    wait = retry_after(session, policy, keys, now)
    if wait is not None:
        raise Throttled(wait)
    user = authenticate(session, login, password, client=client)
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - policy.window))
    if user is None:
        session.add_all(LoginFailure(key=key, failed_at=now) for _, key in keys)
    else:
        session.execute(delete(LoginFailure).where(LoginFailure.key == keys[0][1]))
    session.flush()
    return user

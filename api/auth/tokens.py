"""Access tokens: JWT (HS256) signed with the installation's secret key.

The secret comes from ``METODIKA_SECRET_KEY`` or, when unset, from ``$METODIKA_HOME/secret.key``
which is generated (32 random bytes, mode 0600) on first use.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt

from api.db.config import metodika_home

SECRET_ENV = "METODIKA_SECRET_KEY"
SECRET_FILENAME = "secret.key"
ALGORITHM = "HS256"
ISSUER = "metodika"
DEFAULT_TTL = timedelta(hours=8)  # one working day
MIN_SECRET_LENGTH = 32  # RFC 7518 §3.2: an HS256 key at least as long as the hash


class TokenError(Exception):
    """The token is missing, malformed, expired or not signed by this installation."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    login: str
    expires_at: datetime
    jti: str


def load_secret_key(home: Path | None = None) -> str:
    """``METODIKA_SECRET_KEY`` or the contents of the generated secret file."""
    env = os.environ.get(SECRET_ENV)
    if env:
        if len(env) < MIN_SECRET_LENGTH:
            raise ValueError(f"{SECRET_ENV} должен быть не короче {MIN_SECRET_LENGTH} символов")
        return env
    path = (home or metodika_home()) / SECRET_FILENAME
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def new_jti() -> str:
    return secrets.token_hex(16)


def issue_token(
    secret: str, user_id: int, login: str, ttl: timedelta = DEFAULT_TTL, *, jti: str | None = None
) -> tuple[str, datetime]:
    """A signed token for the user and its expiry time.

    Role and scope are NOT in the token: they are read from the database on every request,
    so a role change or deactivation takes effect immediately. ``jti`` names the token's row in
    ``auth_tokens`` (api/auth/sessions.py), which is what makes revocation possible.
    """
    now = datetime.now(UTC)
    expires = now + ttl
    claims = {"sub": str(user_id), "login": login, "iat": now, "exp": expires, "iss": ISSUER,
              "jti": jti or new_jti()}
    return jwt.encode(claims, secret, algorithm=ALGORITHM), expires


def decode_token(secret: str, token: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["sub", "exp", "iss", "jti"]}
        )
        return TokenClaims(
            user_id=int(claims["sub"]),
            login=str(claims.get("login", "")),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            jti=str(claims["jti"]),
        )
    except jwt.ExpiredSignatureError as exc:
        raise TokenError("срок действия токена истёк") from exc
    except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
        raise TokenError("недействительный токен") from exc

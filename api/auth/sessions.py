"""Server-side sessions: every issued token has a row (``auth_tokens``) and is accepted only
while that row is unrevoked.

Revocation happens on logout, password change, deactivation, reactivation and role or scope
change (:func:`revoke_user_tokens`, called by :mod:`api.auth.users` in the same transaction as
the change) and by an administrator (one token or all of a user's). A reactivated user's old
tokens therefore stay dead: they were revoked when the account was deactivated, and revoked
rows are never un-revoked. A token without a ``jti`` claim (issued before migration 0003) has
no row and is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from api.audit.chain import append_event
from api.auth.tokens import TokenClaims, issue_token, new_jti
from api.db.models import AuthToken, User, utcnow

REASONS = {
    "logout": "выход из системы",
    "password": "смена пароля",
    "deactivated": "учётная запись отключена",
    "activated": "учётная запись включена заново",
    "role": "смена роли или области видимости",
    "admin": "отозван администратором",
}
# expired rows are kept this long for the administrator's list, then removed at the next sign-in
KEEP_EXPIRED = timedelta(days=7)


def start_session(
    session: Session, secret: str, user: User, ttl: timedelta, *, channel: str, client: str | None
) -> tuple[str, datetime]:
    """Issue a token for ``user`` and record it; the caller commits."""
    now = utcnow()
    session.execute(delete(AuthToken).where(AuthToken.user_id == user.id,
                                            AuthToken.expires_at < now - KEEP_EXPIRED))
    jti = new_jti()
    token, expires = issue_token(secret, user.id, user.login, ttl, jti=jti)
    session.add(AuthToken(jti=jti, user_id=user.id, channel=channel, client=(client or None) and client[:64],
                          issued_at=now, expires_at=expires))
    session.flush()
    return token, expires


def token_is_live(session: Session, claims: TokenClaims) -> bool:
    row = session.get(AuthToken, claims.jti)
    return row is not None and row.user_id == claims.user_id and row.revoked_at is None


def revoke_token(session: Session, jti: str, reason: str, *, actor: str | None) -> AuthToken | None:
    """Revoke one token (no-op when already revoked); audited. Returns the row, None if unknown."""
    row = session.get(AuthToken, jti)
    if row is None:
        return None
    if row.revoked_at is None:
        row.revoked_at, row.revoked_reason = utcnow(), reason
        user = session.get(User, row.user_id)
        append_event(session, actor=actor, action="auth.token_revoked", object_type="user",
                     object_id=row.user_id,
                     payload={"login": user.login if user else None, "jti": jti, "reason": reason})
        session.flush()
    return row


def revoke_user_tokens(session: Session, user: User, reason: str, *, actor: str | None) -> int:
    """Revoke every unrevoked token of ``user``; audited when there were any. Returns how many."""
    now = utcnow()
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user.id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        append_event(session, actor=actor, action="auth.tokens_revoked", object_type="user", object_id=user.id,
                     payload={"login": user.login, "count": count, "reason": reason})
    return count


def user_tokens(session: Session, user: User) -> list[AuthToken]:
    """The user's tokens, newest first (live, expired and revoked)."""
    return list(session.scalars(select(AuthToken).where(AuthToken.user_id == user.id)
                                .order_by(AuthToken.issued_at.desc())))


def token_state(row: AuthToken, now: datetime | None = None) -> str:
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_at <= (now or utcnow()) else "active"

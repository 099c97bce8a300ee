"""Issued access tokens (for server-side revocation) and failed sign-ins (for throttling)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db.models.base import Base, BigId, UtcDateTime, utcnow


class AuthToken(Base):
    """One issued token, by its ``jti`` claim. A token is accepted only while its row is unrevoked."""

    __tablename__ = "auth_tokens"

    jti: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # "api" (POST /auth/token) | "web" (the login page)
    client: Mapped[str | None] = mapped_column(String(64), default=None)  # client address at sign-in
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # logout | password | deactivated | activated | role | admin
    revoked_reason: Mapped[str | None] = mapped_column(String(16), default=None)


class LoginFailure(Base):
    """A failed sign-in under a throttling key: ``login:<hmac>`` or ``client:<hmac>`` (never the raw text)."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80), index=True)
    failed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)

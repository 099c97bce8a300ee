"""Users of the platform and the fund's branches (филиалы) with their МО lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db.models.base import Base, BigId, UtcDateTime, utcnow


class Branch(Base):
    """A branch of the fund; branch economists and medics see only its МО."""

    __tablename__ = "branches"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))


class BranchMo(Base):
    """Membership of a medical organisation (МО, F003 code) in a branch."""

    __tablename__ = "branch_mos"
    __table_args__ = (UniqueConstraint("branch_code", "mo_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    branch_code: Mapped[str] = mapped_column(ForeignKey("branches.code", ondelete="CASCADE"), index=True)
    mo_code: Mapped[str] = mapped_column(String(16), index=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(300), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32), index=True)
    mo_code: Mapped[str | None] = mapped_column(String(16), default=None)
    smo_code: Mapped[str | None] = mapped_column(String(16), default=None)
    branch_code: Mapped[str | None] = mapped_column(ForeignKey("branches.code"), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

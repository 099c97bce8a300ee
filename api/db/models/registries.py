"""Imported registries (FFOMS XML H/L files) and their import state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db.models.base import Base, BigId, JsonDoc, UtcDateTime, utcnow

REGISTRY_STATUSES = ("uploaded", "importing", "imported", "rejected")


class Registry(Base):
    __tablename__ = "registries"
    __table_args__ = (
        Index("ix_registries_period_mo", "period", "mo_code"),
        CheckConstraint("status IN ('uploaded', 'importing', 'imported', 'rejected')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    filenames: Mapped[list[str]] = mapped_column(JsonDoc, default=list)
    # {filename: sha256 of the file as uploaded}
    input_sha256: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)
    period: Mapped[str] = mapped_column(String(7))  # reporting period, "YYYY-MM"
    mo_code: Mapped[str | None] = mapped_column(String(16), index=True, default=None)
    status: Mapped[str] = mapped_column(String(16), default="uploaded")
    progress: Mapped[float] = mapped_column(default=0.0)  # 0.0 … 1.0
    flk_protocol: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonDoc, default=None)
    counts: Mapped[dict[str, int] | None] = mapped_column(JsonDoc, default=None)  # rows per entity
    storage_path: Mapped[str | None] = mapped_column(String(1000), default=None)  # the .npz file
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # the traceback of an internal failure (frames and exception types, no messages): admin only
    error_detail: Mapped[str | None] = mapped_column(Text, default=None)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

"""Published, immutable methodology package versions and their files."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.db.models.base import Base, BigId, UtcDateTime, utcnow


class MethodologyVersion(Base):
    __tablename__ = "methodology_versions"
    __table_args__ = (UniqueConstraint("package_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    package_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[str] = mapped_column(String(64))
    content_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    published_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    immutable: Mapped[bool] = mapped_column(Boolean, default=True)

    files: Mapped[list[MethodologyFile]] = relationship(
        back_populates="version", cascade="all, delete-orphan", order_by="MethodologyFile.path"
    )


class MethodologyFile(Base):
    """One normalized file of a published package (rules, YAML, CSV tables)."""

    __tablename__ = "methodology_files"
    __table_args__ = (UniqueConstraint("version_id", "path"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("methodology_versions.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)

    version: Mapped[MethodologyVersion] = relationship(back_populates="files")

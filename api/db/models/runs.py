"""Runs of a methodology over inputs, their computed values and defects (МЭК)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.db.models.base import Base, BigId, JsonDoc, Kopecks, UtcDateTime, utcnow

RUN_STATUSES = ("queued", "running", "done", "failed")


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    methodology_version_id: Mapped[int] = mapped_column(ForeignKey("methodology_versions.id"), index=True)
    registry_id: Mapped[int | None] = mapped_column(ForeignKey("registries.id"), index=True, default=None)
    # МО of the input registry; None for fund-wide runs (scoping of run headers)
    mo_code: Mapped[str | None] = mapped_column(String(16), index=True, default=None)
    period: Mapped[str | None] = mapped_column(String(7), default=None)
    # {input name: sha256}; with the methodology hash and engine version makes a run reproducible
    input_hashes: Mapped[dict[str, str]] = mapped_column(JsonDoc, default=dict)
    engine_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # the evaluator (engine.backends): numpy in process, or postgres — SQL in PostgreSQL
    backend: Mapped[str] = mapped_column(String(16), default="numpy", server_default="numpy")
    progress: Mapped[float] = mapped_column(default=0.0)
    timings: Mapped[dict[str, float] | None] = mapped_column(JsonDoc, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # the traceback of an internal failure (frames and exception types, no messages): admin only
    error_detail: Mapped[str | None] = mapped_column(Text, default=None)
    # reference inputs a check could not compare against (engine.runtime.required_inputs), as stored notices
    notices: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonDoc, default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class RunResult(Base):
    """Computed values of one row of one entity (case, service, МО …) in a run."""

    __tablename__ = "run_results"
    __table_args__ = (Index("ix_run_results_scope", "run_id", "entity", "mo_code", "smo_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(200))
    mo_code: Mapped[str | None] = mapped_column(String(16), default=None)
    smo_code: Mapped[str | None] = mapped_column(String(16), default=None)
    values: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)


class RunDefect(Base):
    """A defect (МЭК finding) raised by a check of a run, with its money consequences."""

    __tablename__ = "run_defects"
    __table_args__ = (Index("ix_run_defects_scope", "run_id", "entity", "mo_code", "smo_code"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(64))
    row_key: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(32), index=True)  # e.g. F006 defect code "5.1.4"
    title: Mapped[str] = mapped_column(Text, default="")
    withheld_kopecks: Mapped[int] = mapped_column(Kopecks, default=0)
    fine_kopecks: Mapped[int] = mapped_column(Kopecks, default=0)
    values: Mapped[dict[str, Any]] = mapped_column(JsonDoc, default=dict)
    mo_code: Mapped[str | None] = mapped_column(String(16), default=None)
    smo_code: Mapped[str | None] = mapped_column(String(16), default=None)

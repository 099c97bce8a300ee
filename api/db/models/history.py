"""History of accepted cases (for МЭК across months) and the submissions of registries.

``accepted_cases`` holds, for every case a run accepted for payment, the identifying key of
231н п. 1.10.1 (patient, МО, conditions, profile, dates) plus what the other grounds read
(payment method for 1.10.3, volume rubric for 1.6.2/1.6.3). Later runs read it back as the
``paid_case`` input relation. The latest run of a registry is its history: storing a run
replaces the rows of earlier runs of the same registry.

``registry_submissions`` records the account keys (МО × reporting period × payer) of every
imported registry, so a second submission for the same key is caught (api/store/submissions.py).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db.models.base import Base, BigId, JsonDoc, Kopecks, UtcDateTime, utcnow


class AcceptedCase(Base):
    __tablename__ = "accepted_cases"
    __table_args__ = (
        Index("ix_accepted_cases_person", "person"),
        Index("ix_accepted_cases_lpu_period", "lpu", "period"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    registry_id: Mapped[int] = mapped_column(ForeignKey("registries.id", ondelete="CASCADE"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))          # reporting period of the account, "YYYY-MM"
    person: Mapped[str] = mapped_column(String(64))         # ЕНП (else policy number, else ID_PAC): personal
    lpu: Mapped[str] = mapped_column(String(16))
    usl_ok: Mapped[int] = mapped_column(Integer)
    profil: Mapped[int] = mapped_column(Integer)            # profile of the first SL
    idsp: Mapped[int | None] = mapped_column(Integer, default=None)
    date_z_1: Mapped[date] = mapped_column(Date)
    date_z_2: Mapped[date] = mapped_column(Date)
    rubric: Mapped[str | None] = mapped_column(String(16), default=None)
    sump_kopecks: Mapped[int] = mapped_column(Kopecks)
    idcase: Mapped[str] = mapped_column(String(64))
    nschet: Mapped[str | None] = mapped_column(String(64), default=None)


class RegistrySubmission(Base):
    __tablename__ = "registry_submissions"
    __table_args__ = (Index("ix_registry_submissions_key", "mo_code", "period", "payer"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    registry_id: Mapped[int] = mapped_column(ForeignKey("registries.id", ondelete="CASCADE"), index=True)
    mo_code: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(7))
    payer: Mapped[str] = mapped_column(String(16))          # SCHET/PLAT ("" when absent)
    filename: Mapped[str] = mapped_column(String(64))       # ZGLV/FILENAME of the H/D file
    file_sha256: Mapped[str] = mapped_column(String(64))
    records: Mapped[int] = mapped_column(Integer)           # ZAP in the account
    corrections: Mapped[int] = mapped_column(Integer)       # ZAP with PR_NOV = 1
    kind: Mapped[str] = mapped_column(String(16))           # first | correction
    notes: Mapped[dict | None] = mapped_column(JsonDoc, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

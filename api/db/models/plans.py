"""Volume/financial plans per МО (распределение объёмов) and their corrections (комиссия)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from api.db.models.base import Base, BigId, Kopecks, UtcDateTime, utcnow


class Plan(Base):
    __tablename__ = "plans"
    __table_args__ = (UniqueConstraint("plan_version", "mo_code", "care_kind", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_version: Mapped[str] = mapped_column(String(64), index=True)
    mo_code: Mapped[str] = mapped_column(String(16), index=True)
    care_kind: Mapped[str] = mapped_column(String(64))  # условия/вид помощи (V006 …)
    period: Mapped[str] = mapped_column(String(7))  # "YYYY-MM", "YYYY-Q1" or "YYYY"
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3))
    amount_kopecks: Mapped[int] = mapped_column(Kopecks)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PlanCorrection(Base):
    """A change of a plan line by a decision of the commission (комиссия по разработке ТП ОМС)."""

    __tablename__ = "plan_corrections"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    delta_quantity: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=Decimal(0))
    delta_kopecks: Mapped[int] = mapped_column(Kopecks, default=0)
    reason: Mapped[str] = mapped_column(Text)
    decision_number: Mapped[str] = mapped_column(String(64))
    decision_date: Mapped[date] = mapped_column(Date)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

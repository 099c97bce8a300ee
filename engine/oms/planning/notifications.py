"""Notifications (уведомления) of МО about the volumes they intend to provide: intake and statuses.

Input ``notifications.csv`` (one row per notification)::

    id,mo,care_kind,profile,volume,capacity,submitted,status,comment

``status``: ``submitted`` (подано), ``accepted`` (принято), ``returned`` (возвращено на доработку —
comment required). Every status change is kept in ``notification_status.csv``
(``id,status,date,comment``); when that file exists, a notification's current status is its
last entry there. Only accepted notifications count as requested volumes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from engine.oms.planning.csvio import PlanningInputError, as_int, read_rows, write_rows

STATUSES = {"submitted": "подано", "accepted": "принято", "returned": "возвращено"}
COLUMNS = ("id", "mo", "care_kind", "profile", "volume", "capacity", "submitted", "status", "comment")


@dataclass
class StatusChange:
    status: str
    date: str
    comment: str = ""


@dataclass
class Notification:
    id: str
    mo: str
    care_kind: str
    profile: str
    volume: int
    capacity: int | None
    submitted: str
    history: list[StatusChange] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.history[-1].status if self.history else "submitted"

    @property
    def comment(self) -> str:
        return self.history[-1].comment if self.history else ""


@dataclass
class NotificationBook:
    items: dict[str, Notification] = field(default_factory=dict)

    def set_status(self, nid: str, status: str, date: str | None = None, comment: str = "") -> Notification:
        if nid not in self.items:
            raise PlanningInputError(f"уведомление «{nid}» не найдено")
        _check_status(status, comment, f"уведомление {nid}")
        n = self.items[nid]
        n.history.append(StatusChange(status, date or dt.date.today().isoformat(), comment))
        return n

    def accepted(self) -> list[Notification]:
        return [n for n in self.items.values() if n.status == "accepted"]

    def requested(self, by_profile: dict[str, bool]) -> dict[tuple[str, str, str], tuple[int, int | None]]:
        """(mo, care_kind, profile) → (requested volume, capacity) over accepted notifications."""
        out: dict[tuple[str, str, str], tuple[int, int | None]] = {}
        for n in self.accepted():
            prof = n.profile if by_profile.get(n.care_kind, False) else "-"
            vol, cap = out.get((n.mo, n.care_kind, prof), (0, None))
            if n.capacity is not None:
                cap = (cap or 0) + n.capacity
            out[(n.mo, n.care_kind, prof)] = (vol + n.volume, cap)
        return out

    def save(self, directory: Path) -> None:
        write_rows(directory / "notifications.csv", list(COLUMNS),
                   ([n.id, n.mo, n.care_kind, n.profile, n.volume, "" if n.capacity is None else n.capacity,
                     n.submitted, n.status, n.comment] for n in self.items.values()))
        write_rows(directory / "notification_status.csv", ["id", "status", "date", "comment"],
                   ([n.id, h.status, h.date, h.comment] for n in self.items.values() for h in n.history))


def _check_status(status: str, comment: str, where: str) -> None:
    if status not in STATUSES:
        raise PlanningInputError(f"{where}: статус «{status}» — ожидается {', '.join(STATUSES)}")
    if status == "returned" and not comment:
        raise PlanningInputError(f"{where}: уведомление возвращено без комментария (укажите причину)")


def load_notifications(directory: Path) -> NotificationBook:
    """Read notifications.csv (+ notification_status.csv if present); errors name file and line."""
    book = NotificationBook()
    path = directory / "notifications.csv"
    if not path.is_file():
        return book
    for i, r in enumerate(read_rows(path, ("id", "mo", "care_kind", "volume")), start=2):
        where = f"{path.name}:{i}"
        nid = r["id"]
        if not nid:
            raise PlanningInputError(f"{where}: пустой id")
        if nid in book.items:
            raise PlanningInputError(f"{where}: id «{nid}» повторяется")
        vol = as_int(r["volume"], f"{where}, volume")
        if vol < 0:
            raise PlanningInputError(f"{where}: отрицательный объём {vol}")
        cap = as_int(r["capacity"], f"{where}, capacity") if r.get("capacity") else None
        n = Notification(nid, r["mo"], r["care_kind"], r.get("profile") or "-", vol, cap, r.get("submitted", ""))
        status = r.get("status") or "submitted"
        _check_status(status, r.get("comment", ""), where)
        n.history.append(StatusChange(status, r.get("submitted", ""), r.get("comment", "")))
        book.items[nid] = n
    spath = directory / "notification_status.csv"
    if spath.is_file():
        seen: set[str] = set()
        for i, r in enumerate(read_rows(spath, ("id", "status", "date")), start=2):
            where = f"{spath.name}:{i}"
            n = book.items.get(r["id"])
            if n is None:
                raise PlanningInputError(f"{where}: уведомление «{r['id']}» не найдено в notifications.csv")
            _check_status(r["status"], r.get("comment", ""), where)
            if r["id"] not in seen:
                n.history = []
                seen.add(r["id"])
            n.history.append(StatusChange(r["status"], r["date"], r.get("comment", "")))
        for n in book.items.values():
            n.history.sort(key=lambda h: h.date)
    return book

"""Walk the audit chain and name every edited or deleted record."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit.canonical import record_hash, sha256_hex
from api.audit.chain import HEAD_ID
from api.db.models import GENESIS_HASH, AuditChainHead, AuditEvent


@dataclass(frozen=True)
class ChainProblem:
    kind: str  # "edited" | "deleted" | "relinked"
    seqs: tuple[int, ...]  # the record numbers (primary keys) concerned
    message: str  # Russian, for fund staff and auditors


@dataclass
class VerifyReport:
    count: int = 0
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_edited(self) -> int | None:
        return next((p.seqs[0] for p in self.problems if p.kind == "edited"), None)

    def summary(self) -> str:
        if self.ok:
            return f"Журнал аудита цел: {self.count} записей"
        return f"Журнал аудита нарушен (проверено записей: {self.count}, нарушений: {len(self.problems)})"


def _deleted(first: int, last: int, after: int | None) -> ChainProblem:
    seqs = tuple(range(first, last + 1))
    where = f"после записи №{after}" if after else "в начале журнала"
    if first == last:
        return ChainProblem("deleted", seqs, f"удалена запись №{first} {where}")
    return ChainProblem("deleted", seqs, f"удалены записи №{first}–№{last} ({len(seqs)} шт.) {where}")


def verify_chain(session: Session, batch_size: int = 1000) -> VerifyReport:
    """Check every record's own hash, the links between records and the chain head."""
    report = VerifyReport()
    prev_seq, prev_hash = 0, GENESIS_HASH
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch_size)
    for ev in session.scalars(stmt):
        report.count += 1
        gap = ev.seq > prev_seq + 1
        if gap:
            report.problems.append(_deleted(prev_seq + 1, ev.seq - 1, prev_seq or None))
        if sha256_hex(ev.payload) != ev.payload_sha256:
            report.problems.append(
                ChainProblem(
                    "edited", (ev.seq,), f"запись №{ev.seq} изменена: содержимое не совпадает с хешем"
                )
            )
        elif ev.hash != record_hash(ev):
            report.problems.append(
                ChainProblem(
                    "edited", (ev.seq,), f"запись №{ev.seq} изменена: поля не совпадают с хешем записи"
                )
            )
        elif not gap and ev.prev_hash != prev_hash:
            report.problems.append(
                ChainProblem(
                    "relinked",
                    (prev_seq, ev.seq) if prev_seq else (ev.seq,),
                    f"цепочка разорвана перед записью №{ev.seq}: предыдущая запись №{prev_seq} "
                    "подменена или пересчитана",
                )
            )
        prev_seq, prev_hash = ev.seq, ev.hash
    head = session.get(AuditChainHead, HEAD_ID, populate_existing=True)
    if head is not None and head.last_seq > prev_seq:
        report.problems.append(_deleted(prev_seq + 1, head.last_seq, prev_seq or None))
    elif head is not None and head.last_seq == prev_seq and head.last_hash != prev_hash:
        report.problems.append(
            ChainProblem(
                "relinked",
                (prev_seq,),
                f"последняя запись №{prev_seq} подменена: не совпадает с головой цепочки",
            )
        )
    return report

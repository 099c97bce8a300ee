"""Walk the audit chain and name every edited, deleted or unverifiable record; check the head and
the signed checkpoints kept outside the database.

What each attack by someone with write access to the database (but not the key) looks like:

* a record edited → its keyed hash no longer matches (``edited``);
* a record edited and every following hash recomputed → without the key the recomputed hashes
  are wrong from the edited record on (``edited``); for the plain-sha256 records written
  before the switch, the keyed marker still names the old predecessor (``relinked``);
* records deleted in the middle → a gap in the numbers (``deleted``);
* the last records deleted and the head moved back → a checkpoint names a record the database
  no longer has (``truncated``);
* the whole chain rewritten → hashes do not verify with the key, and the checkpoints name
  hashes (or a chain) the database does not have (``rewritten``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.audit import checkpoints
from api.audit.canonical import record_hash, record_hmac, sha256_hex
from api.audit.chain import HEAD_ID, KEYED_ACTION, home_of
from api.audit.keys import derive, load_keyring
from api.db.models import GENESIS_HASH, AuditChainHead, AuditEvent


@dataclass(frozen=True)
class ChainProblem:
    # "edited" | "deleted" | "relinked" | "truncated" | "rewritten" | "unverifiable" | "checkpoint"
    kind: str
    seqs: tuple[int, ...]  # the record numbers concerned
    message: str  # Russian, for fund staff and auditors


@dataclass
class VerifyReport:
    count: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    chain_id: str | None = None
    keyed_from: int | None = None  # first record with a keyed hash
    checkpoints: int = 0  # checkpoints of this chain compared
    last_checkpoint: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_edited(self) -> int | None:
        return next((p.seqs[0] for p in self.problems if p.kind == "edited"), None)

    def summary(self) -> str:
        cps = f"; контрольных точек сверено: {self.checkpoints}" if self.checkpoints else ""
        if self.ok:
            return f"Журнал аудита цел: {self.count} записей{cps}"
        return f"Журнал аудита нарушен (проверено записей: {self.count}, нарушений: {len(self.problems)}){cps}"


def _deleted(first: int, last: int, after: int | None) -> ChainProblem:
    seqs = tuple(range(first, last + 1))
    where = f"после записи №{after}" if after else "в начале журнала"
    if first == last:
        return ChainProblem("deleted", seqs, f"удалена запись №{first} {where}")
    return ChainProblem("deleted", seqs, f"удалены записи №{first}–№{last} ({len(seqs)} шт.) {where}")


@dataclass
class _Walk:
    report: VerifyReport
    ring_keys: dict[str, bytes]
    wanted: set[int]
    seen: dict[int, str] = field(default_factory=dict)  # seq → hash, for the checkpointed seqs
    key: bytes | None = None
    keyed: bool = False
    missing_key_from: int | None = None

    def own_hash_ok(self, ev: AuditEvent) -> bool | None:
        if ev.action == KEYED_ACTION:
            try:
                info = json.loads(ev.payload)
                kid, chain = str(info["key_id"]), str(info["chain"])
            except (ValueError, KeyError, TypeError):
                return False
            if not self.keyed:
                self.report.chain_id, self.report.keyed_from = chain, ev.seq
            self.keyed = True
            self.key = self.ring_keys.get(kid)
            if self.key is None:
                self.report.problems.append(ChainProblem(
                    "unverifiable", (ev.seq,), f"записи начиная с №{ev.seq} заверены ключом {kid}, которого нет "
                    "(audit.key или audit-keys/): их подлинность проверить нельзя"))
        if not self.keyed:
            return ev.hash == record_hash(ev)
        if self.key is None:
            return None
        return ev.hash == record_hmac(ev, derive(self.key, "record"))


def _walk(session: Session, walk: _Walk, batch_size: int) -> tuple[int, str]:
    report = walk.report
    prev_seq, prev_hash = 0, GENESIS_HASH
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch_size)
    for ev in session.scalars(stmt):
        report.count += 1
        gap = ev.seq > prev_seq + 1
        if gap:
            report.problems.append(_deleted(prev_seq + 1, ev.seq - 1, prev_seq or None))
        own = walk.own_hash_ok(ev) if sha256_hex(ev.payload) == ev.payload_sha256 else False
        if own is False:
            why = ("содержимое не совпадает с хешем" if sha256_hex(ev.payload) != ev.payload_sha256
                   else "поля не совпадают с хешем записи")
            report.problems.append(ChainProblem("edited", (ev.seq,), f"запись №{ev.seq} изменена: {why}"))
        elif not gap and ev.prev_hash != prev_hash:
            report.problems.append(ChainProblem(
                "relinked", (prev_seq, ev.seq) if prev_seq else (ev.seq,),
                f"цепочка разорвана перед записью №{ev.seq}: предыдущая запись №{prev_seq} подменена или "
                "пересчитана"))
        if ev.seq in walk.wanted:
            walk.seen[ev.seq] = ev.hash
        prev_seq, prev_hash = ev.seq, ev.hash
    return prev_seq, prev_hash


def _check_head(session: Session, report: VerifyReport, last_seq: int, last_hash: str) -> None:
    head = session.get(AuditChainHead, HEAD_ID, populate_existing=True)
    if head is not None and head.last_seq > last_seq:
        report.problems.append(_deleted(last_seq + 1, head.last_seq, last_seq or None))
    elif head is not None and head.last_seq == last_seq and head.last_hash != last_hash:
        report.problems.append(ChainProblem(
            "relinked", (last_seq,), f"последняя запись №{last_seq} подменена: не совпадает с головой цепочки"))


def _check_checkpoints(walk: _Walk, cps: list[checkpoints.Checkpoint], last_seq: int,
                       ring_ok: dict[int, bool | None]) -> None:
    report = walk.report
    mine = [cp for cp in cps if cp.chain == report.chain_id] if report.chain_id else []
    if report.chain_id is None:
        if cps:
            chains = sorted({cp.chain for cp in cps})
            top = max(cp.seq for cp in cps)
            report.problems.append(ChainProblem(
                "rewritten", (), f"в журнале нет записей, заверенных ключом, а файл контрольных точек заверяет "
                f"цепочку {', '.join(chains)} (до записи №{top}): журнал переписан или подменён"))
        return
    if not mine:
        report.problems.append(ChainProblem(
            "checkpoint", (), f"в файле контрольных точек нет точек цепочки {report.chain_id}: файл удалён, "
            "подменён или сервер работает с другим METODIKA_HOME"))
        return
    truncated_to: checkpoints.Checkpoint | None = None
    for cp in mine:
        ok = ring_ok[id(cp)]
        if ok is None:
            report.problems.append(ChainProblem(
                "unverifiable", (cp.seq,), f"контрольная точка (строка {cp.line}) подписана ключом {cp.key_id}, "
                "которого нет: не проверена"))
            continue
        if not ok:
            report.problems.append(ChainProblem(
                "checkpoint", (cp.seq,), f"контрольная точка записи №{cp.seq} (строка {cp.line}) подделана: "
                "подпись неверна"))
            continue
        report.checkpoints += 1
        report.last_checkpoint = max(report.last_checkpoint or 0, cp.seq)
        if cp.seq > last_seq:
            if truncated_to is None or cp.seq > truncated_to.seq:
                truncated_to = cp
        elif cp.seq in walk.seen and walk.seen[cp.seq] != cp.hash:
            report.problems.append(ChainProblem(
                "rewritten", (cp.seq,), f"запись №{cp.seq} не совпадает с контрольной точкой от {cp.at}: "
                "журнал переписан"))
    if truncated_to is not None:
        report.problems.append(ChainProblem(
            "truncated", tuple(range(last_seq + 1, truncated_to.seq + 1)),
            f"удалены последние записи №{last_seq + 1}–№{truncated_to.seq}: контрольная точка от "
            f"{truncated_to.at} заверяет запись №{truncated_to.seq}, а в журнале последняя — №{last_seq}"))


def verify_chain(session: Session, home: Path | None = None, batch_size: int = 1000) -> VerifyReport:
    """Check every record's own hash, the links, the chain head and the checkpoints under ``home``."""
    home = home or home_of(session)
    ring = load_keyring(home)
    cps, damaged = checkpoints.read(home)
    walk = _Walk(VerifyReport(), ring.by_id, {cp.seq for cp in cps})
    last_seq, last_hash = _walk(session, walk, batch_size)
    _check_head(session, walk.report, last_seq, last_hash)
    ring_ok = {id(cp): checkpoints.signature_ok(cp, ring) for cp in cps}
    _check_checkpoints(walk, cps, last_seq, ring_ok)
    for n in damaged:
        walk.report.problems.append(ChainProblem(
            "checkpoint", (), f"строка {n} файла контрольных точек повреждена"))
    return walk.report

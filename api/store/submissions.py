"""The submission rule: one accepted registry per МО × reporting period × payer, corrections aside.

Every account (SCHET) of an imported registry is a submission with the key МО (CODE_MO) ×
reporting period (YEAR-MONTH) × payer (PLAT). When a registry arrives and an imported registry
already holds the same key:

* the same account again (same FILENAME, or the same NSCHET/DSCHET/SUMMAV/SD_Z content) —
  refused, code ``API-RESUBMIT-SAME``: it is the double-payment risk itself;
* an account whose every record is marked corrected (ZAP/PR_NOV = 1: records re-submitted after
  a refusal) — accepted as a correction; the МЭК of its run compares it with the history
  (1.10.1 catches a corrected record whose case had in fact been accepted);
* any other account for the key (records with PR_NOV = 0) — refused, code ``API-RESUBMIT``,
  naming the registry that holds the key and how many records are not marked corrected.

Nothing of a refused registry is stored; the refusal is audited like a ФЛК refusal.

The check runs twice: early, right after ФЛК (``check_submission``, to refuse without writing
anything), and again inside the transaction that stores the registry (``claim_submission``),
under a lock of the key held until that transaction ends — so two first submissions of the
same МО × period × payer arriving at once cannot both pass: the second waits for the first to
commit and then sees it. PostgreSQL: ``pg_advisory_xact_lock`` per key (keys in a fixed order, so
two registries with several keys do not deadlock). SQLite serialises writers: the claim takes the
database's write lock first (as BEGIN IMMEDIATE would) and checks under it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from api.db.models import Registry, RegistrySubmission

FINGERPRINT_FIELDS = ("code_mo", "year", "month", "nschet", "dschet", "summav", "sd_z", "plat")


@dataclass(frozen=True)
class SubmissionKey:
    mo_code: str
    period: str
    payer: str
    filename: str
    fingerprint: str
    records: int
    corrections: int

    @property
    def is_correction(self) -> bool:
        return self.records > 0 and self.corrections == self.records


def _col(table: dict[str, np.ndarray], name: str, n: int) -> list[Any]:
    col = table.get(name)
    return col.tolist() if col is not None else [None] * n


def submission_keys(tables: dict[str, dict[str, np.ndarray]]) -> list[SubmissionKey]:
    acc = tables.get("account", {})
    n = len(acc.get("key", ()))
    keys, cols = _col(acc, "key", n), {f: _col(acc, f, n) for f in (*FINGERPRINT_FIELDS, "filename")}
    pat = tables.get("patient", {})
    m = len(pat.get("key", ()))
    refs, pr_nov = _col(pat, "account_ref", m), _col(pat, "pr_nov", m)
    records: dict[str, int] = {}
    corrected: dict[str, int] = {}
    for ref, flag in zip(refs, pr_nov, strict=True):
        records[ref] = records.get(ref, 0) + 1
        if str(flag).strip() == "1":
            corrected[ref] = corrected.get(ref, 0) + 1
    out = []
    for i, key in enumerate(keys):
        content = "\x1f".join("" if cols[f][i] is None else str(cols[f][i]) for f in FINGERPRINT_FIELDS)
        out.append(SubmissionKey(
            mo_code=str(cols["code_mo"][i] or ""), period=f"{int(cols['year'][i]):04d}-{int(cols['month'][i]):02d}",
            payer=str(cols["plat"][i] or ""), filename=str(cols["filename"][i] or key),
            fingerprint=hashlib.sha256(content.encode()).hexdigest(),
            records=records.get(key, 0), corrections=corrected.get(key, 0)))
    return out


def _problem(code: str, message: str, file: str, path: str) -> dict[str, Any]:
    return {"code": code, "message": message, "file": file, "line": None, "n_zap": None, "idcase": None,
            "sl_id": None, "path": path}


class SubmissionRefused(Exception):
    """The submission rule refused the registry inside the storing transaction (roll it back)."""

    def __init__(self, protocol: list[dict[str, Any]]) -> None:
        super().__init__(protocol[0]["message"] if protocol else "реестр не принят")
        self.protocol = protocol


def check_submission(session: Session, keys: list[SubmissionKey],
                     exclude_registry: int | None = None) -> list[dict[str, Any]]:
    """Problems that refuse the registry (empty: it may be imported)."""
    problems = []
    for k in keys:
        stmt = (select(RegistrySubmission, Registry.created_at)
                .join(Registry, Registry.id == RegistrySubmission.registry_id)
                .where(Registry.status == "imported", RegistrySubmission.mo_code == k.mo_code,
                       RegistrySubmission.period == k.period, RegistrySubmission.payer == k.payer))
        if exclude_registry is not None:
            stmt = stmt.where(Registry.id != exclude_registry)
        earlier = session.execute(stmt.order_by(RegistrySubmission.id)).all()
        if not earlier:
            continue
        first, when = earlier[0]
        payer = f", плательщик {k.payer}" if k.payer else ""
        same = next((s for s, _ in earlier if s.filename == k.filename or s.file_sha256 == k.fingerprint), None)
        if same is not None:
            problems.append(_problem(
                "API-RESUBMIT-SAME", f"счёт {k.filename} МО {k.mo_code} за {k.period}{payer} уже принят "
                f"(реестр № {same.registry_id}); повторная загрузка того же счёта не допускается — "
                "риск повторной оплаты", k.filename, "ZL_LIST/ZGLV/FILENAME"))
        elif not k.is_correction:
            problems.append(_problem(
                "API-RESUBMIT", f"реестр МО {k.mo_code} за {k.period}{payer} уже принят (реестр № "
                f"{first.registry_id} от {when:%d.%m.%Y}); повторно за период принимаются только исправленные "
                f"записи (PR_NOV = 1), а в счёте {k.filename} записей без признака исправления: "
                f"{k.records - k.corrections} из {k.records}", k.filename, "ZL_LIST/ZAP/PR_NOV"))
    return problems


def lock_key(k: SubmissionKey) -> int:
    """The advisory lock number of an МО × period × payer (signed 64 bits, as PostgreSQL takes it)."""
    digest = hashlib.sha256(f"metodika:submission\x1f{k.mo_code}\x1f{k.period}\x1f{k.payer}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_submission_keys(session: Session, keys: list[SubmissionKey]) -> None:
    """Hold, until the session's transaction ends, the lock of every МО × period × payer of ``keys``."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        for number in sorted({lock_key(k) for k in keys}):
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": number})
    elif dialect == "sqlite":
        # a write statement takes the database's write lock now (waiting up to busy_timeout for
        # another writer to commit); every read after it in this transaction sees the committed rows
        session.execute(text("UPDATE registry_submissions SET id = id WHERE 0 = 1"))
    else:  # pragma: no cover - the platform runs on SQLite and PostgreSQL only
        raise RuntimeError(f"правило повторной подачи не поддерживает СУБД {dialect}")


def claim_submission(session: Session, registry_id: int, keys: list[SubmissionKey]) -> None:
    """Inside the transaction that stores registry ``registry_id``: lock its keys, check the rule
    again under the lock and record the submission; SubmissionRefused when an import of the same
    key committed in the meantime (the caller rolls back and reports the protocol)."""
    lock_submission_keys(session, keys)
    refused = check_submission(session, keys, exclude_registry=registry_id)
    if refused:
        raise SubmissionRefused(refused)
    record_submission(session, registry_id, keys)


def record_submission(session: Session, registry_id: int, keys: list[SubmissionKey]) -> None:
    for k in keys:
        prior = session.scalar(
            select(RegistrySubmission.id).join(Registry, Registry.id == RegistrySubmission.registry_id)
            .where(Registry.status == "imported", Registry.id != registry_id, RegistrySubmission.mo_code == k.mo_code,
                   RegistrySubmission.period == k.period, RegistrySubmission.payer == k.payer).limit(1))
        session.add(RegistrySubmission(registry_id=registry_id, mo_code=k.mo_code, period=k.period, payer=k.payer,
                                       filename=k.filename[:64], file_sha256=k.fingerprint, records=k.records,
                                       corrections=k.corrections, kind="correction" if prior else "first"))
    session.flush()

"""Registries: upload (files kept until imported), import (ФЛК → columnar .npz), rejection.

An import is all-or-nothing: a submission failing ФЛК (or the scope/period checks here)
leaves no columnar file; the row, if kept (background import), is ``rejected`` with the
protocol. The ``.npz`` is renamed into place before the row is committed as ``imported``
and removed again if that commit fails.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, BinaryIO

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.audit import append_event
from api.auth.roles import Role, ScopeKind
from api.db.models import BranchMo, Registry, User, utcnow
from api.store.columnar import save_tables
from api.store.paths import REGISTRIES_DIR, registry_npz, upload_dir
from api.store.submissions import (
    SubmissionKey,
    SubmissionRefused,
    check_submission,
    claim_submission,
    submission_keys,
)
from api.worker.diagnostics import failure_detail

NPZ_HASH_KEY = "columns.npz"  # key of the columnar file's sha256 in registries.input_sha256
MAX_FILES = 200


class UploadError(Exception):
    def __init__(self, message: str, field: str = "files") -> None:
        super().__init__(message)
        self.field = field


@dataclass
class ImportOutcome:
    ok: bool
    tables: dict[str, dict[str, np.ndarray]] | None = None
    protocol: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    period: str | None = None
    mo_codes: list[str] = field(default_factory=list)
    submissions: list[SubmissionKey] = field(default_factory=list)

    @property
    def resubmission(self) -> bool:
        """Refused by the submission rule (api/store/submissions.py), not by ФЛК."""
        return bool(self.protocol) and all(str(p.get("code", "")).startswith("API-RESUBMIT") for p in self.protocol)


def safe_name(name: str | None) -> str:
    base = PurePath((name or "").replace("\\", "/")).name
    if not base or base in (".", "..") or base.startswith("."):
        raise UploadError(f"недопустимое имя файла «{name or ''}»")
    return base


def save_files(target: Path, files: Iterable[tuple[str | None, BinaryIO]]) -> dict[str, str]:
    """Copy uploaded streams into ``target``; {file name: sha256}."""
    target.mkdir(parents=True, exist_ok=True)
    hashes: dict[str, str] = {}
    for raw_name, stream in files:
        name = safe_name(raw_name)
        if name in hashes:
            raise UploadError(f"файл «{name}» передан дважды")
        if len(hashes) >= MAX_FILES:
            raise UploadError(f"в одной загрузке не больше {MAX_FILES} файлов")
        h = hashlib.sha256()
        with (target / name).open("wb") as out:
            while chunk := stream.read(1 << 20):
                h.update(chunk)
                out.write(chunk)
        hashes[name] = h.hexdigest()
    if not hashes:
        raise UploadError("не передано ни одного файла")
    return hashes


def _problem(code: str, message: str, file: str = "", path: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "file": file, "line": None, "n_zap": None, "idcase": None,
            "sl_id": None, "path": path}


def _distinct(col: np.ndarray | None) -> list[str]:
    if col is None:
        return []
    return sorted({str(v) for v in col.tolist() if v is not None})


def read_and_check(folder: Path, *, mo_code: str | None, period: str | None,
                   allowed_mos: set[str] | None = None, session: Session | None = None) -> ImportOutcome:
    """ФЛК of the files in ``folder`` plus the checks of the upload: МО, reporting period and, with a
    session, the submission rule (a second registry for the same МО × period × payer)."""
    from engine.oms.io import read_registry

    res = read_registry([folder])
    if not res.ok or res.data is None:
        return ImportOutcome(False, protocol=[e.to_dict() for e in res.protocol])
    acc = res.data.tables.get("account", {})
    mos = _distinct(acc.get("code_mo"))
    problems = []
    if mo_code is not None and any(m != mo_code for m in mos):
        problems.append(_problem("API-MO-SCOPE", f"реестр содержит счета МО {', '.join(mos)}, "
                                 f"а загрузка — от имени МО {mo_code}", path="ZL_LIST/SCHET/CODE_MO"))
    if allowed_mos is not None and any(m not in allowed_mos for m in mos):
        problems.append(_problem("API-MO-SCOPE", "реестр содержит счета МО вне области видимости "
                                 "пользователя: " + ", ".join(m for m in mos if m not in allowed_mos),
                                 path="ZL_LIST/SCHET/CODE_MO"))
    years, months = acc.get("year"), acc.get("month")
    periods = sorted({f"{int(y):04d}-{int(mm):02d}" for y, mm in zip(years if years is not None else [],
                                                                      months if months is not None else [],
                                                                      strict=True)})
    if len(periods) > 1:
        problems.append(_problem("API-PERIOD", "в реестре счета разных отчётных периодов: " + ", ".join(periods),
                                 path="ZL_LIST/SCHET/YEAR"))
    elif period and periods and periods[0] != period:
        problems.append(_problem("API-PERIOD", f"отчётный период счетов {periods[0]}, а указан {period}",
                                 path="ZL_LIST/SCHET/MONTH"))
    if problems:
        return ImportOutcome(False, protocol=problems)
    keys = submission_keys(res.data.tables)
    if session is not None:
        refused = check_submission(session, keys)
        if refused:
            return ImportOutcome(False, protocol=refused, submissions=keys)
    counts = {e: res.data.count(e) for e in res.data.tables}
    return ImportOutcome(True, res.data.tables, [], counts, period or (periods[0] if periods else ""), mos, keys)


def store_accepted(session: Session, home: Path, reg: Registry, outcome: ImportOutcome,
                   *, actor: str) -> Path:
    """Write the columnar file and fill ``reg`` as imported (caller commits; on failure remove the file).

    The submission rule is checked again first, under the lock of its keys (SubmissionRefused:
    nothing was written, the caller rolls back)."""
    assert outcome.tables is not None
    claim_submission(session, reg.id, outcome.submissions)
    path = registry_npz(home, reg.id)
    digest = save_tables(path, outcome.tables)
    reg.status = "imported"
    reg.progress = 1.0
    reg.counts = outcome.counts
    reg.period = outcome.period or reg.period
    if reg.mo_code is None and len(outcome.mo_codes) == 1:
        reg.mo_code = outcome.mo_codes[0]
    reg.storage_path = f"{REGISTRIES_DIR}/{path.name}"
    reg.input_sha256 = {**reg.input_sha256, NPZ_HASH_KEY: digest}
    reg.flk_protocol = []
    reg.error = None
    reg.updated_at = utcnow()
    session.flush()
    append_event(session, actor=actor, action="registry.import", object_type="registry", object_id=str(reg.id),
                 payload={"files": reg.input_sha256, "counts": outcome.counts, "period": reg.period,
                          "mo_codes": outcome.mo_codes})
    return path


def allowed_mos_of(session: Session, user: User | None) -> set[str] | None:
    """МО a branch role may upload for (None: no restriction beyond ``mo_code``)."""
    if user is None or Role(user.role).scope is not ScopeKind.BRANCH:
        return None
    return set(session.scalars(select(BranchMo.mo_code).where(BranchMo.branch_code == user.branch_code)))


def import_registry(sessions: sessionmaker[Session], home: Path, registry_id: int) -> str:
    """Background import of an uploaded registry; returns the final status."""
    with sessions() as session, session.begin():
        claimed = session.execute(
            update(Registry).where(Registry.id == registry_id, Registry.status == "uploaded")
            .values(status="importing", progress=0.1, updated_at=utcnow())
        ).rowcount
    if not claimed:
        return "skipped"
    folder = upload_dir(home, registry_id)
    with sessions() as session:
        reg = session.get(Registry, registry_id)
        assert reg is not None
        mo_code, period = reg.mo_code, reg.period or None
        uploader = session.get(User, reg.uploaded_by) if reg.uploaded_by is not None else None
        actor = uploader.login if uploader is not None else "system"
        allowed_mos = allowed_mos_of(session, uploader)
    detail = None
    try:
        with sessions() as session:
            outcome = read_and_check(folder, mo_code=mo_code, period=period, allowed_mos=allowed_mos,
                                     session=session)
    except Exception as exc:  # noqa: BLE001 - the reader failed unexpectedly: reject, keep no data
        outcome = ImportOutcome(False, protocol=[_problem("API-INTERNAL", "внутренняя ошибка чтения реестра")])
        detail = failure_detail(exc)
    path = None
    try:
        try:
            with sessions() as session, session.begin():
                session.execute(update(Registry).where(Registry.id == registry_id).values(updated_at=utcnow()))
                reg = session.get(Registry, registry_id)
                assert reg is not None
                if outcome.ok:
                    path = store_accepted(session, home, reg, outcome, actor=actor)
                else:
                    _reject(session, reg, outcome, actor, detail)
        except SubmissionRefused as exc:  # the same key was imported while this one was read
            outcome = ImportOutcome(False, protocol=exc.protocol, submissions=outcome.submissions)
            with sessions() as session, session.begin():
                reg = session.get(Registry, registry_id)
                assert reg is not None
                _reject(session, reg, outcome, actor)
    except BaseException:
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return "imported" if outcome.ok else "rejected"


def _reject(session: Session, reg: Registry, outcome: ImportOutcome, actor: str,
            detail: str | None = None) -> None:
    reg.status, reg.progress = "rejected", 1.0
    reg.flk_protocol = outcome.protocol
    reg.error_detail = detail
    reg.error = (f"Реестр не принят: {outcome.protocol[0]['message']}" if outcome.resubmission
                 else f"Реестр не принят: ошибок ФЛК — {len(outcome.protocol)}")
    reg.updated_at = utcnow()
    append_event(session, actor=actor, action="registry.reject", object_type="registry",
                 object_id=str(reg.id), payload={"files": reg.input_sha256, "errors": len(outcome.protocol)})

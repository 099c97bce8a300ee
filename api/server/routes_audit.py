"""The audit log: integrity check and reading."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from api.audit import checkpoints
from api.audit.keys import load_keyring
from api.audit.verify import verify_chain
from api.auth.permissions import Action
from api.db.models import AuditEvent, User
from api.server.deps import SessionDep, SettingsDep, require
from api.server.errors import PROBLEM_RESPONSES
from api.server.params import INT64_MAX
from api.server.schemas import AuditEventOut, AuditProblemOut, AuditVerifyOut, CheckpointOut

router = APIRouter(prefix="/audit", tags=["Аудит"], responses=PROBLEM_RESPONSES)


@router.get(
    "/verify",
    response_model=AuditVerifyOut,
    summary="Проверить целостность журнала аудита",
    description="Пересчитывает хеши всей цепочки и называет изменённые и удалённые записи.",
)
def verify(session: SessionDep, settings: SettingsDep,
           _: Annotated[User, Depends(require(Action.AUDIT_VERIFY))]) -> AuditVerifyOut:
    report = verify_chain(session, settings.home)
    return AuditVerifyOut(
        ok=report.ok,
        count=report.count,
        chain_id=report.chain_id,
        keyed_from=report.keyed_from,
        checkpoints=report.checkpoints,
        summary=report.summary(),
        first_edited=report.first_edited,
        problems=[
            AuditProblemOut(kind=p.kind, seqs=list(p.seqs), message=p.message) for p in report.problems
        ],
    )


@router.get(
    "/events",
    response_model=list[AuditEventOut],
    summary="Записи журнала аудита",
    description="Записи по возрастанию номера, начиная после after.",
)
def events(
    session: SessionDep,
    _: Annotated[User, Depends(require(Action.AUDIT_READ))],
    after: Annotated[int, Query(ge=0, le=INT64_MAX, description="Номер записи, после которой читать")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Сколько записей вернуть")] = 100,
    action: Annotated[
        str | None, Query(description="Только это действие, например auth.login_failed")
    ] = None,
) -> list[AuditEventOut]:
    stmt = select(AuditEvent).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(limit)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return [AuditEventOut.model_validate(e) for e in session.scalars(stmt)]


@router.get(
    "/checkpoints",
    response_model=list[CheckpointOut],
    summary="Контрольные точки журнала",
    description="Подписанные контрольные точки головы цепочки из файла audit-checkpoints.jsonl в "
    "METODIKA_HOME (вне базы данных), с результатом проверки подписи; последние limit точек.",
)
def list_checkpoints(
    settings: SettingsDep,
    _: Annotated[User, Depends(require(Action.AUDIT_VERIFY))],
    limit: Annotated[int, Query(ge=1, le=10000, description="Сколько последних точек вернуть")] = 100,
) -> list[CheckpointOut]:
    ring = load_keyring(settings.home)
    cps, _damaged = checkpoints.read(settings.home)
    return [CheckpointOut(**cp.to_json(), line=cp.line, signature_ok=checkpoints.signature_ok(cp, ring))
            for cp in cps[-limit:]]

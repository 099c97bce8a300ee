"""Registries: upload (background import with ФЛК), status, the ФЛК protocol."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, File, Form, Query, Request, Response, UploadFile
from sqlalchemy import select

from api.audit import append_event
from api.auth.permissions import Action
from api.auth.roles import Role, ScopeKind
from api.auth.scoping import apply_scope
from api.db.models import Registry, User
from api.server.deps import SessionDep, SettingsDep, require
from api.server.errors import PROBLEM_RESPONSES, ProblemError
from api.server.params import IdPath, OffsetQuery
from api.server.schemas import FailureDetailOut
from api.store.paths import upload_dir
from api.store.queries import get_registry
from api.store.registries import UploadError, allowed_mos_of, read_and_check, save_files, store_accepted
from api.store.schemas import ProtocolOut, RegistryOut
from api.store.submissions import SubmissionRefused
from api.worker import worker_for


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the worker pool with the server and resubmit jobs left by a previous process."""
    worker = worker_for(app)
    worker.recover()
    yield
    worker.shutdown(wait_jobs=True)


router = APIRouter(prefix="/registries", tags=["Реестры"], responses=PROBLEM_RESPONSES, lifespan=lifespan)
Uploader = Annotated[User, Depends(require(Action.REGISTRY_UPLOAD))]
Reader = Annotated[User, Depends(require(Action.REGISTRY_READ))]


def _flk_errors(protocol: list[dict]) -> list[dict]:
    return [{"loc": [e.get("file") or "", e.get("line") or 0, e.get("path") or ""],
             "msg": f"{e['code']}: {e['message']}", **{k: e.get(k) for k in ("code", "n_zap", "idcase", "sl_id")}}
            for e in protocol]


def _upload_mo(user: User, mo_code: str | None) -> str | None:
    if Role(user.role).scope is ScopeKind.MO:
        if mo_code and mo_code != user.mo_code:
            raise ProblemError(403, f"Оператор МО загружает реестры только своей МО ({user.mo_code})",
                               errors=[{"loc": ["body", "mo_code"], "msg": "чужая МО"}], kind="forbidden")
        return user.mo_code
    return mo_code or None


@router.post(
    "", response_model=RegistryOut, status_code=202, summary="Загрузить реестр",
    description="Файлы H/L (XML, windows-1251) или ZIP. Ответ 202: импорт (ФЛК, столбцы) идёт в фоне, "
                "состояние — GET /registries/{id}. С wait=true импорт выполняется сразу: 201 — принят, "
                "422 — протокол ФЛК в errors, и ничего не сохраняется.",
    responses={201: {"model": RegistryOut, "description": "Реестр принят (wait=true)"}},
)
def upload_registry(
    request: Request, response: Response, session: SessionDep, settings: SettingsDep, user: Uploader,
    files: Annotated[list[UploadFile], File(description="Файлы реестра: HM…/LM… XML или ZIP")],
    period: Annotated[str | None, Form(pattern=r"^\d{4}-\d{2}$", description="Отчётный период ГГГГ-ММ "
                                       "(по умолчанию — из счетов)")] = None,
    mo_code: Annotated[str | None, Form(max_length=16, description="Код МО, если реестр одной МО "
                                        "(для оператора МО — его МО)")] = None,
    wait: Annotated[bool, Query(description="Импортировать сразу и ответить результатом")] = False,
) -> RegistryOut:
    mo = _upload_mo(user, mo_code)
    streams = [(f.filename, f.file) for f in files]
    if wait:
        return _import_now(session, settings.home, user, streams, mo, period, response)
    reg = Registry(filenames=[], input_sha256={}, period=period or "", mo_code=mo, status="uploaded",
                   progress=0.0, uploaded_by=user.id)
    session.add(reg)
    session.flush()
    try:
        hashes = save_files(upload_dir(settings.home, reg.id), streams)
    except UploadError as exc:
        shutil.rmtree(upload_dir(settings.home, reg.id), ignore_errors=True)
        raise ProblemError(422, str(exc), errors=[{"loc": ["body", exc.field], "msg": str(exc)}]) from exc
    reg.filenames, reg.input_sha256 = sorted(hashes), hashes
    append_event(session, actor=user.login, action="registry.upload", object_type="registry",
                 object_id=str(reg.id), payload={"files": hashes, "mo_code": mo, "period": period})
    session.commit()
    worker_for(request.app).submit_import(reg.id)
    response.headers["Location"] = f"/registries/{reg.id}"
    return RegistryOut.of(reg)


def _import_now(session: SessionDep, home: Path, user: User, streams: list, mo: str | None,
                period: str | None, response: Response) -> RegistryOut:
    with tempfile.TemporaryDirectory(prefix="metodika-upload-") as tmp:
        try:
            hashes = save_files(Path(tmp), streams)
        except UploadError as exc:
            raise ProblemError(422, str(exc), errors=[{"loc": ["body", exc.field], "msg": str(exc)}]) from exc
        outcome = read_and_check(Path(tmp), mo_code=mo, period=period, allowed_mos=allowed_mos_of(session, user),
                                 session=session)
    if not outcome.ok and outcome.resubmission:
        _refuse_resubmission(session, user, hashes, outcome.protocol)
    if not outcome.ok:
        append_event(session, actor=user.login, action="registry.reject", object_type="registry",
                     payload={"files": hashes, "errors": len(outcome.protocol)})
        session.commit()
        raise ProblemError(422, f"Реестр не прошёл ФЛК: ошибок — {len(outcome.protocol)}; данные не сохранены",
                           errors=_flk_errors(outcome.protocol), kind="flk")
    reg = Registry(filenames=sorted(hashes), input_sha256=hashes, period=period or "", mo_code=mo,
                   status="importing", progress=0.5, uploaded_by=user.id)
    session.add(reg)
    session.flush()
    path = None
    try:
        path = store_accepted(session, home, reg, outcome, actor=user.login)
        session.commit()
    except SubmissionRefused as exc:  # the same МО × period was imported while this one was read
        session.rollback()
        _refuse_resubmission(session, user, hashes, exc.protocol)
    except BaseException:
        session.rollback()
        if path is not None:
            path.unlink(missing_ok=True)
        raise
    response.status_code = 201
    response.headers["Location"] = f"/registries/{reg.id}"
    return RegistryOut.of(reg)


def _refuse_resubmission(session: SessionDep, user: User, hashes: dict[str, str], protocol: list) -> None:
    append_event(session, actor=user.login, action="registry.reject", object_type="registry",
                 payload={"files": hashes, "errors": len(protocol), "rule": "resubmission"})
    session.commit()
    raise ProblemError(409, f"Реестр не принят: {protocol[0]['message']}",
                       errors=_flk_errors(protocol), kind="resubmission")


@router.get("", response_model=list[RegistryOut], summary="Реестры",
            description="Реестры в области видимости пользователя (оператор МО — только своей МО).")
def list_registries(
    session: SessionDep, user: Reader,
    period: Annotated[str | None, Query(description="Отчётный период ГГГГ-ММ")] = None,
    status: Annotated[str | None, Query(description="Состояние")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Не больше строк")] = 100,
    offset: OffsetQuery = 0,
) -> list[RegistryOut]:
    stmt = apply_scope(select(Registry), user, Registry)
    if period:
        stmt = stmt.where(Registry.period == period)
    if status:
        stmt = stmt.where(Registry.status == status)
    rows = session.scalars(stmt.order_by(Registry.id.desc()).limit(limit).offset(offset))
    return [RegistryOut.of(r) for r in rows]


def _visible(session: SessionDep, user: User, registry_id: int) -> Registry:
    reg = get_registry(session, user, registry_id)
    if reg is None:
        raise ProblemError(404, f"Реестр {registry_id} не найден")
    return reg


@router.get("/{registry_id}/failure", response_model=FailureDetailOut, summary="Трассировка сбоя импорта",
            description="Для администратора: типы исключений и кадры стека внутреннего сбоя чтения реестра. "
                        "Сообщения исключений и данные не сохраняются.")
def get_registry_failure(registry_id: IdPath, session: SessionDep,
                         _: Annotated[User, Depends(require(Action.SYSTEM_DIAGNOSE))]) -> FailureDetailOut:
    reg = session.get(Registry, registry_id)
    if reg is None:
        raise ProblemError(404, f"Реестр {registry_id} не найден")
    return FailureDetailOut(id=reg.id, status=reg.status, error=reg.error, error_detail=reg.error_detail)


@router.get("/{registry_id}", response_model=RegistryOut, summary="Состояние реестра и ход импорта")
def get_registry_status(registry_id: IdPath, session: SessionDep, user: Reader) -> RegistryOut:
    return RegistryOut.of(_visible(session, user, registry_id))


@router.get("/{registry_id}/protocol", response_model=ProtocolOut, summary="Протокол ФЛК",
            description="Ошибки форматно-логического контроля: код, сообщение, файл, строка, N_ZAP, "
                        "IDCASE, путь элемента. Значения персональных данных в протокол не попадают.")
def get_protocol(registry_id: IdPath, session: SessionDep, user: Reader) -> ProtocolOut:
    reg = _visible(session, user, registry_id)
    return ProtocolOut(registry_id=reg.id, status=reg.status, errors=reg.flk_protocol or [])


@router.get("/{registry_id}/flk_p", summary="Протоколы ФЛК в формате ФФОМС (FLK_P)",
            description="Протокол для загрузки в систему МО: XML в windows-1251, по одному на каждый полученный "
                        "файл реестра (FNAME, FNAME_I, PR: OSHIB, IM_POL, BAS_EL, N_ZAP, IDCASE, SL_ID, IDSERV, "
                        "COMMENT). С file=ИМЯ — один файл XML, без него — ZIP со всеми. Значений персональных "
                        "данных в протоколе нет.",
            response_class=Response,
            responses={200: {"content": {"application/xml": {}, "application/zip": {}}}})
def get_flk_p(registry_id: IdPath, session: SessionDep, user: Reader,
              file: Annotated[str | None, Query(description="Имя файла реестра (HM…XML) или протокола (VHM…XML)")] = None,
              prefix: Annotated[str, Query(pattern=r"^[A-Z]{0,3}$", description="Префикс имени протокола")] = "V",
              ) -> Response:
    import io
    import zipfile

    from engine.oms.io.flk_p import file_stem, protocols

    reg = _visible(session, user, registry_id)
    received = [n for n in reg.filenames if n.lower().endswith(".xml")] or list(reg.filenames)
    docs = protocols(received, reg.flk_protocol or [], prefix)
    if file is not None:
        stem = file_stem(file).upper()
        name = next((n for n in docs if file_stem(n).upper() in (stem, f"{prefix}{stem}".upper())), None)
        if name is None:
            raise ProblemError(404, f"В реестре {registry_id} нет файла «{file}»",
                               errors=[{"loc": ["query", "file"], "msg": "нет такого файла"}])
        return Response(docs[name], media_type="application/xml; charset=windows-1251",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, doc in docs.items():
            zf.writestr(name, doc)
    return Response(buf.getvalue(), media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="flk_p_{registry_id}.zip"'})

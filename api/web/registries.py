"""Registry pages: scoped list, upload (→ background import), status with progress, ФЛК protocol."""

from __future__ import annotations

import csv
import io
import shutil
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from api.audit import append_event
from api.auth.permissions import Action
from api.auth.roles import Role, ScopeKind
from api.db.models import Registry, Run
from api.server.deps import SessionDep, SettingsDep
from api.server.params import IdPath
from api.store.paths import upload_dir
from api.store.queries import run_visible
from api.store.registries import UploadError, save_files
from api.web.common import DOCUMENT_CSP, PREFIX, SECURITY_HEADERS, Ctx, WebError, page, render, signed_in
from api.web.queries import registries_in_scope, registry_or_404, run_titles, user_logins
from api.worker import worker_for
from engine.oms.io.spreadsheet import safe_row

router = APIRouter(prefix=PREFIX + "/registries", include_in_schema=False)

PROTOCOL_COLUMNS = [("file", "Файл"), ("line", "Строка"), ("n_zap", "N_ZAP"), ("idcase", "IDCASE"),
                    ("sl_id", "SL_ID"), ("path", "Элемент"), ("code", "Код"), ("message", "Сообщение")]
PERIOD_RE = r"^\d{4}-\d{2}$"


def _reader(request: Request, session: SessionDep, settings: SettingsDep) -> Ctx:
    ctx = signed_in(request, session, settings)
    ctx.need(Action.REGISTRY_READ)
    return ctx


@router.get("")
@page
def registry_list(request: Request, session: SessionDep, settings: SettingsDep, status: str = "") -> Response:
    ctx = _reader(request, session, settings)
    regs = registries_in_scope(ctx, status=status or None, limit=200)
    return render(ctx, "registries.html", registries=regs, status_filter=status,
                  uploaders=user_logins(session, (r.uploaded_by for r in regs)))


def _upload_form(ctx: Ctx, *, status: int = 200, error: str | None = None, period: str = "",
                 mo_code: str = "") -> Response:
    fixed_mo = ctx.user.mo_code if Role(ctx.user.role).scope is ScopeKind.MO else None
    return render(ctx, "upload.html", status=status, error=error, period=period, mo_code=fixed_mo or mo_code,
                  fixed_mo=fixed_mo)


@router.get("/upload")
@page
def upload_form(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = signed_in(request, session, settings)
    ctx.need(Action.REGISTRY_UPLOAD)
    return _upload_form(ctx)


@router.post("/upload")
@page
def upload(request: Request, session: SessionDep, settings: SettingsDep,
           files: Annotated[list[UploadFile] | None, File()] = None,
           csrf: Annotated[str, Form()] = "", period: Annotated[str, Form()] = "",
           mo_code: Annotated[str, Form()] = "") -> Response:
    """The same steps as ``POST /registries`` (background import): row, files, audit, job."""
    import re

    ctx = signed_in(request, session, settings)
    ctx.need(Action.REGISTRY_UPLOAD)
    ctx.check_csrf(csrf)
    period, mo_code = period.strip(), mo_code.strip()
    if period and not re.match(PERIOD_RE, period):
        return _upload_form(ctx, status=422, error="Период укажите как ГГГГ-ММ, например 2025-03.",
                            period=period, mo_code=mo_code)
    if Role(ctx.user.role).scope is ScopeKind.MO:
        if mo_code and mo_code != ctx.user.mo_code:
            raise WebError(403, f"Оператор МО загружает реестры только своей МО ({ctx.user.mo_code}).")
        mo: str | None = ctx.user.mo_code
    else:
        mo = mo_code[:16] or None
    streams = [(f.filename, f.file) for f in files or [] if f.filename]
    if not streams:
        return _upload_form(ctx, status=422, error="Выберите файлы реестра (HM…/LM… XML) или ZIP-архив.",
                            period=period, mo_code=mo_code)
    reg = Registry(filenames=[], input_sha256={}, period=period, mo_code=mo, status="uploaded", progress=0.0,
                   uploaded_by=ctx.user.id)
    session.add(reg)
    session.flush()
    try:
        hashes = save_files(upload_dir(ctx.home, reg.id), streams)
    except UploadError as exc:
        shutil.rmtree(upload_dir(ctx.home, reg.id), ignore_errors=True)
        session.rollback()
        return _upload_form(ctx, status=422, error=f"Файлы не приняты: {exc}.", period=period, mo_code=mo_code)
    reg.filenames, reg.input_sha256 = sorted(hashes), hashes
    append_event(session, actor=ctx.user.login, action="registry.upload", object_type="registry",
                 object_id=str(reg.id), payload={"files": hashes, "mo_code": mo, "period": period or None,
                                                 "via": "web"})
    session.commit()
    worker_for(request.app).submit_import(reg.id)
    return RedirectResponse(f"{PREFIX}/registries/{reg.id}", status_code=303)


@router.get("/{registry_id}")
@page
def registry_page(registry_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = _reader(request, session, settings)
    reg = registry_or_404(ctx, registry_id)
    runs = []
    if ctx.can(Action.RUN_READ):
        runs = list(session.scalars(select(Run).where(Run.registry_id == reg.id, run_visible(ctx.user))
                                    .order_by(Run.id.desc()).limit(20)))
    protocol = reg.flk_protocol or []
    return render(ctx, "registry.html", reg=reg, protocol=protocol[:1000], protocol_total=len(protocol),
                  columns=PROTOCOL_COLUMNS, runs=runs, titles=run_titles(session, runs),
                  uploader=user_logins(session, [reg.uploaded_by]).get(reg.uploaded_by or -1, ""),
                  pending=reg.status in ("uploaded", "importing"))


@router.get("/{registry_id}/state")
@page
def registry_state(registry_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Progress for the polling script (ids and states only)."""
    ctx = _reader(request, session, settings)
    reg = registry_or_404(ctx, registry_id)
    return JSONResponse({"status": reg.status, "progress": reg.progress,
                         "final": reg.status in ("imported", "rejected")}, headers=SECURITY_HEADERS)


def _protocol_rows(reg: Registry) -> list[dict[str, Any]]:
    return [{k: ("" if e.get(k) is None else e.get(k)) for k, _ in PROTOCOL_COLUMNS} for e in reg.flk_protocol or []]


@router.get("/{registry_id}/protocol.csv")
@page
def protocol_csv(registry_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = _reader(request, session, settings)
    reg = registry_or_404(ctx, registry_id)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow([label for _, label in PROTOCOL_COLUMNS])
    for row in _protocol_rows(reg):
        writer.writerow(safe_row(row[k] for k, _ in PROTOCOL_COLUMNS))
    body = "\ufeff" + buf.getvalue()  # BOM: Excel opens UTF-8 CSV with Cyrillic correctly
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="flk_protocol_{reg.id}.csv"', "Cache-Control": "no-store"})


@router.get("/{registry_id}/protocol.html")
@page
def protocol_html(registry_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = _reader(request, session, settings)
    reg = registry_or_404(ctx, registry_id)
    response = render(ctx, "protocol.html", reg=reg, rows=_protocol_rows(reg), columns=PROTOCOL_COLUMNS)
    response.headers["Content-Disposition"] = f'attachment; filename="flk_protocol_{reg.id}.html"'
    response.headers["Content-Security-Policy"] = DOCUMENT_CSP
    return response

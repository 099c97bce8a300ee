"""Run pages: list, start (methodology version × registry × ЕРЗ), progress, totals and defects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from api.auth.permissions import Action
from api.db.models import MethodologyVersion, Registry, RunDefect
from api.server.deps import SessionDep, SettingsDep
from api.server.params import IdPath
from api.store.personal import mask_defect_values, public_defect_values
from api.store.queries import Filters, get_registry, page_rows, run_visible
from api.store.registries import UploadError
from api.store.runs import RunStartError, create_run
from api.web.common import PREFIX, SECURITY_HEADERS, Ctx, int_or_none, page, render, signed_in
from api.web.queries import (
    defect_choices,
    registries_in_scope,
    run_or_404,
    run_summary,
    run_titles,
    user_logins,
)
from api.worker import worker_for

router = APIRouter(prefix=PREFIX + "/runs", include_in_schema=False)
PAGE_SIZE = 50


def _reader(request: Request, session: SessionDep, settings: SettingsDep) -> Ctx:
    ctx = signed_in(request, session, settings)
    ctx.need(Action.RUN_READ)
    return ctx


@router.get("")
@page
def run_list(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    from api.db.models import Run

    ctx = _reader(request, session, settings)
    runs = list(session.scalars(select(Run).where(run_visible(ctx.user)).order_by(Run.id.desc()).limit(200)))
    return render(ctx, "runs.html", runs=runs, titles=run_titles(session, runs),
                  authors=user_logins(session, (r.created_by for r in runs)))


def _start_form(ctx: Ctx, *, status: int = 200, error: str | None = None, version_id: int | None = None,
                registry_id: int | None = None) -> Response:
    versions = list(ctx.session.scalars(select(MethodologyVersion).order_by(MethodologyVersion.id.desc())))
    regs = registries_in_scope(ctx, status="imported", limit=200)
    return render(ctx, "run_new.html", status=status, error=error, versions=versions, registries=regs,
                  version_id=version_id, registry_id=registry_id)


@router.get("/new")
@page
def start_form(request: Request, session: SessionDep, settings: SettingsDep, registry: str = "") -> Response:
    ctx = signed_in(request, session, settings)
    ctx.need(Action.RUN_START)
    return _start_form(ctx, registry_id=int_or_none(registry))


@router.post("/new")
@page
def start(request: Request, session: SessionDep, settings: SettingsDep,
          csrf: Annotated[str, Form()] = "", methodology_version_id: Annotated[str, Form()] = "",
          registry_id: Annotated[str, Form()] = "", backend: Annotated[str, Form()] = "numpy",
          insured: Annotated[UploadFile | None, File()] = None) -> Response:
    """The same steps as ``POST /runs``: a queued run with its reference files, then the job."""
    ctx = signed_in(request, session, settings)
    ctx.need(Action.RUN_START)
    ctx.check_csrf(csrf)
    vid, rid = int_or_none(methodology_version_id), int_or_none(registry_id)
    mv = session.get(MethodologyVersion, vid) if vid is not None else None
    reg: Registry | None = get_registry(session, ctx.user, rid) if rid is not None else None
    if mv is None or reg is None:
        return _start_form(ctx, status=422, version_id=vid, registry_id=rid,
                           error="Выберите опубликованную версию методологии и импортированный реестр.")
    refs = []
    if insured is not None and insured.filename:
        refs.append(("insured", insured.filename, insured.file))
    try:
        run = create_run(session, ctx.home, mv, reg, refs, user=ctx.user, backend=backend)
    except (RunStartError, UploadError) as exc:
        session.rollback()
        return _start_form(ctx, status=422, version_id=vid, registry_id=rid, error=f"Расчёт не запущен: {exc}.")
    session.commit()
    worker_for(request.app).submit_run(run.id)
    return RedirectResponse(f"{PREFIX}/runs/{run.id}", status_code=303)


@router.get("/{run_id}/state")
@page
def run_state(run_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = _reader(request, session, settings)
    run = run_or_404(ctx, run_id)
    return JSONResponse({"status": run.status, "progress": run.progress, "final": run.status in ("done", "failed")},
                        headers=SECURITY_HEADERS)


@router.get("/{run_id}")
@page
def run_page(run_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep,
             mo: str = "", smo: str = "", code: str = "", after: str = "", per: str = "") -> Response:
    ctx = _reader(request, session, settings)
    run = run_or_404(ctx, run_id)
    mv = session.get(MethodologyVersion, run.methodology_version_id)
    reg = session.get(Registry, run.registry_id) if run.registry_id is not None else None
    info = dict(run=run, mv=mv, reg=reg, author=user_logins(session, [run.created_by]).get(run.created_by or -1, ""),
                pending=run.status in ("queued", "running"))
    if run.status != "done":
        return render(ctx, "run.html", summary=None, defects=None, **info)
    summary = run_summary(ctx, run.id)
    defects = None
    if ctx.can(Action.DEFECT_READ):
        filters = Filters(mo=mo or None, smo=smo or None, code=code or None)
        cursor = int_or_none(after)
        size = min(max(int_or_none(per) or PAGE_SIZE, 10), 200)
        pg = page_rows(session, ctx.user, RunDefect, run.id, filters, after=cursor, limit=size)
        masked = not ctx.can(Action.PERSONAL_DATA_READ)
        view = mask_defect_values if masked else public_defect_values
        rows = [{"d": d, "details": view(d.values)} for d in pg.items]
        mos, smos = defect_choices(ctx, run.id)
        defects = {"rows": rows, "total": pg.total, "next_after": pg.next_after, "after": cursor,
                   "mo": mo, "smo": smo, "code": code, "mos": mos, "smos": smos, "masked": masked,
                   "per": size if size != PAGE_SIZE else "",
                   "codes": summary.defect_codes}
    return render(ctx, "run.html", summary=summary, defects=defects, **info)


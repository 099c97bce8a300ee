"""Methodology pages (published versions, resolved view with provenance, diff) and the audit page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from api.audit.verify import verify_chain
from api.auth.permissions import Action
from api.db.models import AuditEvent, MethodologyVersion
from api.server.deps import SessionDep, SettingsDep
from api.server.params import IdPath
from api.store.methodologies import compile_version, display_root, strip_paths
from api.store.views import diff_view, resolved_view
from api.web.common import PREFIX, Ctx, WebError, int_or_none, page, render, signed_in
from api.web.queries import user_logins, version_or_404

router = APIRouter(prefix=PREFIX, include_in_schema=False)
DIFF_SECTIONS = [("parameter", "Параметры"), ("table", "Таблицы"), ("definition", "Определения"),
                 ("check", "Проверки")]
OPS = {"added": "добавлено", "removed": "удалено", "changed": "изменено", "disabled": "отключено"}


def _reader(request: Request, session: SessionDep, settings: SettingsDep) -> Ctx:
    ctx = signed_in(request, session, settings)
    ctx.need(Action.METHODOLOGY_READ)
    return ctx


def _versions(ctx: Ctx) -> list[MethodologyVersion]:
    return list(ctx.session.scalars(select(MethodologyVersion).order_by(MethodologyVersion.package_id,
                                                                        MethodologyVersion.id.desc())))


@router.get("/methodologies")
@page
def version_list(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = _reader(request, session, settings)
    versions = _versions(ctx)
    return render(ctx, "methodologies.html", versions=versions,
                  publishers=user_logins(session, (v.published_by for v in versions)))


@router.get("/methodologies/diff")
@page
def version_diff(request: Request, session: SessionDep, settings: SettingsDep, a: str = "", b: str = "") -> Response:
    ctx = _reader(request, session, settings)
    versions = _versions(ctx)
    ia, ib = int_or_none(a), int_or_none(b)
    changes = None
    va = vb = None
    if ia is not None and ib is not None:
        va, vb = version_or_404(ctx, ia), version_or_404(ctx, ib)
        ma, mb = compile_version(ctx.home, va), compile_version(ctx.home, vb)
        changes = strip_paths(diff_view(ma, mb), display_root(ma) + display_root(mb))
    sections = [(title, [c for c in changes if c["kind"] == kind]) for kind, title in DIFF_SECTIONS] \
        if changes is not None else []
    return render(ctx, "diff.html", versions=versions, a=ia, b=ib, va=va, vb=vb, changes=changes,
                  sections=[s for s in sections if s[1]], ops=OPS)


@router.get("/methodologies/{version_id}")
@page
def version_page(version_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep,
                 part: str = "definitions") -> Response:
    ctx = _reader(request, session, settings)
    mv = version_or_404(ctx, version_id)
    m = compile_version(ctx.home, mv)
    view = strip_paths(resolved_view(m), display_root(m))
    if part not in ("definitions", "parameters", "tables", "checks", "entities"):
        raise WebError(404, f"Нет раздела «{part}».")
    return render(ctx, "methodology.html", mv=mv, view=view, part=part,
                  publisher=user_logins(session, [mv.published_by]).get(mv.published_by or -1, ""),
                  files=[(f.path, f.sha256) for f in mv.files])


@router.get("/audit")
@page
def audit_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = signed_in(request, session, settings)
    ctx.need(Action.AUDIT_VERIFY)
    report = verify_chain(session)
    events = []
    if ctx.can(Action.AUDIT_READ):
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(30)))
    return render(ctx, "audit.html", report=report, events=events)

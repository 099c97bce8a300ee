"""Web workbench: run a draft's YAML tests, its change list, publishing it as a new version.

Publishing goes through :func:`api.store.methodologies.publish_compiled`, the path of
``POST /methodologies/versions``, and only after the draft compiles and all its tests pass.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.server.deps import SessionDep, SettingsDep
from api.store.drafts import Draft, compile_draft, locked, mark_published
from api.store.methodologies import (
    PublishError,
    compile_version,
    display_root,
    path_prefixes,
    publish_compiled,
    strip_paths,
)
from api.store.views import diff_view, test_view
from api.web.common import PREFIX, Ctx, WebError, page, render
from api.web.methodologies import DIFF_SECTIONS, OPS
from api.web.queries import version_or_404
from api.web.workbench_common import audit, draft_or_error, editor

router = APIRouter(prefix=PREFIX, include_in_schema=False)


def _tests(draft: Draft) -> dict | None:
    """The test report of the draft (None when it does not compile)."""
    from engine.testing import run_tests

    m, _ = compile_draft(draft)
    if m is None:
        return None
    return strip_paths(test_view(run_tests(m)), path_prefixes(draft.leaf))


@router.post("/drafts/{draft_id}/tests")
@page
def draft_tests(draft_id: str, request: Request, session: SessionDep, settings: SettingsDep,
                csrf: Annotated[str, Form()] = "") -> Response:
    ctx = editor(request, session, settings)
    ctx.check_csrf(csrf)
    draft = draft_or_error(ctx, draft_id)
    with locked(draft) as current:
        report = _tests(current)
    if report is None:
        audit(ctx, "test", draft, compiles=False)
        raise WebError(422, "Черновик не компилируется: тесты не запущены. Исправьте ошибки на странице черновика.")
    audit(ctx, "test", draft, passed=report["passed"], failed=report["failed"])
    return render(ctx, "draft_tests.html", draft=draft, report=report)


@router.get("/drafts/{draft_id}/diff")
@page
def draft_diff(draft_id: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = editor(request, session, settings)
    draft = draft_or_error(ctx, draft_id)
    base = version_or_404(ctx, draft.meta.base_version_id)
    m, _ = compile_draft(draft)
    if m is None:
        raise WebError(422, "Черновик не компилируется: изменения показываются для компилирующегося черновика.")
    mb = compile_version(ctx.home, base)
    changes = strip_paths(diff_view(mb, m), display_root(mb) + path_prefixes(draft.leaf))
    sections = [(title, [c for c in changes if c["kind"] == kind]) for kind, title in DIFF_SECTIONS]
    return render(ctx, "draft_diff.html", draft=draft, base=base, ref=m.ref,
                  sections=[s for s in sections if s[1]], ops=OPS)


def _refuse(ctx: Ctx, draft: Draft, reason: str, message: str) -> None:
    audit(ctx, "publish_refused", draft, reason=reason)
    raise WebError(422, message)


@router.post("/drafts/{draft_id}/publish")
@page
def draft_publish(draft_id: str, request: Request, session: SessionDep, settings: SettingsDep,
                  csrf: Annotated[str, Form()] = "") -> Response:
    from engine.testing import run_tests

    ctx = editor(request, session, settings)
    ctx.check_csrf(csrf)
    draft = draft_or_error(ctx, draft_id)
    with locked(draft) as current:  # one publish per draft at a time; edits wait
        if current.published:
            raise WebError(409, f"Черновик уже опубликован (версия {current.meta.published_version_id}).")
        m, diags = compile_draft(current)
        if m is None:
            _refuse(ctx, current, "diagnostics", f"Черновик содержит ошибки ({len(diags)}); версия не "
                                                  "опубликована. Исправьте их на странице черновика.")
        report = run_tests(m)
        if report.failed:
            _refuse(ctx, current, "tests", f"Не прошли тесты ({report.failed} из {len(report.results)}); "
                                           "версия не опубликована. Запустите тесты, чтобы увидеть расхождения.")
        try:
            mv, created = publish_compiled(session, m, actor=ctx.user.login, user_id=ctx.user.id)
        except PublishError as exc:
            _refuse(ctx, current, "conflict", f"Версия не опубликована: {exc}.")
        mark_published(current, mv.id)
    audit(ctx, "publish", draft, version_id=mv.id, version=f"{mv.package_id}@{mv.version}", created=created,
          tests=report.passed)
    return RedirectResponse(f"{PREFIX}/methodologies/{mv.id}", status_code=303)

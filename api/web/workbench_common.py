"""Shared pieces of the web workbench pages: the editor's context, the draft, audit, CSV grids."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import Request

from api.audit import append_event
from api.auth.permissions import Action
from api.server.deps import SessionDep, SettingsDep
from api.store.drafts import Draft, DraftError, load_draft
from api.web.common import Ctx, WebError, signed_in

# Editing a draft and publishing it are one right: the methodologist who may publish a version
# may prepare it (the permission table, tests/platform/test_platform_permission_matrix.py).
EDIT = Action.METHODOLOGY_PUBLISH
GRID_SPARE_ROWS = 3


def editor(request: Request, session: SessionDep, settings: SettingsDep) -> Ctx:
    ctx = signed_in(request, session, settings)
    ctx.need(EDIT)
    return ctx


def draft_or_error(ctx: Ctx, draft_id: str) -> Draft:
    try:
        return load_draft(ctx.home, draft_id)
    except DraftError as exc:
        raise WebError(exc.status, str(exc)) from exc


def audit(ctx: Ctx, action: str, draft: Draft, **payload: Any) -> None:
    """One audit record of a workbench step, committed with the session."""
    append_event(ctx.session, actor=ctx.user.login, action=f"methodology.draft.{action}",
                 object_type="methodology_draft", object_id=draft.meta.id,
                 payload={"package": draft.meta.package_id, "base_version_id": draft.meta.base_version_id,
                          **payload})
    ctx.session.commit()


def where(d: dict[str, Any]) -> str:
    """«file:line:col» of a diagnostic (the manifest when it has no position)."""
    span = d.get("span") or {}
    out = span.get("file") or "methodology.yaml"
    if span.get("line"):
        out += f":{span['line']}:{span.get('column') or 1}"
    return out


def read_grid(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return [], []
    header, body = rows[0], rows[1:]
    return header, [r + [""] * (len(header) - len(r)) for r in body]


def grid_from_form(form: Any, header: list[str]) -> str:
    """The CSV text of a submitted grid: cells ``c<row>_<col>``; rows left empty are dropped."""
    rows = int(form.get("rows") or 0)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for r in range(min(rows, 100_000)):
        cells = [str(form.get(f"c{r}_{c}") or "").strip() for c in range(len(header))]
        if any(cells):
            writer.writerow(cells)
    return out.getvalue()

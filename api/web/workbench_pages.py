"""Web workbench: drafts of methodology versions — create, the draft page, edit a file, XLSX import.

Tests, the change list and publishing are in :mod:`api.web.workbench_actions`; the drafts
themselves (files under METODIKA_HOME, locking) in :mod:`api.store.drafts`. docs/workbench.md.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from api.server.deps import SessionDep, SettingsDep
from api.server.params import IdPath
from api.store.drafts import (
    Draft,
    DraftError,
    chain_outside_leaf,
    compile_draft,
    create_draft,
    leaf_files,
    list_drafts,
    locked,
    read_file,
    restore,
    write_file,
)
from api.web.common import PREFIX, Ctx, WebError, page, render
from api.web.queries import version_or_404
from api.web.workbench_common import audit, draft_or_error, editor, grid_from_form, read_grid, where

router = APIRouter(prefix=PREFIX, include_in_schema=False)
MAX_FORM_FIELDS = 200_000  # a table grid posts one field per cell


def _tables_by_file(draft: Draft, m) -> dict[str, str]:
    """Leaf-relative CSV path → table name, for the tables the leaf package itself defines."""
    out = {}
    if m is None:
        return out
    for t in m.tables.values():
        if t.package == m.package.ref and t.file:
            try:
                out[Path(t.file).resolve().relative_to(draft.leaf.resolve()).as_posix()] = t.name
            except ValueError:
                continue
    return out


@router.get("/drafts")
@page
def drafts_list(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = editor(request, session, settings)
    return render(ctx, "drafts.html", drafts=list_drafts(ctx.home))


@router.post("/methodologies/{version_id}/drafts")
@page
def draft_create(version_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep,
                 csrf: Annotated[str, Form()] = "") -> Response:
    ctx = editor(request, session, settings)
    ctx.check_csrf(csrf)
    mv = version_or_404(ctx, version_id)
    draft = create_draft(ctx.home, mv, ctx.user.login)
    audit(ctx, "create", draft, base=f"{mv.package_id}@{mv.version}", via="web")
    return RedirectResponse(f"{PREFIX}/drafts/{draft.meta.id}", status_code=303)


def draft_view(ctx: Ctx, draft: Draft, status: int = 200, **extra) -> Response:
    m, diags = compile_draft(draft)
    for d in diags:
        d["where"] = where(d)
    return render(ctx, "draft.html", status=status, draft=draft, files=leaf_files(draft), ok=m is not None,
                  ref=m.ref if m is not None else None, diags=diags, tables=_tables_by_file(draft, m),
                  **{"notice": "", "error": "", "problems": [], **extra})


@router.get("/drafts/{draft_id}")
@page
def draft_page(draft_id: str, request: Request, session: SessionDep, settings: SettingsDep,
               saved: str = "") -> Response:
    ctx = editor(request, session, settings)
    draft = draft_or_error(ctx, draft_id)
    return draft_view(ctx, draft, notice=f"Файл {saved} сохранён." if saved else "")


@router.get("/drafts/{draft_id}/files/{path:path}")
@page
def file_page(draft_id: str, path: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = editor(request, session, settings)
    draft = draft_or_error(ctx, draft_id)
    try:
        text = read_file(draft, path)
    except DraftError as exc:
        raise WebError(exc.status, str(exc)) from exc
    header, rows = read_grid(text) if path.endswith(".csv") else ([], [])
    return render(ctx, "draft_file.html", draft=draft, path=path, text=text, header=header,
                  rows=rows + [[""] * len(header) for _ in range(3)] if header else [])


@page
def _save(draft_id: str, path: str, *, request: Request, session: SessionDep, settings: SettingsDep,
          form) -> Response:
    ctx = editor(request, session, settings)
    ctx.check_csrf(str(form.get("csrf") or ""))
    draft = draft_or_error(ctx, draft_id)
    try:
        with locked(draft) as current:
            old = read_file(current, path)
            if path.endswith(".csv") and "rows" in form:
                text = grid_from_form(form, read_grid(old)[0])
            else:
                text = str(form.get("text") or "")
            write_file(current, path, text)
            m, diags = compile_draft(current)
    except DraftError as exc:
        raise WebError(exc.status, str(exc)) from exc
    audit(ctx, "save", draft, file=path, changed=old != text.replace("\r\n", "\n"), compiles=m is not None,
          errors=len(diags))
    return RedirectResponse(f"{PREFIX}/drafts/{draft_id}?saved={quote(path)}", status_code=303)


@router.post("/drafts/{draft_id}/files/{path:path}")
async def file_save(draft_id: str, path: str, request: Request, session: SessionDep,
                    settings: SettingsDep) -> Response:
    form = await request.form(max_fields=MAX_FORM_FIELDS)

    return await run_in_threadpool(lambda: _save(draft_id, path, request=request, session=session,
                                                 settings=settings, form=form))


@router.post("/drafts/{draft_id}/import")
@page
def xlsx_import(draft_id: str, request: Request, session: SessionDep, settings: SettingsDep,
                csrf: Annotated[str, Form()] = "", target: Annotated[str, Form()] = "",
                workbook: Annotated[UploadFile | None, File()] = None) -> Response:
    """Import a table (target = its name) or the parameters (target «parameters») from XLSX."""
    from api.workbench.xlsx_params import import_params
    from api.workbench.xlsx_tables import XlsxError, import_table

    ctx = editor(request, session, settings)
    ctx.check_csrf(csrf)
    draft = draft_or_error(ctx, draft_id)
    if workbook is None or not workbook.filename:
        return draft_view(ctx, draft, status=422, error="Выберите файл XLSX.")
    with locked(draft) as current, tempfile.TemporaryDirectory(prefix="metodika-xlsx-") as tmp:
        if current.published:
            raise WebError(409, "Черновик уже опубликован и не изменяется; создайте новый черновик")
        m, _diags = compile_draft(current)
        if m is None:
            return draft_view(ctx, current, status=422,
                              error="Черновик не компилируется: исправьте ошибки, затем импортируйте XLSX.")
        xlsx = Path(tmp) / "import.xlsx"
        xlsx.write_bytes(workbook.file.read())
        snapshot = chain_outside_leaf(current)
        try:
            if target == "parameters":
                changed = import_params(m, xlsx).changed
            else:
                result = import_table(m, target, xlsx)
                changed = [f"таблица {target}: строк {result.rows}, изменено ячеек {result.changed_cells}"]
        except XlsxError as exc:
            problems = [p.replace(str(xlsx), workbook.filename) for p in exc.problems]
            return draft_view(ctx, current, status=422, error="XLSX не импортирован:", problems=problems)
        outside = restore(snapshot)
        if outside:
            return draft_view(ctx, current, status=422, error="XLSX меняет параметры расширяемого пакета "
                              f"({', '.join(outside)}): в черновике изменяются только файлы его пакета; "
                              "переопределите параметр в своём пакете.")
    audit(ctx, "import", draft, target=target, file=workbook.filename, changes=len(changed))
    return draft_view(ctx, draft, notice="Импортировано из XLSX: " + ("; ".join(changed) or "без изменений"))

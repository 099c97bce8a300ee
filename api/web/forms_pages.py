"""Report forms of a run: the shipped definitions (forms/definitions), downloads in HTML, XLSX,
PDF and XML, failed control ratios.

A stored run keeps per-row values in the database, not the engine's in-memory result the
forms package reads. The run is executed again from its verified inputs (the registry's
``.npz`` — its sha256 must equal the one the run recorded — and the run's reference files)
with the same methodology version: same hashes, same engine ⇒ the same numbers
(docs/gaps/web.md). The last few runs are cached per process.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from api.auth.permissions import Action
from api.db.models import MethodologyVersion, Registry, Run, RunResult
from api.server.deps import SessionDep, SettingsDep
from api.server.params import IdPath
from api.store.columnar import file_sha256, load_tables
from api.store.methodologies import compile_version
from api.store.paths import run_inputs_dir
from api.store.registries import NPZ_HASH_KEY
from api.web.common import DOCUMENT_CSP, PREFIX, Ctx, WebError, page, render, signed_in
from api.web.queries import run_or_404, whole_run_in_scope

router = APIRouter(prefix=PREFIX + "/runs", include_in_schema=False)
FORMATS = {"html": "text/html; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument."
           "spreadsheetml.sheet", "pdf": "application/pdf", "xml": "application/xml"}
CACHE_SIZE = 2
_cache: OrderedDict[tuple[str, int], Any] = OrderedDict()
_lock = threading.Lock()


def run_data(home: Path, run: Run, mv: MethodologyVersion, reg: Registry) -> Any:
    """The run's :class:`forms.dataset.RunData`, executed again from its verified inputs."""
    from engine.oms.pipeline import process_tables
    from forms.dataset import run_data_from_result

    key = (str(home), run.id)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        npz = home / (reg.storage_path or "")
        if not npz.is_file() or file_sha256(npz) != run.input_hashes.get(f"registry:{NPZ_HASH_KEY}"):
            raise WebError(409, "Данные реестра изменены или удалены после расчёта: формы построить нельзя.")
        m = compile_version(home, mv, fresh=True)
        if m.content_hash != mv.content_sha256:
            raise WebError(409, "Версия методологии не совпадает с той, по которой выполнен расчёт.")
        folder = run_inputs_dir(home, run.id)
        extra = {p.stem: p for p in sorted(folder.glob("*.csv"))} if folder.is_dir() else {}
        res = process_tables(m, load_tables(npz), extra)
        if res.status != "done":
            raise WebError(409, "Расчёт не воспроизводится по сохранённым данным: формы построить нельзя.")
        rd = run_data_from_result(res)
        _cache[key] = rd
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
        return rd


def _definitions() -> list[Any]:
    from forms.definition import list_definitions, load_form, resolve_form_path

    return [load_form(resolve_form_path(name)) for name in list_definitions()]


def _context(ctx: Ctx, run_id: int) -> tuple[Run, MethodologyVersion, Registry]:
    ctx.need(Action.FORM_RENDER)
    run = run_or_404(ctx, run_id)
    if run.status != "done":
        raise WebError(409, f"Расчёт {run_id} ещё не завершён: формы строятся по завершённому расчёту.")
    if not whole_run_in_scope(ctx, run):
        raise WebError(403, "Отчётные формы сводят весь расчёт, а в нём есть данные вне вашей области "
                            "видимости. Формы по своей МО постройте по расчёту реестра своей МО.")
    mv = ctx.session.get(MethodologyVersion, run.methodology_version_id)
    reg = ctx.session.get(Registry, run.registry_id) if run.registry_id is not None else None
    if mv is None or reg is None:
        raise WebError(409, "У расчёта нет реестра или методологии.")
    return run, mv, reg


def _mo_codes(ctx: Ctx, run: Run) -> list[str]:
    stmt = select(RunResult.mo_code).where(RunResult.run_id == run.id, RunResult.entity == "case").distinct()
    return sorted(v for v in ctx.session.scalars(stmt) if v)


def _params(form: Any, run: Run, mo: str) -> dict[str, str] | None:
    """Parameters of a form for this run; None when a required one has no value."""
    params: dict[str, str] = {}
    for name, spec in form.params.items():
        if name == "period" and run.period:
            params[name] = run.period
        elif name == "mo":
            if not mo:
                return None
            params[name] = mo
        elif spec.default is not None:
            params[name] = spec.default
        else:
            return None
    return params


@router.get("/{run_id}/forms")
@page
def forms_list(run_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep, mo: str = "") -> Response:
    ctx = signed_in(request, session, settings)
    run, mv, reg = _context(ctx, run_id)
    mos = _mo_codes(ctx, run)
    mo = mo if mo in mos else (run.mo_code or (mos[0] if mos else ""))
    rows = []
    for form in _definitions():
        needs_input = form.inputs is not None
        title = form.title
        for name, value in (("mo", mo), ("period", run.period or "")):
            title = title.replace("{" + name + "}", value)
        rows.append({"form": form, "title": title, "formats": [f for f in FORMATS if f != "xml" or form.xml is not None],
                     "available": not needs_input, "uses_mo": "mo" in form.params,
                     "note": "нужна входная таблица плана (доступно через CLI)" if needs_input else ""})
    return render(ctx, "forms.html", run=run, mv=mv, rows=rows, mos=mos, mo=mo)


@router.get("/{run_id}/forms/{form_id}/controls")
@page
def form_controls(run_id: IdPath, form_id: str, request: Request, session: SessionDep, settings: SettingsDep,
                  mo: str = "") -> Response:
    ctx = signed_in(request, session, settings)
    run, mv, reg = _context(ctx, run_id)
    form, result = _build(ctx, run, mv, reg, form_id, mo)
    return render(ctx, "form_controls.html", run=run, form=form, controls=result.controls, mo=mo)


def _build(ctx: Ctx, run: Run, mv: MethodologyVersion, reg: Registry, form_id: str, mo: str) -> tuple[Any, Any]:
    from dsl.diagnostics import DiagnosticError
    from forms.build import build_form
    from forms.dataset import WorldError
    from forms.evaluate import FormError

    form = next((f for f in _definitions() if f.id == form_id), None)
    if form is None:
        raise WebError(404, f"Формы «{form_id}» нет среди поставляемых.")
    if form.inputs is not None:
        raise WebError(409, f"Форме «{form.title}» нужна входная таблица: постройте её через CLI "
                            f"(metodika form {form.id} --input …).")
    if mo and mo not in _mo_codes(ctx, run):
        raise WebError(404, f"МО {mo} нет в расчёте.")
    params = _params(form, run, mo)
    if params is None:
        raise WebError(422, f"Для формы «{form.title}» выберите МО.")
    rd = run_data(ctx.home, run, mv, reg)
    try:
        return form, build_form(form, run=rd, methodology=rd.methodology, params=params,
                                generated_at=run.finished_at)
    except (FormError, WorldError) as exc:
        raise WebError(422, f"Форма «{form.title}» не построена: {exc}") from exc
    except DiagnosticError as exc:
        raise WebError(422, f"Форма «{form.title}» не построена: ошибки в определении формы "
                            f"({len(exc.diagnostics)}).") from exc


@router.get("/{run_id}/forms/{form_id}.{fmt}")
@page
def form_download(run_id: IdPath, form_id: str, fmt: str, request: Request, session: SessionDep,
                  settings: SettingsDep, mo: str = "") -> Response:
    from forms.render import render as render_form

    ctx = signed_in(request, session, settings)
    if fmt not in FORMATS:
        raise WebError(404, f"Неизвестный формат «{fmt}».")
    run, mv, reg = _context(ctx, run_id)
    form, result = _build(ctx, run, mv, reg, form_id, mo)
    options: dict[str, Any] = {}
    if fmt == "xml":
        if form.xml is None:
            raise WebError(404, f"У формы «{form.title}» нет XML-представления.")
        from forms.xml_mapping import xml_mapping

        options["mapping"] = xml_mapping(form.xml, _params(form, run, mo))
    with tempfile.TemporaryDirectory(prefix="metodika-form-") as tmp:
        path = render_form(result.form, fmt, Path(tmp) / f"{form.id}.{fmt}", **options)
        body = path.read_bytes()
    suffix = f"_{mo}" if mo and "mo" in form.params else ""
    name = f"{form.id}_run{run.id}{suffix}.{fmt}"
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(body, media_type=FORMATS[fmt], headers={
        "Content-Disposition": f'{disposition}; filename="{name}"', "Cache-Control": "no-store",
        "Content-Security-Policy": DOCUMENT_CSP, "X-Metodika-Controls-Failed": str(len(result.failed))})

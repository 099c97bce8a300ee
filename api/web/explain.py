"""The explanation page of one row of a run: its stored values, its defects with the definitions
their conditions use, and — for a chosen value — the explain tree as nested lists."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from api.auth.permissions import Action
from api.auth.scoping import apply_scope
from api.db.models import MethodologyVersion, Registry, RunDefect, RunResult
from api.server.deps import SessionDep, SettingsDep
from api.server.params import IdPath
from api.store.methodologies import compile_version
from api.store.personal import MASK, mask_defect_values, personal_names, public_defect_values
from api.store.queries import row_in_scope
from api.web.common import PREFIX, WebError, page, render, signed_in
from api.web.queries import run_or_404
from dsl import ir
from engine.runtime.model import Methodology

router = APIRouter(prefix=PREFIX + "/runs", include_in_schema=False)
SETTLEMENT_LABELS = {"billed_kopecks": "Предъявлено к оплате", "withheld_kopecks": "Не принято к оплате",
                     "accepted_kopecks": "Принято к оплате", "fine_kopecks": "Штраф",
                     "defect_codes": "Коды дефектов (F014)"}


def check_definitions(m: Methodology, check: str) -> list[str]:
    """Definitions of the check's entity that its condition (``when``) refers to, in order."""
    info = m.checks.get(check)
    if info is None or info.ir is None or info.ir.when is None:
        return []
    out: list[str] = []
    for node in ir.walk(info.ir.when):
        if isinstance(node, ir.FieldRef) and node.is_definition and node.entity == info.entity \
                and node.name not in out:
            out.append(node.name)
    return out


def _value_rows(m: Methodology, entity: str, values: dict[str, Any], hidden: set[str]) -> list[dict[str, Any]]:
    rows = []
    for name, value in values.items():
        d = m.defs.get((entity, name))
        kind = str(d.type) if d is not None else ("money" if name.endswith("_kopecks") else "")
        label = d.label if d is not None else SETTLEMENT_LABELS.get(name)
        if name in hidden and value is not None:
            value = MASK
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        rows.append({"name": name, "label": label, "value": value, "money": kind == "money" and value != MASK,
                     "explainable": d is not None})
    return rows


@router.get("/{run_id}/explain")
@page
def explain_page(run_id: IdPath, request: Request, session: SessionDep, settings: SettingsDep,
                 key: str = "", entity: str = "case", name: str = "", check: str = "") -> Response:
    ctx = signed_in(request, session, settings)
    ctx.need(Action.RUN_EXPLAIN)
    run = run_or_404(ctx, run_id)
    if run.status != "done":
        raise WebError(409, f"Расчёт {run_id} ещё не завершён.")
    if not key or not row_in_scope(session, ctx.user, run_id, entity, key):
        raise WebError(404, f"Строка «{key}» сущности «{entity}» не найдена в расчёте {run_id} "
                            "или недоступна.")
    mv = session.get(MethodologyVersion, run.methodology_version_id)
    reg = session.get(Registry, run.registry_id) if run.registry_id is not None else None
    assert mv is not None and reg is not None and reg.storage_path
    m = compile_version(ctx.home, mv)
    personal = ctx.can(Action.PERSONAL_DATA_READ)
    hidden = set() if personal else personal_names(m)
    stored = session.scalar(apply_scope(select(RunResult).where(
        RunResult.run_id == run_id, RunResult.entity == entity, RunResult.row_key == key), ctx.user, RunResult))
    values = _value_rows(m, entity, stored.values, hidden) if stored is not None else []
    defects = []
    if ctx.can(Action.DEFECT_READ):
        view = public_defect_values if personal else mask_defect_values
        for d in session.scalars(apply_scope(select(RunDefect).where(
                RunDefect.run_id == run_id, RunDefect.entity == entity, RunDefect.row_key == key),
                ctx.user, RunDefect).order_by(RunDefect.id)):
            details = view(d.values)
            defects.append({"d": d, "details": details, "uses": check_definitions(m, details.get("check", ""))})
    tree, text, error = None, None, None
    if name or check:
        from api.store.explain import explain

        try:
            tree, text = explain(ctx.home, run, mv, reg.storage_path, entity, key, name, personal_data=personal,
                                 check=check or None)
        except KeyError as exc:
            error = str(exc.args[0]) if exc.args else "значение не найдено"
    d = m.defs.get((entity, name)) if name else None
    return render(ctx, "explain.html", run=run, mv=mv, entity=entity, key=key, name=name or check, values=values,
                  defects=defects, tree=tree, text=text, error=error, masked=not personal,
                  title_label=d.label if d is not None else (f"почему срабатывает проверка {check}" if check else None),
                  stored=stored)

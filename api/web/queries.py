"""Scoped reads the pages need beyond :mod:`api.store.queries`: lists, run summaries.

Summaries are computed from the case rows of ``run_results`` (settlement in kopecks per case)
in Python, because a SQL aggregate over JSON values differs per backend (docs/gaps/web.md).
Every read goes through :func:`api.auth.scoping.apply_scope` / ``run_visible``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from api.auth.roles import Role, ScopeKind
from api.auth.scoping import apply_scope
from api.db.models import BranchMo, MethodologyVersion, Registry, Run, RunDefect, RunResult, User
from api.store.queries import get_registry, get_run
from api.web.common import Ctx, WebError

MONEY_FIELDS = ("billed", "withheld", "accepted", "fine")


def registries_in_scope(ctx: Ctx, *, status: str | None = None, limit: int = 100,
                        offset: int = 0) -> list[Registry]:
    stmt = apply_scope(select(Registry), ctx.user, Registry)
    if status:
        stmt = stmt.where(Registry.status == status)
    return list(ctx.session.scalars(stmt.order_by(Registry.id.desc()).limit(limit).offset(offset)))


def registry_or_404(ctx: Ctx, registry_id: int) -> Registry:
    reg = get_registry(ctx.session, ctx.user, registry_id)
    if reg is None:
        raise WebError(404, f"Реестр {registry_id} не найден или недоступен.")
    return reg


def run_or_404(ctx: Ctx, run_id: int) -> Run:
    run = get_run(ctx.session, ctx.user, run_id)
    if run is None:
        raise WebError(404, f"Расчёт {run_id} не найден или недоступен.")
    return run


def version_or_404(ctx: Ctx, version_id: int | None) -> MethodologyVersion:
    mv = ctx.session.get(MethodologyVersion, version_id) if version_id is not None else None
    if mv is None:
        raise WebError(404, f"Версия методологии {version_id} не найдена.")
    return mv


def run_titles(session: Any, runs: Iterable[Run]) -> dict[int, str]:
    """id → «package@version» of each run's methodology."""
    ids = {r.methodology_version_id for r in runs}
    if not ids:
        return {}
    rows = session.execute(select(MethodologyVersion.id, MethodologyVersion.package_id, MethodologyVersion.version)
                           .where(MethodologyVersion.id.in_(ids)))
    refs = {i: f"{p}@{v}" for i, p, v in rows}
    return {r.id: refs.get(r.methodology_version_id, "") for r in runs}


def user_logins(session: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(User.id, User.login).where(User.id.in_(wanted))).all())


@dataclass
class Totals:
    cases: int = 0
    billed: int = 0
    withheld: int = 0
    accepted: int = 0
    fine: int = 0
    with_defects: int = 0

    def add(self, values: dict[str, Any]) -> None:
        self.cases += 1
        for f in MONEY_FIELDS:
            setattr(self, f, getattr(self, f) + int(values.get(f"{f}_kopecks") or 0))
        if values.get("defect_codes"):
            self.with_defects += 1


@dataclass
class Summary:
    total: Totals = field(default_factory=Totals)
    by_mo: dict[str, Totals] = field(default_factory=dict)
    by_smo: dict[str, Totals] = field(default_factory=dict)
    by_code: list[tuple[str, str, int, int, int]] = field(default_factory=list)  # code, title, n, withheld, fine


def run_summary(ctx: Ctx, run_id: int) -> Summary:
    """Totals, per-МО and per-СМО summaries of the case rows in the user's scope, defects by code."""
    out = Summary()
    stmt = apply_scope(select(RunResult.mo_code, RunResult.smo_code, RunResult.values)
                       .where(RunResult.run_id == run_id, RunResult.entity == "case"), ctx.user, RunResult)
    for mo, smo, values in ctx.session.execute(stmt.execution_options(yield_per=5000)):
        out.total.add(values)
        out.by_mo.setdefault(mo or "—", Totals()).add(values)
        out.by_smo.setdefault(smo or "—", Totals()).add(values)
    codes = apply_scope(select(RunDefect.code, func.min(RunDefect.title), func.count(),
                               func.sum(RunDefect.withheld_kopecks), func.sum(RunDefect.fine_kopecks))
                        .where(RunDefect.run_id == run_id), ctx.user, RunDefect).group_by(RunDefect.code)
    out.by_code = sorted(((c, t or "", int(n), int(w or 0), int(f or 0)) for c, t, n, w, f in
                          ctx.session.execute(codes)), key=lambda r: _code_key(r[0]))
    out.by_mo = dict(sorted(out.by_mo.items()))
    out.by_smo = dict(sorted(out.by_smo.items()))
    return out


def _code_key(code: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in code.split("."))


def defect_choices(ctx: Ctx, run_id: int) -> tuple[list[str], list[str]]:
    """МО and СМО codes present among the run's defects in scope (for the filter selects)."""
    def distinct(col: Any) -> list[str]:
        stmt = apply_scope(select(col).where(RunDefect.run_id == run_id).distinct(), ctx.user, RunDefect)
        return sorted(v for v in ctx.session.scalars(stmt) if v)
    return distinct(RunDefect.mo_code), distinct(RunDefect.smo_code)


def whole_run_in_scope(ctx: Ctx, run: Run) -> bool:
    """Whether every row of the run is in the user's scope (forms aggregate over the whole run)."""
    kind = Role(ctx.user.role).scope
    if kind is ScopeKind.NONE:
        return True
    if kind is ScopeKind.MO:
        return run.mo_code is not None and run.mo_code == ctx.user.mo_code
    if kind is ScopeKind.BRANCH:
        if run.mo_code is None:
            return False
        members = select(BranchMo.mo_code).where(BranchMo.branch_code == ctx.user.branch_code)
        return run.mo_code in set(ctx.session.scalars(members))
    return False  # СМО roles: a run always holds other СМО's insured too

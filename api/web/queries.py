"""Scoped reads the pages need beyond :mod:`api.store.queries`: lists, run summaries.

Summaries are computed from the case rows of ``run_results`` (settlement in kopecks per case)
in Python, because a SQL aggregate over JSON values differs per backend (docs/gaps/web.md).
Every read goes through :func:`api.auth.scoping.apply_scope` / ``run_visible``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from api.auth.roles import Role, ScopeKind
from api.auth.scoping import apply_scope
from api.db.models import BranchMo, MethodologyVersion, Registry, Run, RunDefect, User
from api.store.queries import get_registry, get_run
from api.store.totals import Summary, summary_in_scope
from api.web.common import Ctx, WebError


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


def run_summary(ctx: Ctx, run_id: int) -> Summary:
    """Totals, per-МО and per-СМО summaries and the lines by applied ground, in the user's scope."""
    return summary_in_scope(ctx.session, ctx.user, run_id)


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

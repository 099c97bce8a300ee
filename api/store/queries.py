"""Scoped reads: which runs, registries, results and defects a user may see; filtered paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select, true
from sqlalchemy.orm import Session

from api.auth.roles import Role, ScopeKind
from api.auth.scoping import ScopedUser, apply_scope, scope_condition
from api.db.models import Registry, Run, RunDefect, RunResult

MAX_PAGE = 1000


def run_visible(user: ScopedUser) -> ColumnElement[bool]:
    """A run header is visible when its МО is in scope or it has a result row in scope.

    A fund-wide run over a registry of several МО (``runs.mo_code`` NULL) is thus visible to
    an МО operator, who then sees only its own МО's rows in it.
    """
    kind = Role(user.role).scope
    if kind is ScopeKind.NONE:
        return true()
    if kind is ScopeKind.SMO:
        return scope_condition(user, Run)
    return or_(scope_condition(user, Run),
               exists().where(RunResult.run_id == Run.id, scope_condition(user, RunResult)))


def get_run(session: Session, user: ScopedUser, run_id: int) -> Run | None:
    return session.scalar(select(Run).where(Run.id == run_id, run_visible(user)))


def get_registry(session: Session, user: ScopedUser, registry_id: int) -> Registry | None:
    return session.scalar(apply_scope(select(Registry).where(Registry.id == registry_id), user, Registry))


@dataclass
class Filters:
    entity: str | None = None
    mo: str | None = None
    smo: str | None = None
    code: str | None = None
    row_key: str | None = None


@dataclass
class Page:
    items: list[Any]
    total: int
    next_after: int | None


def page_rows(session: Session, user: ScopedUser, model: type[RunResult] | type[RunDefect], run_id: int,
              filters: Filters, *, after: int | None, limit: int) -> Page:
    """Keyset paging by id over scoped, filtered rows of one run."""
    stmt: Select[Any] = apply_scope(select(model).where(model.run_id == run_id), user, model)
    if filters.entity:
        stmt = stmt.where(model.entity == filters.entity)
    if filters.mo:
        stmt = stmt.where(model.mo_code == filters.mo)
    if filters.smo:
        stmt = stmt.where(model.smo_code == filters.smo)
    if filters.row_key:
        stmt = stmt.where(model.row_key == filters.row_key)
    if filters.code and model is RunDefect:
        stmt = stmt.where(RunDefect.code == filters.code)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if after is not None:
        stmt = stmt.where(model.id > after)
    rows = list(session.scalars(stmt.order_by(model.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, total, rows[-1].id if more and rows else None)


def row_in_scope(session: Session, user: ScopedUser, run_id: int, entity: str, row_key: str) -> bool:
    """Whether ``user`` may look at (entity, row_key) of the run (a result or defect row in scope)."""
    if Role(user.role).scope is ScopeKind.NONE:
        return True
    for model in (RunResult, RunDefect):
        stmt = apply_scope(select(model.id).where(model.run_id == run_id, model.entity == entity,
                                                  model.row_key == row_key), user, model)
        if session.scalar(stmt.limit(1)) is not None:
            return True
    return False

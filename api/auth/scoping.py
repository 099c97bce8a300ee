"""Row-level scoping: restrict a query to the rows the current user may see.

* МО operator — rows whose ``mo_code`` is its МО;
* СМО operator / СМО medic — rows whose ``smo_code`` is its СМО; a run header is visible when
  the run has at least one result or defect of that СМО; tables without an СМО column
  (registries, plans) are invisible to them;
* branch economist / medic — rows whose ``mo_code`` belongs to the branch (``branch_mos``);
* everyone else — unrestricted (the permission matrix decides whether they may read at all).
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, exists, false, or_, select, true

from api.auth.roles import Role, ScopeKind
from api.db.models import BranchMo, Run, RunDefect, RunResult

S = TypeVar("S", bound=Select[Any])


class ScopedUser(Protocol):
    role: str
    mo_code: str | None
    smo_code: str | None
    branch_code: str | None


def scope_condition(user: ScopedUser, model: Any) -> ColumnElement[bool]:
    """The WHERE condition limiting ``model`` rows to what ``user`` may see."""
    kind = Role(user.role).scope
    if kind is ScopeKind.NONE:
        return true()
    mo_col = getattr(model, "mo_code", None)
    smo_col = getattr(model, "smo_code", None)
    if kind is ScopeKind.MO:
        return mo_col == user.mo_code if mo_col is not None and user.mo_code else false()
    if kind is ScopeKind.BRANCH:
        if mo_col is None or not user.branch_code:
            return false()
        members = select(BranchMo.mo_code).where(BranchMo.branch_code == user.branch_code)
        return mo_col.in_(members.scalar_subquery())
    # ScopeKind.SMO
    if not user.smo_code:
        return false()
    if smo_col is not None:
        return smo_col == user.smo_code
    if model is Run:
        return or_(
            exists().where(RunResult.run_id == Run.id, RunResult.smo_code == user.smo_code),
            exists().where(RunDefect.run_id == Run.id, RunDefect.smo_code == user.smo_code),
        )
    return false()


def apply_scope(stmt: S, user: ScopedUser, model: Any) -> S:
    """``stmt`` with the scoping condition of ``user`` on ``model`` added."""
    return stmt.where(scope_condition(user, model))

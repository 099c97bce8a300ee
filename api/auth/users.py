"""User accounts: creation, changes and sign-in — every change recorded in the audit log.

Used by both the CLI and the API; functions work inside the caller's transaction.
Personal data (full names) never goes into audit payloads or logs: records carry the login,
role and scope codes only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.audit.chain import ANONYMOUS_ACTOR, append_event
from api.auth.passwords import hash_password, needs_rehash, verify_password
from api.auth.roles import Role, ScopeKind
from api.auth.sessions import revoke_user_tokens
from api.db.models import Branch, BranchMo, User

LOGIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")


class UserError(ValueError):
    """A user operation was refused; the message is Russian and says why."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Scope:
    mo_code: str | None = None
    smo_code: str | None = None
    branch_code: str | None = None


def _check_scope(session: Session, role: Role, scope: Scope) -> Scope:
    """The scope the role needs, exactly: one code for scoped roles, none for the others."""
    need = role.scope
    given = {ScopeKind.MO: scope.mo_code, ScopeKind.SMO: scope.smo_code, ScopeKind.BRANCH: scope.branch_code}
    names = {ScopeKind.MO: "код МО", ScopeKind.SMO: "код СМО", ScopeKind.BRANCH: "код филиала"}
    fields = {ScopeKind.MO: "mo_code", ScopeKind.SMO: "smo_code", ScopeKind.BRANCH: "branch_code"}
    for kind, value in given.items():
        if kind is need and not value:
            raise UserError(f"для роли «{role.label}» нужен {names[kind]}", fields[kind])
        if kind is not need and value:
            raise UserError(
                f"роль «{role.label}» не ограничивается: {names[kind]} не указывается", fields[kind]
            )
    if need is ScopeKind.BRANCH and session.get(Branch, scope.branch_code) is None:
        raise UserError(f"филиал «{scope.branch_code}» не найден", "branch_code")
    return scope


def _scope_payload(user: User) -> dict[str, str]:
    return {
        k: v for k, v in (("mo", user.mo_code), ("smo", user.smo_code), ("branch", user.branch_code)) if v
    }


def get_by_login(session: Session, login: str) -> User | None:
    return session.scalar(select(User).where(User.login == login))


def create_user(
    session: Session,
    *,
    login: str,
    password: str,
    role: Role,
    full_name: str = "",
    scope: Scope = Scope(),
    actor: str | None = None,
) -> User:
    if not LOGIN_RE.match(login):
        raise UserError("логин: 2–64 символа, латинские буквы, цифры и . _ @ -", "login")
    if get_by_login(session, login) is not None:
        raise UserError(f"пользователь «{login}» уже существует", "login")
    _check_scope(session, role, scope)
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise UserError(str(exc), "password") from exc
    user = User(
        login=login,
        full_name=full_name,
        password_hash=password_hash,
        role=role.value,
        mo_code=scope.mo_code,
        smo_code=scope.smo_code,
        branch_code=scope.branch_code,
        active=True,
    )
    session.add(user)
    session.flush()
    append_event(
        session,
        actor=actor,
        action="user.created",
        object_type="user",
        object_id=user.id,
        payload={"login": login, "role": role.value, **_scope_payload(user)},
    )
    return user


def update_user(
    session: Session,
    user: User,
    *,
    actor: str | None,
    role: Role | None = None,
    scope: Scope | None = None,
    full_name: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> User:
    """Apply the given changes; a role/scope change, (de)activation and password reset are audited."""
    new_role = role or Role(user.role)
    if role is not None or scope is not None:
        if scope is None:
            scope = Scope(user.mo_code, user.smo_code, user.branch_code) if role is None else Scope()
        _check_scope(session, new_role, scope)
        before = {"role": user.role, **_scope_payload(user)}
        user.role, user.mo_code, user.smo_code, user.branch_code = (
            new_role.value,
            scope.mo_code,
            scope.smo_code,
            scope.branch_code,
        )
        after = {"role": user.role, **_scope_payload(user)}
        if before != after:
            append_event(
                session,
                actor=actor,
                action="user.role_changed",
                object_type="user",
                object_id=user.id,
                payload={"login": user.login, "before": before, "after": after},
            )
            revoke_user_tokens(session, user, "role", actor=actor)
    if full_name is not None:
        user.full_name = full_name
    if active is not None and active != user.active:
        user.active = active
        append_event(
            session,
            actor=actor,
            action="user.activated" if active else "user.deactivated",
            object_type="user",
            object_id=user.id,
            payload={"login": user.login},
        )
        revoke_user_tokens(session, user, "activated" if active else "deactivated", actor=actor)
    if password is not None:
        try:
            user.password_hash = hash_password(password)
        except ValueError as exc:
            raise UserError(str(exc), "password") from exc
        append_event(
            session,
            actor=actor,
            action="user.password_changed",
            object_type="user",
            object_id=user.id,
            payload={"login": user.login},
        )
        revoke_user_tokens(session, user, "password", actor=actor)
    session.flush()
    return user


UNKNOWN_LOGIN = "<неизвестный логин>"


def _login_payload(login: str, *, known: bool) -> dict[str, object]:
    """A typed login that matches no account may be a password typed into the wrong field:
    the audit keeps a fixed marker and the length, never the text."""
    return {"login": login[:64]} if known else {"login": UNKNOWN_LOGIN, "login_length": len(login)}


def authenticate(session: Session, login: str, password: str, *, client: str | None = None) -> User | None:
    """The active user with this login and password, or None. Success and failure are audited.

    The caller must commit even on failure so that the failed attempt stays in the log.
    """
    user = get_by_login(session, login)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        reason = "unknown_login" if user is None else ("inactive" if ok else "bad_password")
        append_event(
            session,
            actor=ANONYMOUS_ACTOR,
            action="auth.login_failed",
            object_type="user",
            object_id=user.id if user else None,
            payload={**_login_payload(login, known=user is not None), "reason": reason, "client": client},
        )
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    append_event(
        session,
        actor=user.login,
        action="auth.login",
        object_type="user",
        object_id=user.id,
        payload={"client": client},
    )
    return user


def set_branch(session: Session, code: str, name: str, mo_codes: list[str], *, actor: str | None) -> Branch:
    """Create or replace a branch and its list of МО (audited)."""
    branch = session.get(Branch, code)
    if branch is None:
        branch = Branch(code=code, name=name)
        session.add(branch)
    else:
        branch.name = name
    session.flush()
    session.execute(delete(BranchMo).where(BranchMo.branch_code == code))
    session.add_all(BranchMo(branch_code=code, mo_code=mo) for mo in sorted(set(mo_codes)))
    session.flush()
    append_event(
        session,
        actor=actor,
        action="branch.set",
        object_type="branch",
        object_id=code,
        payload={"mo_codes": sorted(set(mo_codes))},
    )
    return branch

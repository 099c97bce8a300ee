"""``metodika users add|list|role|tokens|branch`` — user accounts from the command line."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth.roles import Role, parse_role
from api.auth.sessions import REASONS, revoke_token, revoke_user_tokens, token_state, user_tokens
from api.auth.users import Scope, UserError, create_user, get_by_login, set_branch, update_user
from api.cli.cmd_db import DatabaseNotReady, open_database
from api.db.models import AuthToken, User


def cli_actor() -> str:
    """Audit actor of CLI commands: the operating-system account that ran them."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):
        return "cli"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Пароль: ")
    if getpass.getpass("Повторите пароль: ") != first:
        raise UserError("пароли не совпадают", "password")
    return first


def _role(value: str) -> Role:
    try:
        return parse_role(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _scope(args: argparse.Namespace) -> Scope:
    return Scope(mo_code=args.mo, smo_code=args.smo, branch_code=args.branch)


def _run(action: str, fn: Callable[[Session, argparse.Namespace], str], args: argparse.Namespace) -> int:
    try:
        _, sessions = open_database()
        with sessions() as session, session.begin():
            message = fn(session, args)
    except (UserError, DatabaseNotReady) as exc:
        print(f"Ошибка ({action}): {exc}", file=sys.stderr)
        return 1
    print(message)
    return 0


def _add(session: Session, args: argparse.Namespace) -> str:
    password = _read_password(args.password_stdin)
    user = create_user(
        session,
        login=args.login,
        password=password,
        role=args.role,
        full_name=args.full_name,
        scope=_scope(args),
        actor=cli_actor(),
    )
    return f"Пользователь «{user.login}» создан: {args.role.label}{_scope_text(user)}"


def _scope_text(user: User) -> str:
    parts = [
        f"МО {user.mo_code}" if user.mo_code else "",
        f"СМО {user.smo_code}" if user.smo_code else "",
        f"филиал {user.branch_code}" if user.branch_code else "",
    ]
    text = ", ".join(p for p in parts if p)
    return f" ({text})" if text else ""


def _change_role(session: Session, args: argparse.Namespace) -> str:
    user = get_by_login(session, args.login)
    if user is None:
        raise UserError(f"пользователь «{args.login}» не найден")
    update_user(session, user, actor=cli_actor(), role=args.role, scope=_scope(args))
    return f"Роль пользователя «{user.login}»: {args.role.label}{_scope_text(user)}"


def _branch(session: Session, args: argparse.Namespace) -> str:
    set_branch(session, args.code, args.name, args.mo, actor=cli_actor())
    return f"Филиал «{args.code}»: {len(set(args.mo))} МО"


def _list(args: argparse.Namespace) -> int:
    try:
        _, sessions = open_database()
    except DatabaseNotReady as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 1
    with sessions() as session:
        users = list(session.scalars(select(User).order_by(User.login)))
    if not users:
        print("Пользователей нет. Создайте администратора: metodika users add admin --role admin")
        return 0
    print(f"{'логин':<20} {'роль':<22} {'область':<16} {'статус':<10} ФИО")
    for u in users:
        scope = _scope_text(u).strip(" ()") or "весь фонд"
        status = "активен" if u.active else "отключён"
        print(f"{u.login:<20} {Role(u.role).label:<22} {scope:<16} {status:<10} {u.full_name}")
    return 0


def _tokens(session: Session, args: argparse.Namespace) -> str:
    user = get_by_login(session, args.login)
    if user is None:
        raise UserError(f"пользователь «{args.login}» не найден")
    if args.revoke_all:
        count = revoke_user_tokens(session, user, "admin", actor=cli_actor())
        return f"Отозвано токенов пользователя «{user.login}»: {count}"
    if args.revoke:
        row = session.get(AuthToken, args.revoke)
        if row is None or row.user_id != user.id:
            raise UserError(f"у пользователя «{user.login}» нет токена {args.revoke}")
        revoke_token(session, args.revoke, "admin", actor=cli_actor())
        return f"Токен {args.revoke} пользователя «{user.login}» отозван"
    rows = user_tokens(session, user)
    if not rows:
        return f"У пользователя «{user.login}» нет выданных токенов"
    states = {"active": "действует", "expired": "истёк", "revoked": "отозван"}
    lines = [f"{'токен (jti)':<34} {'канал':<6} {'выдан (UTC)':<17} {'до (UTC)':<17} {'состояние':<10} причина"]
    for t in rows:
        reason = REASONS.get(t.revoked_reason or "", "")
        lines.append(f"{t.jti:<34} {t.channel:<6} {t.issued_at:%Y-%m-%d %H:%M} {t.expires_at:%Y-%m-%d %H:%M} "
                     f"{states[token_state(t)]:<10} {reason}")
    return "\n".join(lines)


def _scope_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--mo", metavar="КОД", help="код МО (для роли mo_operator)")
    group.add_argument("--smo", metavar="КОД", help="код СМО (для ролей smo_operator, smo_medic)")
    group.add_argument(
        "--branch", metavar="КОД", help="код филиала (для ролей branch_economist, branch_medic)"
    )


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    roles = ", ".join(f"{r.value} — {r.label}" for r in Role)
    parser = sub.add_parser("users", help="пользователи и роли", description=f"Пользователи. Роли: {roles}.")
    u_sub = parser.add_subparsers(dest="users_command", metavar="ДЕЙСТВИЕ")
    u_sub.required = True

    add = u_sub.add_parser("add", help="создать пользователя")
    add.add_argument("login", metavar="ЛОГИН", help="логин нового пользователя")
    add.add_argument("--role", required=True, type=_role, help="роль (идентификатор или название)")
    add.add_argument("--full-name", default="", metavar="ФИО", help="ФИО сотрудника")
    add.add_argument("--password-stdin", action="store_true", help="прочитать пароль из стандартного ввода")
    _scope_args(add)
    add.set_defaults(handler=lambda a: _run("создание пользователя", _add, a))

    lst = u_sub.add_parser("list", help="список пользователей")
    lst.set_defaults(handler=_list)

    role = u_sub.add_parser("role", help="сменить роль пользователя")
    role.add_argument("login", metavar="ЛОГИН", help="логин пользователя")
    role.add_argument("--role", required=True, type=_role, help="новая роль")
    _scope_args(role)
    role.set_defaults(handler=lambda a: _run("смена роли", _change_role, a))

    tok = u_sub.add_parser("tokens", help="выданные пользователю токены (сеансы); отзыв",
                           description="Список токенов пользователя; --revoke JTI или --revoke-all отзывают.")
    tok.add_argument("login", metavar="ЛОГИН", help="логин пользователя, чьи сеансы показать или отозвать")
    group = tok.add_mutually_exclusive_group()
    group.add_argument("--revoke", metavar="JTI", help="отозвать один токен")
    group.add_argument("--revoke-all", action="store_true", help="отозвать все действующие токены")
    tok.set_defaults(handler=lambda a: _run("токены", _tokens, a))

    br = u_sub.add_parser("branch", help="задать филиал и его МО")
    br.add_argument("code", metavar="КОД", help="код филиала")
    br.add_argument("--name", required=True, help="название филиала")
    br.add_argument("--mo", nargs="+", default=[], metavar="КОД_МО", help="коды МО филиала")
    br.set_defaults(handler=lambda a: _run("филиал", _branch, a))

"""Shared machinery of the web pages: templates, the signed-in user from the session cookie,
permission checks with the API's table, CSRF tokens, error pages.

The session cookie holds the same JWT that ``POST /auth/token`` issues; the user, role and
scope are read from the database on every request (:func:`api.server.deps.current_user`).
A page handler raises :class:`WebError` (an error page) or :class:`Redirect`; the
:func:`page` decorator turns them into responses.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session

from api.auth.permissions import Action, actions_of, allowed
from api.auth.roles import Role
from api.db.models import User
from api.server.deps import current_user
from api.server.errors import ProblemError
from api.server.params import in_int64
from api.server.settings import Settings

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "metodika_session"
LOGIN_CSRF_COOKIE = "metodika_login_csrf"
PREFIX = "/web"

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}

# A standalone document (rendered form, downloadable protocol) carries its own inline styles.
DOCUMENT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"


def money(kopecks: Any) -> str:
    """Integer kopecks as «1 234 567,89» (narrow no-break space between thousands)."""
    if kopecks is None or kopecks == "":
        return ""
    value = int(kopecks)
    sign = "-" if value < 0 else ""
    rub, kop = divmod(abs(value), 100)
    return f"{sign}{rub:,}".replace(",", "\u202f") + f",{kop:02d}"


def number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u202f")
    if isinstance(value, float | Decimal):
        return str(value).replace(".", ",")
    return str(value)


def when(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%d.%m.%Y %H:%M UTC")


def percent(share: float | None) -> str:
    return "" if share is None else f"{round(float(share) * 100)} %"


ENV = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                  trim_blocks=True, lstrip_blocks=True)
ENV.filters.update(money=money, number=number, when=when, percent=percent, q=lambda s: quote(str(s), safe=""))
ENV.globals.update(PREFIX=PREFIX, Action=Action)

STATUS_LABELS = {
    "uploaded": "ожидает импорта", "importing": "идёт ФЛК и импорт", "imported": "принят",
    "rejected": "не принят (ошибки ФЛК)", "queued": "в очереди", "running": "выполняется",
    "done": "выполнен", "failed": "завершился ошибкой",
}
ENV.globals["STATUS_LABELS"] = STATUS_LABELS
ENV.globals["ENTITIES"] = {"case": "случай", "sl": "случай (SL)", "service": "услуга", "patient": "пациент",
                           "account": "счёт"}
ENV.globals["KINDS"] = {"definition": "определение", "field": "поле реестра", "parameter": "параметр",
                        "table": "таблица", "aggregate": "агрегат", "expression": "выражение"}


class WebError(Exception):
    """An error page: HTTP status and a Russian message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Redirect(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@dataclass
class Ctx:
    """One page request of a signed-in user."""

    request: Request
    session: Session
    settings: Settings
    user: User
    token: str

    @property
    def csrf(self) -> str:
        return csrf_for(self.settings.secret_key, self.token)

    def can(self, action: Action) -> bool:
        return allowed(self.user.role, action)

    def need(self, action: Action) -> None:
        if not self.can(action):
            raise WebError(403, f"Действие «{action.label}» недоступно роли «{Role(self.user.role).label}»")

    def check_csrf(self, token: str | None) -> None:
        if not token or not hmac.compare_digest(token, self.csrf):
            raise WebError(403, "Форма устарела или отправлена не со страницы «Методики» (нет CSRF-токена). "
                                "Откройте страницу заново и повторите.")

    @property
    def home(self) -> Path:
        return self.settings.home


def csrf_for(secret: str, session_token: str) -> str:
    """The per-session CSRF token: an HMAC of the session's JWT (nothing stored server-side)."""
    return hmac.new(secret.encode(), b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)


def safe_next(target: str | None) -> str:
    """Only local page paths are followed after sign-in (no open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/"


def signed_in(request: Request, session: Session, settings: Settings) -> Ctx:
    """The signed-in user behind the session cookie, or a redirect to the login page."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Redirect(f"{PREFIX}/login?next={quote(request.url.path)}")
    try:
        user = current_user(session, settings, token)
    except ProblemError as exc:
        raise Redirect(f"{PREFIX}/login?next={quote(request.url.path)}&expired=1") from exc
    return Ctx(request, session, settings, user, token)


def user_info(user: User) -> dict[str, Any]:
    role = Role(user.role)
    scope = user.mo_code and f"МО {user.mo_code}" or user.smo_code and f"СМО {user.smo_code}" or (
        user.branch_code and f"филиал {user.branch_code}") or "весь фонд"
    return {"login": user.login, "role": role.label, "scope": scope, "actions": actions_of(role)}


def render(ctx: Ctx | Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    if isinstance(ctx, Ctx):
        values.setdefault("me", user_info(ctx.user))
        values.setdefault("csrf", ctx.csrf)
        values.setdefault("can", ctx.can)
    else:
        values.setdefault("me", None)
        values.setdefault("can", lambda _a: False)
    html = ENV.get_template(template).render(**values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {403: "Недостаточно прав", 404: "Не найдено", 409: "Конфликт", 422: "Ошибка в данных"}
    return render(request, "error.html", status=status, title=titles.get(status, "Ошибка"), message=message)


def page(fn: Callable[..., Response]) -> Callable[..., Response]:
    """Turn :class:`WebError` / :class:`Redirect` raised by a page handler into responses."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            response = fn(*args, **kwargs)
        except Redirect as r:
            return RedirectResponse(r.url, status_code=303, headers={"Cache-Control": "no-store"})
        except WebError as e:
            request = kwargs.get("request")
            assert isinstance(request, Request), "page handlers take request: Request"
            return error_page(request, e.status, e.message)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    return wrapper


def int_or_none(value: str | None) -> int | None:
    """A numeric query value; empty, malformed or beyond a 64-bit column → None (pages are forgiving)."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and in_int64(number) else None

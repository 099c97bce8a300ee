"""Sign-in and sign-out pages, the home page, static files."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import select

from api.auth.permissions import Action
from api.auth.sessions import revoke_token, start_session
from api.auth.throttle import Throttled, guarded_authenticate
from api.auth.tokens import decode_token
from api.db.models import Registry, Run
from api.server.deps import SessionDep, SettingsDep
from api.store.queries import run_visible
from api.web.common import (
    HERE,
    LOGIN_CSRF_COOKIE,
    PREFIX,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    WebError,
    new_login_csrf,
    page,
    render,
    safe_next,
    signed_in,
)
from api.web.queries import registries_in_scope, run_titles

router = APIRouter(include_in_schema=False)
STATIC = {"style.css": "text/css", "progress.js": "text/javascript"}


@router.get("/")
def root() -> Response:
    return RedirectResponse(PREFIX + "/", status_code=303)


@router.get(PREFIX + "/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC:
        return Response(status_code=404)
    return FileResponse(HERE / "static" / name, media_type=STATIC[name],
                        headers={"Cache-Control": "max-age=300"})


def _login_page(request: Request, *, status: int = 200, error: str | None = None,
                next_url: str = "", login: str = "") -> Response:
    token = new_login_csrf()
    response = render(request, "login.html", status=status, error=error, next_url=safe_next(next_url),
                      login_csrf=token, login=login,
                      expired=request.query_params.get("expired") == "1" and not error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path=PREFIX + "/login")
    return response


@router.get(PREFIX + "/login")
def login_form(request: Request, next_url: Annotated[str, Query(alias="next")] = "") -> Response:
    return _login_page(request, next_url=next_url)


@router.post(PREFIX + "/login")
def login(request: Request, session: SessionDep, settings: SettingsDep,
          username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          csrf: Annotated[str, Form()] = "", next_url: Annotated[str, Form(alias="next")] = "") -> Response:
    expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not csrf or not expected or not hmac.compare_digest(csrf, expected):
        return _login_page(request, status=403, next_url=next_url, login=username,
                           error="Страница входа устарела. Повторите вход.")
    client = request.client.host if request.client else None
    try:
        user = guarded_authenticate(session, settings.secret_key, settings.login_policy, username, password,
                                    client=client)
    except Throttled as exc:
        response = _login_page(request, status=429, next_url=next_url, login=username, error=str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    session.commit()  # the failed attempt stays in the audit log, as with POST /auth/token
    if user is None:
        return _login_page(request, status=401, next_url=next_url, login=username,
                           error="Неверный логин или пароль, либо учётная запись отключена.")
    token, _ = start_session(session, settings.secret_key, user, settings.token_ttl, channel="web", client=client)
    session.commit()
    response = RedirectResponse(safe_next(next_url), status_code=303, headers=SECURITY_HEADERS)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https",
                        max_age=int(settings.token_ttl.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=PREFIX + "/login")
    return response


@router.post(PREFIX + "/logout")
@page
def logout(request: Request, session: SessionDep, settings: SettingsDep,
           csrf: Annotated[str, Form()] = "") -> Response:
    ctx = signed_in(request, session, settings)
    ctx.check_csrf(csrf)
    revoke_token(session, decode_token(settings.secret_key, ctx.token).jti, "logout", actor=ctx.user.login)
    session.commit()
    response = RedirectResponse(PREFIX + "/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


HOME_LINKS = [
    (Action.REGISTRY_UPLOAD, "registries/upload", "Загрузить реестр счетов (H- и L-файлы или ZIP)"),
    (Action.REGISTRY_READ, "registries", "Реестры и протоколы ФЛК"),
    (Action.RUN_START, "runs/new", "Запустить расчёт (МЭК, оплата) по реестру"),
    (Action.RUN_READ, "runs", "Расчёты: итоги, дефекты, объяснения, отчётные формы"),
    (Action.METHODOLOGY_READ, "methodologies", "Методологии: опубликованные версии, различия"),
    (Action.AUDIT_VERIFY, "audit", "Журнал аудита: проверка целостности"),
]


@router.get(PREFIX + "/")
@page
def home(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = signed_in(request, session, settings)
    links = [(action, PREFIX + "/" + href, text) for action, href, text in HOME_LINKS if ctx.can(action)]
    registries = registries_in_scope(ctx, limit=5) if ctx.can(Action.REGISTRY_READ) else []
    runs = []
    if ctx.can(Action.RUN_READ):
        runs = list(session.scalars(select(Run).where(run_visible(ctx.user)).order_by(Run.id.desc()).limit(5)))
    if not links:
        raise WebError(403, "Для вашей роли нет доступных страниц.")
    return render(ctx, "home.html", links=links, registries=registries, runs=runs,
                  titles=run_titles(session, runs), registry_model=Registry)

"""Sign-in (OAuth2 password flow → JWT) and the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api.auth.sessions import revoke_token, start_session
from api.auth.throttle import Throttled, guarded_authenticate
from api.auth.tokens import decode_token
from api.server.deps import CurrentUser, SessionDep, SettingsDep, oauth2_scheme
from api.server.errors import PROBLEM_MEDIA_TYPE, PROBLEM_RESPONSES, TITLES, Problem, ProblemError
from api.server.schemas import MeOut, TokenOut

router = APIRouter(tags=["Вход"], responses=PROBLEM_RESPONSES)
THROTTLED_RESPONSE = {429: {"model": Problem, "description": TITLES[429] + " (заголовок Retry-After)",
                            "content": {PROBLEM_MEDIA_TYPE: {}}}}


def throttled_problem(exc: Throttled) -> ProblemError:
    return ProblemError(429, str(exc), kind="login-throttled", headers={"Retry-After": str(exc.retry_after)})


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="Получить токен",
    description="Вход по логину и паролю (форма OAuth2: username, password). Успешные и неудачные попытки "
    "записываются в журнал аудита. После нескольких неудачных попыток для учётной записи или адреса "
    "клиента вход откладывается: ответ 429 с заголовком Retry-After.",
    responses=THROTTLED_RESPONSE,
)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    client = request.client.host if request.client else None
    try:
        user = guarded_authenticate(session, settings.secret_key, settings.login_policy, form.username,
                                    form.password, client=client)
    except Throttled as exc:
        raise throttled_problem(exc) from exc
    session.commit()  # the failed attempt must stay in the audit log too
    if user is None:
        raise ProblemError(
            401,
            "Неверный логин или пароль, либо учётная запись отключена",
            kind="invalid-credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token, _ = start_session(session, settings.secret_key, user, settings.token_ttl, channel="api", client=client)
    session.commit()
    return TokenOut(access_token=token, expires_in=int(settings.token_ttl.total_seconds()))


@router.post(
    "/auth/logout",
    status_code=204,
    summary="Выйти (отозвать токен)",
    description="Отзывает токен, переданный в заголовке Authorization: после выхода он больше не принимается.",
)
def logout(user: CurrentUser, session: SessionDep, settings: SettingsDep,
           token: Annotated[str | None, Depends(oauth2_scheme)]) -> Response:
    assert token is not None  # CurrentUser has checked it
    revoke_token(session, decode_token(settings.secret_key, token).jti, "logout", actor=user.login)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/me",
    response_model=MeOut,
    summary="Текущий пользователь",
    description="Учётная запись, роль, область видимости и разрешённые действия.",
)
def me(user: CurrentUser) -> MeOut:
    return MeOut.of(user)

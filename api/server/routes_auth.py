"""Sign-in (OAuth2 password flow → JWT) and the current user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api.auth.tokens import issue_token
from api.auth.users import authenticate
from api.server.deps import CurrentUser, SessionDep, SettingsDep
from api.server.errors import PROBLEM_RESPONSES, ProblemError
from api.server.schemas import MeOut, TokenOut

router = APIRouter(tags=["Вход"], responses=PROBLEM_RESPONSES)


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="Получить токен",
    description="Вход по логину и паролю (форма OAuth2: username, password). Успешные и неудачные попытки "
    "записываются в журнал аудита.",
)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
) -> TokenOut:
    client = request.client.host if request.client else None
    user = authenticate(session, form.username, form.password, client=client)
    session.commit()  # the failed attempt must stay in the audit log too
    if user is None:
        raise ProblemError(
            401,
            "Неверный логин или пароль, либо учётная запись отключена",
            kind="invalid-credentials",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token, _ = issue_token(settings.secret_key, user.id, user.login, settings.token_ttl)
    return TokenOut(access_token=token, expires_in=int(settings.token_ttl.total_seconds()))


@router.get(
    "/me",
    response_model=MeOut,
    summary="Текущий пользователь",
    description="Учётная запись, роль, область видимости и разрешённые действия.",
)
def me(user: CurrentUser) -> MeOut:
    return MeOut.of(user)

"""Request dependencies: database session, current user and the permission check ``require``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.auth.permissions import Action, allowed
from api.auth.roles import Role
from api.auth.sessions import token_is_live
from api.auth.tokens import TokenError, decode_token
from api.db.models import User
from api.server.errors import ProblemError
from api.server.settings import Settings

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/auth/token", auto_error=False, description="Вход по логину и паролю (OAuth2 password flow)"
)

_BEARER = {"WWW-Authenticate": "Bearer"}


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """A session per request. Endpoints commit explicitly; anything uncommitted is rolled back."""
    with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_user(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The active user behind the bearer token; role and scope are read fresh from the database."""
    if not token:
        raise ProblemError(401, "Передайте токен в заголовке Authorization: Bearer …", headers=_BEARER)
    try:
        claims = decode_token(settings.secret_key, token)
    except TokenError as exc:
        raise ProblemError(401, str(exc).capitalize(), headers=_BEARER) from exc
    user = session.get(User, claims.user_id)
    if user is None or not user.active or user.login != claims.login:
        raise ProblemError(401, "Учётная запись не найдена или отключена", headers=_BEARER)
    if not token_is_live(session, claims):
        raise ProblemError(401, "Сеанс завершён или токен отозван: войдите заново", headers=_BEARER)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require(action: Action) -> Callable[[User], User]:
    """Dependency factory: the current user if the permission table lets its role do ``action``."""

    def dependency(user: CurrentUser) -> User:
        if not allowed(user.role, action):
            raise ProblemError(
                403,
                f"Действие «{action.label}» ({action.value}) недоступно роли «{Role(user.role).label}»",
                kind="forbidden",
            )
        return user

    dependency.__name__ = f"require_{action.value.replace('.', '_')}"
    return dependency

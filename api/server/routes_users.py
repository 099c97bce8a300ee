"""User and branch management for administrators (action ``user.manage``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from sqlalchemy import select

from api.auth.permissions import Action
from api.auth.sessions import revoke_token, revoke_user_tokens, token_state, user_tokens
from api.auth.users import Scope, UserError, create_user, set_branch, update_user
from api.db.models import AuthToken, User
from api.server.deps import SessionDep, require
from api.server.errors import PROBLEM_RESPONSES, ProblemError
from api.server.params import IdPath
from api.server.schemas import BranchIn, RevokedOut, SessionTokenOut, UserCreate, UserOut, UserUpdate

router = APIRouter(tags=["Пользователи"], responses=PROBLEM_RESPONSES)
Admin = Annotated[User, Depends(require(Action.USER_MANAGE))]


def _user_error(exc: UserError) -> ProblemError:
    status = 409 if "уже существует" in str(exc) else 422
    errors = [{"loc": ["body", exc.field], "msg": str(exc)}] if exc.field else None
    return ProblemError(status, str(exc), errors=errors, kind="user")


def _get(session: SessionDep, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise ProblemError(404, f"Пользователь {user_id} не найден")
    return user


@router.get("/users", response_model=list[UserOut], summary="Список пользователей")
def list_users(session: SessionDep, _: Admin) -> list[UserOut]:
    return [UserOut.of(u) for u in session.scalars(select(User).order_by(User.login))]


@router.post(
    "/users",
    response_model=UserOut,
    status_code=201,
    summary="Создать пользователя",
    description="Создание записывается в журнал аудита (без персональных данных).",
)
def add_user(body: UserCreate, session: SessionDep, admin: Admin) -> UserOut:
    try:
        user = create_user(
            session,
            login=body.login,
            password=body.password,
            role=body.role,
            full_name=body.full_name,
            scope=Scope(body.mo_code, body.smo_code, body.branch_code),
            actor=admin.login,
        )
    except UserError as exc:
        raise _user_error(exc) from exc
    session.commit()
    return UserOut.of(user)


@router.get("/users/{user_id}", response_model=UserOut, summary="Пользователь")
def get_user(user_id: IdPath, session: SessionDep, _: Admin) -> UserOut:
    return UserOut.of(_get(session, user_id))


@router.patch(
    "/users/{user_id}",
    response_model=UserOut,
    summary="Изменить пользователя",
    description="Смена роли или области видимости, отключение и смена пароля записываются в журнал "
    "аудита. При смене роли область видимости задаётся заново.",
)
def patch_user(user_id: IdPath, body: UserUpdate, session: SessionDep, admin: Admin) -> UserOut:
    user = _get(session, user_id)
    sent = body.model_fields_set
    scope = None
    if sent & {"mo_code", "smo_code", "branch_code"}:
        scope = Scope(body.mo_code, body.smo_code, body.branch_code)
    if user.id == admin.id and (
        body.active is False or (body.role is not None and body.role.value != user.role)
    ):
        raise ProblemError(409, "Нельзя отключить себя или сменить себе роль", kind="self-lockout")
    try:
        update_user(
            session,
            user,
            actor=admin.login,
            role=body.role,
            scope=scope,
            full_name=body.full_name,
            active=body.active,
            password=body.password,
        )
    except UserError as exc:
        raise _user_error(exc) from exc
    session.commit()
    return UserOut.of(user)


@router.delete(
    "/users/{user_id}",
    status_code=204,
    summary="Отключить пользователя",
    description="Учётная запись не удаляется (на неё ссылаются журнал и расчёты), а отключается.",
)
def deactivate_user(user_id: IdPath, session: SessionDep, admin: Admin) -> Response:
    user = _get(session, user_id)
    if user.id == admin.id:
        raise ProblemError(409, "Нельзя отключить себя", kind="self-lockout")
    update_user(session, user, actor=admin.login, active=False)
    session.commit()
    return Response(status_code=204)


@router.get(
    "/users/{user_id}/tokens",
    response_model=list[SessionTokenOut],
    summary="Токены пользователя",
    description="Выданные пользователю токены (сеансы), новые первыми: действующие, истёкшие и отозванные.",
)
def list_tokens(user_id: IdPath, session: SessionDep, _: Admin) -> list[SessionTokenOut]:
    user = _get(session, user_id)
    return [SessionTokenOut.model_validate({**_token_fields(t), "state": token_state(t)})
            for t in user_tokens(session, user)]


def _token_fields(row: AuthToken) -> dict[str, object]:
    return {c: getattr(row, c) for c in SessionTokenOut.model_fields if c != "state"}


@router.delete(
    "/users/{user_id}/tokens",
    response_model=RevokedOut,
    summary="Отозвать все токены пользователя",
    description="Все действующие сеансы пользователя завершаются; отзыв записывается в журнал аудита.",
)
def revoke_all_tokens(user_id: IdPath, session: SessionDep, admin: Admin) -> RevokedOut:
    count = revoke_user_tokens(session, _get(session, user_id), "admin", actor=admin.login)
    session.commit()
    return RevokedOut(revoked=count)


@router.delete(
    "/users/{user_id}/tokens/{jti}",
    status_code=204,
    summary="Отозвать токен",
    description="Один сеанс пользователя завершается; отзыв записывается в журнал аудита.",
)
def revoke_one_token(user_id: IdPath, jti: Annotated[str, Path(max_length=32)], session: SessionDep,
                     admin: Admin) -> Response:
    user = _get(session, user_id)
    row = session.get(AuthToken, jti)
    if row is None or row.user_id != user.id:
        raise ProblemError(404, f"У пользователя {user.login} нет токена {jti}")
    revoke_token(session, jti, "admin", actor=admin.login)
    session.commit()
    return Response(status_code=204)


@router.put(
    "/branches/{code}",
    status_code=204,
    summary="Задать филиал и его МО",
    description="Создаёт или заменяет филиал и список его МО; видимость ролей филиала следует за списком.",
)
def put_branch(code: str, body: BranchIn, session: SessionDep, admin: Admin) -> Response:
    set_branch(session, code, body.name, body.mo_codes, actor=admin.login)
    session.commit()
    return Response(status_code=204)

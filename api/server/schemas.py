"""Request and response bodies of the platform endpoints (Russian field descriptions)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from api.auth.permissions import actions_of
from api.auth.roles import Role
from api.db.models import User


class TokenOut(BaseModel):
    access_token: str = Field(description="JWT для заголовка Authorization: Bearer")
    token_type: str = Field(default="bearer", description="Всегда «bearer»")
    expires_in: int = Field(description="Срок действия, секунд")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Идентификатор")
    login: str = Field(description="Логин")
    full_name: str = Field(description="ФИО сотрудника")
    role: Role = Field(description="Роль (идентификатор)")
    role_label: str = Field(description="Роль (название)")
    mo_code: str | None = Field(description="Код МО для роли «Оператор МО (ЛПУ)»")
    smo_code: str | None = Field(description="Код СМО для ролей СМО")
    branch_code: str | None = Field(description="Код филиала для ролей филиала")
    active: bool = Field(description="Учётная запись действует")
    created_at: datetime = Field(description="Создана (UTC)")

    @classmethod
    def of(cls, user: User) -> UserOut:
        role = Role(user.role)
        return cls.model_validate(
            {**{c: getattr(user, c) for c in cls.model_fields if c != "role_label"}, "role_label": role.label}
        )


class MeOut(UserOut):
    permissions: list[str] = Field(description="Действия, разрешённые роли")

    @classmethod
    def of(cls, user: User) -> MeOut:
        base = UserOut.of(user).model_dump()
        return cls(**base, permissions=[a.value for a in actions_of(user.role)])


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: str = Field(min_length=2, max_length=64, description="Логин: латиница, цифры, . _ @ -")
    password: str = Field(min_length=8, max_length=256, description="Пароль, не короче 8 символов")
    role: Role = Field(description="Роль")
    full_name: str = Field(default="", max_length=300, description="ФИО сотрудника")
    mo_code: str | None = Field(
        default=None, min_length=1, max_length=16, description="Код МО (для Оператора МО)"
    )
    smo_code: str | None = Field(
        default=None, min_length=1, max_length=16, description="Код СМО (для ролей СМО)"
    )
    branch_code: str | None = Field(default=None, min_length=1, max_length=32, description="Код филиала")


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = Field(default=None, description="Новая роль")
    mo_code: str | None = Field(default=None, min_length=1, max_length=16, description="Код МО")
    smo_code: str | None = Field(default=None, min_length=1, max_length=16, description="Код СМО")
    branch_code: str | None = Field(default=None, min_length=1, max_length=32, description="Код филиала")
    full_name: str | None = Field(default=None, max_length=300, description="ФИО сотрудника")
    active: bool | None = Field(default=None, description="Включить/отключить учётную запись")
    password: str | None = Field(default=None, min_length=8, max_length=256, description="Новый пароль")


class BranchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300, description="Название филиала")
    mo_codes: list[str] = Field(default_factory=list, description="Коды МО филиала")


class AuditProblemOut(BaseModel):
    kind: str = Field(description="edited — запись изменена, deleted — удалена, relinked — цепочка разорвана, "
                                  "truncated — удалены последние записи, rewritten — журнал переписан, "
                                  "unverifiable — нет ключа для проверки, checkpoint — контрольная точка "
                                  "подделана или отсутствует")
    seqs: list[int] = Field(description="Номера затронутых записей")
    message: str = Field(description="Описание нарушения")


class AuditVerifyOut(BaseModel):
    ok: bool = Field(description="Журнал цел")
    count: int = Field(description="Проверено записей")
    summary: str = Field(description="Итог проверки")
    first_edited: int | None = Field(description="Номер первой изменённой записи")
    chain_id: str | None = Field(description="Идентификатор цепочки (из её первой записи с ключом)")
    keyed_from: int | None = Field(description="Первая запись, заверенная ключом (HMAC-SHA256)")
    checkpoints: int = Field(description="Сверено контрольных точек")
    problems: list[AuditProblemOut] = Field(description="Нарушения")


class CheckpointOut(BaseModel):
    chain: str = Field(description="Идентификатор цепочки")
    seq: int = Field(description="Номер записи — головы цепочки на момент точки")
    hash: str = Field(description="Хеш этой записи")
    at: str = Field(description="Время точки (UTC)")
    key_id: str = Field(description="Идентификатор ключа подписи")
    sig: str = Field(description="Подпись HMAC-SHA256")
    line: int = Field(description="Строка файла контрольных точек")
    signature_ok: bool | None = Field(description="Подпись верна (null — ключа подписи нет)")


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int = Field(description="Номер записи")
    occurred_at: datetime = Field(description="Время (UTC)")
    actor: str = Field(description="Кто")
    action: str = Field(description="Действие")
    object_type: str = Field(description="Тип объекта")
    object_id: str | None = Field(description="Идентификатор объекта")
    payload: str = Field(description="Данные события (канонический JSON)")
    payload_sha256: str = Field(description="sha256 данных")
    prev_hash: str = Field(description="Хеш предыдущей записи")
    hash: str = Field(description="Хеш записи")


class SessionTokenOut(BaseModel):
    """An issued token (its identifier only: the token itself is never stored)."""

    model_config = ConfigDict(from_attributes=True)

    jti: str = Field(description="Идентификатор токена (claim jti)")
    channel: str = Field(description="Где выдан: api (POST /auth/token) или web (страница входа)")
    client: str | None = Field(description="Адрес клиента при входе")
    issued_at: datetime = Field(description="Выдан (UTC)")
    expires_at: datetime = Field(description="Действует до (UTC)")
    revoked_at: datetime | None = Field(description="Отозван (UTC)")
    revoked_reason: str | None = Field(description="Причина отзыва: logout, password, deactivated, activated, "
                                                   "role, admin")
    state: str = Field(description="active — действует, expired — истёк, revoked — отозван")


class RevokedOut(BaseModel):
    revoked: int = Field(description="Сколько токенов отозвано")


class FailureDetailOut(BaseModel):
    id: int = Field(description="Идентификатор расчёта или реестра")
    status: str = Field(description="Состояние")
    error: str | None = Field(description="Сообщение для пользователя")
    error_detail: str | None = Field(description="Трассировка внутреннего сбоя: типы исключений и кадры стека "
                                                 "(без сообщений и данных); пусто — сбоя не было")

"""The FastAPI application factory."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable

from fastapi import APIRouter, FastAPI, Request, Response
from sqlalchemy import Engine

from api.audit.chain import HOME_INFO
from api.db.session import make_engine, make_sessionmaker
from api.server.errors import install_problem_handlers
from api.server.routers import ROUTER_MODULES
from api.server.settings import Settings
from api.server.version import VERSION_HEADER, engine_version

DESCRIPTION = """
API платформы «Методика» для территориального фонда ОМС: методологии как пакеты правил,
реестры счетов, расчёты (МЭК, тарифы, подушевое финансирование), отчётные формы.

**Вход**: `POST /auth/token` с логином и паролем → токен; далее заголовок
`Authorization: Bearer <токен>`. Права определяются ролью пользователя (таблица
«роль × действие»), данные ограничиваются областью видимости роли (МО, СМО, филиал).

**Ошибки** возвращаются в формате RFC 7807 (`application/problem+json`); ошибки в полях
запроса перечислены в `errors` с путём к полю (`loc`).

Каждый ответ содержит заголовок `X-Metodika-Version` — версию движка.
"""

TAGS = [
    {"name": "Вход", "description": "Получение токена и сведения о текущем пользователе"},
    {"name": "Пользователи", "description": "Учётные записи, роли и филиалы (для администратора)"},
    {"name": "Аудит", "description": "Неизменяемый журнал аудита с цепочкой хешей"},
    {"name": "Служебное", "description": "Состояние сервиса"},
]


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    extra_routers: Iterable[APIRouter] = (),
) -> FastAPI:
    """Build the application.

    ``settings`` default to the environment; ``engine`` overrides the one built from
    ``settings.database_url`` (tests pass an engine pinned to their schema);
    ``extra_routers`` are mounted after the modules of :data:`ROUTER_MODULES`.
    """
    settings = settings or Settings.from_env()
    engine = engine or make_engine(settings.database_url)
    app = FastAPI(
        title="Методика — API",
        description=DESCRIPTION,
        version=engine_version(),
        openapi_tags=TAGS,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    # the audit chain takes its key and checkpoint file from this home (api/audit/chain.py)
    app.state.sessions.configure(info={HOME_INFO: str(settings.home)})
    install_problem_handlers(app)

    @app.middleware("http")
    async def version_header(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers[VERSION_HEADER] = engine_version()
        return response

    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    for router in extra_routers:
        app.include_router(router)
    return app

"""GET /health — liveness and database reachability (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.server.deps import SessionDep
from api.server.version import engine_version

router = APIRouter(tags=["Служебное"])


@router.get(
    "/health",
    summary="Состояние сервиса",
    description="Отвечает 200, если сервис и база данных доступны, иначе 503.",
)
def health(session: SessionDep) -> JSONResponse:
    try:
        session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # noqa: BLE001 - any database failure means "unavailable"
        database = "недоступна"
    status = 200 if database == "ok" else 503
    return JSONResponse(
        {"status": "ok" if status == 200 else "degraded", "version": engine_version(), "database": database},
        status_code=status,
    )

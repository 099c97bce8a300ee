"""``metodika serve`` — run the API server (uvicorn)."""

from __future__ import annotations

import argparse
import sys

from api.cli.cmd_db import DatabaseNotReady, open_database
from api.db.config import redact_url


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.server.app import create_app
    from api.server.settings import Settings

    settings = Settings.from_env()
    try:
        engine, _ = open_database(settings.database_url)  # upgrades the embedded default
    except DatabaseNotReady as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 1
    print(f"База данных: {redact_url(settings.database_url)}")
    print(f"Сервер: http://{args.host}:{args.port}  (документация API: /docs)")
    uvicorn.run(create_app(settings, engine=engine), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("serve", help="запустить API-сервер", description="Запуск API-сервера (uvicorn).")
    parser.add_argument("--host", default="127.0.0.1", help="адрес (по умолчанию 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="порт (по умолчанию 8000)")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="подробность журнала сервера",
    )
    parser.set_defaults(handler=_serve)

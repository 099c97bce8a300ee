"""`metodika db|users|audit|serve` on SQLite and PostgreSQL (in-process)."""

from __future__ import annotations

import argparse
import importlib
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from platform_helpers import Database
from sqlalchemy import delete, update

from api.cli import main as cli_main
from api.db.config import DATABASE_URL_ENV, HOME_ENV
from api.db.models import AuditChainHead, AuditEvent
from api.db.session import make_sessionmaker

MODULES = ["api.cli.cmd_db", "api.cli.cmd_users", "api.cli.cmd_audit", "api.cli.cmd_serve"]


def run(argv: list[str], stdin: str = "") -> int:
    parser = argparse.ArgumentParser(prog="metodika")
    sub = parser.add_subparsers(dest="command")
    for name in MODULES:
        importlib.import_module(name).register(sub)
    args = parser.parse_args(argv)
    old = __import__("sys").stdin
    __import__("sys").stdin = io.StringIO(stdin)
    try:
        return int(args.handler(args) or 0)
    finally:
        __import__("sys").stdin = old


@pytest.fixture
def cli_env(empty_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv(DATABASE_URL_ENV, empty_db.url)
    monkeypatch.setenv(
        HOME_ENV, str(tmp_path / "home")
    )  # so even the SQLite file is not the embedded default
    return empty_db


def test_modules_are_registered() -> None:
    assert set(MODULES) <= set(cli_main.COMMAND_MODULES)


def test_cli_end_to_end(cli_env: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["users", "list"]) == 1  # external database not upgraded yet
    assert "metodika db upgrade" in capsys.readouterr().err
    assert run(["db", "upgrade"]) == 0
    assert "Схема обновлена" in capsys.readouterr().out
    assert run(["db", "upgrade"]) == 0 and "уже актуальна" in capsys.readouterr().out
    assert run(["users", "add", "admin", "--role", "admin", "--password-stdin"], "secret-pass\n") == 0
    assert run(["users", "add", "mo1", "--role", "mo_operator", "--password-stdin"], "secret-pass\n") == 1
    assert "нужен код МО" in capsys.readouterr().err
    assert (
        run(
            [
                "users",
                "add",
                "mo1",
                "--role",
                "Оператор МО (ЛПУ)",
                "--mo",
                "560001",
                "--password-stdin",
                "--full-name",
                "Сидоров П. П.",
            ],
            "secret-pass\n",
        )
        == 0
    )
    assert run(["users", "add", "x", "--role", "admin", "--password-stdin"], "short\n") == 1
    assert run(["users", "role", "mo1", "--role", "smo_medic", "--smo", "56001"]) == 0
    capsys.readouterr()
    assert run(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "admin" in out and "Медик СМО" in out and "СМО 56001" in out
    assert run(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Журнал аудита цел: 4 записей; контрольных точек сверено: 3\n")
    assert "заверена ключом с записи №1" in out and "audit-checkpoints.jsonl" in out
    assert run(["audit", "checkpoint"]) == 0 and "запись №4" in capsys.readouterr().out
    assert run(["audit", "rotate-key"]) == 0 and "прежний" in capsys.readouterr().out
    assert run(["audit", "rotate-key", "--lost"]) == 1  # the key file is there: nothing is lost
    assert "--lost только когда" in capsys.readouterr().err
    assert run(["audit", "verify"]) == 0 and "цел: 5 записей" in capsys.readouterr().out

    # the last record deleted and the head moved back: the checkpoint file contradicts it
    with make_sessionmaker(cli_env.engine)() as session, session.begin():
        session.execute(delete(AuditEvent).where(AuditEvent.seq == 5))
        last = session.get(AuditEvent, 4)
        assert last is not None
        session.execute(update(AuditChainHead).values(last_seq=4, last_hash=last.hash))
    assert run(["audit", "verify"]) == 1
    assert "удалены последние записи №5–№5" in capsys.readouterr().err

    with make_sessionmaker(cli_env.engine)() as session, session.begin():
        session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(payload="{}"))
    assert run(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert "Первая изменённая запись: №2" in err


def test_serve_upgrades_the_embedded_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    captured: dict[str, Any] = {}
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: captured.update(app=app, **kw))
    assert run(["serve", "--port", "8123"]) == 0
    assert (tmp_path / "metodika.sqlite").exists() and (tmp_path / "secret.key").exists()
    assert captured["port"] == 8123 and captured["host"] == "127.0.0.1"
    assert TestClient(captured["app"]).get("/health").json()["database"] == "ok"

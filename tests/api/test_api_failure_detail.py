"""An internal failure of a background run keeps its traceback (exception types and frames, no
messages or data) for the administrator only; the user sees the short message."""

from __future__ import annotations

import pytest
from api_helpers import ApiEnv, month_files
from platform_helpers import PASSWORD

from api.auth.roles import Role
from api.auth.users import create_user

SECRET_VALUE = "Иванов Иван 7700000000000001"  # what a registry value in an exception message looks like


def _admin(env: ApiEnv) -> dict[str, str]:
    with env.sessions() as session, session.begin():
        create_user(session, login="admin", password=PASSWORD, role=Role.ADMIN, actor="test")
    return env.h("admin")


def test_run_failure_traceback_is_kept_for_the_admin_without_data(env: ApiEnv,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import api.store.runs as runs_module

    def broken(*_args: object, **_kw: object) -> None:
        try:
            {}[SECRET_VALUE]
        except KeyError as exc:
            raise RuntimeError(f"не найдено: {SECRET_VALUE}") from exc

    env.publish()
    env.upload_month()
    monkeypatch.setattr(runs_module, "execute", broken)
    run = env.start_run()
    assert run["status"] == "failed" and run["error"].startswith("внутренняя ошибка расчёта (RuntimeError)")
    admin = _admin(env)
    r = env.client.get(f"/runs/{run['id']}/failure", headers=admin)
    assert r.status_code == 200, r.text
    detail = r.json()["error_detail"]
    assert "builtins.KeyError" in detail and "builtins.RuntimeError" in detail
    assert detail.index("KeyError") < detail.index("RuntimeError")  # the cause first, as Python prints it
    assert "api/store/runs.py:" in detail and "в execute_run" in detail
    assert "test_api_failure_detail.py:" in detail and "{}[SECRET_VALUE]" in detail  # source line, not value
    assert SECRET_VALUE not in detail and "7700000000000001" not in detail
    assert SECRET_VALUE not in (run["error"] or "")
    assert "error_detail" not in env.client.get(f"/runs/{run['id']}", headers=env.h("economist")).json()
    assert env.client.get(f"/runs/{run['id']}/failure", headers=env.h("economist")).status_code == 403
    assert env.client.get("/runs/999999/failure", headers=admin).status_code == 404


def test_registry_reader_failure_traceback_for_the_admin(env: ApiEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    import api.store.registries as registries_module

    def broken(*_args: object, **_kw: object) -> None:
        raise ValueError(SECRET_VALUE)

    monkeypatch.setattr(registries_module, "read_and_check", broken)
    r = env.upload(month_files()[:2])
    assert r.status_code == 202, r.text
    reg = env.wait_registry(r.json()["id"])
    assert reg["status"] == "rejected"
    body = env.client.get(f"/registries/{reg['id']}/failure", headers=_admin(env)).json()
    assert "builtins.ValueError" in body["error_detail"] and SECRET_VALUE not in body["error_detail"]
    assert body["error"] and SECRET_VALUE not in body["error"]

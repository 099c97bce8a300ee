"""API fuzz: schemathesis generates requests from the app's own OpenAPI (valid and invalid bodies,
paths and queries) and the app must never answer 5xx; every operation documents its problem+json
error responses. Bounded for CI (``FUZZ_EXAMPLES`` examples per operation); a long run:
``METODIKA_FUZZ_EXAMPLES=500 python3 -m pytest -q tests/api/test_api_fuzz.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from platform_helpers import app_with_users, login
from schemathesis.checks import not_a_server_error

from api.auth.roles import Role
from api.auth.users import Scope
from api.db.migrate import upgrade
from api.db.session import make_engine

FUZZ_EXAMPLES = int(os.environ.get("METODIKA_FUZZ_EXAMPLES", "12"))
USERS = {"economist": (Role.ECONOMIST, Scope()), "admin": (Role.ADMIN, Scope())}
ADMIN_PREFIXES = ("/users", "/branches", "/audit")


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict[str, dict[str, str]]]]:
    root: Path = tmp_path_factory.mktemp("fuzz")
    engine = make_engine(f"sqlite:///{(root / 'fuzz.sqlite').as_posix()}")
    upgrade(engine)
    app, _ = app_with_users(engine, root / "home", USERS, threads=2)
    client = TestClient(app)
    headers = {u: login(client, u) for u in USERS}
    yield app, headers
    app.state.worker.shutdown(wait_jobs=True)
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_app: tuple[FastAPI, dict[str, dict[str, str]]]) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app[0])


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, fuzz_app: tuple[FastAPI, dict[str, dict[str, str]]]) -> None:
    _, headers = fuzz_app
    user = "admin" if case.operation.path.startswith(ADMIN_PREFIXES) else "economist"
    if case.operation.path == "/auth/logout":
        return  # would end the shared session of the other cases
    case.call_and_validate(headers={**(case.headers or {}), **headers[user]}, checks=[not_a_server_error])


def test_every_operation_documents_problem_responses(fuzz_app: tuple[FastAPI, dict[str, dict[str, str]]]) -> None:
    spec = fuzz_app[0].openapi()
    missing = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            codes = {c for c, r in op["responses"].items()
                     if c.startswith("4") and "application/problem+json" in r.get("content", {})}
            need = set() if path.startswith("/health") else {"401", "403", "422"}
            if "{" in path:
                need.add("404")
            if not need <= codes:
                missing.append((method, path, sorted(need - codes)))
    assert missing == []

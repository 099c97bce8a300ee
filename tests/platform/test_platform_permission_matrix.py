"""The WHOLE role × action table, walked through the API.

A test-only router exposes ``GET /_probe/<action>`` guarded by ``require(action)`` for every
action; every role signs in and calls every probe. The answer must be 403 exactly where
``PERMISSIONS`` says "no". The real endpoints guarded by the same dependency are checked too.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Depends
from platform_helpers import Database, add_users, client_for, login
from sqlalchemy.orm import Session, sessionmaker

from api.auth.permissions import ACTION_LABELS, PERMISSIONS, Action, allowed
from api.auth.roles import ROLE_LABELS, Role
from api.server.deps import require

DOC = Path(__file__).resolve().parents[2] / "docs" / "platform.md"


def probe_router() -> APIRouter:
    router = APIRouter(prefix="/_probe")
    for action in Action:
        router.add_api_route(
            f"/{action.value}", lambda: {"ok": True}, methods=["GET"], dependencies=[Depends(require(action))]
        )
    return router


def test_every_role_and_action_is_in_the_table() -> None:
    assert set(PERMISSIONS) == set(Role) == set(ROLE_LABELS)
    assert set(ACTION_LABELS) == set(Action)
    assert PERMISSIONS[Role.ADMIN] >= {Action.USER_MANAGE, Action.AUDIT_VERIFY}
    assert all(PERMISSIONS[r] for r in Role), "every role can do something"


def test_matrix_through_the_api(db: Database, sessions: sessionmaker[Session]) -> None:
    logins = add_users(sessions)
    client = client_for(db.engine, [probe_router()])
    mismatches = []
    for role in Role:
        headers = login(client, logins[role])
        for action in Action:
            status = client.get(f"/_probe/{action.value}", headers=headers).status_code
            expected = 200 if allowed(role, action) else 403
            if status != expected:
                mismatches.append((role.value, action.value, status, expected))
    assert mismatches == []
    # without a token every probe answers 401, not 403
    assert {client.get(f"/_probe/{a.value}").status_code for a in Action} == {401}


def test_real_endpoints_follow_the_table(db: Database, sessions: sessionmaker[Session]) -> None:
    logins = add_users(sessions)
    client = client_for(db.engine)
    guarded = {
        "/users": Action.USER_MANAGE,
        "/audit/verify": Action.AUDIT_VERIFY,
        "/audit/events": Action.AUDIT_READ,
    }
    for role in Role:
        headers = login(client, logins[role])
        for path, action in guarded.items():
            status = client.get(path, headers=headers).status_code
            assert (status != 403) == allowed(role, action), (role, path, status)


def test_docs_table_matches_the_matrix() -> None:
    """docs/platform.md renders the same matrix: ✔ where allowed, · where not."""
    text = DOC.read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| action |"))
    roles = [c.strip().strip("`") for c in header.strip("|").split("|")[1:]]
    assert roles == [r.value for r in Role]
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\| `([a-z_.]+)` \|(.*)\|$", line)
        if m and m.group(1) in {a.value for a in Action}:
            rows[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    assert set(rows) == {a.value for a in Action}
    for action_id, cells in rows.items():
        for role, cell in zip(Role, cells, strict=True):
            assert (cell == "✔") == allowed(role, action_id), (action_id, role.value, cell)

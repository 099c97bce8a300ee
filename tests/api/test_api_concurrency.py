"""Eight runs and eight package checks at once, on SQLite and PostgreSQL, give exactly what the same
work done one by one gives.

Depends on the thread-safe rule parser (issue 14, item 1, branch ``hardsdl``): before that fix the
shared Lark parser makes concurrent compiles fail (false E0004/E0002, 500s, failed runs), and these
tests fail with it — that is what they are for.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from api_helpers import PKG, ApiEnv, make_env, zip_dir
from test_api_runs import stored

N = 8


@pytest.fixture
def wide_env(db, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = make_env(db, tmp_path / "home", threads=N)
    yield env
    env.close()


def _parallel(n: int, fn: Any) -> list[Any]:
    """``fn(i)`` for i in 0..n-1 from n threads released at the same instant; results in order."""
    barrier = threading.Barrier(n)
    out: list[Any] = [None] * n

    def call(i: int) -> None:
        barrier.wait()
        try:
            out[i] = fn(i)
        except BaseException as exc:  # noqa: BLE001 - compared below
            out[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _failures(env: ApiEnv, run_ids: list[int]) -> list[str]:
    from api.db.models import Run

    with env.sessions() as session:
        return [f"{r.id}: {r.error}\n{r.error_detail}" for r in (session.get(Run, i) for i in run_ids)
                if r is not None and r.status != "done"]


def test_concurrent_runs_equal_sequential(wide_env: ApiEnv) -> None:
    env = wide_env
    env.publish()
    env.upload_month()
    sequential = [env.start_run()["id"] for _ in range(2)]
    reference = stored(env, sequential[0])
    assert reference[0] and reference[1]
    assert stored(env, sequential[1]) == reference
    headers = env.h("economist")
    for user in ("economist", "mo_op"):  # tokens before the threads start (logins are not the subject)
        env.h(user)
    queued = _parallel(N, lambda _i: env.start_run(wait=False)["id"])
    assert all(isinstance(q, int) for q in queued), queued
    finals = [env.wait_run(i) for i in queued]
    assert [f["status"] for f in finals] == ["done"] * N, _failures(env, queued)
    for run_id in queued:
        assert stored(env, run_id) == reference
    # the pool really ran them side by side: overlapping intervals
    spans = sorted((f["started_at"], f["finished_at"]) for f in finals)
    assert any(spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1))
    # concurrent reads of the results while nothing changes: all equal
    pages = _parallel(N, lambda i: env.client.get(f"/runs/{queued[i]}/totals", headers=headers).json())
    assert [p.pop("run_id") for p in pages] == queued
    assert all(p == pages[0] for p in pages) and pages[0]["cases"] > 0, pages[0]


def test_concurrent_package_checks_equal_sequential(wide_env: ApiEnv) -> None:
    env = wide_env
    headers = env.h("economist")
    good = zip_dir(PKG)
    bad = zip_dir(PKG, {"rules/cases.rules": (PKG / "rules" / "cases.rules").read_text() + "\nfor case:\n    x: int = (\n"})

    def check(i: int) -> tuple[int, Any]:
        archive = good if i % 2 == 0 else bad
        r = env.client.post("/methodologies/check", headers=headers,
                            files={"archive": ("pkg.zip", archive, "application/zip")}, data={"tests": "true"})
        return r.status_code, r.json()

    sequential = [check(i) for i in range(2)]
    assert sequential[0][0] == 200 and sequential[0][1]["ok"] is True
    assert sequential[1][0] == 200 and sequential[1][1]["ok"] is False and sequential[1][1]["diagnostics"]
    results = _parallel(N, check)
    assert all(not isinstance(r, BaseException) for r in results), results
    for i, result in enumerate(results):
        assert result == sequential[i % 2], (i, result)

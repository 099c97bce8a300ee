"""Eight runs submitted at once on PostgreSQL store exactly what eight runs one by one store."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import ApiEnv, make_env
from test_api_runs import stored

N = 8


@pytest.fixture
def pg_env(db, tmp_path: Path):  # type: ignore[no-untyped-def]
    if db.backend != "postgresql":
        pytest.skip("проверка конкурентных расчётов — на PostgreSQL")
    env = make_env(db, tmp_path / "home", threads=N)
    yield env
    env.close()


def test_concurrent_runs_equal_sequential(pg_env: ApiEnv) -> None:
    env = pg_env
    env.publish()
    env.upload_month()
    sequential = [env.start_run()["id"] for _ in range(2)]
    reference = stored(env, sequential[0])
    assert stored(env, sequential[1]) == reference
    queued = [env.start_run(wait=False)["id"] for _ in range(N)]
    finals = [env.wait_run(i) for i in queued]
    assert {f["status"] for f in finals} == {"done"}, [f["error"] for f in finals]
    for run_id in queued:
        assert stored(env, run_id) == reference
    # the pool really ran them side by side: overlapping intervals
    spans = sorted((f["started_at"], f["finished_at"]) for f in finals)
    assert any(spans[i + 1][0] < spans[i][1] for i in range(len(spans) - 1))

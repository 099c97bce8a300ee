"""Two first submissions of the same МО × period at once: exactly one is accepted (SQLite and
PostgreSQL). The rule is checked again under a lock of the key inside the storing transaction
(api/store/submissions.py: claim_submission), so submissions that all passed the early check
while none was stored yet cannot all be imported."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from api_helpers import MONTH, ApiEnv, make_env, month_files
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.db.models import Registry, RegistrySubmission
from api.store import registries as store
from api.store.submissions import SubmissionKey, SubmissionRefused, lock_key, submission_keys

N = 4


def _imported(env_sessions) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    with env_sessions() as s:
        regs = s.scalar(select(func.count()).select_from(Registry).where(Registry.status == "imported"))
        subs = s.scalar(select(func.count()).select_from(RegistrySubmission))
    return int(regs or 0), int(subs or 0)


def test_store_level_race_exactly_one_claims_the_key(db, sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """N stores of a registry that each passed the early check (nothing imported yet) start
    together: one is imported, the others are refused API-RESUBMIT-SAME and write nothing."""
    home = tmp_path / "home"
    (home / "registries").mkdir(parents=True)
    with sessions() as s:
        outcome = store.read_and_check(MONTH, mo_code=None, period=None, session=s)
    assert outcome.ok and len({(k.mo_code, k.period, k.payer) for k in outcome.submissions}) == 3
    barrier = threading.Barrier(N)

    def submit(i: int) -> str:
        barrier.wait(timeout=30)
        try:
            with sessions() as s, s.begin():
                reg = Registry(filenames=[f"r{i}"], input_sha256={}, period="", status="importing", progress=0.5)
                s.add(reg)
                s.flush()
                store.store_accepted(s, home, reg, outcome, actor=f"race-{i}")
            return "imported"
        except SubmissionRefused as exc:
            return ",".join(sorted({p["code"] for p in exc.protocol}))

    with ThreadPoolExecutor(N) as pool:
        results = list(pool.map(submit, range(N)))
    assert sorted(results) == ["API-RESUBMIT-SAME"] * (N - 1) + ["imported"], results
    assert _imported(sessions) == (1, 3)  # one registry, its three accounts
    assert len(list((home / "registries").iterdir())) == 1  # the refused ones left no columnar file


def test_api_simultaneous_uploads_one_accepted(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Through the API: N uploads with wait=true at once → one 201, the rest 409 API-RESUBMIT-SAME;
    then N background uploads of it → all rejected with that code."""
    env: ApiEnv = make_env(db, tmp_path / "home", threads=N)
    try:
        headers = env.h("economist")
        files = [("files", (p.name, p.read_bytes(), "application/xml")) for p in month_files()]
        barrier = threading.Barrier(N)

        def upload(_: int) -> tuple[int, list[str]]:
            client = TestClient(env.client.app, raise_server_exceptions=False)
            barrier.wait(timeout=30)
            r = client.post("/registries?wait=true", headers=headers, files=files)
            return r.status_code, [e["code"] for e in r.json().get("errors", [])] if r.status_code != 201 else []

        with ThreadPoolExecutor(N) as pool:
            answers = list(pool.map(upload, range(N)))
        assert sorted(a[0] for a in answers) == [201] + [409] * (N - 1), answers
        assert all(set(codes) == {"API-RESUBMIT-SAME"} for status, codes in answers if status == 409), answers
        assert _imported(env.sessions) == (1, 3)
    finally:
        env.close()


def test_api_simultaneous_background_imports_one_accepted(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """N uploads imported by the worker pool side by side (N threads): one imported, the others
    rejected with API-RESUBMIT-SAME in their protocol."""
    env: ApiEnv = make_env(db, tmp_path / "home", threads=N)
    try:
        ids = []
        for _ in range(N):
            r = env.upload(month_files())
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        finals = [env.wait_registry(i) for i in ids]
        assert sorted(f["status"] for f in finals) == ["imported"] + ["rejected"] * (N - 1), finals
        for f in finals:
            if f["status"] == "rejected":
                protocol = env.client.get(f"/registries/{f['id']}/protocol", headers=env.h("economist")).json()
                assert {e["code"] for e in protocol["errors"]} == {"API-RESUBMIT-SAME"}, protocol
        assert _imported(env.sessions) == (1, 3)
    finally:
        env.close()


def test_cli_store_refused_when_the_key_was_imported_meanwhile(db, sessions, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`metodika run` (process_and_store): another import of the same month commits between its
    check and its store → refused API-RESUBMIT-SAME, nothing of it stored, no run started."""
    from api.store import local
    from engine.runtime.compiler import compile_package

    home = tmp_path / "home"
    (home / "registries").mkdir(parents=True)
    real = local.read_and_check

    def check_then_competitor(*args, **kwargs):  # type: ignore[no-untyped-def]
        outcome = real(*args, **kwargs)
        with sessions() as s, s.begin():  # the competing submission lands now
            reg = Registry(filenames=["other"], input_sha256={}, period="", status="importing", progress=0.5)
            s.add(reg)
            s.flush()
            store.store_accepted(s, home, reg, outcome, actor="competitor")
        return outcome

    monkeypatch.setattr(local, "read_and_check", check_then_competitor)
    m = compile_package(Path(__file__).resolve().parent / "data" / "pkg")
    res, run_id = local.process_and_store(sessions, home, m, [MONTH], {}, lambda *_: None)
    assert res.status == "submission_refused" and run_id is None
    assert {p["code"] for p in res.protocol} == {"API-RESUBMIT-SAME"}
    assert _imported(sessions) == (1, 3)


def test_lock_key_is_stable_and_per_key() -> None:
    """One lock number per МО × period × payer, the same in every process and release (a
    content hash, not Python's per-process hash()), so two servers on one database agree."""
    from engine.oms.io import read_registry

    keys = submission_keys(read_registry(month_files()).data.tables)
    numbers = {lock_key(k) for k in keys}
    assert len(numbers) == 3 and all(-(2**63) <= n < 2**63 for n in numbers)
    first = next(k for k in keys if k.mo_code == "000001")
    assert lock_key(first) == lock_key(SubmissionKey("000001", "2025-03", "", "other", "", 0, 0)) == 8285492608926006786

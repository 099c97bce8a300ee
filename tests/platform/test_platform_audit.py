"""The keyed audit chain and its checkpoints: every attack by someone with write access to the
database (edit, edit with recomputed hashes, deletion, truncation with the head moved back, a
rewritten chain) is named; legacy plain-sha256 records still verify; key rotation and loss;
concurrent appends never fork the chain."""

from __future__ import annotations

import hashlib
import json
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from platform_helpers import Database, add_users, login
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.audit.canonical import canonical_json, record_hash, record_hmac, sha256_hex
from api.audit.chain import HEAD_ID, HOME_INFO, KEYED_ACTION, append_event, rotate
from api.audit.checkpoints import checkpoint_path
from api.audit.keys import AuditKeyError, derive, rotate_key
from api.audit.verify import verify_chain
from api.auth.roles import Role
from api.db.models import GENESIS_HASH, AuditChainHead, AuditEvent
from api.db.session import make_sessionmaker


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def chain(db: Database, home: Path) -> sessionmaker[Session]:
    """Sessions whose audit key and checkpoint file live in this test's own METODIKA_HOME."""
    sessions = make_sessionmaker(db.engine)
    sessions.configure(info={HOME_INFO: str(home)})
    return sessions


def _fill(sessions: sessionmaker[Session], n: int, *, per_commit: int = 1) -> None:
    for start in range(0, n, per_commit):
        with sessions() as session, session.begin():
            for i in range(start, min(n, start + per_commit)):
                append_event(session, actor="economist", action="run.started", object_type="run", object_id=i,
                             payload={"methodology_sha256": "ab" * 32, "n": i,
                                      "when": datetime(2025, 3, 1, tzinfo=UTC)})


def _verify(sessions: sessionmaker[Session]):  # noqa: ANN202 - VerifyReport
    with sessions() as session:
        return verify_chain(session)


def _kinds(report) -> list[tuple[str, tuple[int, ...]]]:  # noqa: ANN001
    return [(p.kind, p.seqs) for p in report.problems]


def test_intact_chain_is_keyed_from_record_one(chain: sessionmaker[Session], home: Path) -> None:
    _fill(chain, 5)
    report = _verify(chain)
    assert report.ok, report.problems
    assert report.count == 6 and report.keyed_from == 1 and report.checkpoints == 5
    with chain() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert events[0].action == KEYED_ACTION and events[0].prev_hash == GENESIS_HASH
    assert json.loads(events[0].payload)["chain"] == report.chain_id
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))
    assert all(e.hash != record_hash(e) for e in events)  # not plain sha256: keyed
    assert stat.S_IMODE((home / "audit.key").stat().st_mode) == 0o600
    lines = checkpoint_path(home).read_text().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [2, 3, 4, 5, 6]


def test_edited_record_is_named(chain: sessionmaker[Session]) -> None:
    _fill(chain, 6)
    with chain() as session, session.begin():
        session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(payload='{"n":999}'))
    report = _verify(chain)
    assert not report.ok and report.first_edited == 3
    assert _kinds(report) == [("edited", (3,))]


def test_edit_with_every_following_hash_recomputed_is_caught(chain: sessionmaker[Session]) -> None:
    """The forger recomputes the edited record and all after it — without the key (with plain sha256,
    or with an HMAC under a key of their own) — and moves the head: the first edited record is named."""
    _fill(chain, 6)
    forged_key = derive(b"the forger's own key, 32 bytes!!", "record")
    with chain() as session, session.begin():
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.seq >= 3).order_by(AuditEvent.seq)))
        prev = session.get(AuditEvent, 2).hash  # type: ignore[union-attr]
        for ev in events:
            if ev.seq == 3:
                ev.actor = "someone_else"
            ev.prev_hash = prev
            ev.hash = record_hmac(ev, forged_key) if ev.seq % 2 else record_hash(ev)
            prev = ev.hash
        session.execute(update(AuditChainHead).values(last_hash=prev))
    report = _verify(chain)
    assert report.first_edited == 3
    assert [k for k, _ in _kinds(report)][:4] == ["edited"] * 4 and ("rewritten", (6,)) in _kinds(report)


def test_deleted_records_in_the_middle_are_named(chain: sessionmaker[Session]) -> None:
    _fill(chain, 8)
    with chain() as session, session.begin():
        session.execute(delete(AuditEvent).where(AuditEvent.seq.in_([4, 5])))
    report = _verify(chain)
    assert _kinds(report) == [("deleted", (4, 5))]
    assert "№4–№5" in report.problems[0].message and "после записи №3" in report.problems[0].message


def test_truncation_with_the_head_moved_back_is_caught(chain: sessionmaker[Session]) -> None:
    _fill(chain, 8)
    with chain() as session, session.begin():
        session.execute(delete(AuditEvent).where(AuditEvent.seq > 6))
        last = session.get(AuditEvent, 6)
        assert last is not None
        session.execute(update(AuditChainHead).values(last_seq=6, last_hash=last.hash))
    report = _verify(chain)
    assert _kinds(report) == [("truncated", (7, 8, 9))]
    assert "№7–№9" in report.problems[0].message


def test_wholly_rewritten_chain_is_caught(chain: sessionmaker[Session]) -> None:
    """Everything replaced by a well-formed plain-sha256 chain with no key marker and a matching head."""
    _fill(chain, 4)
    with chain() as session, session.begin():
        session.execute(delete(AuditEvent))
        prev = GENESIS_HASH
        for seq in range(1, 4):
            text = canonical_json({"n": seq})
            ev = AuditEvent(seq=seq, occurred_at=datetime.now(UTC), actor="x", action="run.started",
                            object_type="run", object_id=str(seq), payload=text, payload_sha256=sha256_hex(text),
                            prev_hash=prev, hash="")
            ev.hash = record_hash(ev)
            prev = ev.hash
            session.add(ev)
        session.execute(update(AuditChainHead).values(last_seq=3, last_hash=prev, chain_id=None, key_id=None,
                                                      keyed_from_seq=None))
    report = _verify(chain)
    assert [k for k, _ in _kinds(report)] == ["rewritten"]
    assert "переписан" in report.problems[0].message


def test_forged_or_deleted_checkpoints_are_named(chain: sessionmaker[Session], home: Path) -> None:
    _fill(chain, 3)
    path = checkpoint_path(home)
    lines = path.read_text().splitlines()
    forged = json.loads(lines[-1]) | {"seq": 2}
    path.write_text("\n".join([*lines, json.dumps(forged), "not json"]) + "\n")
    kinds = [k for k, _ in _kinds(_verify(chain))]
    assert kinds == ["checkpoint", "checkpoint"]
    path.unlink()
    assert [k for k, _ in _kinds(_verify(chain))] == ["checkpoint"]


def _legacy_chain(sessions: sessionmaker[Session], n: int) -> None:
    """Records as written before migration 0003: plain sha256, no key, no checkpoints."""
    with sessions() as session, session.begin():
        prev = GENESIS_HASH
        for seq in range(1, n + 1):
            text = canonical_json({"n": seq})
            ev = AuditEvent(seq=seq, occurred_at=datetime(2025, 1, 1, tzinfo=UTC), actor="old",
                            action="user.created", object_type="user", object_id=str(seq), payload=text,
                            payload_sha256=sha256_hex(text), prev_hash=prev, hash="")
            ev.hash = record_hash(ev)
            prev = ev.hash
            session.add(ev)
        session.execute(update(AuditChainHead).values(last_seq=n, last_hash=prev))


def test_legacy_records_verify_and_the_chain_switches_at_a_marker(chain: sessionmaker[Session]) -> None:
    _legacy_chain(chain, 3)
    assert _verify(chain).ok
    _fill(chain, 2)
    report = _verify(chain)
    assert report.ok and report.keyed_from == 4 and report.count == 6
    with chain() as session:
        marker = session.get(AuditEvent, 4)
        assert marker is not None and marker.action == KEYED_ACTION
        assert json.loads(marker.payload)["previous"] == "sha256"
        # a legacy record rewritten with every legacy hash recomputed: the keyed marker still
        # names the old predecessor
        ev2 = session.get(AuditEvent, 2)
        ev3 = session.get(AuditEvent, 3)
        assert ev2 is not None and ev3 is not None
        ev2.actor = "forger"
        ev2.hash = record_hash(ev2)
        ev3.prev_hash = ev2.hash
        ev3.hash = record_hash(ev3)
        session.commit()
    assert _kinds(_verify(chain)) == [("relinked", (3, 4))]


def test_key_rotation_keeps_old_records_verifiable(chain: sessionmaker[Session], home: Path) -> None:
    _fill(chain, 2)
    with chain() as session, session.begin():
        old_id, new_id = rotate(session, actor="cli:root")
    assert old_id and (home / "audit-keys" / f"{old_id}.key").exists()
    _fill(chain, 2)
    report = _verify(chain)
    assert report.ok, report.problems
    with chain() as session:
        markers = [json.loads(p) for p in session.scalars(
            select(AuditEvent.payload).where(AuditEvent.action == KEYED_ACTION).order_by(AuditEvent.seq))]
    assert [m["key_id"] for m in markers] == [old_id, new_id] and markers[1]["previous_key_id"] == old_id
    (home / "audit-keys" / f"{old_id}.key").unlink()  # the retired key is lost after all
    kinds = {k for k, _ in _kinds(_verify(chain))}
    assert "unverifiable" in kinds and "edited" not in kinds


def test_key_replaced_behind_the_chain_is_switched_by_a_marker(chain: sessionmaker[Session], home: Path) -> None:
    """The operator retired the key by hand (moved it to audit-keys/, put a new audit.key): the next
    append notices and writes the marker itself."""
    _fill(chain, 1)
    rotate_key(home)
    _fill(chain, 1)
    assert _verify(chain).ok


def test_lost_key_stops_appends_until_rotated(chain: sessionmaker[Session], home: Path) -> None:
    _fill(chain, 2)
    (home / "audit.key").unlink()
    with pytest.raises(AuditKeyError, match="rotate-key --lost"):
        _fill(chain, 1)
    with chain() as session, session.begin():
        rotate(session, lost=True, actor="cli:root")
    _fill(chain, 1)
    report = _verify(chain)
    assert {k for k, _ in _kinds(report)} == {"unverifiable"}  # the old segment is named, not "edited"


def test_rolled_back_append_leaves_no_record_and_no_checkpoint(chain: sessionmaker[Session],
                                                               home: Path) -> None:
    _fill(chain, 2)
    before = checkpoint_path(home).read_text()
    with chain() as session:
        append_event(session, actor="x", action="plan.corrected", object_type="plan", object_id=1)
        session.rollback()
    assert checkpoint_path(home).read_text() == before
    _fill(chain, 1)
    report = _verify(chain)
    assert report.ok and report.count == 4


def test_payload_with_personal_data_is_refused(chain: sessionmaker[Session]) -> None:
    with chain() as session, session.begin(), pytest.raises(ValueError, match="personal data"):
        append_event(session, actor="x", action="registry.imported", object_type="registry",
                     payload={"cases": [{"SNILS": "123-456-789 00"}]})


def test_api_verify_and_checkpoints(db: Database, home: Path) -> None:
    from fastapi.testclient import TestClient
    from platform_helpers import TEST_SECRET

    from api.server.app import create_app
    from api.server.settings import Settings

    app = create_app(Settings(database_url="unused://", secret_key=TEST_SECRET, home=home), engine=db.engine)
    sessions = app.state.sessions
    add_users(sessions, [Role.ADMIN, Role.ECONOMIST])
    client = TestClient(app)
    admin = login(client, "admin")
    body = client.get("/audit/verify", headers=admin).json()
    assert body["ok"] is True and body["keyed_from"] == 1 and body["checkpoints"] >= 2
    cps = client.get("/audit/checkpoints", headers=admin).json()
    assert cps and all(c["signature_ok"] for c in cps) and cps[-1]["chain"] == body["chain_id"]
    with sessions() as session, session.begin():
        session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(object_id="42"))
    body = client.get("/audit/verify", headers=admin).json()
    assert body["ok"] is False and body["first_edited"] == 2
    events = client.get("/audit/events", headers=admin, params={"action": "auth.login"}).json()
    assert [e["actor"] for e in events] == ["admin"]
    economist = login(client, "economist")
    assert client.get("/audit/verify", headers=economist).status_code == 403
    assert client.get("/audit/checkpoints", headers=economist).status_code == 403


def test_concurrent_appends_keep_one_chain(chain: sessionmaker[Session], home: Path) -> None:
    threads, per_thread = 8, 15
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def worker(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with chain() as session, session.begin():
                    append_event(session, actor=f"worker{k}", action="run.started", object_type="run",
                                 object_id=f"{k}-{i}", payload={"k": k, "i": i})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    report = _verify(chain)
    assert report.ok, report.problems
    assert report.count == threads * per_thread + 1 and report.checkpoints == threads * per_thread
    with chain() as session:
        prevs = list(session.scalars(select(AuditEvent.prev_hash)))
        markers = session.scalar(select(func.count()).where(AuditEvent.action == KEYED_ACTION))
        head = session.get(AuditChainHead, HEAD_ID)
    assert len(prevs) == len(set(prevs)), "two records share a predecessor: the chain forked"
    assert markers == 1 and head is not None and head.keyed_from_seq == 1
    assert hashlib.sha256(b"").hexdigest() not in prevs

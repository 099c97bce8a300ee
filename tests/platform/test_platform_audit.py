"""The hash-chained audit log: tampering is named, concurrent appends never fork the chain."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from platform_helpers import Database, add_users, client_for, login
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.audit.chain import append_event
from api.audit.verify import verify_chain
from api.auth.roles import Role
from api.db.models import GENESIS_HASH, AuditEvent


def _fill(sessions: sessionmaker[Session], n: int) -> None:
    with sessions() as session, session.begin():
        for i in range(n):
            append_event(
                session,
                actor="economist",
                action="run.started",
                object_type="run",
                object_id=i,
                payload={"methodology_sha256": "ab" * 32, "n": i, "when": datetime(2025, 3, 1, tzinfo=UTC)},
            )


def _verify(sessions: sessionmaker[Session]):  # noqa: ANN202 - VerifyReport
    with sessions() as session:
        return verify_chain(session)


def test_intact_chain(sessions: sessionmaker[Session]) -> None:
    _fill(sessions, 5)
    report = _verify(sessions)
    assert report.ok and report.count == 5 and report.summary() == "Журнал аудита цел: 5 записей"
    with sessions() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:], strict=False))


def test_edited_payload_is_named(sessions: sessionmaker[Session]) -> None:
    _fill(sessions, 6)
    with sessions() as session, session.begin():
        session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(payload='{"n":999}'))
    report = _verify(sessions)
    assert not report.ok and report.first_edited == 3
    assert [(p.kind, p.seqs) for p in report.problems] == [("edited", (3,))]
    assert "№3" in report.problems[0].message


def test_edit_with_recomputed_hashes_breaks_the_link(sessions: sessionmaker[Session]) -> None:
    """A forger who recomputes the record's own hashes is caught by the next record's link."""
    from api.audit.canonical import record_hash, sha256_hex

    _fill(sessions, 4)
    with sessions() as session, session.begin():
        ev = session.get(AuditEvent, 2)
        assert ev is not None
        ev.actor = "someone_else"
        ev.payload_sha256 = sha256_hex(ev.payload)
        ev.hash = record_hash(ev)
    report = _verify(sessions)
    assert [(p.kind, p.seqs) for p in report.problems] == [("relinked", (2, 3))]


def test_deleted_records_are_named(sessions: sessionmaker[Session]) -> None:
    _fill(sessions, 8)
    with sessions() as session, session.begin():
        session.execute(delete(AuditEvent).where(AuditEvent.seq.in_([4, 5])))
        session.execute(delete(AuditEvent).where(AuditEvent.seq == 8))  # the tail, too
    report = _verify(sessions)
    assert [(p.kind, p.seqs) for p in report.problems] == [("deleted", (4, 5)), ("deleted", (8,))]
    assert "№4–№5" in report.problems[0].message and "после записи №3" in report.problems[0].message
    assert report.count == 5


def test_api_verify_names_the_record(db: Database, sessions: sessionmaker[Session]) -> None:
    add_users(sessions, [Role.ADMIN, Role.ECONOMIST])
    client = client_for(db.engine)
    admin = login(client, "admin")
    assert client.get("/audit/verify", headers=admin).json()["ok"] is True
    with sessions() as session, session.begin():
        session.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(object_id="42"))
    body = client.get("/audit/verify", headers=admin).json()
    assert body["ok"] is False and body["first_edited"] == 2
    events = client.get("/audit/events", headers=admin, params={"action": "auth.login"}).json()
    assert [(e["actor"], e["seq"]) for e in events] == [("admin", 4)]
    assert client.get("/audit/verify", headers=login(client, "economist")).status_code == 403


def test_payload_with_personal_data_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin(), pytest.raises(ValueError, match="personal data"):
        append_event(
            session,
            actor="x",
            action="registry.imported",
            object_type="registry",
            payload={"cases": [{"SNILS": "123-456-789 00"}]},
        )


def test_rolled_back_append_leaves_no_trace(sessions: sessionmaker[Session]) -> None:
    _fill(sessions, 2)
    with sessions() as session:
        append_event(session, actor="x", action="plan.corrected", object_type="plan", object_id=1)
        session.rollback()
    _fill(sessions, 1)
    report = _verify(sessions)
    assert report.ok and report.count == 3


def test_concurrent_appends_keep_one_chain(db: Database, sessions: sessionmaker[Session]) -> None:
    threads, per_thread = 8, 15
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def worker(k: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                with sessions() as session, session.begin():
                    append_event(
                        session,
                        actor=f"worker{k}",
                        action="run.started",
                        object_type="run",
                        object_id=f"{k}-{i}",
                        payload={"k": k, "i": i},
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    report = _verify(sessions)
    assert report.ok, report.problems
    assert report.count == threads * per_thread
    with sessions() as session:
        prevs = list(session.scalars(select(AuditEvent.prev_hash)))
    assert len(prevs) == len(set(prevs)), "two records share a predecessor: the chain forked"

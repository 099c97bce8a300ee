"""``metodika run`` stores its run in the configured database unless --no-store."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import ERZ, MONTH, PKG
from sqlalchemy import func, select

from api.cli.main import main
from api.db.models import AuditEvent, MethodologyVersion, Registry, Run, RunDefect, RunResult
from api.db.session import make_sessionmaker


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with make_sessionmaker(db.engine)() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_cli_run_is_stored(db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("METODIKA_DATABASE_URL", db.url)
    monkeypatch.setenv("METODIKA_HOME", str(tmp_path))
    args = ["run", str(PKG), "--registry", str(MONTH), "--insured", str(ERZ)]
    assert main([*args, "--out", str(tmp_path / "a"), "--no-store"]) == 0
    assert _count(db, Run) == 0 and _count(db, Registry) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert (_count(db, MethodologyVersion), _count(db, Registry), _count(db, Run)) == (1, 1, 1)
    assert _count(db, RunResult) == 450 and _count(db, RunDefect) == 31
    assert (tmp_path / "registries" / "1.npz").is_file() and (tmp_path / "b" / "defects.csv").is_file()
    # the same registry again: refused by the submission rule (docs/mek-inputs.md), nothing stored
    assert main([*args, "--out", str(tmp_path / "c")]) == 1
    assert _count(db, Registry) == 1 and _count(db, Run) == 1
    assert [p.name for p in (tmp_path / "c").iterdir()] == ["run.json"]     # the refusal, nothing else
    with make_sessionmaker(db.engine)() as s:
        runs = list(s.scalars(select(Run).order_by(Run.id)))
        assert runs[0].status == "done"
        actors = set(s.scalars(select(AuditEvent.actor).where(AuditEvent.action == "run.done")))
        refused = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "registry.reject")))
    assert len(actors) == 1 and next(iter(actors)).startswith("cli")
    assert len(refused) == 1 and "resubmission" in str(refused[0].payload)
    assert (tmp_path / "a" / "defects.csv").read_text() == (tmp_path / "b" / "defects.csv").read_text()

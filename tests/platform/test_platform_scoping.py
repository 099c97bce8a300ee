"""Row scoping: МО operators see their МО, СМО roles their insured, branch roles their МО list."""

from __future__ import annotations

from platform_helpers import BRANCH_CODE, MO_CODE, SMO_CODE, add_users
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.auth.roles import Role
from api.auth.scoping import apply_scope
from api.db.models import MethodologyVersion, Registry, Run, RunDefect, RunResult, User

OTHER_MO, BRANCH_MO2, FAR_MO, OTHER_SMO = "560099", "560002", "560777", "56002"


def _seed(session: Session) -> None:
    mv = MethodologyVersion(package_id="federal", version="2025.1", content_sha256="c" * 64, title="Базовая")
    session.add(mv)
    session.flush()
    for mo in (MO_CODE, BRANCH_MO2, FAR_MO):
        session.add(Registry(filenames=[f"HM{mo}.xml"], input_sha256={}, period="2025-03", mo_code=mo))
    run_a = Run(methodology_version_id=mv.id, engine_version="t", mo_code=MO_CODE)
    run_b = Run(methodology_version_id=mv.id, engine_version="t", mo_code=FAR_MO)
    session.add_all([run_a, run_b])
    session.flush()
    rows = [
        (run_a, MO_CODE, SMO_CODE),
        (run_a, MO_CODE, OTHER_SMO),
        (run_b, FAR_MO, OTHER_SMO),
        (run_b, BRANCH_MO2, OTHER_SMO),
    ]
    for i, (run, mo, smo) in enumerate(rows):
        session.add(
            RunResult(run_id=run.id, entity="case", row_key=str(i), mo_code=mo, smo_code=smo, values={})
        )
        session.add(
            RunDefect(
                run_id=run.id,
                entity="case",
                row_key=str(i),
                code="5.1.4",
                title="дефект",
                withheld_kopecks=100_00,
                fine_kopecks=0,
                values={},
                mo_code=mo,
                smo_code=smo,
            )
        )


def _visible(session: Session, user: User, model: type) -> set[tuple[str | None, ...]]:
    stmt = apply_scope(select(model), user, model)
    cols = ("mo_code", "smo_code") if hasattr(model, "smo_code") else ("mo_code",)
    return {tuple(getattr(r, c) for c in cols) for r in session.scalars(stmt)}


def test_scoping(sessions: sessionmaker[Session]) -> None:
    add_users(sessions)
    with sessions() as session, session.begin():
        _seed(session)
    with sessions() as session:
        users = {Role(u.role): u for u in session.scalars(select(User))}
        mo_op, smo_op, smo_med = users[Role.MO_OPERATOR], users[Role.SMO_OPERATOR], users[Role.SMO_MEDIC]
        assert _visible(session, mo_op, RunResult) == {(MO_CODE, SMO_CODE), (MO_CODE, OTHER_SMO)}
        assert _visible(session, mo_op, Registry) == {(MO_CODE,)}
        assert _visible(session, mo_op, Run) == {(MO_CODE,)}
        for smo_user in (smo_op, smo_med):
            assert _visible(session, smo_user, RunDefect) == {(MO_CODE, SMO_CODE)}
            assert _visible(session, smo_user, Registry) == set()
            assert _visible(session, smo_user, Run) == {(MO_CODE,)}  # only runs holding its insured
        branch = users[Role.BRANCH_ECONOMIST]
        assert branch.branch_code == BRANCH_CODE
        assert _visible(session, branch, Registry) == {(MO_CODE,), (BRANCH_MO2,)}
        assert _visible(session, branch, RunResult) == {
            (MO_CODE, SMO_CODE),
            (MO_CODE, OTHER_SMO),
            (BRANCH_MO2, OTHER_SMO),
        }
        everything = _visible(session, users[Role.ECONOMIST], RunResult)
        assert len(everything) == 4 and _visible(session, users[Role.HEAD], Registry) == {
            (MO_CODE,),
            (BRANCH_MO2,),
            (FAR_MO,),
        }

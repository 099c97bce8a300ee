"""Runs: start (methodology version × registry × reference tables), status, results, defects, explain."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile
from sqlalchemy import select

from api.auth.permissions import Action, allowed
from api.db.models import MethodologyVersion, Registry, Run, RunDefect, RunResult, User
from api.server.deps import SessionDep, SettingsDep, require
from api.server.errors import PROBLEM_RESPONSES, ProblemError
from api.server.params import INT64_MAX, CursorQuery, IdPath, OffsetQuery
from api.server.schemas import FailureDetailOut
from api.store.methodologies import compile_version
from api.store.personal import MASK, mask_defect_values, personal_names, public_defect_values
from api.store.queries import MAX_PAGE, Filters, get_registry, get_run, page_rows, row_in_scope, run_visible
from api.store.registries import UploadError
from api.store.runs import RunStartError, create_run
from api.store.schemas import (
    DefectOut,
    DefectPage,
    GroundTotalOut,
    ResultOut,
    ResultPage,
    RunOut,
    TotalsOut,
    TraceOut,
)
from api.store.totals import summary_in_scope
from api.store.views import output_types
from api.worker import worker_for

router = APIRouter(prefix="/runs", tags=["Расчёты"], responses=PROBLEM_RESPONSES)
Starter = Annotated[User, Depends(require(Action.RUN_START))]
Reader = Annotated[User, Depends(require(Action.RUN_READ))]
DefectReader = Annotated[User, Depends(require(Action.DEFECT_READ))]
Explainer = Annotated[User, Depends(require(Action.RUN_EXPLAIN))]
Diagnoser = Annotated[User, Depends(require(Action.SYSTEM_DIAGNOSE))]

EntityQ = Annotated[str | None, Query(description="Сущность: case, service, patient …")]
MoQ = Annotated[str | None, Query(description="Код МО")]
SmoQ = Annotated[str | None, Query(description="Код СМО")]
KeyQ = Annotated[str | None, Query(description="Ключ строки")]
AfterQ = CursorQuery
LimitQ = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Строк на странице")]


def _out(session: SessionDep, run: Run) -> RunOut:
    mv = session.get(MethodologyVersion, run.methodology_version_id)
    assert mv is not None
    return RunOut.of(run, mv)


def _run(session: SessionDep, user: User, run_id: int) -> Run:
    run = get_run(session, user, run_id)
    if run is None:
        raise ProblemError(404, f"Расчёт {run_id} не найден")
    return run


@router.post(
    "", response_model=RunOut, status_code=202, summary="Запустить расчёт",
    description="Версия методологии × импортированный реестр (+ справочные таблицы CSV: insured — регистр "
                "застрахованных, tables — файлы <сущность>.csv). Расчёт идёт в фоне: GET /runs/{id}.",
)
def start_run(
    request: Request, response: Response, session: SessionDep, settings: SettingsDep, user: Starter,
    methodology_version_id: Annotated[int, Form(ge=1, le=INT64_MAX, description="Версия методологии")],
    registry_id: Annotated[int, Form(ge=1, le=INT64_MAX, description="Реестр (состояние imported)")],
    insured: Annotated[UploadFile | None, File(description="Регистр застрахованных (ЕРЗ), CSV")] = None,
    tables: Annotated[list[UploadFile] | None, File(description="Справочные данные: <сущность>.csv")] = None,
    backend: Annotated[Literal["numpy", "postgres"], Form(
        description="Вычислитель: numpy (в процессе, по умолчанию) или postgres — SQL внутри PostgreSQL "
                    "(METODIKA_SQL_URL или база платформы); docs/sql-backend.md")] = "numpy",
) -> RunOut:
    mv = session.get(MethodologyVersion, methodology_version_id)
    if mv is None:
        raise ProblemError(422, f"Версия методологии {methodology_version_id} не найдена",
                           errors=[{"loc": ["body", "methodology_version_id"], "msg": "нет такой версии"}])
    reg = get_registry(session, user, registry_id)
    if reg is None:
        raise ProblemError(422, f"Реестр {registry_id} не найден",
                           errors=[{"loc": ["body", "registry_id"], "msg": "нет такого реестра"}])
    refs = [("insured", insured.filename, insured.file)] if insured is not None else []
    for f in tables or []:
        refs.append(((f.filename or "").rsplit(".", 1)[0], f.filename, f.file))
    try:
        run = create_run(session, settings.home, mv, reg, refs, user=user, backend=backend)
    except RunStartError as exc:
        raise ProblemError(exc.status, str(exc), errors=[{"loc": ["body", exc.field or "tables"],
                                                          "msg": str(exc)}]) from exc
    except UploadError as exc:
        raise ProblemError(422, str(exc), errors=[{"loc": ["body", "tables"], "msg": str(exc)}]) from exc
    session.commit()
    worker_for(request.app).submit_run(run.id)
    response.headers["Location"] = f"/runs/{run.id}"
    return RunOut.of(run, mv)


@router.get("", response_model=list[RunOut], summary="Расчёты",
            description="Расчёты в области видимости: оператор МО — по своей МО или содержащие её случаи, "
                        "оператор СМО — содержащие случаи его застрахованных.")
def list_runs(session: SessionDep, user: Reader,
              registry_id: Annotated[int | None, Query(ge=1, le=INT64_MAX, description="Реестр")] = None,
              limit: Annotated[int, Query(ge=1, le=500)] = 100,
              offset: OffsetQuery = 0) -> list[RunOut]:
    stmt = select(Run).where(run_visible(user))
    if registry_id is not None:
        stmt = stmt.where(Run.registry_id == registry_id)
    return [_out(session, r) for r in session.scalars(stmt.order_by(Run.id.desc()).limit(limit).offset(offset))]


@router.get("/{run_id}/failure", response_model=FailureDetailOut, summary="Трассировка сбоя расчёта",
            description="Для администратора: типы исключений и кадры стека внутреннего сбоя расчёта. "
                        "Сообщения исключений и данные не сохраняются.")
def get_run_failure(run_id: IdPath, session: SessionDep, _: Diagnoser) -> FailureDetailOut:
    run = session.get(Run, run_id)
    if run is None:
        raise ProblemError(404, f"Расчёт {run_id} не найден")
    return FailureDetailOut(id=run.id, status=run.status, error=run.error, error_detail=run.error_detail)


@router.get("/{run_id}", response_model=RunOut, summary="Состояние и ход расчёта")
def get_run_status(run_id: IdPath, session: SessionDep, user: Reader) -> RunOut:
    return _out(session, _run(session, user, run_id))


@router.get("/{run_id}/results", response_model=ResultPage, summary="Результаты расчёта",
            description="Постранично (курсор after), с фильтрами; только строки в области видимости.")
def get_results(run_id: IdPath, session: SessionDep, settings: SettingsDep, user: Reader,
                entity: EntityQ = None, mo: MoQ = None, smo: SmoQ = None, row_key: KeyQ = None,
                after: AfterQ = None, limit: LimitQ = 100) -> ResultPage:
    run = _run(session, user, run_id)
    mv = session.get(MethodologyVersion, run.methodology_version_id)
    assert mv is not None
    m = compile_version(settings.home, mv)
    page = page_rows(session, user, RunResult, run_id, Filters(entity, mo, smo, None, row_key),
                     after=after, limit=limit)
    masked = not allowed(user.role, Action.PERSONAL_DATA_READ)
    hidden = personal_names(m) if masked else set()
    items = [ResultOut(id=r.id, entity=r.entity, row_key=r.row_key, mo_code=r.mo_code, smo_code=r.smo_code,
                       values={k: (MASK if k in hidden and v is not None else v) for k, v in r.values.items()})
             for r in page.items]
    types = {f"{e}.{n}": t for e, names in output_types(m).items() for n, t in names.items()}
    types.update({f"case.{f}_kopecks": "money" for f in ("billed", "withheld", "accepted", "fine")})
    return ResultPage(items=items, total=page.total, next_after=page.next_after, types=types, masked=masked)


@router.get("/{run_id}/totals", response_model=TotalsOut, summary="Итоги расчёта и не принятое по основаниям",
            description="Итоги по случаям в области видимости; по основаниям — каждый случай один раз, "
                        "по применённому основанию (как в акте МЭК и на странице расчёта).")
def get_totals(run_id: IdPath, session: SessionDep, user: Reader) -> TotalsOut:
    run = _run(session, user, run_id)
    if run.status != "done":
        raise ProblemError(409, f"Расчёт {run_id} не завершён (статус {run.status})")
    s = summary_in_scope(session, user, run_id)
    t = s.total
    grounds = [GroundTotalOut(code=g.code, title=s.titles.get(g.code, ""), cases=g.cases, billed_kopecks=g.billed,
                              withheld_kopecks=g.withheld, fine_kopecks=g.fine) for g in s.grounds]
    return TotalsOut(run_id=run_id, cases=t.cases, cases_with_defects=t.with_defects, billed_kopecks=t.billed,
                     withheld_kopecks=t.withheld, accepted_kopecks=t.accepted, fine_kopecks=t.fine,
                     by_ground=grounds)


@router.get("/{run_id}/defects", response_model=DefectPage, summary="Дефекты МЭК",
            description="Постранично, с фильтрами по МО, СМО, коду основания и сущности.")
def get_defects(run_id: IdPath, session: SessionDep, user: DefectReader, entity: EntityQ = None, mo: MoQ = None,
                smo: SmoQ = None, code: Annotated[str | None, Query(description="Код основания (F014)")] = None,
                row_key: KeyQ = None, after: AfterQ = None, limit: LimitQ = 100) -> DefectPage:
    _run(session, user, run_id)
    page = page_rows(session, user, RunDefect, run_id, Filters(entity, mo, smo, code, row_key),
                     after=after, limit=limit)
    masked = not allowed(user.role, Action.PERSONAL_DATA_READ)
    view = mask_defect_values if masked else public_defect_values
    items = [DefectOut(id=d.id, entity=d.entity, row_key=d.row_key, code=d.code, title=d.title,
                       withheld_kopecks=d.withheld_kopecks, fine_kopecks=d.fine_kopecks, mo_code=d.mo_code,
                       smo_code=d.smo_code, details=view(d.values)) for d in page.items]
    return DefectPage(items=items, total=page.total, next_after=page.next_after, masked=masked)


@router.get("/{run_id}/explain", response_model=TraceOut, summary="Объяснить значение",
            description="Дерево вычисления значения строки: выражения, значения, параметры с датами, "
                        "строки таблиц, пакет и файл:строка каждого правила. Персональные данные скрыты, "
                        "если у роли нет права personal_data.read.")
def explain_value(run_id: IdPath, session: SessionDep, settings: SettingsDep, user: Explainer,
                  key: Annotated[str, Query(description="Ключ строки, например ключ случая")],
                  name: Annotated[str, Query(description="Имя определения или поля, например cost")],
                  entity: Annotated[str, Query(description="Сущность")] = "case") -> TraceOut:
    from api.store.explain import explain

    run = _run(session, user, run_id)
    if run.status != "done":
        raise ProblemError(409, f"Расчёт {run_id} ещё не завершён (состояние «{run.status}»)")
    if not row_in_scope(session, user, run_id, entity, key):
        raise ProblemError(404, f"Строка «{key}» сущности «{entity}» не найдена в расчёте {run_id}")
    mv = session.get(MethodologyVersion, run.methodology_version_id)
    reg = session.get(Registry, run.registry_id) if run.registry_id is not None else None
    assert mv is not None and reg is not None and reg.storage_path
    personal = allowed(user.role, Action.PERSONAL_DATA_READ)
    try:
        tree, text = explain(settings.home, run, mv, reg.storage_path, entity, key, name, personal_data=personal)
    except KeyError as exc:
        msg = str(exc.args[0]) if exc.args else "не найдено"
        raise ProblemError(404, msg.capitalize(), errors=[{"loc": ["query", "name"], "msg": msg}]) from exc
    return TraceOut(run_id=run_id, entity=entity, row_key=key, name=name, masked=not personal, tree=tree,
                    text=text)

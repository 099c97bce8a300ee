"""Methodologies: published versions, files, the resolved view, check, tests, diff, publish."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from api.auth.permissions import Action
from api.db.models import MethodologyFile, MethodologyVersion, User
from api.server.deps import SessionDep, SettingsDep, require
from api.server.errors import PROBLEM_RESPONSES, ProblemError
from api.server.params import IdPath
from api.store.methodologies import (
    PublishError,
    compile_version,
    display_root,
    publish_compiled,
    strip_paths,
)
from api.store.packages import PackageError, compile_extracted, diagnostics_as_errors, extract
from api.store.schemas import CheckOut, FileOut, PackageOut, PublishOut, VersionOut
from api.store.views import diff_view, resolved_view, test_view

router = APIRouter(prefix="/methodologies", tags=["Методологии"], responses=PROBLEM_RESPONSES)
Reader = Annotated[User, Depends(require(Action.METHODOLOGY_READ))]
Checker = Annotated[User, Depends(require(Action.METHODOLOGY_CHECK))]
Publisher = Annotated[User, Depends(require(Action.METHODOLOGY_PUBLISH))]
ArchiveField = Annotated[UploadFile, File(description="ZIP-архив с пакетом (и пакетами, которые он расширяет)")]
RootField = Annotated[str | None, Form(description="Путь к каталогу пакета внутри архива, если пакетов несколько")]


def _version(session: SessionDep, version_id: int) -> MethodologyVersion:
    mv = session.get(MethodologyVersion, version_id)
    if mv is None:
        raise ProblemError(404, f"Версия методологии {version_id} не найдена")
    return mv


def _package_error(exc: PackageError) -> ProblemError:
    return ProblemError(422, str(exc), errors=[{"loc": ["body", exc.field], "msg": str(exc)}], kind="package")


@router.get("", response_model=list[PackageOut], summary="Пакеты методологий и их версии")
def list_packages(session: SessionDep, _: Reader) -> list[PackageOut]:
    versions = session.scalars(select(MethodologyVersion).order_by(MethodologyVersion.package_id,
                                                                   MethodologyVersion.id.desc()))
    out: dict[str, PackageOut] = {}
    for mv in versions:
        pkg = out.setdefault(mv.package_id, PackageOut(package_id=mv.package_id, title=mv.title, versions=[]))
        pkg.versions.append(VersionOut.of(mv))
    return list(out.values())


@router.get("/versions", response_model=list[VersionOut], summary="Опубликованные версии")
def list_versions(session: SessionDep, _: Reader, package_id: str | None = None) -> list[VersionOut]:
    stmt = select(MethodologyVersion).order_by(MethodologyVersion.id)
    if package_id:
        stmt = stmt.where(MethodologyVersion.package_id == package_id)
    return [VersionOut.of(mv) for mv in session.scalars(stmt)]


@router.get("/versions/{version_id}", response_model=VersionOut, summary="Версия методологии")
def get_version(version_id: IdPath, session: SessionDep, _: Reader) -> VersionOut:
    return VersionOut.of(_version(session, version_id))


@router.get("/versions/{version_id}/files", response_model=list[FileOut], summary="Файлы версии")
def list_files(version_id: IdPath, session: SessionDep, _: Reader) -> list[FileOut]:
    mv = _version(session, version_id)
    return [FileOut(path=f.path, sha256=f.sha256, size=len(f.content)) for f in mv.files]


@router.get("/versions/{version_id}/files/{path:path}", response_class=PlainTextResponse,
            summary="Текст файла версии", responses={200: {"content": {"text/plain": {}}}})
def get_file(version_id: IdPath, path: str, session: SessionDep, _: Reader) -> PlainTextResponse:
    _version(session, version_id)
    f = session.scalar(select(MethodologyFile).where(MethodologyFile.version_id == version_id,
                                                     MethodologyFile.path == path))
    if f is None:
        raise ProblemError(404, f"В версии {version_id} нет файла {path}")
    return PlainTextResponse(f.content)


@router.get("/versions/{version_id}/resolved", summary="Итоговый вид с происхождением",
            description="Определения, параметры (с периодами действия), таблицы и проверки итоговой "
                        "методологии: из какого пакета (id@version) и файла:строки пришло каждое.")
def get_resolved(version_id: IdPath, session: SessionDep, settings: SettingsDep, _: Reader) -> dict:
    mv = _version(session, version_id)
    m = compile_version(settings.home, mv)
    return strip_paths(resolved_view(m), display_root(m))


@router.get("/versions/{version_id}/diff/{other_id}", summary="Различия двух версий",
            description="Изменения параметров (значения с датами), строк таблиц, определений и проверок "
                        "версии other_id относительно version_id.")
def get_diff(version_id: IdPath, other_id: IdPath, session: SessionDep, settings: SettingsDep, _: Reader) -> dict:
    a, b = _version(session, version_id), _version(session, other_id)
    ma, mb = compile_version(settings.home, a), compile_version(settings.home, b)
    changes = strip_paths(diff_view(ma, mb), display_root(ma) + display_root(mb))
    return {"from": f"{a.package_id}@{a.version}", "to": f"{b.package_id}@{b.version}", "changes": changes}


@router.post("/versions/{version_id}/tests", summary="Выполнить тесты опубликованной версии")
def run_version_tests(version_id: IdPath, session: SessionDep, settings: SettingsDep, _: Checker) -> dict:
    from engine.testing import run_tests

    mv = _version(session, version_id)
    m = compile_version(settings.home, mv, fresh=True)
    return strip_paths(test_view(run_tests(m)), display_root(m))


@router.post("/check", response_model=CheckOut, summary="Проверить пакет (без публикации)",
             description="Компиляция пакета из ZIP-архива: все ошибки с файлом, строкой и столбцом. "
                         "С tests=true выполняются и тесты пакета.")
def check_package(archive: ArchiveField, _: Checker, root: RootField = None,
                  tests: Annotated[bool, Form(description="Выполнить тесты пакета")] = False) -> CheckOut:
    from engine.testing import run_tests

    with tempfile.TemporaryDirectory(prefix="metodika-check-") as tmp:
        try:
            extract(archive.file, Path(tmp))
            m, diags = compile_extracted(Path(tmp), root)
        except PackageError as exc:
            raise _package_error(exc) from exc
        if m is None:
            return CheckOut(ok=False, diagnostics=diags)
        from api.store.methodologies import path_prefixes

        report = strip_paths(test_view(run_tests(m)), path_prefixes(Path(tmp))) if tests else None
        return CheckOut(ok=True, package=m.ref, sha256=m.content_hash, diagnostics=[], tests=report)


@router.post("/versions", response_model=PublishOut, status_code=201, summary="Опубликовать версию",
             description="Пакет компилируется; при ошибках — 422 с диагностиками (errors: loc = "
                         "[файл, строка, столбец]) и ничего не сохраняется. Версия неизменна; "
                         "повторная публикация того же содержимого возвращает существующую версию (200).",
             responses={200: {"model": PublishOut, "description": "Такая версия уже опубликована"}})
def publish_version(archive: ArchiveField, response: Response, session: SessionDep, user: Publisher,
                    root: RootField = None) -> PublishOut:
    with tempfile.TemporaryDirectory(prefix="metodika-publish-") as tmp:
        try:
            extract(archive.file, Path(tmp))
            m, diags = compile_extracted(Path(tmp), root)
        except PackageError as exc:
            raise _package_error(exc) from exc
        if m is None:
            raise ProblemError(422, f"Пакет содержит ошибки ({len(diags)}); версия не опубликована",
                               errors=diagnostics_as_errors(diags), kind="methodology-diagnostics")
        try:
            mv, created = publish_compiled(session, m, actor=user.login, user_id=user.id)
        except PublishError as exc:
            raise ProblemError(exc.status, str(exc), kind="publish") from exc
    if not created:
        response.status_code = 200
    return PublishOut(**VersionOut.of(mv).model_dump(), created=created)

"""Response bodies of the methodology, registry and run endpoints (Russian descriptions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.db.models import MethodologyVersion, Registry, Run


class VersionOut(BaseModel):
    id: int = Field(description="Идентификатор версии")
    package_id: str = Field(description="Идентификатор пакета (id из methodology.yaml)")
    version: str = Field(description="Номер версии пакета")
    sha256: str = Field(description="Хеш содержимого (sha256 по нормализованным файлам всей цепочки)")
    title: str = Field(description="Название")
    published_by: int | None = Field(description="Кто опубликовал (идентификатор пользователя)")
    published_at: datetime = Field(description="Когда опубликована (UTC)")
    immutable: bool = Field(description="Версия неизменна")

    @classmethod
    def of(cls, mv: MethodologyVersion) -> VersionOut:
        return cls(id=mv.id, package_id=mv.package_id, version=mv.version, sha256=mv.content_sha256,
                   title=mv.title, published_by=mv.published_by, published_at=mv.published_at,
                   immutable=mv.immutable)


class PublishOut(VersionOut):
    created: bool = Field(description="false — такая версия (тот же хеш) уже была опубликована")


class PackageOut(BaseModel):
    package_id: str = Field(description="Идентификатор пакета")
    title: str = Field(description="Название последней версии")
    versions: list[VersionOut] = Field(description="Опубликованные версии, новые первыми")


class FileOut(BaseModel):
    path: str = Field(description="Путь файла относительно общего каталога цепочки пакетов")
    sha256: str = Field(description="Хеш файла")
    size: int = Field(description="Длина текста, символов")


class CheckOut(BaseModel):
    ok: bool = Field(description="Пакет компилируется без ошибок")
    package: str | None = Field(default=None, description="id@version")
    sha256: str | None = Field(default=None, description="Хеш содержимого")
    diagnostics: list[dict[str, Any]] = Field(description="Диагностики: код, сообщение, файл:строка:столбец")
    tests: dict[str, Any] | None = Field(default=None, description="Результаты тестов пакета, если запрошены")


class RegistryOut(BaseModel):
    id: int = Field(description="Идентификатор реестра")
    status: str = Field(description="uploaded — ждёт импорта, importing — идёт ФЛК, imported — принят, "
                                    "rejected — не принят (см. протокол ФЛК)")
    progress: float = Field(description="Доля выполнения импорта, 0…1")
    filenames: list[str] = Field(description="Имена загруженных файлов")
    input_sha256: dict[str, str] = Field(description="sha256 каждого файла (и columns.npz — столбцов реестра)")
    period: str = Field(description="Отчётный период ГГГГ-ММ")
    mo_code: str | None = Field(description="Код МО (пусто — реестр нескольких МО)")
    counts: dict[str, int] | None = Field(description="Число строк по сущностям")
    errors: int = Field(description="Число ошибок ФЛК")
    error: str | None = Field(description="Причина отказа")
    uploaded_by: int | None = Field(description="Кто загрузил")
    created_at: datetime = Field(description="Загружен (UTC)")

    @classmethod
    def of(cls, r: Registry) -> RegistryOut:
        return cls(id=r.id, status=r.status, progress=r.progress, filenames=r.filenames,
                   input_sha256=r.input_sha256, period=r.period, mo_code=r.mo_code, counts=r.counts,
                   errors=len(r.flk_protocol or []), error=r.error, uploaded_by=r.uploaded_by,
                   created_at=r.created_at)


class ProtocolOut(BaseModel):
    registry_id: int = Field(description="Реестр")
    status: str = Field(description="Состояние реестра")
    errors: list[dict[str, Any]] = Field(description="Записи протокола ФЛК: код, сообщение, файл, строка, "
                                                     "N_ZAP, IDCASE, путь элемента")


class RunOut(BaseModel):
    id: int = Field(description="Идентификатор расчёта")
    status: str = Field(description="queued — в очереди, running — выполняется, done — готов, failed — ошибка")
    progress: float = Field(description="Доля выполнения, 0…1")
    methodology_version_id: int = Field(description="Версия методологии")
    methodology: str = Field(description="Пакет id@version")
    methodology_sha256: str = Field(description="Хеш методологии")
    registry_id: int | None = Field(description="Реестр")
    mo_code: str | None = Field(description="МО реестра (пусто — несколько МО)")
    period: str | None = Field(description="Отчётный период")
    input_hashes: dict[str, str] = Field(description="sha256 входных данных")
    engine_version: str = Field(description="Версия движка")
    backend: str = Field(default="numpy", description="Вычислитель: numpy или postgres")
    timings: dict[str, float] | None = Field(description="Длительность этапов, с")
    error: str | None = Field(description="Причина ошибки")
    notices: list[dict[str, Any]] = Field(default_factory=list, description="Проверки, для которых не поданы "
                                          "справочные входные данные: check, code, inputs, message")
    created_by: int | None = Field(description="Кто запустил")
    created_at: datetime = Field(description="Создан (UTC)")
    started_at: datetime | None = Field(description="Начат (UTC)")
    finished_at: datetime | None = Field(description="Завершён (UTC)")

    @classmethod
    def of(cls, r: Run, mv: MethodologyVersion) -> RunOut:
        return cls(id=r.id, status=r.status, progress=r.progress, methodology_version_id=mv.id,
                   methodology=f"{mv.package_id}@{mv.version}", methodology_sha256=mv.content_sha256,
                   registry_id=r.registry_id, mo_code=r.mo_code, period=r.period, input_hashes=r.input_hashes,
                   engine_version=r.engine_version, backend=r.backend or "numpy", timings=r.timings, error=r.error, notices=r.notices or [],
                   created_by=r.created_by,
                   created_at=r.created_at, started_at=r.started_at, finished_at=r.finished_at)


class ResultOut(BaseModel):
    id: int = Field(description="Идентификатор строки (курсор для постраничного чтения)")
    entity: str = Field(description="Сущность: case, service …")
    row_key: str = Field(description="Ключ строки")
    mo_code: str | None = Field(description="МО")
    smo_code: str | None = Field(description="СМО")
    values: dict[str, Any] = Field(description="Рассчитанные значения; деньги — в копейках (целые), "
                                               "у случая — итоги: billed/withheld/accepted/fine_kopecks")


class DefectOut(BaseModel):
    id: int = Field(description="Идентификатор строки (курсор)")
    entity: str = Field(description="Сущность строки с дефектом")
    row_key: str = Field(description="Ключ строки")
    code: str = Field(description="Код основания (F014)")
    title: str = Field(description="Наименование дефекта")
    withheld_kopecks: int = Field(description="Неоплата, копеек")
    fine_kopecks: int = Field(description="Штраф, копеек")
    mo_code: str | None = Field(description="МО")
    smo_code: str | None = Field(description="СМО")
    details: dict[str, Any] = Field(description="Проверка, доля, сообщение, значения условия, норма, "
                                                "правило (файл:строка) и пакет")


class ResultPage(BaseModel):
    items: list[ResultOut] = Field(description="Строки страницы")
    total: int = Field(description="Всего строк с учётом фильтров и области видимости")
    next_after: int | None = Field(description="Значение after для следующей страницы (пусто — это последняя)")
    types: dict[str, str] = Field(description="Типы значений (money — копейки)")
    masked: bool = Field(description="Персональные данные скрыты (нет права personal_data.read)")


class DefectPage(BaseModel):
    items: list[DefectOut] = Field(description="Строки страницы")
    total: int = Field(description="Всего строк с учётом фильтров и области видимости")
    next_after: int | None = Field(description="Значение after для следующей страницы")
    masked: bool = Field(description="Персональные данные скрыты")


class GroundTotalOut(BaseModel):
    code: str = Field(description="Код основания (F014), применённого к случаям")
    title: str = Field(description="Наименование основания")
    cases: int = Field(description="Случаев, к которым применено это основание (каждый случай — один раз)")
    billed_kopecks: int = Field(description="Предъявлено по этим случаям, коп.")
    withheld_kopecks: int = Field(description="Не принято по этим случаям, коп.")
    fine_kopecks: int = Field(description="Штрафы по этим случаям, коп.")


class TotalsOut(BaseModel):
    run_id: int = Field(description="Расчёт")
    cases: int = Field(description="Случаев в области видимости")
    cases_with_defects: int = Field(description="Случаев с дефектами")
    billed_kopecks: int = Field(description="Предъявлено, коп.")
    withheld_kopecks: int = Field(description="Не принято, коп. (= сумме по основаниям)")
    accepted_kopecks: int = Field(description="Принято, коп.")
    fine_kopecks: int = Field(description="Штрафы, коп.")
    by_ground: list[GroundTotalOut] = Field(description="По применённому основанию, в порядке F014")


class TraceOut(BaseModel):
    run_id: int = Field(description="Расчёт")
    entity: str = Field(description="Сущность")
    row_key: str = Field(description="Ключ строки")
    name: str = Field(description="Объясняемое значение")
    masked: bool = Field(description="Персональные данные скрыты")
    tree: dict[str, Any] = Field(description="Дерево TraceNode: kind, text, value, type, label, reference, "
                                             "unit, source (файл:строка:столбец), package, note, children")
    text: str = Field(description="То же дерево текстом")

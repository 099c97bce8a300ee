"""ФЛК protocol: the error record, the catalogue of our own codes and the writers.

The codes are ours (prefix ``FLK-``), not the federal F012 book, which is not in
the reference data. Messages are Russian and never carry personal data: an entry
may name a field (FAM, SNILS, ...) and the record (N_ZAP), never its value.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from engine.oms.io.spreadsheet import safe_row

#: code -> short Russian title (documented in docs/registries.md)
CODES: dict[str, str] = {
    "FLK-FILE-EMPTY": "Пустой файл",
    "FLK-FILE-SIZE": "Превышен допустимый размер файла",
    "FLK-FILE-READ": "Файл не удалось прочитать",
    "FLK-FILE-TYPE": "Вид файла не определён или не поддерживается",
    "FLK-FILE-KIND": "Файл одного вида под именем другого вида",
    "FLK-FILE-DUP": "Файл с таким FILENAME уже есть в пакете",
    "FLK-FILE-NONE": "Не передано ни одного файла",
    "FLK-ZIP-BAD": "Повреждённый ZIP-архив",
    "FLK-ZIP-BOMB": "Подозрительная степень сжатия в ZIP-архиве",
    "FLK-ZIP-NO-H": "В архиве нет файла случаев (H, C, T, D)",
    "FLK-XML-DTD": "Объявление DOCTYPE/ENTITY запрещено",
    "FLK-XML-SYNTAX": "Нарушена структура XML",
    "FLK-XML-TRUNC": "Файл обрывается (не завершён)",
    "FLK-ENC-DECL": "Не объявлена кодировка windows-1251",
    "FLK-ENC-UTF8": "Содержимое в UTF-8 при объявленной windows-1251",
    "FLK-ENC-BYTES": "Недопустимые байты для кодировки windows-1251",
    "FLK-VERSION": "Версия формата не описана",
    "FLK-VERSION-PERIOD": "Версия формата не действует в отчётном периоде",
    "FLK-XSD-MISSING": "Отсутствует обязательный элемент",
    "FLK-XSD-UNKNOWN": "Неизвестный элемент",
    "FLK-XSD-UNEXPECTED": "Элемент не на своём месте",
    "FLK-XSD-FORMAT": "Неверный формат значения",
    "FLK-XSD-PATTERN": "Значение не соответствует шаблону",
    "FLK-XSD-ENUM": "Недопустимое значение",
    "FLK-XSD-LENGTH": "Недопустимая длина значения",
    "FLK-XSD-DIGITS": "Недопустимое число разрядов",
    "FLK-XSD-RANGE": "Значение вне допустимого диапазона",
    "FLK-XSD-STRUCT": "Недопустимое содержимое элемента",
    "FLK-XSD-UNIQUE": "Значение повторяется",
    "FLK-XSD-OTHER": "Нарушение структуры файла",
    "FLK-PAIR-NO-H": "Файл персональных данных без парного файла случаев",
    "FLK-PAIR-NO-L": "Файл случаев без парного файла персональных данных",
    "FLK-PERS-MISSING": "Нет персональных данных для ID_PAC",
    "FLK-PERS-DUP": "ID_PAC повторяется в файле персональных данных",
    "FLK-LIMIT": "Слишком много ошибок, протокол сокращён",
}


@dataclass(frozen=True, slots=True)
class FlkError:
    code: str
    message: str
    file: str
    line: int | None = None
    n_zap: str | None = None
    idcase: str | None = None
    sl_id: str | None = None
    path: str | None = None  # the element, as ROOT/…/NAME
    idserv: str | None = None

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown FLK code {self.code}")

    @property
    def element(self) -> str | None:
        return self.path

    @property
    def title(self) -> str:
        return CODES[self.code]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


COLUMNS: list[tuple[str, str]] = [
    ("file", "Файл"),
    ("line", "Строка"),
    ("n_zap", "N_ZAP"),
    ("idcase", "IDCASE"),
    ("sl_id", "SL_ID"),
    ("idserv", "IDSERV"),
    ("path", "Элемент"),
    ("code", "Код"),
    ("message", "Сообщение"),
]


def sort_key(e: FlkError) -> tuple[str, int, str]:
    return (e.file, e.line or 0, e.code)


def to_csv(errors: Iterable[FlkError]) -> str:
    """Semicolon-separated, for Excel in a Russian locale (written with a BOM by write_protocol)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\n")
    w.writerow([title for _, title in COLUMNS])
    for e in errors:
        w.writerow(safe_row("" if getattr(e, k) is None else getattr(e, k) for k, _ in COLUMNS))
    return buf.getvalue()


def to_json(errors: Iterable[FlkError], files: Sequence[object] = ()) -> str:
    errs = list(errors)
    payload = {
        "ok": not errs,
        "files": [f.to_dict() if hasattr(f, "to_dict") else f for f in files],
        "errors": [e.to_dict() | {"title": e.title} for e in errs],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


_env = Environment(
    loader=PackageLoader("engine.oms.io", "templates"), autoescape=select_autoescape(["html", "j2"])
)


def to_html(errors: Iterable[FlkError], files: Sequence[object] = (), title: str = "Протокол ФЛК") -> str:
    tpl = _env.get_template("protocol.html.j2")
    return tpl.render(title=title, errors=list(errors), columns=COLUMNS, files=files)


def write_protocol(path: Path, errors: Sequence[FlkError], files: Sequence[object] = ()) -> None:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        path.write_text(to_csv(errors), encoding="utf-8-sig")
    elif suffix == ".json":
        path.write_text(to_json(errors, files), encoding="utf-8")
    elif suffix in (".html", ".htm"):
        path.write_text(to_html(errors, files), encoding="utf-8")
    else:
        raise ValueError(f"формат протокола не поддерживается: {path.suffix} (допустимы .html, .csv, .json)")


def format_table(errors: Sequence[FlkError], max_message: int = 90) -> str:
    """Plain-text table for the terminal."""
    rows = [[title for _, title in COLUMNS]]
    for e in errors:
        row = []
        for key, _ in COLUMNS:
            v = getattr(e, key)
            s = "" if v is None else str(v)
            if key == "message" and len(s) > max_message:
                s = s[: max_message - 1] + "…"
            row.append(s)
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)

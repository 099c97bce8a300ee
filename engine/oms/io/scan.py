"""One streaming pass over one registry file: guards, structural ФЛК per record, row extraction.

The file's kind comes from its root and ZGLV/FILENAME, its format description from the kind and
ZGLV/VERSION, and the version must be in force for SCHET/YEAR+MONTH. Runs in a worker process
when a submission has several large files; everything it returns is picklable. Memory stays
flat: every record is cleared and detached once read, only the first record is kept (emptied)
as the stub the head schema expects.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lxml import etree

from .flk import KIND_NAMES, RECORD_TAGS, translate
from .formats import FormatSet, load_formats
from .guard import GuardedStream, GuardError, Limits, check_prolog
from .mapping import FilePlan, add_row, bound_strings, fill_head, plans, unique_slots
from .protocol import FlkError
from .sources import Source
from .versions import VersionTable, from_descriptions, period_text
from .xsdgen import SchemaSet, schema_set

#: a registry file name: kind (H, C, T, D + letter, L), sender type and code (medflk's pattern, with L)
_NAME = re.compile(r"^([HCTL]|D[A-Z])[MST]\d", re.IGNORECASE)


@dataclass(frozen=True)
class ReadConfig:
    """What the reader needs besides the files: where the descriptions are, which versions are in force."""

    formats_dir: Path | None = None
    versions: VersionTable | None = None

    def formats(self) -> FormatSet:
        return load_formats(self.formats_dir)

    def table(self) -> VersionTable:
        return self.versions or from_descriptions(self.formats())


@dataclass
class FileInfo:
    name: str
    kind: str | None = None  # H, C, T, D or L
    subtype: str | None = None  # the letter after D
    version: str | None = None
    filename: str | None = None  # ZGLV/FILENAME
    filename1: str | None = None  # ZGLV/FILENAME1 (L-files: the paired file)
    period: str | None = None  # SCHET/YEAR-MONTH
    sha256: str | None = None
    size: int = 0
    records: int = 0
    line: int | None = None  # line of ZGLV, for pairing errors

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class ScanResult:
    info: FileInfo
    errors: list[FlkError] = field(default_factory=list)
    account: list | None = None
    rows: dict[str, list[list]] | None = None  # entity -> rows (lists in the layout's column order)
    pers: dict[str, list] | None = None  # L-files: ID_PAC -> row of the pers layout
    version_line: int | None = None
    columns: dict | None = None  # columnar reader: entity -> pyarrow.Table (then rows and pers are None)


class _Errors:
    def __init__(self, file: str, cap: int) -> None:
        self.file, self.cap, self.items = file, cap, []

    def add(self, code: str, message: str, line: int | None = None, **ctx: str | None) -> None:
        if len(self.items) == self.cap:
            self.items.append(FlkError("FLK-LIMIT", f"Показаны первые {self.cap} ошибок файла", self.file))
        if len(self.items) <= self.cap:
            self.items.append(FlkError(code, message, self.file, line or None, **ctx))


def kind_of(name: str | None) -> tuple[str | None, str | None]:
    """(kind, D-subtype) of a registry file name, (None, None) when it is not one."""
    m = _NAME.match(name or "")
    if not m:
        return None, None
    k = m.group(1).upper()
    return k[0], (k[1] if len(k) > 1 else None)


class _Scanner:
    def __init__(self, src: Source, stream: GuardedStream, root_tag: str, validate: bool, errors: _Errors,
                 config: ReadConfig):
        self.src, self.stream, self.root_tag, self.validate, self.errors = src, stream, root_tag, validate, errors
        self.config = config
        self.flush: Callable[[dict[str, list[list]]], None] | None = None
        self.batch = 1 << 62
        self.result = ScanResult(FileInfo(src.name))
        self.schema: SchemaSet | None = None
        self.plan: FilePlan | None = None
        self.stop = False
        self.root: etree._Element | None = None
        self.ctx: dict[str, list] = {}
        self.seen: list[dict[str, int]] = []
        self.uniques: list[tuple[str, int]] = []

    def open_context(self) -> dict[str, str | None]:
        """Path and record of the element the parser was inside when it failed."""
        root = self.root
        if root is None:
            return {}
        parts, el, record = [root.tag], root, None
        while len(el):
            el = el[-1]
            parts.append(el.tag)
            if el.tag == "ZAP" and record is None:
                record = el
        path = "/".join(str(p) for p in parts)
        return _context(record, 1 << 62, path) | {"path": path}

    @property
    def info(self) -> FileInfo:
        return self.result.info

    def run(self) -> None:
        record_tag = RECORD_TAGS[self.root_tag]
        etree.clear_error_log()  # iterparse errors carry the thread's log; start it empty
        parser = etree.iterparse(
            self.stream, events=("end",), tag=("ZGLV", "SCHET", record_tag),
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
        )  # fmt: skip
        stub = None
        for _, el in parser:
            parent = el.getparent()
            if self.root is None:
                self.root = el.getroottree().getroot()
            if self.stop:
                break  # the file is refused; the rest is only hashed
            if parent is None or parent.getparent() is not None:
                continue  # not a top-level element
            if el.tag == "ZGLV":
                self._zglv(el)
            elif el.tag == "SCHET":
                self._schet(el)
            elif self.info.kind is None:
                self.errors.add("FLK-XSD-MISSING", "Отсутствует заголовок ZGLV перед записями", el.sourceline,
                                path=f"{self.root_tag}/ZGLV")  # fmt: skip
                self.stop = True
            else:
                self._record(el)
                self.info.records += 1
                if self.flush is not None and self.info.records % self.batch == 0 and self.result.rows is not None \
                        and not self.errors.items:
                    self.flush(self.result.rows)  # every row so far is complete: records do not reach back
                el.clear()
                if stub is None:
                    stub = el
                else:
                    prev = el.getprevious()
                    if prev is not None and prev is not stub and prev.tag == record_tag:
                        parent.remove(prev)
        if not self.stop and self.schema is not None and self.validate:
            root = parser.root
            last = root[-1] if len(root) else None
            if last is not None and last is not stub and last.tag == record_tag:
                root.remove(last)
            self._validate(root, self.schema.head, None)
        elif self.info.kind is None and not self.stop:
            self.errors.add("FLK-XSD-MISSING", "Отсутствует заголовок ZGLV", 1, path=f"{self.root_tag}/ZGLV")

    def _refuse(self, code: str, message: str, line: int | None, element: str) -> None:
        self.errors.add(code, message, line, path=f"{self.root_tag}/ZGLV/{element}")
        self.stop = True

    def _zglv(self, el: etree._Element) -> None:
        info = self.info
        info.version, info.filename, info.filename1 = (
            el.findtext("VERSION"), el.findtext("FILENAME"), el.findtext("FILENAME1"))  # fmt: skip
        info.line = self.result.version_line = el.sourceline
        version_el = el.find("VERSION")
        if version_el is not None:
            self.result.version_line = version_el.sourceline
        name = info.filename or self.src.base_name
        kind, sub = kind_of(name)
        if kind is None:
            self._refuse("FLK-FILE-TYPE", f"Имя файла {name} не является именем файла реестра: вид файла "
                         "(H, C, T, D*, L) не определён", el.sourceline, "FILENAME")  # fmt: skip
            return
        if (self.root_tag == "PERS_LIST") != (kind == "L"):
            expected = "L" if self.root_tag == "PERS_LIST" else "H, C, T или D*"
            self._refuse("FLK-FILE-KIND", f"Файл с корнем {self.root_tag} назван как файл вида {kind} "
                         f"({name}); для такого корня ожидается вид {expected}", el.sourceline, "FILENAME")  # fmt: skip
            return
        disk_kind, disk_sub = kind_of(self.src.base_name)
        if disk_kind is not None and (disk_kind, disk_sub) != (kind, sub):
            self._refuse("FLK-FILE-KIND", f"Файл {self.src.base_name} назван как файл вида "
                         f"{disk_kind}{disk_sub or ''}, а ZGLV/FILENAME ({name}) — вида {kind}{sub or ''}",
                         el.sourceline, "FILENAME")  # fmt: skip
            return
        info.kind, info.subtype = kind, sub
        formats = self.config.formats()
        desc = formats.get(kind, info.version)
        if desc is None and not self.validate and formats.versions(kind):
            desc = formats.get(kind, formats.versions(kind)[-1])  # unchecked reading: the newest description
        if desc is None:
            known = ", ".join(formats.versions(kind)) or "нет"
            self._refuse("FLK-VERSION", f"Версия формата {info.version or '(пусто)'} для файла вида "
                         f"{KIND_NAMES.get(kind, kind)} не описана (описаны: {known})",
                         self.result.version_line, "VERSION")  # fmt: skip
            return
        self.schema = schema_set(desc)
        _, by_desc = plans(formats)
        self.plan = by_desc[(desc.kind, desc.version)]
        self.seen = [{} for _ in self.schema.file_unique]
        self.uniques = unique_slots(self.plan, self.schema.file_unique)
        if kind == "L":
            self.result.pers = {}
            return
        self.result.rows = {e: [] for e in self.plan.layout.columns}
        lay = self.plan.layout
        idx = lay.index("account")
        row = [None] * len(idx)
        assert self.plan.head is not None
        fill_head(el, self.plan.head, row)
        row[0] = info.filename or self.src.base_name
        row[idx["file_type"]], row[idx["file_subtype"]] = kind, sub
        row[idx["source_file"]], row[idx["src_line"]] = self.src.name, el.sourceline
        self.result.account = row
        self.ctx = {"account": row}

    def _schet(self, el: etree._Element) -> None:
        if self.result.account is None or self.plan is None or self.plan.head is None:
            return
        fill_head(el, self.plan.head, self.result.account)
        self.result.account[-1] = el.sourceline
        year, month = el.findtext("YEAR"), el.findtext("MONTH")
        if not (year and month and year.isdigit() and month.isdigit() and 1 <= int(month) <= 12):
            return  # the structural ФЛК reports it
        ym = int(year) * 12 + int(month) - 1
        self.info.period = period_text(ym)
        self.check_period(ym)

    def check_period(self, ym: int) -> None:
        if not self.validate:
            return
        err = period_error(self.config.table(), self.info, ym)
        if err is not None:
            self._refuse("FLK-VERSION-PERIOD", err, self.result.version_line, "VERSION")

    def _record(self, el: etree._Element) -> None:
        if self.validate and self.schema is not None:
            self._validate(el, self.schema.record, el)
        if self.errors.items or self.plan is None:
            if self.validate and self.schema is not None:
                self._file_unique(el)
            return  # the file is refused; keep validating, stop collecting rows
        bound_strings()
        if self.result.rows is not None:
            add_row(el, self.plan.record, self.ctx, self.result.rows)
            if self.validate and self.uniques:
                self._unique_rows(el)
        elif self.result.pers is not None:
            out: dict[str, list] = {"pers": []}
            row = add_row(el, self.plan.record, {}, out)
            if row[0] in self.result.pers:
                self.errors.add("FLK-PERS-DUP", "ID_PAC повторяется в файле персональных данных", el.sourceline,
                                path="PERS_LIST/PERS/ID_PAC")  # fmt: skip
            self.result.pers[row[0]] = row

    def _unique_rows(self, el: etree._Element) -> None:
        """Uniqueness across records from the rows just made (the element is searched only on a repeat)."""
        rows = self.result.rows
        assert rows is not None
        for seen, (entity, slot) in zip(self.seen, self.uniques, strict=True):
            got = rows[entity]
            value = got[-1][slot] if got else None
            if value is not None and value in seen:
                self._file_unique(el)
                return
            if value is not None:
                seen[value] = el.sourceline or 0

    def _file_unique(self, el: etree._Element) -> None:
        assert self.schema is not None
        for seen, path in zip(self.seen, self.schema.file_unique, strict=True):
            target = el.find("/".join(path))
            if target is None or target.text is None:
                continue
            first = seen.setdefault(target.text, el.sourceline or 0)
            if first != (el.sourceline or 0):
                where = f"{self.root_tag}/{self.schema.record_tag}/" + "/".join(path)
                self.errors.add("FLK-XSD-UNIQUE", f"Значение {path[-1]} повторяется в файле (впервые — в записи "
                                f"{self.schema.record_tag} со строки {first})", target.sourceline, path=where,
                                **_context(el, target.sourceline, where))  # fmt: skip

    def _validate(self, el: etree._Element, schema: etree.XMLSchema, record: etree._Element | None) -> None:
        if schema.validate(el):
            return
        assert self.schema is not None
        seen = set()
        for entry in schema.error_log:
            code, message, path = translate(entry, self.schema)
            if (entry.line, path) in seen:
                continue  # libxml2 reports pattern and datatype failures of one value twice
            seen.add((entry.line, path))
            self.errors.add(code, message, entry.line, path=path, **_context(record, entry.line, path))


def period_error(table: VersionTable, info: FileInfo, ym: int) -> str | None:
    """The protocol message when ``info.version`` is not in force for its kind in month ``ym``."""
    assert info.kind is not None
    accepted = table.in_force(info.kind, ym)
    if (info.version or "").strip() in accepted:
        return None
    expected = " или ".join(accepted) if accepted else "ни одна из описанных (период вне таблицы версий)"
    return (f"Версия формата {info.version} не действует для файла вида {info.kind} за отчётный период "
            f"{period_text(ym)}: ожидается {expected}")


def _context(record: etree._Element | None, line: int, path: str) -> dict[str, str | None]:
    if record is None or record.tag != "ZAP":
        return {}
    ctx = {"n_zap": record.findtext("N_ZAP"), "idcase": record.findtext("Z_SL/IDCASE")}
    sl_id = idserv = None
    for sl in record.iterfind("Z_SL/SL") if "/SL" in path else ():
        if sl.sourceline is not None and sl.sourceline <= line:
            sl_id, idserv = sl.findtext("SL_ID"), None
            for usl in sl.iterfind("USL") if "/USL" in path else ():
                if usl.sourceline is not None and usl.sourceline <= line:
                    idserv = usl.findtext("IDSERV")
    ctx["sl_id"], ctx["idserv"] = sl_id, idserv
    return ctx


def _syntax_error(exc: etree.XMLSyntaxError, stream: GuardedStream, errors: _Errors, ctx: dict) -> None:
    first = next((e for e in exc.error_log if e.line > 0), None)
    msg = first.message if first is not None else (exc.msg or "")
    line = first.line if first is not None else (exc.lineno or None)
    kind = first.type_name if first is not None else ""
    if "encoding" in msg.lower() or "Invalid bytes" in msg:
        errors.add(
            "FLK-ENC-BYTES", "Недопустимые байты для кодировки windows-1251", stream.bad_byte_line or line
        )
    elif kind == "ERR_UNDECLARED_ENTITY":
        errors.add("FLK-XML-DTD", "Ссылка на необъявленную сущность XML (&…;) не допускается", line, **ctx)
    elif "Premature end" in msg or (line is not None and line >= stream.lines):
        errors.add("FLK-XML-TRUNC", "Файл обрывается: документ XML не завершён", line or stream.lines, **ctx)
    else:
        errors.add("FLK-XML-SYNTAX", "Нарушена структура XML (незакрытый или непарный тег, лишние символы)",
                   line, **ctx)  # fmt: skip


def scan_source(src: Source, validate: bool = True, limits: Limits | None = None,
                config: ReadConfig | None = None,
                flush: Callable[[dict[str, list[list]]], None] | None = None) -> ScanResult:
    """One file's scan. ``flush``, when given, is handed the rows every ``limits.batch_records``
    records and may take them (empty the lists in place): a worker then holds one batch of rows."""
    limits = limits or Limits()
    config = config or ReadConfig()
    errors = _Errors(src.name, limits.max_errors_per_file)
    info = FileInfo(src.name)
    result = ScanResult(info)
    try:
        with src.open() as raw:
            stream = GuardedStream(raw, limits.max_bytes)
            try:
                _, root_tag = check_prolog(stream.head)
                if root_tag not in RECORD_TAGS:
                    raise GuardError("FLK-FILE-TYPE", f"Корневой элемент {root_tag} не является реестром "
                                     "(ожидается ZL_LIST или PERS_LIST)", 1)  # fmt: skip
                scanner = _Scanner(src, stream, root_tag, validate, errors, config)
                scanner.flush, scanner.batch = flush, limits.batch_records
                result = scanner.result
                syntax: etree.XMLSyntaxError | None = None
                try:
                    scanner.run()
                except etree.XMLSyntaxError as exc:
                    syntax = exc
                stream.drain()
                if syntax is not None:
                    _syntax_error(syntax, stream, errors, scanner.open_context())
                if stream.looks_utf8():
                    errors.add("FLK-ENC-UTF8", "Файл записан в UTF-8, а объявлена кодировка windows-1251",
                               stream.first_non_ascii_line)  # fmt: skip
            except GuardError as g:
                errors.add(g.code, g.message, g.line)
                stream.drain()
            result.info.sha256, result.info.size = stream.sha256, stream.size
    except GuardError as g:
        errors.add(g.code, g.message, g.line)
    except zipfile.BadZipFile:
        errors.add("FLK-ZIP-BAD", "Файл в архиве повреждён (ошибка контрольной суммы)")
    except OSError:
        errors.add("FLK-FILE-READ", "Файл не удалось прочитать")
    result.errors = errors.items
    if result.errors:
        result.rows, result.pers, result.account = None, None, None
    return result

"""One streaming pass over one registry file: guards, XSD validation per record, row extraction.

Runs in a worker process when a submission has several large files; everything it
returns is picklable. Memory stays flat: every record is cleared and detached once
read, only the first record is kept (emptied) as the stub the head schema expects.
"""

from __future__ import annotations

import zipfile
from dataclasses import asdict, dataclass, field

from lxml import etree

from .columns import ACCOUNT
from .flk import KIND_NAMES, RECORD_TAGS, SchemaSet, load_schema_set, schema_file, translate
from .guard import GuardedStream, GuardError, Limits, check_prolog
from .protocol import FlkError
from .records import RecordRows, fill, pers_values
from .sources import Source


@dataclass
class FileInfo:
    name: str
    kind: str | None = None  # H, D or L
    version: str | None = None
    filename: str | None = None  # ZGLV/FILENAME
    filename1: str | None = None  # ZGLV/FILENAME1 (L-files: the paired H-file)
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
    account: tuple | None = None
    rows: RecordRows | None = None
    pers: dict[str, tuple] | None = None  # L-files: ID_PAC -> PERS values


class _Errors:
    def __init__(self, file: str, cap: int) -> None:
        self.file, self.cap, self.items = file, cap, []

    def add(self, code: str, message: str, line: int | None = None, **ctx: str | None) -> None:
        if len(self.items) == self.cap:
            self.items.append(FlkError("FLK-LIMIT", f"Показаны первые {self.cap} ошибок файла", self.file))
        if len(self.items) <= self.cap:
            self.items.append(FlkError(code, message, self.file, line or None, **ctx))


def _kind_of(filename: str | None, fallback: str) -> str:
    first = (filename or fallback or "?")[:1].upper()
    return first


class _Scanner:
    def __init__(self, src: Source, stream: GuardedStream, root_tag: str, validate: bool, errors: _Errors):
        self.src, self.stream, self.root_tag, self.validate, self.errors = (
            src,
            stream,
            root_tag,
            validate,
            errors,
        )
        self.result = ScanResult(FileInfo(src.name))
        self.schema: SchemaSet | None = None
        self.zglv: dict[str, str | None] = {}
        self.stop = False
        self.root: etree._Element | None = None

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

    def _zglv(self, el: etree._Element) -> None:
        head = self.zglv = dict.fromkeys(("version", "data", "filename", "filename1", "sd_z"))
        fill(el, head, {})
        info = self.info
        info.version, info.filename, info.filename1, info.line = (
            head["version"], head["filename"], head["filename1"], el.sourceline)  # fmt: skip
        if self.root_tag == "PERS_LIST":
            info.kind = "L"
            self.result.pers = {}
        else:
            info.kind = _kind_of(info.filename, self.src.base_name)
            if info.kind not in ("H", "D"):
                self.errors.add("FLK-FILE-TYPE", f"Тип файла {info.kind} пока не поддерживается (поддерживаются H, D, L)",
                                el.sourceline, path=f"{self.root_tag}/ZGLV/FILENAME")  # fmt: skip
                self.stop = True
                return
            self.result.rows = RecordRows(info.filename or self.src.base_name)
        name = schema_file(info.kind, info.version)
        if name is None:
            if self.validate:
                self.errors.add("FLK-VERSION", f"Версия формата {info.version or '(пусто)'} для файла типа "
                                f"{KIND_NAMES[info.kind]} не поддерживается", el.sourceline,
                                path=f"{self.root_tag}/ZGLV/VERSION")  # fmt: skip
                self.stop = True
            return
        self.schema = load_schema_set(name)

    def _schet(self, el: etree._Element) -> None:
        if self.result.rows is None:
            return
        row = dict.fromkeys(ACCOUNT)
        fill(el, row, {})
        info = self.info
        key = self.result.rows.account_key
        row.update(key=key, file_type=info.kind, version=info.version, filename=info.filename,
                   source_file=self.src.name, src_line=el.sourceline)  # fmt: skip
        row["data"], row["sd_z"] = self.zglv["data"], self.zglv["sd_z"]
        self.result.account = tuple(row.values())

    def _record(self, el: etree._Element) -> None:
        if self.validate and self.schema is not None:
            self._validate(el, self.schema.record, el)
        if self.errors.items:
            return  # the file is refused; keep validating, stop collecting rows
        if self.result.rows is not None:
            self.result.rows.add_zap(el)
        elif self.result.pers is not None:
            values = pers_values(el)
            if values[0] in self.result.pers:
                self.errors.add("FLK-PERS-DUP", "ID_PAC повторяется в файле персональных данных", el.sourceline,
                                path="PERS_LIST/PERS/ID_PAC")  # fmt: skip
            self.result.pers[values[0]] = values

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


def _context(record: etree._Element | None, line: int, path: str) -> dict[str, str | None]:
    if record is None or record.tag != "ZAP":
        return {}
    ctx = {"n_zap": record.findtext("N_ZAP"), "idcase": record.findtext("Z_SL/IDCASE")}
    sl_id = None
    for sl in record.iterfind("Z_SL/SL") if "/SL" in path else ():
        if sl.sourceline is not None and sl.sourceline <= line:
            sl_id = sl.findtext("SL_ID")
    ctx["sl_id"] = sl_id
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


def scan_source(src: Source, validate: bool = True, limits: Limits | None = None) -> ScanResult:
    limits = limits or Limits()
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
                scanner = _Scanner(src, stream, root_tag, validate, errors)
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

"""Input guards applied before and while lxml sees a byte: limits, prolog, encoding.

The prolog (everything before the root start tag) is scanned on raw bytes, so a
DOCTYPE or ENTITY declaration is refused before any parser could expand it.
The stream wrapper counts bytes (size limit, also for zip members whose declared
size may lie), hashes them, and watches for UTF-8 content in a file that
declares windows-1251 (which decodes "successfully" to mojibake otherwise).
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from typing import BinaryIO

GIB = 1 << 30
HEAD_BYTES = 64 * 1024
CP1251_NAMES = {"windows-1251", "cp1251", "win-1251"}


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 2 * GIB  # per file, uncompressed
    max_zip_ratio: float = 200.0  # uncompressed / compressed size of a zip member
    max_errors_per_file: int = 1000
    parallel_min_bytes: int = 32 * 1024 * 1024  # below this total, parse in-process
    workers: int | None = None  # None = os.cpu_count()
    batch_records: int = 20_000  # columnar reader: a worker turns this many records' rows into Arrow at a time


class GuardError(Exception):
    """A refused input; carries an FLK code, a Russian message and a line."""

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.line = line


_DECL = re.compile(rb"^\s*<\?xml\b[^>]*?\?>", re.S)
_ENC = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


_NAME = re.compile(rb"<([A-Za-z_][A-Za-z0-9_.:-]*)")


def check_prolog(head: bytes) -> tuple[str, str]:
    """Validate the bytes before the root element; return (declared encoding, root tag)."""
    if not head.strip():
        raise GuardError("FLK-FILE-EMPTY", "Файл пустой", 1)
    if head.startswith(codecs.BOM_UTF8) or head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise GuardError(
            "FLK-ENC-UTF8", "Файл начинается с метки порядка байтов Unicode; требуется windows-1251", 1
        )
    m = _DECL.match(head)
    encoding = ""
    pos = 0
    if m:
        em = _ENC.search(m.group(0))
        encoding = em.group(1).decode("ascii").lower() if em else ""
        pos = m.end()
    # skip whitespace, comments and processing instructions up to the root start tag
    while True:
        while pos < len(head) and head[pos : pos + 1].isspace():
            pos += 1
        if head.startswith(b"<!--", pos):
            end = head.find(b"-->", pos + 4)
            if end < 0:
                break
            pos = end + 3
        elif head.startswith(b"<?", pos):
            end = head.find(b"?>", pos + 2)
            if end < 0:
                break
            pos = end + 2
        else:
            break
    line = head.count(b"\n", 0, pos) + 1
    if head.startswith(b"<!", pos):
        raise GuardError(
            "FLK-XML-DTD", "Объявление DOCTYPE/ENTITY в реестре запрещено; файл не обрабатывается", line
        )
    if pos >= len(head):
        if len(head) >= HEAD_BYTES:
            raise GuardError("FLK-XML-SYNTAX", "Пролог XML слишком длинный: корневой элемент не найден", line)
        raise GuardError("FLK-XML-SYNTAX", "В файле нет корневого элемента XML", line)
    if not head.startswith(b"<", pos):
        raise GuardError("FLK-XML-SYNTAX", "Файл не является XML-документом", line)
    if encoding not in CP1251_NAMES:
        shown = encoding or "не указана"
        raise GuardError(
            "FLK-ENC-DECL", f"Кодировка должна быть объявлена как windows-1251 (в файле: {shown})", 1
        )
    m = _NAME.match(head, pos)
    return encoding, (m.group(1).decode("ascii") if m else "")


class GuardedStream:
    """File-like wrapper given to lxml: head check, size limit, sha256, UTF-8 sniffing."""

    def __init__(self, raw: BinaryIO, max_bytes: int) -> None:
        self._raw = raw
        self._max = max_bytes
        self._sha = hashlib.sha256()
        self.size = 0
        self.lines = 0  # newlines read so far
        self.bad_byte_line: int | None = None  # first byte undefined in windows-1251 (0x98)
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._utf8_alive = True
        self.first_non_ascii_line: int | None = None
        self.head = self._take(HEAD_BYTES)
        self._pending = self.head

    def _take(self, n: int) -> bytes:
        data = self._raw.read(n)
        if not data:
            return b""
        self.size += len(data)
        if self.size > self._max:
            raise GuardError("FLK-FILE-SIZE", f"Размер файла превышает допустимый ({self._max} байт)")
        self._sha.update(data)
        if self.bad_byte_line is None and (idx := data.find(b"\x98")) >= 0:
            self.bad_byte_line = self.lines + data.count(b"\n", 0, idx) + 1
        if self._utf8_alive:
            self._sniff(data)
        self.lines += data.count(b"\n")
        return data

    def _sniff(self, data: bytes) -> None:
        if self.first_non_ascii_line is None and not data.isascii():
            idx = next(i for i, b in enumerate(data) if b >= 0x80)
            self.first_non_ascii_line = self.lines + data.count(b"\n", 0, idx) + 1
        try:
            self._utf8.decode(data)
        except UnicodeDecodeError:
            self._utf8_alive = False

    def read(self, n: int = -1) -> bytes:
        if self._pending:
            out, self._pending = self._pending, b""
            return out
        return self._take(n if n and n > 0 else 1 << 20)

    def drain(self) -> None:
        """Read what the parser left (after an error) so size and hash cover the whole file."""
        self._pending = b""
        while self._take(1 << 20):
            pass

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def looks_utf8(self) -> bool:
        """True when the whole file decoded as UTF-8 and had non-ASCII bytes."""
        return self._utf8_alive and self.first_non_ascii_line is not None

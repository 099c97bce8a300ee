"""NSI reference books (F014, V002, V009 …) from CSV or the FFOMS XML packet into a methodology table.

Two input forms:

* CSV as in ``reference/nsi/`` (UTF-8 with or without BOM, or windows-1251; comma or semicolon);
* the FFOMS packet ``<packet><zglv>…</zglv><zap>…</zap>…</packet>`` in windows-1251 or UTF-8.
  One ``zap`` is one row; its child elements are the columns (a nested element is flattened
  as ``PARENT_CHILD``). The XML is parsed without DTD, entities or network access; a DOCTYPE
  or ENTITY declaration is refused before the parser sees it.

The output is a UTF-8 CSV usable as a dated methodology table (``dated: true``): DATEBEG and
DATEEND are normalised to ГГГГ-ММ-ДД (the books use ДД.ММ.ГГГГ or ГГГГММДД) and put last.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

DATE_COLUMNS = ("DATEBEG", "DATEEND")
MAX_BYTES = 512 * 1024 * 1024


class NsiError(Exception):
    """A book that cannot be read; the message is for the user (Russian)."""


@dataclass
class NsiBook:
    columns: list[str]
    rows: list[dict[str, str]]
    header: dict[str, str] = field(default_factory=dict)   # zglv of an XML packet
    source: str = ""

    def __len__(self) -> int:
        return len(self.rows)


_DECL_ENC = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""", re.S)
_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)
_DMY = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")
_YMD = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?$")


def normalize_date(value: str | None) -> str:
    """ДД.ММ.ГГГГ, ГГГГММДД or ГГГГ-ММ-ДД(…) → ГГГГ-ММ-ДД; empty stays empty."""
    v = (value or "").strip()
    if not v:
        return ""
    for rx, order in ((_DMY, (3, 2, 1)), (_YMD, (1, 2, 3)), (_ISO, (1, 2, 3))):
        m = rx.match(v)
        if m:
            y, mo, d = (m.group(i) for i in order)
            import datetime as dt

            try:
                return dt.date(int(y), int(mo), int(d)).isoformat()
            except ValueError:
                break
    raise NsiError(f"дата «{v}» не распознана (ожидалось ДД.ММ.ГГГГ, ГГГГММДД или ГГГГ-ММ-ДД)")


def read_nsi(path: Path | str, encoding: str | None = None) -> NsiBook:
    """Read a book from CSV or an FFOMS XML packet (by content, not by extension)."""
    p = Path(path)
    if not p.is_file():
        raise NsiError(f"файл не найден: {p}")
    if p.stat().st_size > MAX_BYTES:
        raise NsiError(f"файл больше {MAX_BYTES >> 20} МБ: {p}")
    raw = p.read_bytes()
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    book = read_nsi_xml(raw, encoding) if head == b"<" else read_nsi_csv(raw, encoding)
    book.source = p.name
    return book


def _decode(raw: bytes, encoding: str | None) -> str:
    if encoding:
        return raw.decode(encoding)
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1251")


def read_nsi_csv(raw: bytes, encoding: str | None = None) -> NsiBook:
    text = _decode(raw, encoding)
    first = text.split("\n", 1)[0]
    delim = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    rows = [r for r in reader if any(c.strip() for c in r)]
    if not rows:
        raise NsiError("файл пустой: нет строки заголовка")
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header) or any(not h for h in header):
        raise NsiError("заголовок CSV содержит пустые или повторяющиеся имена столбцов")
    out = []
    for n, r in enumerate(rows[1:], start=2):
        if len(r) > len(header):
            raise NsiError(f"строка {n}: {len(r)} значений при {len(header)} столбцах")
        out.append({h: (r[i].strip() if i < len(r) else "") for i, h in enumerate(header)})
    return _canonical(NsiBook(header, out))


def read_nsi_xml(raw: bytes, encoding: str | None = None) -> NsiBook:
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    root_at = _root_start(body)
    if _FORBIDDEN.search(body[:root_at]):
        raise NsiError("XML содержит объявление DOCTYPE/ENTITY — такой файл не принимается")
    if encoding:
        body = _DECL_ENC.sub(lambda m: m.group(0).replace(m.group(1), b"utf-8"), body, count=1)
        body = body.decode(encoding).encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as e:
        raise NsiError(f"XML не разобран: {e}") from None
    if _local(root.tag).lower() != "packet":
        raise NsiError(f"корневой элемент «{_local(root.tag)}», ожидался «packet» (пакет НСИ ФФОМС)")
    header: dict[str, str] = {}
    columns: list[str] = []
    rows: list[dict[str, str]] = []
    for el in root:
        if not isinstance(el.tag, str):
            continue
        name = _local(el.tag).lower()
        if name == "zglv":
            header = {_local(c.tag): (c.text or "").strip() for c in el if isinstance(c.tag, str)}
        elif name == "zap":
            row: dict[str, str] = {}
            _flatten(el, "", row)
            for k in row:
                if k not in columns:
                    columns.append(k)
            rows.append(row)
    if not rows:
        raise NsiError("в пакете нет ни одной записи <zap>")
    full = [{c: r.get(c, "") for c in columns} for r in rows]
    return _canonical(NsiBook(columns, full, header))


def _root_start(body: bytes) -> int:
    """Offset of the root start tag (after the declaration, comments, PIs, DOCTYPE)."""
    for m in re.finditer(rb"<([^?!])", body):
        return m.start()
    return len(body)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _flatten(el, prefix: str, row: dict[str, str]) -> None:
    for c in el:
        if not isinstance(c.tag, str):
            continue
        name = prefix + _local(c.tag)
        kids = [k for k in c if isinstance(k.tag, str)]
        if kids:
            _flatten(c, name + "_", row)
        elif name in row:  # repeated element: keep the values together
            row[name] = row[name] + ";" + (c.text or "").strip()
        else:
            row[name] = (c.text or "").strip()


def _canonical(book: NsiBook) -> NsiBook:
    """DATEBEG/DATEEND (any case) → upper-case, ISO dates, placed last."""
    rename = {c: c.upper() for c in book.columns if c.upper() in DATE_COLUMNS}
    cols = [rename.get(c, c) for c in book.columns if c.upper() not in DATE_COLUMNS]
    dated = [d for d in DATE_COLUMNS if d in rename.values()]
    rows = []
    for n, r in enumerate(book.rows, start=1):
        out = {rename.get(k, k): v for k, v in r.items()}
        for d in dated:
            try:
                out[d] = normalize_date(out.get(d))
            except NsiError as e:
                raise NsiError(f"запись {n}, {d}: {e}") from None
        rows.append(out)
    return NsiBook(cols + dated, rows, book.header, book.source)


def select(book: NsiBook, columns: list[str] | None = None, rename: dict[str, str] | None = None,
           where: dict[str, str] | None = None) -> NsiBook:
    """Keep the named columns (dates are always kept), rename some, filter rows by equal values."""
    rename = rename or {}
    keep = list(columns) if columns else [c for c in book.columns if c not in DATE_COLUMNS]
    missing = [c for c in keep + list(where or {}) if c not in book.columns]
    if missing:
        raise NsiError(f"в справочнике нет столбцов: {', '.join(missing)}; есть: {', '.join(book.columns)}")
    keep += [d for d in DATE_COLUMNS if d in book.columns and d not in keep]
    rows = [r for r in book.rows if all(r.get(k, "") == v for k, v in (where or {}).items())]
    out_cols = [rename.get(c, c) for c in keep]
    return NsiBook(out_cols, [{rename.get(c, c): r.get(c, "") for c in keep} for r in rows], book.header,
                   book.source)


def write_table_csv(book: NsiBook, out: Path | str) -> Path:
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(book.columns)
        for r in book.rows:
            w.writerow([r.get(c, "") for c in book.columns])
    return p


def guess_type(values: list[str]) -> str:
    vals = [v for v in values if v != ""]
    if not vals:
        return "text"
    if all(re.fullmatch(r"-?\d{1,9}", v) and (v == "0" or not v.startswith("0")) for v in vals):
        return "int"
    if all(re.fullmatch(r"-?\d+\.\d+", v) for v in vals):
        return "number"
    if all(len(v) <= 40 and "\n" not in v and " " not in v for v in vals):
        return "code"
    return "text"


def table_yaml(book: NsiBook, name: str, file: str, key: list[str] | None = None) -> str:
    """A tables.yaml entry describing the written CSV (types guessed from the values)."""
    cols = [c for c in book.columns if c not in DATE_COLUMNS]
    types = {c: guess_type([r.get(c, "") for r in book.rows]) for c in cols}
    key = key or cols[:1]
    head = book.header
    ref = " ".join(x for x in (head.get("type") or head.get("TYPE") or "", head.get("version") or "",
                               head.get("date") or "") if x) or book.source
    lines = [f"{name}:", f"  file: {file}", f"  label: {name}", f"  reference: {ref}",
             f"  key: [{', '.join(key)}]",
             "  columns: {" + ", ".join(f"{c}: {types[c]}" for c in cols) + "}",
             f"  dated: {'true' if 'DATEBEG' in book.columns else 'false'}"]
    return "\n".join(lines) + "\n"

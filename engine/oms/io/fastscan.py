"""The columnar reader of one registry file: C from bytes to Arrow columns.

A file is read whole (guarded: size limit, hash), parsed by libxml2, validated against the
whole description's XML Schema in one call, and turned into rows by the description's XSLT
(columnar_xslt.py) run by libxslt; pyarrow splits the text into one string column per slot.
Python touches the head (ZGLV, SCHET: the same checks as the row reader) and each column,
never each value. Memory is bounded by one file: its bytes, its tree and its columns.

Whenever the file is not clean — a guard or syntax error, an invalid schema, a refused head,
a numeric character reference or a processing instruction that the stylesheet's separators or
text rules could misread, a plan the stylesheet cannot reproduce — the fast reader gives up
and the row reader (scan.py) reads the file again: every ФЛК message, code and position comes
from the one reader that has always produced them.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from .columnar_xslt import FIELD, ROW, Stylesheet, Unsupported, stylesheet
from .flk import RECORD_TAGS
from .formats import Description
from .guard import GuardedStream, GuardError, Limits, check_prolog
from .mapping import FilePlan, Layout
from .scan import ReadConfig, ScanResult, _Errors, _Scanner
from .sources import Source
from .xsdgen import xsd_text

_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                       remove_comments=True)


class _GiveUp(Exception):
    """The file goes to the row reader."""


_SCHEMAS: dict[int, tuple[Description, etree.XMLSchema]] = {}
_SHEETS: dict[int, tuple[FilePlan, tuple[etree.XSLT, Stylesheet] | None]] = {}


def _full_schema(desc: Description) -> etree.XMLSchema:
    hit = _SCHEMAS.get(id(desc))
    if hit is None or hit[0] is not desc:
        hit = _SCHEMAS[id(desc)] = (desc, etree.XMLSchema(etree.XML(xsd_text(desc).encode())))
    return hit[1]


def _transform(desc: Description, plan: FilePlan) -> tuple[etree.XSLT, Stylesheet] | None:
    hit = _SHEETS.get(id(plan))
    if hit is None or hit[0] is not plan:
        try:
            sheet = stylesheet(plan, desc.root.name, desc.record)
            compiled = (etree.XSLT(etree.XML(sheet.text.encode())), sheet)
        except Unsupported:
            compiled = None
        hit = _SHEETS[id(plan)] = (plan, compiled)
    return hit[1]


def scan_columnar(src: Source, limits: Limits, config: ReadConfig) -> ScanResult | None:
    """The file's scan with ``columns`` (entity -> Arrow table), or None: read it with the row reader."""
    try:
        return _scan(src, limits, config)
    except (_GiveUp, GuardError, OSError, etree.LxmlError, pa.ArrowException):
        return None


def _read_all(src: Source, limits: Limits) -> tuple[GuardedStream, bytes, str]:
    with src.open() as raw:
        stream = GuardedStream(raw, limits.max_bytes)
        _, root_tag = check_prolog(stream.head)
        parts = []
        while chunk := stream.read(1 << 22):
            parts.append(chunk)
    data = b"".join(parts)
    if root_tag not in RECORD_TAGS or stream.bad_byte_line is not None or stream.looks_utf8():
        raise _GiveUp
    if b"&#" in data or data.count(b"<?") > 1:
        raise _GiveUp  # a character reference may carry a separator; a PI splits an element's text
    return stream, data, root_tag


def _scan(src: Source, limits: Limits, config: ReadConfig) -> ScanResult:
    stream, data, root_tag = _read_all(src, limits)
    record_tag = RECORD_TAGS[root_tag]
    errors = _Errors(src.name, limits.max_errors_per_file)
    scanner = _Scanner(src, stream, root_tag, True, errors, config)
    first = data.find(f"<{record_tag}>".encode())
    if first < 0:
        raise _GiveUp
    # the head alone (ZGLV, SCHET) decides the description; then the whole file is parsed and
    # validated against it in one pass of libxml2
    head = etree.fromstring(data[:first] + f"</{root_tag}>".encode(), etree.XMLParser(**_PARSER_OPTIONS))
    for el in head:
        if el.tag == "ZGLV":
            scanner._zglv(el)
        elif el.tag == "SCHET":
            scanner._schet(el)
    if errors.items or scanner.stop or scanner.plan is None or scanner.schema is None:
        raise _GiveUp
    info, plan = scanner.info, scanner.plan
    desc = config.formats().get(info.kind, info.version)  # type: ignore[arg-type]
    if desc is None:
        raise _GiveUp
    compiled = _transform(desc, plan)
    if compiled is None:
        raise _GiveUp
    root = etree.fromstring(data, etree.XMLParser(schema=_full_schema(desc), **_PARSER_OPTIONS))
    del data
    if root.tag != root_tag:
        raise _GiveUp
    xslt, sheet = compiled
    result = scanner.result
    params = {}
    if result.account is not None:
        params["k_account"] = etree.XSLT.strparam(str(result.account[0]))
        for name, _, slot in sheet.params:
            v = result.account[slot]
            params[name] = etree.XSLT.strparam("" if v is None else str(v))
    out = xslt(root, **params)
    info.records = int(root.xpath(f"count({record_tag})"))
    del root
    text = bytes(out)
    del out
    columns = split_rows(text, sheet, plan.layout)
    result.columns = columns
    if result.rows is None:  # L file: ID_PAC must be unique (the row reader reports FLK-PERS-DUP)
        keys = columns["pers"].column("key")
        if pc.count_distinct(keys, mode="all").as_py() != len(keys):
            raise _GiveUp
        result.pers = None
    result.rows = None
    info.sha256, info.size = stream.sha256, stream.size
    return result


def split_rows(text: bytes, sheet: Stylesheet, lay: Layout) -> dict[str, pa.Table]:
    """The stylesheet's output as one table per entity in the layout's columns (str, src_line int64)."""
    whole = pa.array([text], pa.large_binary()).cast(pa.large_string())
    rows = pc.list_flatten(pc.split_pattern(whole, ROW))[1:]
    fields = pc.split_pattern(rows, FIELD)
    code = pc.list_element(fields, 0)
    by_entity: dict[str, list[tuple[list[int], pa.Array]]] = {}
    for c, emitted in sheet.rows.items():
        sub = fields.filter(pc.equal(code, c))
        if len(sub) == 0:
            continue
        lengths = pc.list_value_length(sub)
        if pc.min(lengths).as_py() != len(emitted.slots) + 1 or pc.max(lengths).as_py() != len(emitted.slots) + 1:
            raise _GiveUp  # a separator inside a value
        by_entity.setdefault(emitted.entity, []).append((emitted.slots, sub))
    out: dict[str, pa.Table] = {}
    for entity, names in lay.columns.items():
        parts = by_entity.get(entity, [])
        if not parts:
            out[entity] = empty_table(names)
            continue
        if len(parts) > 1 or any(p[0] != parts[0][0] for p in parts):
            raise _GiveUp  # rows of one entity under two codes lose their relative order
        slots, sub = parts[0]
        at = {slot: j + 1 for j, slot in enumerate(slots)}
        n = len(sub)
        cols = []
        for slot, name in enumerate(names):
            j = at.get(slot)
            if j is None:
                cols.append(pa.nulls(n, pa.int64() if name == "src_line" else pa.string()))
                continue
            values = pc.list_element(sub, j).cast(pa.string())
            if name == "src_line":
                cols.append(values.cast(pa.int64()))
            else:
                cols.append(pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values))
        out[entity] = pa.table(cols, names=names)
    return out


def empty_table(names: list[str], n: int = 0) -> pa.Table:
    return pa.table([pa.nulls(n, pa.int64() if c == "src_line" else pa.string()) for c in names], names=names)


def concat_tables(tables: list[pa.Table], names: list[str]) -> pa.Table:
    """One table of the parts (one chunk per part), or an empty one of the layout's columns."""
    return pa.concat_tables(tables) if tables else empty_table(names)


def rows_table(names: list[str], rows: list[list]) -> pa.Table:
    """Row-reader rows (lists in the layout's order) as an Arrow table of the same columns."""
    if not rows:
        return empty_table(names)
    cols = []
    for name, values in zip(names, zip(*rows, strict=True), strict=True):
        if name == "src_line":
            cols.append(pa.array([v or 0 for v in values], pa.int64()))
        else:
            cols.append(pa.array(values, pa.string()))
    return pa.table(cols, names=names)

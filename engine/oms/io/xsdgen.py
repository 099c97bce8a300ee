"""Structural ФЛК from a format description: the description is compiled into XML Schema.

libxml2 then checks order, types, sizes, occurrence and uniqueness at C speed. As with the
FFOMS XSDs before, the schema is split in two (see flk.py): a *record* schema whose global
element is the record (ZAP, PERS) and a *head* schema in which the record is a stub of any
content. Uniqueness across records (N_ZAP, IDCASE in a file) cannot be seen by a record
schema; the reader checks those (``file_unique``).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from .formats import Description, Node, SimpleType

XSN = "http://www.w3.org/2001/XMLSchema"
XS = "{" + XSN + "}"
DATE_PATTERN = (
    "((000[1-9])|(00[1-9][0-9])|(0[1-9][0-9]{2})|([1-9][0-9]{3}))-((0[1-9])|(1[012]))-"
    "((0[1-9])|([12][0-9])|(3[01]))"
)


@dataclass(frozen=True)
class SchemaSet:
    file: str  # the description, for messages
    root_tag: str
    record_tag: str
    record: etree.XMLSchema
    head: etree.XMLSchema
    children: dict[tuple[str, ...], tuple[tuple[str, int], ...]]  # element path -> (child, minOccurs)
    names: frozenset[str]
    types: dict[str, str]  # element name -> xs base (xs:date, xs:decimal, xs:string)
    file_unique: tuple[tuple[str, ...], ...]  # paths inside the record whose value is unique in the file


def _facet(parent: etree._Element, name: str, value: object) -> None:
    etree.SubElement(parent, XS + name, value=str(value))


def _restriction(t: SimpleType) -> etree._Element:
    st = etree.Element(XS + "simpleType")
    r = etree.SubElement(st, XS + "restriction", base="xs:" + t.base)
    if t.base == "string":
        if t.max_len is not None:
            _facet(r, "maxLength", t.max_len)
        if t.min_len:
            _facet(r, "minLength", t.min_len)
    elif t.base == "decimal":
        if t.digits is not None:
            _facet(r, "totalDigits", t.digits)
        if t.fraction is not None:
            _facet(r, "fractionDigits", t.fraction)
        _facet(r, "minInclusive", 0)
        if t.digits is not None:
            _facet(r, "maxExclusive", 10 ** (t.digits - (t.fraction or 0)))
    else:
        _facet(r, "pattern", DATE_PATTERN)
        if t.date_before:
            _facet(r, "maxExclusive", t.date_before)
        if t.date_after:
            _facet(r, "minExclusive", t.date_after)
    for v in t.enum:
        _facet(r, "enumeration", v)
    return st


def _element(node: Node, top: bool = False) -> etree._Element:
    el = etree.Element(XS + "element", name=node.name)
    if not top:
        el.set("minOccurs", str(node.min))
        el.set("maxOccurs", "unbounded" if node.max is None else str(node.max))
    if node.simple:
        el.append(_restriction(node.type))  # type: ignore[arg-type]
        return el
    seq = etree.SubElement(etree.SubElement(el, XS + "complexType"), XS + "sequence")
    for ch in node.children:
        seq.append(_element(ch))
    for i, path in enumerate(node.unique):
        selector, _, fld = path.rpartition("/")
        u = etree.SubElement(el, XS + "unique", name=f"u{i}_{node.name}_{fld}")
        etree.SubElement(u, XS + "selector", xpath=selector)
        etree.SubElement(u, XS + "field", xpath=fld)
    return el


def _schema(*elements: etree._Element) -> etree.XMLSchema:
    doc = etree.Element(XS + "schema", nsmap={"xs": XSN})
    for e in elements:
        doc.append(e)
    return etree.XMLSchema(doc)


def _walk(node: Node, path: tuple[str, ...], children: dict, names: set, types: dict) -> None:
    names.add(node.name)
    if node.simple:
        types.setdefault(node.name, "xs:" + node.type.base)  # type: ignore[union-attr]
        return
    children[path] = tuple((c.name, c.min) for c in node.children)
    for c in node.children:
        _walk(c, path + (c.name,), children, names, types)


_COMPILED: dict[int, tuple[Description, SchemaSet]] = {}


def schema_set(desc: Description) -> SchemaSet:
    hit = _COMPILED.get(id(desc))
    if hit is None or hit[0] is not desc:
        hit = _COMPILED[id(desc)] = (desc, _compile(desc))
    return hit[1]


def _compile(desc: Description) -> SchemaSet:
    root = desc.root
    rec = root.child(desc.record)
    assert rec is not None
    in_record = tuple(u for u in root.unique if u.split("/")[0] == desc.record)
    head_root = Node(root.name, 1, 1, children=[
        Node(c.name, c.min, None, type=None, children=[]) if c is rec else c for c in root.children
    ], unique=tuple(u for u in root.unique if u not in in_record))
    head_el = _element(head_root, top=True)
    stub = next(e for e in head_el.iter(XS + "element") if e.get("name") == desc.record)
    stub.remove(stub[0])  # no type: any content
    children: dict[tuple[str, ...], tuple[tuple[str, int], ...]] = {}
    names: set[str] = set()
    types: dict[str, str] = {}
    _walk(root, (root.name,), children, names, types)
    file_unique = tuple(tuple(u.split("/")[1:]) for u in in_record)
    return SchemaSet(desc.path.name, root.name, desc.record, _schema(_element(rec, top=True)), _schema(head_el),
                     children, frozenset(names), types, file_unique)


def xsd_text(desc: Description) -> str:
    """The whole description as one XML Schema document (for reading and for comparing with an XSD)."""
    doc = etree.Element(XS + "schema", nsmap={"xs": XSN})
    doc.append(_element(desc.root, top=True))
    return etree.tostring(doc, pretty_print=True, encoding="unicode")

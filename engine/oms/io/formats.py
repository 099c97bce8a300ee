"""Registry format descriptions: one YAML file per file kind × version (engine/oms/io/formats).

A description is data: the element tree (order, type and size, occurrence, uniqueness),
the reporting periods the version is valid for, and which complex element makes a row
of which entity. From it come the structural ФЛК (xsdgen.py) and the record → column
mapping (mapping.py). Adding a version is adding a file; nothing here names an element.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

FORMATS_DIR = Path(__file__).with_name("formats")
ENTITIES_FILE = "_entities.yaml"
#: libyaml's loader when installed: every reader worker loads the descriptions once, ~10× faster
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_OCCURS = re.compile(r"([01])\.\.([1-9]\d*|n)")
_TYPE = re.compile(r"(T|N|D)(?:\(([^)]*)\))?(?:\s+enum\[([^\]]*)\])?")
_SIMPLE_KEYS = {"type", "occurs", "assumption", "column", "rows"}
_COMPLEX_KEYS = {"occurs", "entity", "unique", "up", "collect", "assumption"}


class FormatError(Exception):
    """A description file is not valid (developer/methodologist error: file and element named)."""


@dataclass(frozen=True)
class SimpleType:
    base: str  # string | decimal | date
    min_len: int | None = None
    max_len: int | None = None
    digits: int | None = None
    fraction: int | None = None  # None with base decimal: not established
    date_after: str | None = None
    date_before: str | None = None
    enum: tuple[str, ...] = ()
    text: str = ""


@dataclass
class Node:
    name: str
    min: int
    max: int | None  # None = unbounded
    type: SimpleType | None = None  # None for complex elements
    children: list[Node] = field(default_factory=list)
    entity: str | None = None
    column: str | None = None
    rows: str | None = None  # a repeated simple element that also makes one row of this entity each
    unique: tuple[str, ...] = ()  # "selector/field" paths relative to this element
    up: tuple[str, ...] = ()  # columns the parent entity row takes from the first such row
    collect: dict[str, str] = field(default_factory=dict)  # child column -> parent column (joined by ";")
    assumption: str | None = None

    @property
    def simple(self) -> bool:
        return self.type is not None

    def child(self, name: str) -> Node | None:
        return next((c for c in self.children if c.name == name), None)


@dataclass(frozen=True)
class Period:
    start: int  # year * 12 + month - 1
    end: int | None

    def covers(self, ym: int) -> bool:
        return self.start <= ym and (self.end is None or ym <= self.end)


@dataclass
class Description:
    kind: str
    version: str
    path: Path
    root: Node
    record: str  # the repeated top-level element (ZAP, PERS)
    periods: list[Period]
    assumptions: list[str]
    entities: dict[str, dict]  # entity -> {key, refs, inherit, merge_into, on}

    @property
    def label(self) -> str:
        return f"{self.kind} {self.version}"


def month_index(text: str) -> int:
    y, m = str(text).split("-")[:2]
    return int(y) * 12 + int(m) - 1


def parse_type(text: str, where: str, dates: tuple[str, str]) -> SimpleType:
    m = _TYPE.fullmatch(text.strip())
    if not m:
        raise FormatError(f"{where}: тип «{text}» не распознан (ожидается T(n), N(n), N(n.m), D)")
    letter, arg, enum = m.group(1), (m.group(2) or "").strip(), m.group(3)
    values = tuple(v.strip() for v in enum.split("|")) if enum else ()
    if letter == "T":
        if arg == "?":
            return SimpleType("string", 1, None, enum=values, text=text)
        lo, _, hi = arg.partition("..")
        if not hi:
            lo, hi = "1", lo
        if not (lo.isdigit() and hi.isdigit()):
            raise FormatError(f"{where}: размер строки «{text}» не распознан")
        return SimpleType("string", int(lo), int(hi), enum=values, text=text)
    if letter == "N":
        if arg in ("?", ""):
            return SimpleType("decimal", digits=None, fraction=0, enum=values, text=text)
        if arg == "?.?":
            return SimpleType("decimal", digits=None, fraction=None, enum=values, text=text)
        whole, _, frac = arg.partition(".")
        if not whole.isdigit() or (frac and not frac.isdigit()):
            raise FormatError(f"{where}: разрядность числа «{text}» не распознана")
        return SimpleType("decimal", digits=int(whole), fraction=int(frac or 0), enum=values, text=text)
    lo, hi = dates
    if arg:
        lo, _, hi = arg.partition("..")
    return SimpleType("date", date_after=lo, date_before=hi, enum=values, text=text)


def _occurs(text: str, where: str) -> tuple[int, int | None]:
    m = _OCCURS.fullmatch(str(text).strip())
    if not m:
        raise FormatError(f"{where}: кратность «{text}» не распознана (ожидается 0..1, 1..1, 0..n, 1..n)")
    return int(m.group(1)), None if m.group(2) == "n" else int(m.group(2))


def _node(name: str, spec: object, where: str, dates: tuple[str, str]) -> Node:
    if isinstance(spec, str):
        typ, _, occ = spec.strip().rpartition(" ")
        mn, mx = _occurs(occ, where)
        return Node(name, mn, mx, parse_type(typ, where, dates))
    if not isinstance(spec, dict):
        raise FormatError(f"{where}: ожидается строка «ТИП КРАТНОСТЬ» или описание элемента")
    if "type" in spec:
        extra = set(spec) - _SIMPLE_KEYS
        if extra:
            raise FormatError(f"{where}: неизвестные свойства {sorted(extra)}")
        mn, mx = _occurs(spec.get("occurs", "1..1"), where)
        return Node(name, mn, mx, parse_type(str(spec["type"]), where, dates), column=spec.get("column"),
                    rows=spec.get("rows"), assumption=spec.get("assumption"))
    props = {k: v for k, v in spec.items() if not k.isupper()}
    extra = set(props) - _COMPLEX_KEYS
    if extra:
        raise FormatError(f"{where}: неизвестные свойства {sorted(extra)}")
    mn, mx = _occurs(props.get("occurs", "1..1"), where)
    node = Node(name, mn, mx, entity=props.get("entity"), unique=tuple(props.get("unique") or ()),
                up=tuple(props.get("up") or ()), collect=dict(props.get("collect") or {}),
                assumption=props.get("assumption"))
    for k, v in spec.items():
        if k.isupper():
            node.children.append(_node(k, v, f"{where}/{k}", dates))
    if not node.children:
        raise FormatError(f"{where}: у составного элемента нет дочерних элементов")
    return node


def _periods(items: object, where: str) -> list[Period]:
    out = []
    for p in items or []:
        if not isinstance(p, dict) or "from" not in p:
            raise FormatError(f"{where}: период задаётся как {{from: ГГГГ-ММ, to: ГГГГ-ММ}}")
        out.append(Period(month_index(p["from"]), month_index(p["to"]) if p.get("to") else None))
    return out


@cache
def _entities(directory: Path) -> dict[str, dict]:
    path = directory / ENTITIES_FILE
    if not path.is_file():
        path = FORMATS_DIR / ENTITIES_FILE
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)["entities"]


def load_description(path: Path) -> Description:
    where = path.name
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as e:
        raise FormatError(f"{where}: не YAML ({e})") from None
    for k in ("kind", "version", "root", "tree"):
        if k not in doc:
            raise FormatError(f"{where}: нет обязательного ключа {k}")
    dates = tuple(str(d) for d in doc.get("dates", ("1899-12-31", "2030-12-31")))
    root_name = str(doc["root"])
    root = _node(root_name, doc["tree"][root_name], f"{where}:{root_name}", dates)  # type: ignore[arg-type]
    records = [c for c in root.children if not c.simple and c.max is None]
    if len(records) != 1:
        raise FormatError(f"{where}: у корня должен быть ровно один повторяющийся элемент-запись")
    ents = dict(_entities(path.parent))
    ents.update(doc.get("entities") or {})
    return Description(str(doc["kind"]), str(doc["version"]), path, root, records[0].name,
                       _periods(doc.get("periods"), where), list(doc.get("assumptions") or []), ents)


@dataclass
class FormatSet:
    """Every description of a directory, by (kind, version)."""

    directory: Path
    by_key: dict[tuple[str, str], Description]

    def get(self, kind: str, version: str | None) -> Description | None:
        return self.by_key.get((kind, (version or "").strip()))

    def kinds(self) -> list[str]:
        return sorted({k for k, _ in self.by_key})

    def versions(self, kind: str) -> list[str]:
        return sorted(v for k, v in self.by_key if k == kind)


def _mtimes(directory: Path) -> tuple[tuple[str, float], ...]:
    return tuple((p.name, p.stat().st_mtime) for p in sorted(directory.glob("*.yaml")))


@cache
def _load(directory: Path, stamp: tuple) -> FormatSet:
    out: dict[tuple[str, str], Description] = {}
    for p in sorted(directory.glob("*.yaml")):
        if p.name.startswith("_"):
            continue
        d = load_description(p)
        if (d.kind, d.version) in out:
            raise FormatError(f"{p.name}: формат {d.label} уже описан в {out[(d.kind, d.version)].path.name}")
        out[(d.kind, d.version)] = d
    return FormatSet(directory, out)


def load_formats(directory: Path | None = None) -> FormatSet:
    d = (directory or FORMATS_DIR).resolve()
    return _load(d, _mtimes(d))

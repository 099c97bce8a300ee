"""Record → column rows, compiled from the format descriptions.

Every entity has one column layout for the whole format set (the union over all kinds and
versions), so the rows of every file of a submission line up. A description is compiled
into a tree of handlers: per complex element, the column slot of each simple child and the
handler of each complex child. A record is then walked once; each entity row is a plain list
filled by slot number (no per-record dicts), values are the element text as read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .formats import Description, FormatSet, Node

#: one object per distinct value: codes, dates and tariffs repeat across millions of rows
_STRINGS: dict[str, str] = {}
_STRINGS_CAP = 1 << 20
ACCOUNT_EXTRA = ("file_type", "file_subtype", "source_file")


def bound_strings() -> None:
    """Called once per record: the table of shared strings never grows past its cap."""
    if len(_STRINGS) >= _STRINGS_CAP:
        _STRINGS.clear()


def column_of(node: Node) -> str:
    return node.column or node.name.lower()


def _multi(node: Node) -> bool:
    return node.max is None or node.max > 1


@dataclass
class Layout:
    """Column names per entity, in a fixed order; ``index[entity][column]`` is the slot."""

    columns: dict[str, list[str]] = field(default_factory=dict)
    merges: dict[str, tuple[str, str]] = field(default_factory=dict)  # entity -> (target, on column)

    def add(self, entity: str, column: str) -> None:
        cols = self.columns.setdefault(entity, ["key"])
        if column not in cols:
            cols.append(column)

    def index(self, entity: str) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.columns[entity])}


def _layout_walk(node: Node, entity: str | None, parent: str | None, desc: Description, lay: Layout) -> None:
    if node.entity is not None:
        parent, entity = entity, node.entity
        spec = desc.entities.get(entity, {})
        lay.add(entity, "key")
        for r in spec.get("refs", [parent] if parent else []):
            lay.add(entity, f"{r}_ref")
        for c in spec.get("inherit", []):
            lay.add(entity, c)
        if spec.get("merge_into"):
            lay.merges[entity] = (spec["merge_into"], spec["by"])
        if parent is not None:
            for c in node.up:
                lay.add(parent, c)
            for c in node.collect.values():
                lay.add(parent, c)
    for ch in node.children:
        if ch.simple:
            if entity is None:
                continue
            col = column_of(ch)
            lay.add(entity, col)
            if _multi(ch):
                lay.add(entity, col + "_all")
            if ch.rows:
                rspec = desc.entities.get(ch.rows, {})
                lay.add(ch.rows, "key")
                for r in rspec.get("refs", [entity]):
                    lay.add(ch.rows, f"{r}_ref")
                lay.add(ch.rows, col)
                for c in rspec.get("inherit", []):
                    lay.add(ch.rows, c)
        else:
            _layout_walk(ch, entity, parent, desc, lay)


def build_layout(formats: FormatSet) -> Layout:
    lay = Layout()
    for desc in formats.by_key.values():
        _layout_walk(desc.root, None, None, desc, lay)
    for c in ACCOUNT_EXTRA:
        lay.add("account", c)
    for src, (target, _) in lay.merges.items():
        for c in lay.columns[src]:
            if c != "key" and not c.endswith("_ref"):
                lay.add(target, c)
    for cols in lay.columns.values():
        if "src_line" in cols:
            cols.remove("src_line")
        cols.append("src_line")
    return lay


class Handler:
    """What to do with the children of one complex element."""

    __slots__ = ("simple", "single", "multi", "complex", "rows")

    def __init__(self) -> None:
        self.simple: dict[str, tuple[int, int]] = {}  # tag -> (slot, slot of <col>_all or -1)
        self.single: dict[str, int] = {}  # tag -> slot, for elements that occur at most once
        self.multi: dict[str, tuple[int, int]] = {}  # tag -> (slot, slot of <col>_all)
        self.complex: dict[str, Handler | EntityPlan] = {}
        self.rows: dict[str, RowsPlan] = {}  # tag -> rows made by a repeated simple element


class EntityPlan:
    """A complex element that makes one row of an entity."""

    __slots__ = ("entity", "n", "handler", "key_from", "key_slot", "parent", "refs", "inherit", "src",
                 "up", "collect")

    def __init__(self, entity: str, n: int) -> None:
        self.entity, self.n = entity, n
        self.handler = Handler()
        self.key_from: str | None = None  # ancestor entity whose key prefixes this row's key
        self.key_slot = -1  # slot of the element completing the key; -1: ordinal under the parent row
        self.parent: str | None = None
        self.refs: list[tuple[int, str]] = []
        self.inherit: list[tuple[int, str, int]] = []  # (slot, ancestor entity, ancestor slot)
        self.src = n - 1
        self.up: list[tuple[int, int, int]] = []  # (own slot, parent slot, parent _all slot or -1)
        self.collect: list[tuple[int, int]] = []  # (own slot, parent slot)


@dataclass
class RowsPlan:
    entity: str
    n: int
    value_slot: int
    refs: list[tuple[int, str]]
    inherit: list[tuple[int, str, int]]


def _entity_plan(node: Node, entity: str, parent: str | None, ancestors: list[str], desc: Description,
                 lay: Layout) -> EntityPlan:
    idx = lay.index(entity)
    plan = EntityPlan(entity, len(idx))
    plan.parent = parent
    spec = desc.entities.get(entity, {})
    key = str(spec.get("key", f"{parent}/#"))
    plan.key_from, _, elem = key.partition("/")
    plan.key_slot = -1 if elem in ("#", "") else idx[elem.lower()]
    plan.refs = [(idx[f"{r}_ref"], r) for r in spec.get("refs", [parent] if parent else []) if r in ancestors]
    plan.inherit = _inherits(spec, idx, ancestors, lay)
    plan.src = idx["src_line"]
    if parent is not None:
        pidx = lay.index(parent)
        plan.up = [(idx[c], pidx[c], pidx.get(c + "_all", -1)) for c in node.up]
        plan.collect = [(idx[c], pidx[p]) for c, p in node.collect.items()]
    _handler(node, plan.handler, entity, ancestors + [entity], desc, lay)
    return plan


def _inherits(spec: dict, idx: dict[str, int], ancestors: list[str], lay: Layout) -> list[tuple[int, str, int]]:
    out = []
    for c in spec.get("inherit", []):
        src = next((a for a in reversed(ancestors) if c in lay.columns.get(a, ())), None)
        if src is not None:
            out.append((idx[c], src, lay.index(src)[c]))
    return out


def _handler(node: Node, h: Handler, entity: str, ancestors: list[str], desc: Description, lay: Layout) -> None:
    idx = lay.index(entity)
    for ch in node.children:
        if ch.simple:
            col = column_of(ch)
            h.simple[ch.name] = (idx[col], idx.get(col + "_all", -1) if _multi(ch) else -1)
            if h.simple[ch.name][1] < 0:
                h.single[ch.name] = idx[col]
            else:
                h.multi[ch.name] = h.simple[ch.name]
            if ch.rows:
                ridx = lay.index(ch.rows)
                rspec = desc.entities.get(ch.rows, {})
                h.rows[ch.name] = RowsPlan(
                    ch.rows, len(ridx), ridx[col],
                    [(ridx[f"{r}_ref"], r) for r in rspec.get("refs", [entity]) if r in ancestors],
                    _inherits(rspec, ridx, ancestors, lay))
        elif ch.entity is not None:
            h.complex[ch.name] = _entity_plan(ch, ch.entity, entity, ancestors, desc, lay)
        else:
            sub = Handler()
            _handler(ch, sub, entity, ancestors, desc, lay)
            h.complex[ch.name] = sub


@dataclass
class FilePlan:
    """The compiled mapping of one description."""

    head: Handler | None  # ZGLV/SCHET → the account row (None for L files)
    record: EntityPlan
    layout: Layout


def compile_plan(desc: Description, lay: Layout) -> FilePlan:
    root = desc.root
    head = None
    if root.entity is not None:
        head = Handler()
        _handler(Node(root.name, 1, 1, children=[c for c in root.children if c.name != desc.record]),
                 head, root.entity, [root.entity], desc, lay)
    rec = root.child(desc.record)
    assert rec is not None and rec.entity is not None
    ancestors = [root.entity] if root.entity else []
    return FilePlan(head, _entity_plan(rec, rec.entity, root.entity, ancestors, desc, lay), lay)


def fill(el: etree._Element, h: Handler, row: list, later: list) -> None:
    """Copy simple children into ``row``; flatten complex ones without an entity; defer the rest."""
    single, multi, complex_, intern = h.single, h.multi, h.complex, _STRINGS.setdefault
    for ch in el:
        tag = ch.tag
        i = single.get(tag)  # type: ignore[arg-type]
        if i is not None:
            text = ch.text
            row[i] = None if text is None else intern(text, text)
            continue
        s = multi.get(tag)  # type: ignore[arg-type]
        if s is not None:
            i, a = s
            text = ch.text
            if text is not None:
                text = intern(text, text)
            cur = row[a]
            if cur is None and row[i] is None:
                row[i] = text
            if text is not None:
                row[a] = text if cur is None else cur + ";" + text
            if h.rows and tag in h.rows:
                later.append((h.rows[tag], text, ch.sourceline))
            continue
        sub = complex_.get(tag)  # type: ignore[arg-type]
        if sub is None:
            continue  # comments, or an element the description does not know (ФЛК reports it)
        if sub.__class__ is Handler:
            fill(ch, sub, row, later)  # type: ignore[arg-type]
        else:
            later.append((sub, ch, ch.sourceline))


def add_row(el: etree._Element, plan: EntityPlan, ctx: dict[str, list], out: dict[str, list],
            ordinal: int = 0, parent_row: list | None = None) -> list:
    row = [None] * plan.n
    later: list = []
    fill(el, plan.handler, row, later)
    prefix = ctx[plan.key_from][0] if plan.key_from in ctx else None
    own = row[plan.key_slot] if plan.key_slot >= 0 else str(ordinal)
    row[0] = f"{prefix}/{own}" if prefix is not None else own
    for slot, anc in plan.refs:
        row[slot] = ctx[anc][0]
    for slot, anc, aslot in plan.inherit:
        row[slot] = ctx[anc][aslot]
    row[plan.src] = el.sourceline
    out[plan.entity].append(row)
    if parent_row is not None:
        for own_slot, pslot, pall in plan.up:
            v = row[own_slot]
            if parent_row[pslot] is None:
                parent_row[pslot] = v
            if pall >= 0 and v is not None:
                parent_row[pall] = v if parent_row[pall] is None else parent_row[pall] + ";" + v
        for own_slot, pslot in plan.collect:
            v = row[own_slot]
            if v is not None:
                parent_row[pslot] = v if parent_row[pslot] is None else parent_row[pslot] + ";" + v
    if later:
        ctx[plan.entity] = row
        counts: dict[str, int] = {}
        for item, value, line in later:
            name = item.entity
            counts[name] = n = counts.get(name, 0) + 1
            if item.__class__ is RowsPlan:
                r = [None] * item.n
                r[0] = f"{row[0]}/{n}"
                r[item.value_slot] = value
                for slot, anc in item.refs:
                    r[slot] = ctx[anc][0]
                for slot, anc, aslot in item.inherit:
                    r[slot] = ctx[anc][aslot]
                r[-1] = line
                out[name].append(r)
            else:
                add_row(value, item, ctx, out, n, row)
    return row


def fill_head(el: etree._Element, head: Handler, row: list) -> None:
    sub = head.complex.get(el.tag)  # type: ignore[arg-type]
    if sub is not None and sub.__class__ is Handler:
        fill(el, sub, row, [])  # type: ignore[arg-type]


_PLANS: dict[int, tuple[FormatSet, Layout, dict[tuple[str, str], FilePlan]]] = {}


def plans(formats: FormatSet) -> tuple[Layout, dict[tuple[str, str], FilePlan]]:
    """The layout and the compiled plan of every description of a format set (cached)."""
    hit = _PLANS.get(id(formats))
    if hit is None or hit[0] is not formats:
        lay = build_layout(formats)
        hit = _PLANS[id(formats)] = (formats, lay, {k: compile_plan(d, lay) for k, d in formats.by_key.items()})
    return hit[1], hit[2]


def unique_slots(plan: FilePlan, paths: tuple[tuple[str, ...], ...]) -> list[tuple[str, int]]:
    """(entity, slot) of each record-relative path, or [] when one of them is not a simple column."""
    out = []
    for path in paths:
        node: Handler | EntityPlan = plan.record
        entity = plan.record.entity
        for part in path[:-1]:
            h = node.handler if isinstance(node, EntityPlan) else node
            nxt = h.complex.get(part)
            if nxt is None:
                return []
            if isinstance(nxt, EntityPlan):
                entity = nxt.entity
            node = nxt
        h = node.handler if isinstance(node, EntityPlan) else node
        s = h.simple.get(path[-1])
        if s is None:
            return []
        out.append((entity, s[0]))
    return out

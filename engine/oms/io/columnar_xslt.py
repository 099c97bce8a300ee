"""A record plan (mapping.py) compiled into XSLT: libxslt walks a parsed file and writes its rows.

The stylesheet reproduces ``mapping.add_row`` exactly — keys, refs, inherited columns, first
value and ``;``-joined ``_all`` columns of repeated elements, columns taken ``up`` from and
``collect``-ed over child rows, rows made by repeated simple elements, ``src_line`` — but runs
in C: one pass per file, no Python per value. Each row is written as ROW, entity code, then
FIELD + value per emitted slot; an empty value stands for a missing one (the row reader's None:
lxml gives ``None`` for the text of an empty element). The two separators are private-use
characters that windows-1251 cannot encode, so only a numeric character reference could bring
them into a value; the fast reader refuses such files to the row reader (fastscan.py).

A plan the stylesheet cannot reproduce exactly raises ``Unsupported``; its files are read by
the row reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from .mapping import EntityPlan, FilePlan, Handler, RowsPlan

FIELD, ROW = "\ue000", "\ue001"
_FIELD_REF, _ROW_REF = "&#xE000;", "&#xE001;"
_SAXON = "http://icl.com/saxon"


class Unsupported(Exception):
    """The plan uses a combination the stylesheet does not reproduce (the row reader handles it)."""


@dataclass
class Emitted:
    """What one row code carries: the entity and the layout slots of its fields, in order."""

    entity: str
    slots: list[int]


@dataclass
class Stylesheet:
    text: str
    rows: dict[str, Emitted] = field(default_factory=dict)  # row code -> fields
    params: list[tuple[str, str, int]] = field(default_factory=list)  # (param, "account", slot or 0 for key)


def _q(text: str) -> str:
    return quoteattr(text)


class _Gen:
    def __init__(self, plan: FilePlan) -> None:
        self.plan = plan
        self.out: list = []
        self.sheet = Stylesheet("")
        self.n = 0
        self.slots: dict[str, set[int]] = {}

    # -- simple-slot sources of one entity row (its handler tree, flattened) --------------
    def sources(self, h: Handler, prefix: str, got: dict[int, tuple[str, str]], later: list) -> None:
        for tag, slot in h.single.items():
            self._put(got, slot, ("last", prefix + tag))
        for tag, (slot, all_slot) in h.multi.items():
            self._put(got, slot, ("first", prefix + tag))
            self._put(got, all_slot, ("all", prefix + tag))
            if tag in h.rows:
                later.append((prefix + tag, h.rows[tag]))
        for tag, sub in h.complex.items():
            if isinstance(sub, Handler):
                self.sources(sub, prefix + tag + "/", got, later)
            else:
                later.append((prefix + tag, sub))

    @staticmethod
    def _put(got: dict, slot: int, src: tuple[str, str]) -> None:
        if slot in got:
            raise Unsupported(f"slot {slot} has two sources")
        got[slot] = src

    # -- XPath pieces -----------------------------------------------------------------------
    @staticmethod
    def value(src: tuple[str, str]) -> str:
        how, path = src
        if how == "last":  # at most one per parent (the schema says so): the last only through containers
            return f'<xsl:value-of select="({path})[last()]"/>' if "/" in path else f'<xsl:value-of select="{path}"/>'
        if how == "first":
            return f"<xsl:value-of select=\"({path})[. != ''][1]\"/>"
        return (f"<xsl:for-each select=\"{path}[. != '']\"><xsl:if test=\"position() != 1\">;</xsl:if>"
                '<xsl:value-of select="."/></xsl:for-each>')

    @staticmethod
    def ordinal(path: str) -> str:
        """1-based position of the context element among the parent row's elements at ``path``."""
        parts = path.split("/")
        terms = []
        for up in range(len(parts)):
            rest = "/".join(parts[len(parts) - up:])
            step = "../" * up + "preceding-sibling::" + parts[len(parts) - 1 - up]
            terms.append(f"count({step}{'/' + rest if rest else ''})")
        return " + ".join(terms) + " + 1"

    # -- templates ----------------------------------------------------------------------------
    def entity(self, plan: EntityPlan, path: str | None, mode: str | None, ctx: list[str],
               ancestors: list[str]) -> None:
        """A template for ``plan``'s element; ``path`` is relative to the parent row's element."""
        got: dict[int, tuple[str, str]] = {}
        later: list[tuple[str, EntityPlan | RowsPlan]] = []
        self.sources(plan.handler, "", got, later)
        code = self._code(plan.entity)
        match = path.rsplit("/", 1)[-1] if path else self.record_tag
        body: list = [f"<xsl:template match={_q(match)}{f' mode={_q(mode)}' if mode else ''}>"]
        body += [f'<xsl:param name="{v}"/>' for v in ctx]
        if plan.key_slot >= 0:
            if plan.key_slot not in got:
                raise Unsupported("key element is not a simple column")
            own = f"<xsl:variable name=\"own\">{self.value(got[plan.key_slot])}</xsl:variable>"
        else:
            if path is None:
                raise Unsupported("ordinal key of a record")
            own = f'<xsl:variable name="own" select="{self.ordinal(path)}"/>'
        body.append(own)
        if plan.key_from in ancestors or plan.key_from == "account" and "k_account" in ctx:
            # f"{prefix}/{own}": a missing key element prints as None
            body.append(f"<xsl:variable name=\"key\" select=\"concat($k_{plan.key_from}, '/', "
                        f"substring('None', 1, 4 * ($own = '')), $own)\"/>")
        elif plan.key_from in ("", None):
            body.append('<xsl:variable name="key" select="$own"/>')
        else:
            raise Unsupported(f"key prefix {plan.key_from} is not an ancestor")
        fields: dict[int, str] = {0: '<xsl:value-of select="$key"/>'}
        for slot, src in got.items():
            if slot != 0:
                fields[slot] = self.value(src)
        for slot, anc in plan.refs:
            self._field(fields, slot, f'<xsl:value-of select="$k_{anc}"/>')
        for slot, anc, aslot in plan.inherit:
            self._field(fields, slot, f'<xsl:value-of select="${self._var(anc, aslot, ctx)}"/>')
        self._field(fields, plan.src, '<xsl:value-of select="saxon:line-number(.)"/>')
        taken = self._children_up(later, fields)
        self._emit(body, code, plan.entity, fields)
        if later:
            inner = ctx + [f"k_{plan.entity}"]
            passed = [f'<xsl:with-param name="k_{plan.entity}" select="$key"/>']
            for var, slot in self.needed_from(plan.entity, later):
                if slot in taken:
                    raise Unsupported("an inherited column is also taken from child rows")
                inner.append(var)
                passed.append(f'<xsl:with-param name="{var}">{fields[slot]}</xsl:with-param>'
                              if slot in fields else f'<xsl:with-param name="{var}" select="\'\'"/>')
            passed += [f'<xsl:with-param name="{v}" select="${v}"/>' for v in ctx]
            child_mode = f"m{self.n}"
            self.n += 1
            lasts = [p.rsplit("/", 1)[-1] for p, _ in later]
            if len(set(lasts)) != len(lasts):
                raise Unsupported("two child paths end in the same element")
            names = [c.entity for _, c in later]
            if len(set(names)) != len(names):
                raise Unsupported("one entity from two child paths")
            select = " | ".join(p for p, _ in later)
            body.append(f"<xsl:apply-templates select={_q(select)} mode={_q(child_mode)}>{''.join(passed)}"
                        "</xsl:apply-templates>")
            for cpath, child in later:
                if isinstance(child, RowsPlan):
                    self.rows_template(child, cpath, child_mode, inner, ancestors + [plan.entity])
                else:
                    self.entity(child, cpath, child_mode, inner, ancestors + [plan.entity])
        body.append("</xsl:template>")
        self.out.extend(body)

    def _children_up(self, later: list, fields: dict[int, str]) -> set[int]:
        """Columns of this row made from its child rows (``up`` and ``collect``)."""
        sources: dict[int, list[tuple[str, str, str]]] = {}
        for cpath, child in later:
            if not isinstance(child, EntityPlan):
                continue
            cgot: dict[int, tuple[str, str]] = {}
            self.sources(child.handler, "", cgot, [])
            for own_slot, pslot, pall in child.up:
                tag = self._direct(cgot, own_slot)
                sources.setdefault(pslot, []).append(("first", cpath, tag))
                if pall >= 0:
                    sources.setdefault(pall, []).append(("join", cpath, tag))
            for own_slot, pslot in child.collect:
                sources.setdefault(pslot, []).append(("join", cpath, self._direct(cgot, own_slot)))
        for slot, items in sources.items():
            if len(items) != 1:
                raise Unsupported("a column taken from two kinds of child rows")
            how, cpath, tag = items[0]
            own = fields.get(slot, "")
            if how == "first":
                child = f"<xsl:value-of select=\"({cpath}/{tag})[. != ''][1]\"/>"
                fields[slot] = (f"<xsl:variable name=\"o{slot}\">{own}</xsl:variable><xsl:choose><xsl:when "
                                f"test=\"$o{slot} != ''\"><xsl:value-of select=\"$o{slot}\"/></xsl:when>"
                                f"<xsl:otherwise>{child}</xsl:otherwise></xsl:choose>")
            else:
                joined = (f"<xsl:for-each select=\"{cpath}[{tag}[. != '']]\"><xsl:if test=\"position() != 1 or "
                          f"$o{slot} != ''\">;</xsl:if><xsl:value-of select=\"{tag}[. != ''][1]\"/></xsl:for-each>")
                fields[slot] = (f"<xsl:variable name=\"o{slot}\">{own}</xsl:variable>"
                                f"<xsl:value-of select=\"$o{slot}\"/>{joined}")
        return set(sources)

    @staticmethod
    def _direct(cgot: dict, slot: int) -> str:
        src = cgot.get(slot)
        if src is None or "/" in src[1]:
            raise Unsupported("a column taken up is not a direct simple child")
        return src[1]

    def rows_template(self, rp: RowsPlan, path: str, mode: str, ctx: list[str], ancestors: list[str]) -> None:
        code = self._code(rp.entity)
        body: list = [f"<xsl:template match={_q(path.rsplit('/', 1)[-1])} mode={_q(mode)}>"]
        body += [f'<xsl:param name="{v}"/>' for v in ctx]
        parent = ancestors[-1]
        fields: dict[int, str] = {0: f"<xsl:value-of select=\"concat($k_{parent}, '/', {self.ordinal(path)})\"/>"}
        self._field(fields, rp.value_slot, '<xsl:value-of select="."/>')
        for slot, anc in rp.refs:
            self._field(fields, slot, f'<xsl:value-of select="$k_{anc}"/>')
        for slot, anc, aslot in rp.inherit:
            self._field(fields, slot, f'<xsl:value-of select="${self._var(anc, aslot, ctx)}"/>')
        self._field(fields, rp.n - 1, '<xsl:value-of select="saxon:line-number(.)"/>')
        self._emit(body, code, rp.entity, fields)
        body.append("</xsl:template>")
        self.out.extend(body)

    # -- helpers ------------------------------------------------------------------------------
    def needed_from(self, entity: str, later: list) -> list[tuple[str, int]]:
        """(variable, slot) of this row's columns that descendants inherit."""
        out: dict[str, int] = {}

        def walk(items: list) -> None:
            for _, child in items:
                for _, anc, aslot in child.inherit:
                    if anc == entity:
                        out[f"v_{entity}_{aslot}"] = aslot
                if isinstance(child, EntityPlan):
                    sub: list = []
                    self.sources(child.handler, "", {}, sub)
                    walk(sub)

        walk(later)
        return sorted(out.items())

    def _var(self, anc: str, aslot: int, ctx: list[str]) -> str:
        if anc == "account":
            name = f"a_{aslot}"
            if (name, "account", aslot) not in self.sheet.params:
                self.sheet.params.append((name, "account", aslot))
            return name
        name = f"v_{anc}_{aslot}"
        if name not in ctx:
            raise Unsupported(f"inherited column of {anc} not passed")
        return name

    @staticmethod
    def _field(fields: dict[int, str], slot: int, xsl: str) -> None:
        if slot in fields:
            raise Unsupported(f"slot {slot} set twice")
        fields[slot] = xsl

    def _code(self, entity: str) -> str:
        code = f"r{len(self.sheet.rows)}"
        self.sheet.rows[code] = Emitted(entity, [])
        return code

    def _emit(self, body: list, code: str, entity: str, fields: dict[int, str]) -> None:
        """A placeholder: rows of one entity from several templates share the union of their slots."""
        self.slots.setdefault(entity, set()).update(fields)
        body.append((code, fields))

    def _render(self, item: str | tuple[str, dict[int, str]]) -> str:
        if isinstance(item, str):
            return item
        code, fields = item
        order = sorted(self.slots[self.sheet.rows[code].entity])
        self.sheet.rows[code].slots = order
        return f"<xsl:text>{_ROW_REF}{code}</xsl:text>" + "".join(
            f"<xsl:text>{_FIELD_REF}</xsl:text>{fields.get(slot, '')}" for slot in order)

    def run(self, root_tag: str, record_tag: str, has_account: bool) -> Stylesheet:
        self.record_tag = record_tag
        ctx = ["k_account"] if has_account else []
        ancestors = ["account"] if has_account else []
        self.entity(self.plan.record, None, "rec", ctx, ancestors)
        params = [f'<xsl:param name="{name}"/>' for name, _, _ in self.sheet.params]
        passed = "".join(f'<xsl:with-param name="{v}" select="${v}"/>' for v in ctx)
        head = ['<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" '
                f'xmlns:saxon="{_SAXON}" extension-element-prefixes="saxon">',
                '<xsl:output method="text" encoding="utf-8"/>',
                *(['<xsl:param name="k_account"/>'] if has_account else []), *params,
                f'<xsl:template match="/"><xsl:apply-templates select="/{root_tag}/{record_tag}" mode="rec">'
                f"{passed}</xsl:apply-templates></xsl:template>"]
        self.sheet.text = "\n".join(head + [self._render(x) for x in self.out] + ["</xsl:stylesheet>"])
        return self.sheet


def stylesheet(plan: FilePlan, root_tag: str, record_tag: str) -> Stylesheet:
    """The stylesheet of one description's plan; raises Unsupported."""
    return _Gen(plan).run(root_tag, record_tag, plan.head is not None)

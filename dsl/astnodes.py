"""Surface AST of rule files. Every node keeps the span it came from."""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.diagnostics import Span


@dataclass
class Node:
    span: Span


# ---- expressions -----------------------------------------------------------

@dataclass
class Number(Node):
    text: str


@dataclass
class String(Node):
    value: str


@dataclass
class DateLit(Node):
    text: str


@dataclass
class Bool(Node):
    value: bool


@dataclass
class Name(Node):
    name: str


@dataclass
class Attr(Node):
    base: Node
    name: str
    name_span: Span


@dataclass
class Index(Node):
    base: Node
    args: list[Node]


@dataclass
class Unary(Node):
    op: str  # "-" | "not"
    operand: Node


@dataclass
class Binary(Node):
    op: str  # + - * / == != < <= > >= and or
    left: Node
    right: Node


@dataclass
class SetItem(Node):
    low: Node
    high: Node | None  # a range low..high when set


@dataclass
class InSet(Node):
    operand: Node
    items: list[SetItem]
    negated: bool


@dataclass
class Between(Node):
    operand: Node
    low: Node
    high: Node


@dataclass
class If(Node):
    branches: list[tuple[Node, Node]]
    otherwise: Node


@dataclass
class Key(Node):
    left: Node
    right: Node | None  # right is None: the same expression on both sides


@dataclass
class Call(Node):
    func: str
    func_span: Span
    args: list[Node]
    alias: str | None = None
    by: list[Key] | None = None
    where: Node | None = None
    order: Node | None = None
    order_desc: bool = False

    @property
    def has_clauses(self) -> bool:
        return self.alias is not None or self.by is not None or self.where is not None \
            or self.order is not None


# ---- decision tables ---------------------------------------------------------

@dataclass
class Cell(Node):
    kind: str  # any | cmp | in | not_in | range | expr
    op: str | None = None
    value: Node | None = None
    high: Node | None = None
    items: list[SetItem] | None = None


@dataclass
class DecideRow(Node):
    cells: list[Cell] | None  # None for the else row
    result: Node


@dataclass
class Decide(Node):
    policy: str
    aggregator: str | None
    inputs: list[Node] | None
    rows: list[DecideRow]


# ---- declarations ------------------------------------------------------------

@dataclass
class TypeRef(Node):
    name: str
    optional: bool


@dataclass
class Annotation(Node):
    key: str
    value: str


class Annotated:
    """Declarations that carry @label/@ref/@unit/@doc annotations."""

    annotations: list[Annotation]

    def annotation(self, key: str) -> str | None:
        for a in self.annotations:
            if a.key == key:
                return a.value
        return None


@dataclass
class Definition(Node, Annotated):
    entity: str
    name: str
    name_span: Span
    type: TypeRef
    body: Node  # expression or Decide
    override: bool
    annotations: list[Annotation] = field(default_factory=list)
    entity_span: Span | None = None   # the entity name of the enclosing `for` block


@dataclass
class Clause(Node):
    kind: str  # catalogue | kinds | valid | code | title | when | withhold | fine | message
    expr: Node | None = None
    base: Node | None = None
    text: str | None = None
    # catalogue: [(id, span)]; kinds: [(letter, span)…]; valid: [(from, span)] or [(from, span), (to, span)]
    items: list[tuple[str, Span]] | None = None


@dataclass
class Check(Node, Annotated):
    name: str
    name_span: Span
    entity: str
    entity_span: Span
    clauses: list[Clause]
    override: bool
    annotations: list[Annotation] = field(default_factory=list)

    def clause(self, kind: str) -> Clause | None:
        for c in self.clauses:
            if c.kind == kind:
                return c
        return None


@dataclass
class Disable(Node):
    name: str
    name_span: Span
    reason: str


@dataclass
class Param(Node):
    name: str
    type: TypeRef
    default: Node | None = None     # trailing parameters only: used when a call omits the argument


@dataclass
class FunctionDef(Node, Annotated):
    name: str
    name_span: Span
    params: list[Param]
    returns: TypeRef
    body: Node
    override: bool
    annotations: list[Annotation] = field(default_factory=list)


@dataclass
class Module:
    file: str
    definitions: list[Definition]
    checks: list[Check]
    disables: list[Disable]
    text: str = ""
    functions: list[FunctionDef] = field(default_factory=list)


def source_text(node: Node, text: str) -> str:
    """The exact source text a node was parsed from (single file, by offsets in lines)."""
    lines = text.splitlines()
    s = node.span
    if s.line < 1 or s.line > len(lines):
        return ""
    if s.end_line > len(lines):   # a block that ends with the file ends on the line after it
        s = type(s)(s.file, s.line, s.column, len(lines), len(lines[-1]) + 1)
    if s.line == s.end_line:
        return lines[s.line - 1][s.column - 1:s.end_column - 1]
    parts = [lines[s.line - 1][s.column - 1:]]
    parts.extend(lines[s.line:s.end_line - 1])
    parts.append(lines[s.end_line - 1][:s.end_column - 1])
    return " ".join(p.strip() for p in parts)

"""Typed intermediate representation produced by the type checker and run by the engine.

Frames: a definition body is evaluated over the rows of its entity (frame 0). An
aggregate opens a new frame over the rows it aggregates (frame 1, …). ``FieldRef.frame``
says which frame's row a reference reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.diagnostics import Span
from dsl.primitives.registry import Primitive
from dsl.types import Type


@dataclass(eq=False)
class IR:
    type: Type
    span: Span


@dataclass(eq=False)
class Const(IR):
    value: object  # int | float | bool | str | days (int) | kopecks (int)


@dataclass(eq=False)
class FieldRef(IR):
    frame: int
    path: tuple[str, ...]   # relations followed from the frame's entity
    entity: str             # entity that owns the attribute (after the path)
    name: str
    is_definition: bool


@dataclass(eq=False)
class ParamRef(IR):
    name: str
    frame: int              # whose as-of date selects the dated value


@dataclass(eq=False)
class Lookup(IR):
    table: str
    keys: list[IR]
    column: str | None      # None: existence test
    frame: int


@dataclass(eq=False)
class Convert(IR):
    to: str                 # "float" (int/money → number roubles) | "kopecks" (int roubles → money)
    operand: IR


@dataclass(eq=False)
class Unary(IR):
    op: str                 # "-" | "not"
    operand: IR


@dataclass(eq=False)
class Binary(IR):
    op: str
    left: IR
    right: IR


@dataclass(eq=False)
class IfNode(IR):
    cond: IR
    then: IR
    otherwise: IR


@dataclass(eq=False)
class InSetNode(IR):
    operand: IR
    values: list[object]
    ranges: list[tuple[object, object]]
    negated: bool


@dataclass(eq=False)
class CallNode(IR):
    prim: Primitive
    args: list[IR]


@dataclass(eq=False)
class AggNode(IR):
    """Aggregate or window function over the rows of ``source``.

    mode:
      - "child": source rows belong to the current row through ``relation`` (source → current);
      - "group": source is the current entity, grouped by ``keys_src`` (same expressions on both sides);
      - "keyed": source rows whose ``keys_src`` equal the current row's ``keys_cur``;
      - "pair":  like keyed, but ``where``/value also read the current row (alias form);
      - "all":   every source row (no key, no relation).
    The value, keys_src, where and order are evaluated in the source frame (frame + 1).
    """

    prim: Primitive
    source: str
    mode: str
    value: IR | None
    args: list[IR] = field(default_factory=list)
    keys_src: list[IR] = field(default_factory=list)
    keys_cur: list[IR] = field(default_factory=list)
    where: IR | None = None
    order: IR | None = None
    desc: bool = False
    relation: str | None = None
    frame: int = 0


CALLER_FRAME = -2   # ParamRef/Lookup inside a function body: dated at the calling row


@dataclass(eq=False)
class ArgRef(IR):
    index: int
    name: str


@dataclass(eq=False)
class FuncCall(IR):
    """A call of a user-defined function: arguments evaluated once, then the body over them."""

    name: str
    args: list[IR]
    body: IR
    frame: int        # the caller's frame (dates of parameters and tables inside the body)


@dataclass(eq=False)
class DecideNode(IR):
    policy: str                         # unique | first | any | collect
    aggregator: str | None              # for collect: sum | min | max | count
    rows: list[tuple[IR, IR]]           # (condition, result)
    otherwise: IR | None
    row_spans: list[Span] = field(default_factory=list)


def children(node: IR) -> list[IR]:
    """Direct sub-expressions, in source order (used by explain, graph and printers)."""
    if isinstance(node, Lookup):
        return list(node.keys)
    if isinstance(node, (Convert, Unary)):
        return [node.operand]
    if isinstance(node, Binary):
        return [node.left, node.right]
    if isinstance(node, IfNode):
        return [node.cond, node.then, node.otherwise]
    if isinstance(node, InSetNode):
        return [node.operand]
    if isinstance(node, CallNode):
        return list(node.args)
    if isinstance(node, FuncCall):
        return list(node.args)
    if isinstance(node, AggNode):
        out = [x for x in (node.value,) if x is not None] + list(node.args) + list(node.keys_src) \
            + list(node.keys_cur)
        out += [x for x in (node.where, node.order) if x is not None]
        return out
    if isinstance(node, DecideNode):
        out = []
        for c, r in node.rows:
            out += [c, r]
        if node.otherwise is not None:
            out.append(node.otherwise)
        return out
    return []


def walk(node: IR):
    yield node
    for c in children(node):
        yield from walk(c)

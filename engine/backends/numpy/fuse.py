"""Fuse elementwise arithmetic subtrees into one numexpr expression.

The expression text is generated only from the typed IR — operators from a fixed table,
constants from typed Python numbers, operands as bound variable names — never from
user-written text.
"""

from __future__ import annotations

import numexpr as ne
import numpy as np

from dsl import ir
from dsl.columns import Col

_OPS = {"+": "+", "-": "-", "*": "*", "/": "/", "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">",
        ">=": ">=", "and": "&", "or": "|"}
_KINDS = ("bool", "int", "number", "money", "date")
MIN_OPERATORS = 2


class _Builder:
    def __init__(self, ev, frames) -> None:
        self.ev = ev
        self.frames = frames
        self.vars: dict[str, np.ndarray] = {}
        self.ops = 0
        self.divides = False

    def leaf(self, node: ir.IR) -> str:
        col = self.ev.eval_direct(node, self.frames)
        data = np.asarray(col.data)
        if col.missing is not None and col.missing.any():
            raise _NotFusable
        if data.ndim and data.strides and data.strides[0] == 0 and data.shape[0] > 0:
            data = np.asarray(data[0])
        name = f"v{len(self.vars)}"
        self.vars[name] = data
        return name

    def build(self, node: ir.IR) -> str:
        if node.type.kind not in _KINDS or node.type.optional:
            raise _NotFusable
        if isinstance(node, ir.Const):
            v = node.value
            if isinstance(v, bool):
                return "True" if v else "False"
            if isinstance(v, float):
                return repr(v) if np.isfinite(v) else self.leaf(node)
            return str(int(v))
        if isinstance(node, ir.Binary):
            if node.left.type.kind not in _KINDS or node.right.type.kind not in _KINDS:
                return self.leaf(node)
            self.ops += 1
            self.divides |= node.op == "/"
            return f"({self.build(node.left)} {_OPS[node.op]} {self.build(node.right)})"
        if isinstance(node, ir.Unary):
            self.ops += 1
            return f"({'~' if node.op == 'not' else '-'}{self.build(node.operand)})"
        if isinstance(node, ir.IfNode):
            self.ops += 1
            return f"where({self.build(node.cond)}, {self.build(node.then)}, {self.build(node.otherwise)})"
        if isinstance(node, ir.Convert):
            self.ops += 1
            inner = self.build(node.operand)
            if node.to == "kopecks":
                return f"({inner} * 100)"
            if node.operand.type.kind == "money":
                return f"({inner} / 100.0)"
            return f"({inner} * 1.0)"
        return self.leaf(node)


class _NotFusable(Exception):
    pass


def try_fuse(ev, node: ir.IR, frames) -> Col | None:
    b = _Builder(ev, frames)
    try:
        text = b.build(node)
    except _NotFusable:
        return None
    if b.ops < MIN_OPERATORS:
        return None
    n = frames[-1].n
    if not b.vars:
        return None
    result = ne.evaluate(text, local_dict=b.vars, global_dict={})
    result = np.asarray(result)
    if result.ndim == 0:
        result = np.full(n, result[()])
    if node.type.kind in ("int", "money", "date") and result.dtype.kind == "f":
        return None  # a float crept in where exact integers are required: use the numpy path
    if b.divides and result.dtype.kind == "f" and not np.all(np.isfinite(result)):
        return None  # let the numpy path locate and report the division by zero
    return Col(node.type, result)

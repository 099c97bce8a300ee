"""Explain: the tree of every value behind one computed value of one row.

Re-evaluates the definition's IR on that single row; nothing is recorded during
ordinary runs, so tracing costs nothing when not asked for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from dsl import ir
from engine.backends.numpy.evaluator import Evaluator, RFrame
from engine.runtime.model import span_text
from engine.runtime.personal import MASK, masked_value
from engine.runtime.values import display

MAX_CHILD_ROWS = 5   # related rows shown one by one under an aggregate


@dataclass
class TraceNode:
    kind: str                 # definition | field | parameter | table | aggregate | expression
    text: str
    value: str
    type: str
    label: str | None = None
    reference: str | None = None
    unit: str | None = None
    source: str | None = None     # file:line:col
    package: str | None = None
    note: str | None = None
    children: list[TraceNode] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)



class Explainer:
    def __init__(self, ev: Evaluator, personal_data: bool = False, max_depth: int = 12) -> None:
        self.ev = ev
        ev.recompute_subsets = True
        self.m = ev.m
        self.personal = personal_data
        self.max_depth = max_depth

    def explain(self, entity: str, row_key: str, name: str) -> TraceNode:
        ent = self.ev.data.entities.get(entity)
        if ent is None:
            raise KeyError(f"нет сущности «{entity}»")
        row = ent.row_index(row_key)
        if row is None:
            raise KeyError(f"нет строки «{row_key}» сущности «{entity}»")
        if (entity, name) not in self.m.defs:
            if name in ent.cols:
                return self._field_node(entity, name, row, name)
            raise KeyError(f"у сущности «{entity}» нет определения «{name}»")
        return self._definition(entity, name, row, 0)

    def explain_check(self, entity: str, row_key: str, check: str) -> TraceNode:
        """Why a check fires (or not) on one row: its condition, explained like a definition."""
        info = self.m.checks.get(check)
        if info is None or info.ir is None or info.ir.when is None:
            raise KeyError(f"нет проверки «{check}»")
        if info.entity != entity:
            raise KeyError(f"проверка «{check}» относится к сущности «{info.entity}», а не «{entity}»")
        row = self.ev.data.entities[entity].row_index(row_key)
        if row is None:
            raise KeyError(f"нет строки «{row_key}» сущности «{entity}»")
        frames = [RFrame(entity, np.array([row]), 1)]
        when = info.ir.when
        fired = self.ev.eval(when, frames).value_at(0)
        text = span_text(self.m, when.span) or ""
        from engine.runtime.scope import describe, out_of_scope

        binding = describe(info.ir)
        outside = out_of_scope(info.ir, self.ev.data, entity, row)
        verdict = "не выполняется" if outside else ("срабатывает" if fired else "не срабатывает")
        title = f"проверка {check}" + (f" ({binding})" if binding else "") + f": when {text}"
        node = TraceNode("check", title, verdict, "bool", None, info.ref, None, str(info.provenance.span),
                         info.provenance.package, outside)
        if isinstance(when, ir.FieldRef):
            self._keep(node.children, when, frames, 1)
        else:
            node.children = self._expand(when, frames, 1)
        return node

    def _definition(self, entity: str, name: str, row: int, depth: int) -> TraceNode:
        info = self.m.defs[(entity, name)]
        frames = [RFrame(entity, np.array([row]), 1)]
        col = self.ev.definition_at(entity, name, np.array([row]), recompute=True)
        prov = info.provenance
        note = None
        if info.overrides is not None:
            note = f"заменяет определение из {info.overrides.provenance.package}"
        value = self._masked(info.ir, col)
        if not info.type.optional and col.value_at(0) is None:
            note = ((note + "; ") if note else "") + "значение не определено: на дату строки не действует " \
                "параметр, от которого оно зависит (см. ниже)"
        node = TraceNode("definition", f"{entity}.{name} = {info.text}", value,
                         str(info.type), info.label, info.ref, info.unit, str(prov.span), prov.package, note)
        if depth < self.max_depth and info.ir is not None:
            node.children = self._expand(info.ir, frames, depth + 1)
        return node

    def _expand(self, node: ir.IR, frames, depth: int) -> list[TraceNode]:
        if isinstance(node, ir.FuncCall):
            col = self.ev.eval(node, frames)
            return [self._function_node(node, frames, span_text(self.m, node.span) or node.name,
                                        self._masked(node, col), depth)]
        if isinstance(node, ir.IfNode):
            return self._taken_branch(node, frames, depth)
        if isinstance(node, ir.DecideNode):
            return self._matched_rows(node, frames, depth)
        if isinstance(node, ir.AggNode):
            return self._children(node, frames, depth) + self._child_rows(node, frames, depth)
        if isinstance(node, ir.CallNode) and node.prim.name == "default":
            present = self.ev.eval(node.args[0], frames).value_at(0) is not None
            out: list[TraceNode] = []
            self._keep(out, node.args[0], frames, depth)
            if not present:
                self._keep(out, node.args[1], frames, depth)
            return out
        return self._children(node, frames, depth)

    def _children(self, node: ir.IR, frames: list[RFrame], depth: int) -> list[TraceNode]:
        out = []
        for c in ir.children(node) if not isinstance(node, ir.AggNode) else node.keys_cur:
            t = self._node(c, frames, depth)
            if t is not None:
                out.append(t)
        return out

    def _child_rows(self, node: ir.AggNode, frames: list[RFrame], depth: int) -> list[TraceNode]:
        """For a few related rows (an SL's services, a case's SLs), the value of each, explained."""
        from engine.backends.numpy.match_explain import explain_rows

        matched = explain_rows(self, node, frames, depth)   # rules matched from a rule table
        if matched is not None:
            return matched
        if node.mode != "child" or frames[0].entity is None or len(frames) != 1:
            return []
        value = node.value
        if not (isinstance(value, ir.FieldRef) and not value.path and value.entity == node.source):
            return []
        fk = self.ev.data.entities[node.source].rel[node.relation]
        rows = np.nonzero(fk == int(frames[0].rows[0]))[0]
        if len(rows) == 0 or len(rows) > MAX_CHILD_ROWS:
            return []
        out = []
        for r in rows:
            if value.is_definition:
                out.append(self._definition(node.source, value.name, int(r), depth))
            else:
                out.append(self._field_node(node.source, value.name, int(r), f"{node.source}.{value.name}"))
        return out

    def _row_of(self, ref: ir.FieldRef, frames: list[RFrame]) -> tuple[str, int] | None:
        f = frames[0]
        ent = f.entity
        idx = int(f.rows[0])
        for rel in ref.path:
            idx = int(self.ev.data.entities[ent].rel[rel][idx])
            ent = self.m.entities[ent].relations[rel].entity
            if idx < 0:
                return None
        return ent, idx

    def _node(self, node: ir.IR, frames: list[RFrame], depth: int) -> TraceNode | None:
        if isinstance(node, ir.Const):
            return None
        if isinstance(node, ir.Convert):
            return self._node(node.operand, frames, depth)
        text = span_text(self.m, node.span) or ""
        if isinstance(node, ir.FieldRef) and node.frame == 0:
            target = self._row_of(node, frames)
            if target is None:
                return TraceNode("field", text, "—", str(node.type), note="связанная строка не найдена")
            ent, row = target
            if node.is_definition:
                d = self._definition(ent, node.name, row, depth)
                d.text = f"{text} = {self.m.defs[(ent, node.name)].text}" if text != node.name else d.text
                return d
            return self._field_node(ent, node.name, row, text)
        col = self.ev.eval(node, frames)
        value = self._masked(node, col)
        if isinstance(node, ir.ParamRef):
            return self._param_node(node, frames, text, value)
        if isinstance(node, ir.Lookup):
            return self._lookup_node(node, frames, text, value, depth)
        if isinstance(node, ir.FuncCall):
            return self._function_node(node, frames, text, value, depth)
        if isinstance(node, ir.AggNode):
            t = TraceNode("aggregate", text, value, str(node.type),
                          note=f"{node.prim.name} по строкам «{node.source}» ({_MODES[node.mode]})")
            t.children = self._children(node, frames, depth + 1) + self._child_rows(node, frames, depth + 1)
            return t
        t = TraceNode("expression", text, value, str(node.type), source=str(node.span))
        if depth < self.max_depth:
            t.children = self._expand(node, frames, depth + 1)
        return t

    def _function_node(self, node: ir.FuncCall, frames, text: str, value: str, depth: int) -> TraceNode:
        """A formula call: its arguments, then the formula's own steps over them."""
        info = self.m.functions.get(node.name)
        body_text = span_text(self.m, info.ast.body.span) if info is not None else ""
        t = TraceNode("function", f"{text} = {body_text}" if body_text else text, value, str(node.type),
                      info.label if info else None, info.ref if info else None, None,
                      str(info.provenance.span) if info else None, info.provenance.package if info else None,
                      f"заменяет формулу из {info.overrides.provenance.package}" if info and info.overrides else None)
        if depth >= self.max_depth:
            return t
        for a in node.args:
            self._keep(t.children, a, frames, depth + 1)
        n = frames[-1].n
        from engine.backends.numpy.evaluator import materialize

        args = [materialize(self.ev.eval(a, frames), n) for a in node.args]
        caller = self.ev.call_frames[-1] if node.frame == ir.CALLER_FRAME and self.ev.call_frames else node.frame
        self.ev.arg_env.append(args)
        self.ev.call_frames.append(caller)
        try:
            t.children += self._expand(node.body, frames, depth + 1)
        finally:
            self.ev.arg_env.pop()
            self.ev.call_frames.pop()
        return t

    def _truth(self, node: ir.IR, frames) -> bool:
        col = self.ev.eval(node, frames)
        return bool(col.value_at(0))

    def _keep(self, out: list[TraceNode], node: ir.IR, frames, depth: int) -> None:
        t = self._node(node, frames, depth)
        if t is not None:
            out.append(t)

    def _taken_branch(self, node: ir.IfNode, frames, depth: int) -> list[TraceNode]:
        """The conditions tried in order and the value of the branch taken (an elif chain is one node)."""
        out: list[TraceNode] = []
        cur = node
        while True:
            self._keep(out, cur.cond, frames, depth)
            if self._truth(cur.cond, frames):
                self._keep(out, cur.then, frames, depth)
                return out
            nxt = cur.otherwise
            if isinstance(nxt, ir.IfNode) and nxt.span == node.span:   # the next `elif`
                cur = nxt
                continue
            self._keep(out, nxt, frames, depth)
            return out

    def _matched_rows(self, node: ir.DecideNode, frames, depth: int) -> list[TraceNode]:
        out: list[TraceNode] = []
        for i, (cond, result) in enumerate(node.rows):
            if not self._truth(cond, frames):
                continue
            row = TraceNode("expression", f"строка {i + 1} таблицы решений", "совпала", "bool",
                            source=str(node.row_spans[i]) if i < len(node.row_spans) else None)
            self._keep(row.children, cond, frames, depth + 1)
            self._keep(row.children, result, frames, depth + 1)
            out.append(row)
            if node.policy != "collect":
                return out
        if not out and node.otherwise is not None:
            self._keep(out, node.otherwise, frames, depth)
        return out

    def _masked(self, node: ir.IR | None, col) -> str:
        """Display a value, masking anything but yes/no answers derived from personal data."""
        if not self.personal and masked_value(self.m, node, col.type.kind):
            return MASK
        return display(col.value_at(0), col.type)

    def _field_node(self, entity: str, name: str, row: int, text: str) -> TraceNode:
        fdef = self.m.entities[entity].fields[name]
        col = self.ev.data.entities[entity].cols[name]
        value = display(col.value_at(row), col.type)
        if fdef.personal and not self.personal:
            value = MASK
        return TraceNode("field", text or f"{entity}.{name}", value, str(fdef.type), fdef.label,
                         note=f"входные данные: {entity} [{self.ev.data.entities[entity].keys[row]}]")

    def _param_node(self, node: ir.ParamRef, frames, text: str, value: str) -> TraceNode:
        p = self.m.params[node.name]
        days = self.ev.frame_days(node.frame, frames)
        day = int(days[0]) if days is not None else self.ev.context_day
        period = p.period_at(day) if day is not None else None
        from engine.runtime.params import FAR_FUTURE, key_text

        note = None
        ref = p.reference
        if period is not None:
            note = f"значение действует с {key_text(period.start)}" if period.start > -(2**30) else None
            if period.end < FAR_FUTURE:
                note = (note or "значение действует") + f" по {key_text(period.end - 1)}"
            ref = period.reference or ref
        elif day is not None:
            note = f"не действует на дату {key_text(day)}: значение не определено"
        if p.assumption:
            note = (note + "; " if note else "") + f"ДОПУЩЕНИЕ: {p.assumption}"
        return TraceNode("parameter", text, value, str(p.type), p.label, ref, p.unit,
                         str(period.span if period else p.span), p.package, note)

    def _lookup_node(self, node: ir.Lookup, frames, text: str, value: str, depth: int) -> TraceNode:
        t = self.m.tables[node.table]
        keys = [self.ev.eval(k, frames) for k in node.keys]
        days = self.ev.frame_days(node.frame, frames) if t.dated else None
        if t.dated and days is None and self.ev.context_day is not None:
            days = np.array([self.ev.context_day])
        row = int(t.find(keys, days)[0])
        where = f"{t.file}:{t.row_lines[row]}" if row >= 0 else None
        key_text = ", ".join(display(k.value_at(0), k.type) for k in keys)
        note = f"ключ ({key_text}) → строка {where}" if where else f"ключ ({key_text}) не найден"
        tn = TraceNode("table", text, value, str(node.type), t.label, t.reference, None, where, t.package, note)
        tn.children = self._children(node, frames, depth + 1)
        return tn


_MODES = {"child": "связанные строки", "group": "группа по ключу", "keyed": "по ключу",
          "pair": "попарное сравнение", "all": "все строки"}


def render_text(node: TraceNode, indent: str = "", last: bool = True, top: bool = True) -> str:
    head = "" if top else indent + ("└─ " if last else "├─ ")
    line = f"{head}{node.text} → {node.value}"
    extra = []
    if node.unit:
        line += f" {node.unit}"
    if node.label:
        extra.append(f"«{node.label}»")
    if node.reference:
        extra.append(node.reference)
    if node.note:
        extra.append(node.note)
    if node.package and node.source:
        extra.append(f"{node.package}, {node.source}")
    elif node.source and node.kind != "expression":
        extra.append(node.source)
    out = [line + (f"  [{'; '.join(extra)}]" if extra else "")]
    child_indent = indent + ("" if top else ("   " if last else "│  "))
    for i, c in enumerate(node.children):
        out.append(render_text(c, child_indent, i == len(node.children) - 1, False))
    return "\n".join(out)

"""Evaluate `check` definitions into a long defects table (one row per failure)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dsl import ir
from dsl.columns import Col
from dsl.primitives.rounding import half_up_scaled
from engine.backends.numpy.evaluator import Evaluator, RFrame
from engine.runtime.model import CheckInfo
from engine.runtime.personal import MASK, masked_value
from engine.runtime.scope import row_scope
from engine.runtime.values import display


@dataclass
class Defect:
    entity: str
    row_key: str
    check: str
    code: str
    title: str
    share: float
    withheld: int          # kopecks
    fine: int              # kopecks
    base: int              # kopecks the share applies to
    message: str
    values: dict[str, str]
    package: str
    reference: str | None
    rule: str              # file:line:col of the check
    catalogue: str | None = None   # Q015 ID when the check is bound to the FFOMS catalogue

    def as_row(self) -> dict:
        return {
            "entity": self.entity, "row": self.row_key, "check": self.check, "code": self.code,
            "title": self.title, "share": self.share, "withheld": display(self.withheld, _MONEY),
            "fine": display(self.fine, _MONEY), "message": self.message, "values": self.values,
            "methodology": self.package, "reference": self.reference or "", "rule": self.rule,
            "catalogue": self.catalogue or "",
        }


from dsl.types import MONEY as _MONEY  # noqa: E402


@dataclass
class DefectTable:
    defects: list[Defect] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.defects)

    def by_row(self) -> dict[tuple[str, str], list[Defect]]:
        out: dict[tuple[str, str], list[Defect]] = {}
        for d in self.defects:
            out.setdefault((d.entity, d.row_key), []).append(d)
        return out


def involved_refs(node: ir.IR | None, depth: int = 0) -> list[ir.IR]:
    """References of the current row that a condition reads (not the inside of aggregates)."""
    out: list[ir.IR] = []
    if node is None:
        return out
    if isinstance(node, ir.FieldRef) and node.frame == depth:
        return [node]
    if isinstance(node, ir.ParamRef):
        return [node]
    if isinstance(node, ir.AggNode):
        return [node]
    for c in ir.children(node):
        out.extend(involved_refs(c, depth))
    return out


def _text(m, node: ir.IR) -> str:
    from engine.runtime.model import span_text

    return span_text(m, node.span) or "?"


def run_check(ev: Evaluator, info: CheckInfo, scopes: dict | None = None) -> list[Defect]:
    c = info.ir
    ent = ev.data.entities[info.entity]
    if c is None or c.when is None or ent.n == 0:
        return []
    when = ev.eval(c.when, [ev.root_frame(info.entity)])
    ev.unresolved(when, c.when, [ev.root_frame(info.entity)], f"проверка «{info.name}»")
    fired = np.asarray(np.broadcast_to(when.data, (ent.n,)), dtype=bool)
    scope = row_scope(c, ev.data, info.entity, scopes)
    if scope is not None:
        fired = fired & scope
    hit = np.nonzero(fired)[0]
    if len(hit) == 0:
        return []
    frames = [RFrame(info.entity, hit, len(hit))]

    def col(node: ir.IR | None) -> Col | None:
        if node is None:
            return None
        from engine.backends.numpy.evaluator import materialize

        return materialize(ev.eval(node, frames), len(hit))

    codes, titles = col(c.code), col(c.title)
    share = col(c.share)
    base = col(c.base)
    fine = col(c.fine)
    refs = involved_refs(c.when)
    # unique by source text, keep order
    seen: dict[str, ir.IR] = {}
    for r in refs:
        seen.setdefault(_text(ev.m, r), r)
    ref_cols = {t: col(r) for t, r in seen.items()}
    ph_cols = {t: col(x) for t, x in c.placeholders.items()}
    share_v = np.asarray(share.data, dtype=np.float64) if share is not None else np.zeros(len(hit))
    base_v = np.asarray(base.data, dtype=np.int64) if base is not None else np.zeros(len(hit), np.int64)
    withheld = half_up_scaled(base_v * share_v, 0).astype(np.int64)
    fine_v = np.asarray(fine.data, dtype=np.int64) if fine is not None else np.zeros(len(hit), np.int64)
    rule = str(info.provenance.span)
    out = []
    # the values a condition read are collected automatically: those derived from personal data
    # (ФИО, СНИЛС, полис …) are masked here. A message is written by the methodologist; the API
    # and the web show its personal values only to roles with that right (api/store/personal.py)
    hidden = {t for t, r in seen.items() if masked_value(ev.m, r, ref_cols[t].type.kind)}
    for i, row in enumerate(hit):
        values = {t: MASK if t in hidden else display(v.value_at(i), v.type) for t, v in ref_cols.items()}
        msg = c.message or ""
        for t, v in ph_cols.items():
            msg = msg.replace("{" + t + "}", display(v.value_at(i), v.type))
        out.append(Defect(info.entity, str(ent.keys[row]), info.name,
                          str(codes.value_at(i)) if codes else "", str(titles.value_at(i)) if titles else "",
                          float(share_v[i]), int(withheld[i]), int(fine_v[i]), int(base_v[i]), msg, values,
                          info.provenance.package, info.ref, rule, c.catalogue))
    return out


def run_checks(ev: Evaluator, names: list[str] | None = None) -> DefectTable:
    table = DefectTable()
    scopes: dict = {}   # masks shared by checks with the same kinds, validity and entity
    for name, info in ev.m.checks.items():
        if names is not None and name not in names:
            continue
        table.defects.extend(run_check(ev, info, scopes))
    return table

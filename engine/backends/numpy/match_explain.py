"""Explain under an aggregate over a rule-table entity: the rules that matched one row."""

from __future__ import annotations

import numpy as np

from engine.runtime.match import match_tables

MAX_EXPLAINED = 40


def explain_rows(explainer, node, frames, depth: int):
    """Under an aggregate over a rule-table entity: every rule that matched this row — its table,
    row number, CSV line and cells — with the values of the package's definitions on it
    (conditions, priority, cost, choice key). None when the aggregate is not over such an entity."""
    from engine.backends.numpy.explain import TraceNode

    ev, m = explainer.ev, explainer.m
    tables = [t for t in match_tables(m.tables) if t.spec.entity == node.source]
    if not tables or node.mode != "child" or frames[0].entity is None or len(frames) != 1:
        return None
    ent = ev.data.entities[node.source]
    rows = np.nonzero(ent.rel[node.relation] == int(frames[0].rows[0]))[0]
    defs = [name for (e, name) in m.defs if e == node.source]
    out = []
    for r in rows[:MAX_EXPLAINED]:
        idx = np.array([r])
        table = ent.cols["table"].value_at(int(r))
        t = next(x for x in tables if x.name == table)
        cells = ", ".join(f"{c}={ent.cols[c].value_at(int(r))}" for c in t.columns
                          if c != t.keys[0] and ent.cols[c].value_at(int(r)) is not None)
        num = ent.cols[t.keys[0]].value_at(int(r))
        line = ent.cols["line"].value_at(int(r))
        tn = TraceNode("row", f"{table}, строка № {num}: {cells}", str(ent.cols.get("ksg", ent.cols["table"]).value_at(int(r))),
                       "row", t.label, t.reference, None, f"{t.file}:{line}", t.package)
        for name in defs:
            info = m.defs[(node.source, name)]
            col = ev.definition_at(node.source, name, idx, recompute=False)
            from engine.runtime.values import display

            tn.children.append(TraceNode("definition", f"{node.source}.{name}", display(col.value_at(0), info.type),
                                         str(info.type), info.label, info.ref, info.unit,
                                         str(info.provenance.span), info.provenance.package))
        out.append(tn)
    if len(rows) > MAX_EXPLAINED:
        out.append(TraceNode("note", f"… ещё {len(rows) - MAX_EXPLAINED} строк", "", ""))
    return out

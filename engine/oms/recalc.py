"""Mass recalculation: one dataset under two methodology versions, with deltas and reasons.

For each row of the chosen entity: the value under A and under B and the difference;
totals per group (МО by default); and, for the rows that changed most, which parameters,
table rows and rules made the difference (a comparison of the two explanation trees).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsl.columns import Col, code_strings
from engine.backends.numpy.evaluator import Evaluator
from engine.backends.numpy.explain import Explainer, TraceNode
from engine.runtime.dataset import Dataset
from engine.runtime.model import Methodology
from engine.runtime.values import display


@dataclass
class RecalcResult:
    entity: str
    name: str
    keys: np.ndarray
    a: Col
    b: Col
    delta: np.ndarray              # kopecks for money, else float
    groups: list[dict]
    reasons: dict[str, list[str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _numeric(col: Col) -> np.ndarray:
    data = np.asarray(col.data)
    if col.missing is not None:
        data = np.where(col.missing, 0, data)
    return data.astype(np.int64 if col.type.kind in ("money", "int") else np.float64)


def recalc(ma: Methodology, mb: Methodology, data: Dataset, entity: str, name: str,
           group_field: str | None = "lpu", explain_top: int = 5) -> RecalcResult:
    t0 = time.perf_counter()
    ea, eb = Evaluator(ma, data), Evaluator(mb, data)
    a, b = ea.column(entity, name), eb.column(entity, name)
    t1 = time.perf_counter()
    va, vb = _numeric(a), _numeric(b)
    delta = vb - va
    ent = data.entities[entity]
    groups = []
    if group_field is not None and group_field in ent.cols:
        gcol = ent.cols[group_field]
        labels = code_strings(gcol) if gcol.type.kind in ("code", "text") else np.asarray(gcol.data).astype(str)
        uniq, inv = np.unique(labels.astype(str), return_inverse=True)
        sa = np.bincount(inv, weights=va, minlength=len(uniq)) if va.dtype.kind == "f" else _exact_sum(inv, va, len(uniq))
        sb = np.bincount(inv, weights=vb, minlength=len(uniq)) if vb.dtype.kind == "f" else _exact_sum(inv, vb, len(uniq))
        changed = np.bincount(inv, weights=(delta != 0).astype(np.float64), minlength=len(uniq)).astype(np.int64)
        rows = np.bincount(inv, minlength=len(uniq))
        for i, g in enumerate(uniq):
            groups.append({"group": g, "rows": int(rows[i]), "changed": int(changed[i]),
                           "a": sa[i], "b": sb[i], "delta": sb[i] - sa[i]})
    t2 = time.perf_counter()
    result = RecalcResult(entity, name, ent.keys, a, b, delta, groups)
    if explain_top:
        order = np.argsort(-np.abs(delta), kind="stable")[:explain_top]
        for i in order:
            if delta[i] == 0:
                break
            key = str(ent.keys[i])
            result.reasons[key] = explain_difference(ea, eb, entity, key, name)
    result.timings = {"evaluate_s": t1 - t0, "deltas_s": t2 - t1, "explain_s": time.perf_counter() - t2}
    return result


def _exact_sum(inv: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, inv, v)
    return out


def _flatten(node: TraceNode, out: dict[str, TraceNode]) -> None:
    if node.kind in ("parameter", "table", "definition"):
        key = node.text.split(" = ")[0] if node.kind == "definition" else node.text
        out.setdefault(f"{node.kind}:{key}", node)
    for c in node.children:
        _flatten(c, out)


def explain_difference(ea: Evaluator, eb: Evaluator, entity: str, key: str, name: str) -> list[str]:
    """Parameters, table rows and rules whose values or texts differ between the two trees."""
    ta = Explainer(ea).explain(entity, key, name)
    tb = Explainer(eb).explain(entity, key, name)
    fa: dict[str, TraceNode] = {}
    fb: dict[str, TraceNode] = {}
    _flatten(ta, fa)
    _flatten(tb, fb)
    lines = [f"{entity} [{key}].{name}: {ta.value} → {tb.value}"]
    for k in list(fa) + [k for k in fb if k not in fa]:
        x, y = fa.get(k), fb.get(k)
        kind, label = k.split(":", 1)
        if x is None:
            lines.append(f"  + {_what(kind)} {label}: {y.value}  [{y.package}, {y.source}]")
        elif y is None:
            lines.append(f"  − {_what(kind)} {label}: {x.value}  [{x.package}, {x.source}]")
        elif kind == "definition":
            rule_a, rule_b = x.text.split(" = ", 1)[-1], y.text.split(" = ", 1)[-1]
            if rule_a != rule_b or x.package != y.package:
                lines.append(f"  ~ правило {label}: «{rule_a}» ({x.package}) → «{rule_b}» ({y.package}); "
                             f"значение {x.value} → {y.value}")
        elif x.value != y.value or x.source != y.source:
            ref = f"; основание: {y.reference}" if y.reference and y.reference != x.reference else ""
            lines.append(f"  ~ {_what(kind)} {label}{f' «{y.label}»' if y.label else ''}: {x.value} ({x.source}) "
                         f"→ {y.value} ({y.source}){ref}")
    return lines


def _what(kind: str) -> str:
    return {"parameter": "параметр", "table": "таблица", "definition": "правило"}[kind]


def write_recalc(res: RecalcResult, out: Path, ma: Methodology, mb: Methodology) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    money = res.a.type.kind == "money"

    def show(v) -> str:
        return display(int(v), res.a.type) if money else repr(float(v))

    with (out / "deltas.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["key", f"{ma.ref}", f"{mb.ref}", "delta"])
        nz = np.nonzero(res.delta)[0]
        va, vb = _numeric(res.a), _numeric(res.b)
        for i in nz:
            w.writerow([res.keys[i], show(va[i]), show(vb[i]), show(res.delta[i])])
    with (out / "by_group.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["group", "rows", "changed", ma.ref, mb.ref, "delta"])
        for g in res.groups:
            w.writerow([g["group"], g["rows"], g["changed"], show(g["a"]), show(g["b"]), show(g["delta"])])
    (out / "reasons.txt").write_text("\n\n".join("\n".join(v) for v in res.reasons.values()) + "\n", encoding="utf-8")
    summary = {
        "from": ma.ref, "from_hash": ma.content_hash, "to": mb.ref, "to_hash": mb.content_hash,
        "value": f"{res.entity}.{res.name}", "rows": int(len(res.keys)),
        "changed": int(np.count_nonzero(res.delta)),
        "total_from": show(_numeric(res.a).sum()), "total_to": show(_numeric(res.b).sum()),
        "total_delta": show(res.delta.sum()), "timings": {k: round(v, 3) for k, v in res.timings.items()},
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return summary

"""JSON views of a compiled methodology: the resolved view with provenance, diff, test report."""

from __future__ import annotations

from typing import Any

from engine.runtime.diff import diff
from engine.runtime.model import Methodology
from engine.runtime.params import FAR_FUTURE, key_text
from engine.runtime.values import display
from engine.testing import TestReport


def _where(span: Any) -> dict[str, Any] | None:
    if span is None:
        return None
    return {"file": span.file, "line": span.line, "column": span.column}


def resolved_view(m: Methodology) -> dict[str, Any]:
    """Every definition, parameter, table and check with package id@version and file:line."""
    params = []
    for p in m.params.values():
        periods = [{"from": None if per.start <= -(2**30) else key_text(per.start),
                    "to": None if per.end >= FAR_FUTURE else key_text(per.end - 1),
                    "value": None if per.value is None else display(per.value, p.type),
                    "reference": per.reference, "source": _where(per.span)} for per in p.periods]
        params.append({"name": p.name, "type": str(p.type), "label": p.label, "unit": p.unit,
                       "reference": p.reference, "package": p.package, "source": _where(p.span),
                       "periods": periods})
    tables = [{"name": t.name, "label": t.label, "reference": t.reference, "keys": t.keys,
               "columns": {k: str(v) for k, v in t.columns.items()}, "dated": t.dated, "rows": len(t.rows),
               "package": t.package, "file": t.file, "source": _where(t.span)} for t in m.tables.values()]
    defs = [{"entity": d.entity, "name": d.name, "type": str(d.type), "label": d.label, "reference": d.ref,
             "unit": d.unit, "expression": " ".join(d.text.split()), "package": d.provenance.package,
             "source": _where(d.provenance.span),
             "overrides": d.overrides.provenance.package if d.overrides else None} for d in m.defs.values()]
    checks = [{"name": c.name, "entity": c.entity, "reference": c.ref, "package": c.provenance.package,
               "catalogue": c.ir.catalogue if c.ir is not None else None,
               "source": _where(c.provenance.span),
               "overrides": c.overrides.provenance.package if c.overrides else None} for c in m.checks.values()]
    disabled = [{"name": d.name, "reason": d.reason, "package": d.provenance.package,
                 "source": _where(d.provenance.span), "original_package": d.original.provenance.package}
                for d in m.disabled.values()]
    entities = [{"name": e.name, "label": e.label, "key": e.key, "as_of": e.as_of,
                 "fields": [{"name": f.name, "type": str(f.type), "label": f.label, "personal": f.personal}
                            for f in e.fields.values()]} for e in m.entities.values()]
    return {"package": m.ref, "title": m.package.title, "sha256": m.content_hash,
            "chain": [p.ref for p in m.chain], "entities": entities, "parameters": params, "tables": tables,
            "definitions": defs, "checks": checks, "disabled": disabled, "outputs": m.outputs}


def diff_view(a: Methodology, b: Methodology) -> list[dict[str, Any]]:
    return [c.to_json() for c in diff(a, b)]


def test_view(report: TestReport) -> dict[str, Any]:
    return {"passed": report.passed, "failed": report.failed,
            "cases": [{"name": r.name, "file": r.file, "line": r.line, "ok": r.ok, "failures": r.failures}
                      for r in report.results]}


def output_types(m: Methodology) -> dict[str, dict[str, str]]:
    """Types of stored result values per entity (money values are integer kopecks)."""
    out: dict[str, dict[str, str]] = {}
    for (ent, name), d in m.defs.items():
        out.setdefault(ent, {})[name] = str(d.type)
    for ent, names in m.outputs.items():
        for n in names:
            f = m.entities[ent].fields.get(n) if ent in m.entities else None
            if f is not None:
                out.setdefault(ent, {})[n] = str(f.type)
    return out

"""`metodika diff A B`: what changed between two methodologies, as a methodologist's change list."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.runtime.model import Methodology
from engine.runtime.params import ParamDef, key_text
from engine.runtime.tables import TableDef
from engine.runtime.values import display


@dataclass
class Change:
    kind: str          # parameter | table | definition | check
    op: str            # added | removed | changed | disabled
    name: str
    lines: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"kind": self.kind, "op": self.op, "name": self.name, "details": self.lines}


_NOT_IN_FORCE = "не действует"
_ABSENT = "—"


def _periods(p: ParamDef) -> dict[int, str]:
    out = {}
    for per in p.periods:
        out[per.start] = _NOT_IN_FORCE if per.value is None else display(per.value, p.type)
    return out


def _with_unit(value: str, unit: str) -> str:
    """A value with its unit; a missing value (no period, not in force) carries none."""
    return value if value in (_NOT_IN_FORCE, _ABSENT) else value + unit


def _change(old: str, new: str, unit: str) -> str:
    """«old → new unit»: the unit once, after the last side that is a value."""
    if _with_unit(new, unit) != new:
        return f"{old} → {new}{unit}"
    return f"{_with_unit(old, unit)} → {new}"


def _when(day: int) -> str:
    return "всегда" if day <= -(2**30) else f"с {key_text(day)}"


def diff_params(a: dict[str, ParamDef], b: dict[str, ParamDef]) -> list[Change]:
    out = []
    for name in sorted(set(a) | set(b)):
        pa, pb = a.get(name), b.get(name)
        lab = (pb.label if pb else None) or (pa.label if pa else None)
        un = (pb.unit if pb else None) or (pa.unit if pa else None)
        label = f" «{lab}»" if lab else ""
        unit = f" {un}" if un else ""
        if pa is None:
            vals = "; ".join(f"{_when(d)} {_with_unit(v, unit)}" for d, v in sorted(_periods(pb).items()))
            out.append(Change("parameter", "added", name, [f"+ {name}{label}: {vals}"]))
            continue
        if pb is None:
            out.append(Change("parameter", "removed", name, [f"− {name}{label}"]))
            continue
        va, vb = _periods(pa), _periods(pb)
        lines = []
        for d in sorted(set(va) | set(vb)):
            if va.get(d) != vb.get(d):
                lines.append(f"~ {name}{label} {_when(d)}: {_change(va.get(d, _ABSENT), vb.get(d, _ABSENT), unit)}")
        if pa.type != pb.type:
            lines.append(f"~ {name}: тип {pa.type} → {pb.type}")
        if (pa.reference or "") != (pb.reference or ""):
            lines.append(f"~ {name}: основание «{pa.reference or '—'}» → «{pb.reference or '—'}»")
        if lines:
            out.append(Change("parameter", "changed", name, lines))
    return out


def _table_rows(t: TableDef) -> dict[tuple, dict]:
    out = {}
    for i, r in enumerate(t.rows):
        key = tuple(r[k] for k in t.keys) + ((int(t.starts[i]),) if t.dated else ())
        out[key] = r
    return out


def _row_key_text(t: TableDef, key: tuple) -> str:
    parts = [str(k) for k in key[: len(t.keys)]]
    if t.dated:
        parts.append(_when(key[-1]))
    return ", ".join(parts)


def diff_tables(a: dict[str, TableDef], b: dict[str, TableDef]) -> list[Change]:
    out = []
    for name in sorted(set(a) | set(b)):
        ta, tb = a.get(name), b.get(name)
        if ta is None:
            out.append(Change("table", "added", name, [f"+ таблица {name}: {len(tb.rows)} строк"]))
            continue
        if tb is None:
            out.append(Change("table", "removed", name, [f"− таблица {name}"]))
            continue
        ra, rb = _table_rows(ta), _table_rows(tb)
        lines = []
        for k in sorted(set(ra) | set(rb), key=lambda x: tuple(str(v) for v in x)):
            x, y = ra.get(k), rb.get(k)
            if x is None:
                lines.append(f"+ {name} [{_row_key_text(tb, k)}]: " + ", ".join(
                    f"{c}={display(y[c], tb.columns[c])}" for c in tb.columns if c not in tb.keys))
            elif y is None:
                lines.append(f"− {name} [{_row_key_text(ta, k)}]: " + ", ".join(
                    f"{c}={display(x[c], ta.columns[c])}" for c in ta.columns if c not in ta.keys))
            else:
                ch = [f"{c}: {display(x.get(c), ta.columns.get(c, tb.columns[c]))} → {display(y.get(c), tb.columns[c])}"
                      for c in tb.columns if c not in tb.keys and x.get(c) != y.get(c)]
                if ch:
                    lines.append(f"~ {name} [{_row_key_text(tb, k)}]: " + "; ".join(ch))
        if lines:
            label = f" «{tb.label}»" if tb.label else ""
            out.append(Change("table", "changed", name, [f"таблица {name}{label}:"] + ["  " + x for x in lines]))
    return out


def _norm(text: str) -> str:
    return " ".join(text.split())


def _body(m: Methodology, info) -> list[str]:
    """The definition's body as written, line by line (decision tables stay tables)."""
    span = info.ast.body.span
    text = m.sources.get(span.file)
    if text is None:
        return [_norm(info.text)]
    lines = text.splitlines()
    last = min(span.end_line, len(lines))
    body = lines[span.line - 1:last]
    if not body:
        return [_norm(info.text)]
    body[0] = body[0][span.column - 1:]
    if span.end_line <= len(lines) and span.end_line == last and len(body) > 1:
        body[-1] = body[-1][:span.end_column - 1] if span.end_column > 1 else body[-1]
    return [b.rstrip() for b in body if b.strip()]


def _check_title(m: Methodology, c) -> str:
    from engine.runtime.model import span_text

    parts = []
    for kind in ("code", "title"):
        cl = c.ast.clause(kind)
        if cl is not None and cl.expr is not None:
            parts.append((span_text(m, cl.expr.span) or "").strip('"'))
    return " ".join(p for p in parts if p)


def diff_definitions(a: Methodology, b: Methodology) -> list[Change]:
    out = []
    for key in sorted(set(a.defs) | set(b.defs)):
        da, db = a.defs.get(key), b.defs.get(key)
        qn = f"{key[0]}.{key[1]}"
        if da is None:
            out.append(Change("definition", "added", qn, [f"+ {qn}: {db.type} = {_norm(db.text)}  ({db.provenance})"]))
        elif db is None:
            out.append(Change("definition", "removed", qn, [f"− {qn}"]))
        elif _norm(da.text) != _norm(db.text) or da.type != db.type:
            label = f" «{db.label}»" if db.label else ""
            before, after = _body(a, da), _body(b, db)
            lines = [f"~ {qn}{label}", f"    было ({da.provenance.package}):  {before[0]}"]
            lines += [f"        {x}" for x in before[1:]]
            lines.append(f"    стало ({db.provenance.package}): {after[0]}")
            lines += [f"        {x}" for x in after[1:]]
            out.append(Change("definition", "changed", qn, lines))
    for name in sorted(set(a.checks) | set(b.checks) | set(b.disabled)):
        ca, cb = a.checks.get(name), b.checks.get(name)
        if name in b.disabled and ca is not None:
            dis = b.disabled[name]
            out.append(Change("check", "disabled", name, [f"⊘ проверка {name} отключена: {dis.reason} ({dis.provenance})"]))
        elif ca is None and cb is not None:
            out.append(Change("check", "added", name, [f"+ проверка {name} «{_check_title(b, cb)}» ({cb.provenance})"]))
        elif cb is None and ca is not None and name not in b.disabled:
            out.append(Change("check", "removed", name, [f"− проверка {name} «{_check_title(a, ca)}»"]))
        elif ca is not None and cb is not None and ca.provenance.package != cb.provenance.package \
                and cb.overrides is not None:
            out.append(Change("check", "changed", name, [f"~ проверка {name} переопределена в {cb.provenance}"]))
    return out


def _fn_body(m: Methodology, f) -> str:
    from engine.runtime.model import span_text

    return _norm(span_text(m, f.ast.body.span) or "")


def diff_functions(a: Methodology, b: Methodology) -> list[Change]:
    out = []
    body = _fn_body
    for name in sorted(set(a.functions) | set(b.functions)):
        fa, fb = a.functions.get(name), b.functions.get(name)
        if fa is None:
            out.append(Change("function", "added", name, [f"+ {name}(…) = {body(b, fb)}  ({fb.provenance})"]))
        elif fb is None:
            out.append(Change("function", "removed", name, [f"− {name}(…)"]))
        elif body(a, fa) != body(b, fb):
            label = f" «{fb.label}»" if fb.label else ""
            out.append(Change("function", "changed", name, [
                f"~ формула {name}{label}", f"    было ({fa.provenance.package}):  {body(a, fa)}",
                f"    стало ({fb.provenance.package}): {body(b, fb)}"]))
    return out


def diff(a: Methodology, b: Methodology) -> list[Change]:
    return diff_params(a.params, b.params) + diff_tables(a.tables, b.tables) + diff_functions(a, b) \
        + diff_definitions(a, b)


def render(a: Methodology, b: Methodology, changes: list[Change]) -> str:
    out = [f"Изменения {a.ref} → {b.ref}"]
    sections = [("parameter", "Параметры"), ("table", "Таблицы"), ("function", "Формулы (функции)"),
                ("definition", "Определения"), ("check", "Проверки")]
    for kind, title in sections:
        items = [c for c in changes if c.kind == kind]
        if not items:
            continue
        out.append(f"\n{title}:")
        for c in items:
            out.extend("  " + line for line in c.lines)
    if len(out) == 1:
        out.append("различий нет")
    return "\n".join(out)


"""Which definitions a request needs, in which order (levels), and what SQL cannot express.

A level holds the definitions whose dependencies are all in earlier levels; each level of an
entity is one ``CREATE TABLE … AS SELECT prev.*, expr AS d_x, …`` over the previous version.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl import ir
from dsl.diagnostics import Diagnostic, Span
from engine.runtime.model import Methodology


def def_deps(m: Methodology, node: ir.IR | None) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    if node is None:
        return out
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ir.FieldRef) and (n.entity, n.name) in m.defs:
            out.add((n.entity, n.name))
        if isinstance(n, ir.FuncCall):
            stack.append(n.body)
        stack.extend(ir.children(n))
    return out


def check_nodes(c) -> list[ir.IR]:
    """Every IR of a check that the defects table reads."""
    nodes = [c.when, c.code, c.title, c.share, c.base, c.fine, *c.placeholders.values()]
    return [n for n in nodes if n is not None]


@dataclass
class Plan:
    levels: list[list[tuple[str, str]]]      # level → definitions (entity, name)


def plan(m: Methodology, wanted: list[tuple[str, str]]) -> Plan:
    level: dict[tuple[str, str], int] = {}
    deps_of: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def visit(key: tuple[str, str], path: tuple = ()) -> int:
        hit = level.get(key)
        if hit is not None:
            return hit
        if key in path:      # the compiler rejects cycles (E0401); be safe anyway
            raise ValueError(f"cycle at {key}")
        deps = deps_of.setdefault(key, def_deps(m, m.defs[key].ir))
        lv = 1 + max((visit(d, path + (key,)) for d in deps), default=0)
        level[key] = lv
        return lv

    for key in wanted:
        visit(key)
    n = max(level.values(), default=0)
    return Plan([[k for k, v in sorted(level.items()) if v == i] for i in range(1, n + 1)])


def unsupported(m: Methodology, defs: list[tuple[str, str]], checks: list[str], compile_def, compile_check) -> list[Diagnostic]:
    """Compile every needed node once; each construct SQL cannot express is one diagnostic at its
    position (E0901), so a SQL run never starts with a gap and never gives a wrong result."""
    from engine.backends.sql.base import SqlUnsupported

    out: list[Diagnostic] = []
    seen: set[tuple] = set()

    def add(e: SqlUnsupported, what: str, fallback: Span) -> None:
        span = e.span or fallback
        key = (str(span), e.message)
        if key not in seen:
            seen.add(key)
            out.append(Diagnostic("E0901", f"{what}: {e.message} (SQL-вычислитель)", span))

    for ent, name in defs:
        info = m.defs[(ent, name)]
        try:
            compile_def(ent, name)
        except SqlUnsupported as e:
            add(e, f"определение {ent}.{name}", info.provenance.span)
    for cname in checks:
        ci = m.checks[cname]
        if ci.ir is None or ci.ir.when is None:
            continue
        try:
            compile_check(ci)
        except SqlUnsupported as e:
            add(e, f"проверка «{cname}»", ci.provenance.span)
    return out

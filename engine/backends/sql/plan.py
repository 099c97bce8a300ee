"""Which definitions a request needs, in which order (levels), and what SQL cannot express.

A level holds the definitions whose dependencies are all in earlier levels; each level of an
entity is one ``CREATE TABLE … AS SELECT prev.*, expr AS d_x, …`` over the previous version.
The table of a rule-table entity (engine/backends/sql/match.py) is a node of its own,
``(MATCH, entity)``: after the definitions it reads (its `when`, bound definitions), before every
definition or aggregate that reads the entity.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl import ir
from dsl.diagnostics import Diagnostic, Span
from engine.backends.sql.match import MATCH, derived_entities, source_defs
from engine.runtime.model import Methodology


def _derived(m: Methodology) -> set[str]:
    hit = getattr(m, "_sql_match_entities", None)
    if hit is None:
        hit = set(derived_entities(m))
        object.__setattr__(m, "_sql_match_entities", hit)
    return hit


def def_deps(m: Methodology, node: ir.IR | None) -> set[tuple[str, str]]:
    """Definitions (and rule-table entities, (MATCH, entity)) an IR reads."""
    out: set[tuple[str, str]] = set()
    if node is None:
        return out
    derived = _derived(m)
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ir.FieldRef) and (n.entity, n.name) in m.defs:
            out.add((n.entity, n.name))
        if derived and isinstance(n, ir.FieldRef) and n.entity in derived:
            out.add((MATCH, n.entity))
        if derived and isinstance(n, ir.AggNode) and n.source in derived:
            out.add((MATCH, n.source))
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
        deps = deps_of.get(key)
        if deps is None:
            deps = deps_of[key] = node_deps(m, key)
        lv = 1 + max((visit(d, path + (key,)) for d in deps), default=0)
        level[key] = lv
        return lv

    for key in wanted:
        visit(key)
    n = max(level.values(), default=0)
    return Plan([[k for k, v in sorted(level.items()) if v == i] for i in range(1, n + 1)])


def node_deps(m: Methodology, key: tuple[str, str]) -> set[tuple[str, str]]:
    if key[0] == MATCH:
        return source_defs(m, key[1])
    deps = def_deps(m, m.defs[key].ir)
    if key[0] in _derived(m):           # a definition of a rule-table entity: after its rows
        deps.add((MATCH, key[0]))
    return deps


def entity_deps(m: Methodology, entity: str | None) -> list[tuple[str, str]]:
    """A check on a rule-table entity reads its table even when it reads none of its fields."""
    return [(MATCH, entity)] if entity in _derived(m) else []


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
        if ent == MATCH:
            continue
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

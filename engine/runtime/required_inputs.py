"""Which checks read reference inputs that were not supplied, as one notice per check.

A *reference input* is an entity that the registry does not fill: one with no chain of
relations to ``account`` (ЕРЗ, licences, volume limits, the history of accepted cases, the
registers of the МЭК grounds …). A check reads an input when its condition, or any definition
the condition depends on, aggregates over that entity or reads one of its fields. When such an
input has no rows the comparison against it cannot be made; the run still executes every check,
and the notice says which check lost which comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl import ir
from engine.runtime.dataset import Dataset
from engine.runtime.model import Methodology

REGISTRY_ROOT = "account"


@dataclass(frozen=True)
class MissingInput:
    check: str
    code: str            # the ground the check writes (its literal default), "" if not literal
    entities: tuple[str, ...]
    labels: tuple[str, ...]

    @property
    def message(self) -> str:
        names = ", ".join(self.entities)
        flags = " ".join(f"--table {e}=ФАЙЛ.csv" for e in self.entities)
        code = f" ({self.code})" if self.code else ""
        return (f"проверка «{self.check}»{code}: не поданы входные данные {names} — сверка с ними не выполнена, "
                f"остальные проверки выполнены ({flags}; формы CSV — docs/mek-inputs.md)")

    def to_dict(self) -> dict[str, object]:
        return {"check": self.check, "code": self.code, "inputs": list(self.entities), "labels": list(self.labels),
                "message": self.message}


def reference_entities(m: Methodology) -> set[str]:
    """Entities with no relation chain to the registry's account."""
    registry = {REGISTRY_ROOT} if REGISTRY_ROOT in m.entities else set()
    changed = True
    while changed:
        changed = False
        for name, ent in m.entities.items():
            if name not in registry and any(r.entity in registry for r in ent.relations.values()):
                registry.add(name)
                changed = True
    return set(m.entities) - registry


def _entities_read(node: ir.IR | None, out: set[str], defs: set[tuple[str, str]]) -> None:
    if node is None:
        return
    for x in ir.walk(node):
        if isinstance(x, ir.AggNode):
            out.add(x.source)
        elif isinstance(x, ir.FieldRef):
            out.add(x.entity)
            if x.is_definition:
                defs.add((x.entity, x.name))


def _condition_defs(m: Methodology) -> dict[str, set[tuple[str, str]]]:
    """check -> the definitions its condition names directly (``when d_paid_before`` …)."""
    out: dict[str, set[tuple[str, str]]] = {}
    for name, info in m.checks.items():
        refs: set[tuple[str, str]] = set()
        _entities_read(info.ir.when if info.ir is not None else None, set(), refs)
        out[name] = refs
    return out


def inputs_read(m: Methodology, check: str, cond: dict[str, set[tuple[str, str]]] | None = None) -> set[str]:
    """Entities a check's condition reads, through the definitions it depends on.

    The conditions of other checks, and definitions built from them (``mek_clean``: «no other
    defect»), are not followed: an input of another ground is that ground's notice, not this one's.
    """
    cond = cond if cond is not None else _condition_defs(m)
    others = set().union(*(v for k, v in cond.items() if k != check)) - cond.get(check, set())
    info = m.checks[check]
    out: set[str] = set()
    pending: set[tuple[str, str]] = set()
    if info.ir is not None:
        _entities_read(info.ir.when, out, pending)
    seen: set[tuple[str, str]] = set()
    while pending:
        key = pending.pop()
        if key in seen:
            continue
        seen.add(key)
        if key in others or (key not in cond.get(check, set()) and m.deps.get(key, set()) & others):
            continue
        d = m.defs.get(key)
        if d is not None and d.ir is not None:
            _entities_read(d.ir, out, pending)
    return out


def _literal_code(node: ir.IR | None) -> str:
    """The ground of ``code default(f014["1.8.1"].osn, "1.8.1")`` — the last string constant."""
    found = ""
    if node is None:
        return found
    for x in ir.walk(node):
        if isinstance(x, ir.Const) and isinstance(x.value, str):
            found = x.value
    return found


def missing_inputs(m: Methodology, data: Dataset) -> list[MissingInput]:
    refs = reference_entities(m)
    empty = {e for e in refs if e not in data.entities or data.entities[e].n == 0}
    if not empty:
        return []
    cond = _condition_defs(m)
    out = []
    for name, info in m.checks.items():
        lost = sorted(inputs_read(m, name, cond) & empty)
        if lost:
            code = _literal_code(info.ir.code) if info.ir is not None else ""
            out.append(MissingInput(name, code, tuple(lost), tuple(m.entities[e].label or "" for e in lost)))
    return out

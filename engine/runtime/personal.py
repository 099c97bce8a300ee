"""Which computed values derive from personal data (ФИО, СНИЛС, полис …), so that explanations,
defect values and messages show them masked. A yes/no answer and an aggregate over rows are
not personal; anything else that reads a field marked `personal: true` in the schema, directly
or through definitions, is."""

from __future__ import annotations

from dsl import ir
from engine.runtime.model import Methodology

MASK = "***"


def reads_personal(m: Methodology, node: ir.IR, seen: frozenset = frozenset()) -> bool:
    for x in ir.walk(node):
        if isinstance(x, ir.AggNode):
            continue
        if isinstance(x, ir.FieldRef):
            if x.is_definition:
                key = (x.entity, x.name)
                info = m.defs.get(key)
                if key not in seen and info is not None and info.ir is not None \
                        and info.type.kind != "bool" and reads_personal(m, info.ir, seen | {key}):
                    return True
            elif m.entities[x.entity].fields[x.name].personal:
                return True
    return False


def masked_value(m: Methodology, node: ir.IR | None, kind: str) -> bool:
    """True when a value of type `kind` computed by `node` must be shown as MASK."""
    return node is not None and kind != "bool" and not isinstance(node, ir.AggNode) and reads_personal(m, node)

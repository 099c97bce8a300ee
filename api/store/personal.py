"""Which values of a methodology are personal data, and masking them for roles without the right.

A value is personal when it is a schema field marked ``personal: true`` or a text/code/date
definition computed (transitively) from one — a count over ЕНП is not, the ЕНП is.
Defect values are keyed by the expression text of the condition; a key is personal when
one of its names is. Messages are masked by matching the check's template: the text
substituted for a personal placeholder becomes ``***``.
"""

from __future__ import annotations

import re
from typing import Any

from dsl import ir
from engine.runtime.model import Methodology

MASK = "***"
_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
_IDENTIFYING = ("code", "text", "date")


def personal_names(m: Methodology) -> set[str]:
    """Names of personal fields and of identifying definitions derived from them."""
    fields = {(e.name, f.name) for e in m.entities.values() for f in e.fields.values() if f.personal}
    memo: dict[tuple[str, str], bool] = {}

    def tainted(key: tuple[str, str], stack: frozenset[tuple[str, str]] = frozenset()) -> bool:
        if key in memo:
            return memo[key]
        info = m.defs.get(key)
        if info is None or info.ir is None or key in stack:
            return False
        hit = False
        for node in ir.walk(info.ir):
            if isinstance(node, ir.FieldRef):
                ref = (node.entity, node.name)
                if (not node.is_definition and ref in fields) or (
                    node.is_definition and tainted(ref, stack | {key})
                ):
                    hit = True
                    break
        memo[key] = hit
        return hit

    names = {n for _, n in fields}
    for key, info in m.defs.items():
        if info.type.kind in _IDENTIFYING and tainted(key):
            names.add(key[1])
    return names


def is_personal(text: str, names: set[str]) -> bool:
    return any(tok in names for tok in _NAME.findall(text))


def masked_message(template: str | None, message: str, placeholders: list[str], names: set[str]) -> str | None:
    """``message`` with the values of personal placeholders replaced; None when nothing is personal."""
    if not template or not any(is_personal(p, names) for p in placeholders):
        return None
    parts = re.split(r"\{([^{}]+)\}", template)
    pattern, order = "", []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            pattern += re.escape(part)
        else:
            pattern += "(.*?)"
            order.append(part)
    match = re.fullmatch(pattern, message, flags=re.S)
    if match is None:
        return MASK
    out = ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out += part
        else:
            value = match.group(len([p for p in parts[1:i:2]]) + 1)
            out += MASK if is_personal(part, names) else value
    return out


def mask_defect_values(values: dict[str, Any]) -> dict[str, Any]:
    """A stored defect document as a role without ``personal_data.read`` may see it."""
    out = dict(values)
    personal = set(out.pop("personal_keys", []))
    out["values"] = {k: (MASK if k in personal else v) for k, v in (values.get("values") or {}).items()}
    masked = out.pop("message_masked", None)
    if masked is not None:
        out["message"] = masked
    return out


def public_defect_values(values: dict[str, Any]) -> dict[str, Any]:
    """A stored defect document for a role with the right (bookkeeping keys removed)."""
    out = dict(values)
    out.pop("personal_keys", None)
    out.pop("message_masked", None)
    return out

"""Evaluate a standalone expression (primitive doc examples, REPL-style checks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dsl.diagnostics import Diagnostics, Span
from dsl.parser import parse_expression
from dsl.primitives.registry import EXAMPLE_TABLE
from dsl.symbols import AttrInfo, EntityInfo, Symbols
from dsl.typecheck import check_expression
from dsl.types import CODE, INT
from engine.backends.numpy.evaluator import Evaluator, materialize
from engine.runtime.dataset import Dataset, EntityData
from engine.runtime.model import Methodology, PackageInfo
from engine.runtime.schema import EntityDef, FieldDef
from engine.runtime.values import display

_EXAMPLE_TYPES = {"g": CODE, "x": INT, "k": INT}


def _example_world() -> tuple[Methodology, Dataset]:
    span = Span.point("<пример>", 1, 1)
    ent = EntityDef("t", "Пример", "key", None,
                    {f: FieldDef(f, t, None, span) for f, t in _EXAMPLE_TYPES.items()})
    ent.fields["key"] = FieldDef("key", CODE, None, span)
    sym = Symbols()
    sym.entities["t"] = EntityInfo("t", "Пример", {f.name: AttrInfo(f.name, f.type) for f in ent.fields.values()})
    info = PackageInfo("adhoc", "0", "adhoc", Path("."), None, None, [], [])
    m = Methodology(info, [info], "", {"t": ent}, {}, {}, {}, {}, {}, sym, {})
    from dsl.columns import Col, encode_strings

    n = len(EXAMPLE_TABLE["x"])
    cols = {"g": encode_strings(np.array(EXAMPLE_TABLE["g"], dtype=object), CODE),
            "x": Col(INT, np.array(EXAMPLE_TABLE["x"], dtype=np.int64)),
            "k": Col(INT, np.array(EXAMPLE_TABLE["k"], dtype=np.int64))}
    keys = np.array([f"r{i + 1}" for i in range(n)], dtype=object)
    cols["key"] = encode_strings(keys, CODE)
    return m, Dataset({"t": EntityData("t", n, cols, keys)})


def evaluate_example(text: str, per_row: bool) -> str:
    """Value of an example as text; per_row evaluates over the example table (entity t)."""
    m, data = _example_world()
    diags = Diagnostics()
    node = parse_expression(text, Span("<пример>", 1, 1, 1, len(text) + 1))
    x = check_expression(m.symbols, diags, node, "t" if per_row else None)
    diags.raise_if_errors()
    ev = Evaluator(m, data)
    frame = ev.root_frame("t" if per_row else None)
    col = materialize(ev.eval(x, [frame]), frame.n)
    values = [_show(col.value_at(i), col) for i in range(frame.n)]
    return "[" + ", ".join(values) + "]" if per_row else values[0]


def _show(value, col) -> str:
    if col.type.kind in ("code", "text") and value is not None:
        return f'"{value}"'
    return display(value, col.type) if col.type.kind != "bool" else ("true" if value else "false")

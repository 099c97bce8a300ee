"""The single registry of primitives.

One entry gives: the name, a human signature, a typer (argument types → result type),
the vectorized implementation, a Russian doc line and a tested example.
Adding a primitive = one ``@primitive`` entry in a module of this package + its test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from dsl.types import Type


class PrimitiveTypeError(Exception):
    """Raised by a typer; ``arg`` is the index of the offending argument (or None)."""

    def __init__(self, message: str, arg: int | None = None, code: str = "E0204") -> None:
        super().__init__(message)
        self.message = message
        self.arg = arg
        self.code = code


@dataclass
class Primitive:
    name: str
    signature: str
    kind: str  # "elementwise" | "aggregate" | "window"
    typer: Callable[[list[Type], list[object]], Type]
    impl: Callable
    doc: str
    examples: list[tuple[str, str]] = field(default_factory=list)
    min_args: int = 0
    max_args: int | None = None
    handles_missing: bool = False
    # SQL form (engine/backends/sql): builds a sqlglot expression from the arguments' SQL
    # expressions; None = the SQL backend reports the primitive as not supported (with position)
    sql: Callable | None = None
    sql_unsupported: str | None = None     # why there is no SQL form (shown in the diagnostic)


REGISTRY: dict[str, Primitive] = {}

# Examples of aggregates and window functions are evaluated per row of this table
# (entity "t"); their expected values are the column of results, e.g. "[4, 4, 7, 7]".
EXAMPLE_TABLE = {"g": ["a", "a", "b", "b"], "x": [3, 1, 2, 5], "k": [1, 2, 3, 4]}


def primitive(name: str, signature: str, *, kind: str = "elementwise", doc: str,
              typer: Callable[[list[Type], list[object]], Type],
              examples: list[tuple[str, str]] | None = None,
              min_args: int = 0, max_args: int | None = None,
              handles_missing: bool = False, sql: Callable | None = None,
              sql_unsupported: str | None = None) -> Callable:
    def deco(fn: Callable) -> Callable:
        if name in REGISTRY and REGISTRY[name].kind == kind:
            raise ValueError(f"primitive {name} ({kind}) registered twice")
        key = name if kind == "elementwise" else f"{kind}:{name}"
        REGISTRY[key] = Primitive(name, signature, kind, typer, fn, doc, examples or [],
                                  min_args, max_args, handles_missing, sql, sql_unsupported)
        return fn
    return deco


def lookup(name: str, kind: str = "elementwise") -> Primitive | None:
    key = name if kind == "elementwise" else f"{kind}:{name}"
    return REGISTRY.get(key)


def names(kind: str | None = None) -> list[str]:
    return sorted({p.name for p in REGISTRY.values() if kind is None or p.kind == kind})


def check_arity(p: Primitive, n: int) -> str | None:
    if n < p.min_args or (p.max_args is not None and n > p.max_args):
        from dsl.diagnostics import plural

        if p.max_args == p.min_args:
            want = f"{p.min_args} {plural(p.min_args, 'аргумент', 'аргумента', 'аргументов')}"
        elif p.max_args is None:
            want = f"не меньше {p.min_args} {plural(p.min_args, 'аргумента', 'аргументов', 'аргументов')}"
        else:
            want = f"от {p.min_args} до {p.max_args} {plural(p.max_args, 'аргумента', 'аргументов', 'аргументов')}"
        return f"функция «{p.name}» принимает {want}, передано {n}; сигнатура: {p.signature}"
    return None

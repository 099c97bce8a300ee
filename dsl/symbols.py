"""What the type checker may refer to. Filled by the engine from a methodology package;
the language itself knows nothing about any domain."""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.diagnostics import Span
from dsl.types import Type


@dataclass
class AttrInfo:
    name: str
    type: Type
    label: str | None = None
    span: Span | None = None
    is_definition: bool = False


@dataclass
class EntityInfo:
    name: str
    label: str | None = None
    attrs: dict[str, AttrInfo] = field(default_factory=dict)
    relations: dict[str, str] = field(default_factory=dict)   # relation name → target entity (many-to-one)
    as_of: str | None = None
    key: str = "key"
    optional_relations: set[str] = field(default_factory=set)   # may find no row

    def children_of(self, symbols: Symbols) -> dict[str, str]:
        """Entities with a relation to this one: child entity → relation name."""
        out = {}
        for other in symbols.entities.values():
            for rel, target in other.relations.items():
                if target == self.name:
                    out.setdefault(other.name, rel)
        return out


@dataclass
class ParamInfo:
    name: str
    type: Type
    label: str | None = None
    span: Span | None = None


@dataclass
class TableInfo:
    name: str
    keys: list[tuple[str, Type]]
    columns: dict[str, Type]
    label: str | None = None
    dated: bool = False
    span: Span | None = None


@dataclass
class FunctionInfo:
    name: str
    params: list[tuple[str, Type]]
    returns: Type
    node: object                 # dsl.astnodes.FunctionDef
    body: object | None = None   # typed IR of the body (ArgRef for arguments), filled by the checker
    label: str | None = None
    span: Span | None = None
    defaults: list = field(default_factory=list)   # per parameter: its default (AST) or None

    @property
    def required(self) -> int:
        """How many leading arguments a call must pass (the rest have defaults)."""
        return sum(1 for d in self.defaults if d is None) if self.defaults else len(self.params)


@dataclass
class Symbols:
    entities: dict[str, EntityInfo] = field(default_factory=dict)
    params: dict[str, ParamInfo] = field(default_factory=dict)
    tables: dict[str, TableInfo] = field(default_factory=dict)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)

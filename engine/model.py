"""A compiled methodology: everything the engine needs to evaluate, explain and diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dsl import astnodes as ast
from dsl import ir
from dsl.checker import CheckIR
from dsl.diagnostics import Span
from dsl.symbols import Symbols
from dsl.types import Type
from engine.params import ParamDef
from engine.schema import EntityDef
from engine.tables import TableDef


@dataclass
class Provenance:
    package: str           # id@version
    file: str
    span: Span

    def __str__(self) -> str:
        return f"{self.package} ({self.span})"


class _FromAnnotations:
    """label / ref / unit of a declaration, read from its @-annotations."""

    ast: ast.Annotated

    @property
    def label(self) -> str | None:
        return self.ast.annotation("label")

    @property
    def ref(self) -> str | None:
        return self.ast.annotation("ref")

    @property
    def unit(self) -> str | None:
        return self.ast.annotation("unit")


@dataclass
class DefInfo(_FromAnnotations):
    entity: str
    name: str
    type: Type
    ast: ast.Definition
    ir: ir.IR | None
    text: str               # source text of the body
    provenance: Provenance
    overrides: DefInfo | None = None

    @property
    def qualified(self) -> str:
        return f"{self.entity}.{self.name}"


@dataclass
class CheckInfo(_FromAnnotations):
    name: str
    entity: str
    ast: ast.Check
    ir: CheckIR | None
    provenance: Provenance
    overrides: CheckInfo | None = None


@dataclass
class FunctionDefInfo(_FromAnnotations):
    name: str
    ast: ast.FunctionDef
    provenance: Provenance
    overrides: FunctionDefInfo | None = None


@dataclass
class Disabled:
    name: str
    reason: str
    provenance: Provenance
    original: CheckInfo


@dataclass
class PackageInfo:
    id: str
    version: str
    title: str
    path: Path
    valid_from: str | None
    valid_to: str | None
    sources: list[str]
    files: list[Path]

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"


@dataclass
class Methodology:
    package: PackageInfo
    chain: list[PackageInfo]               # base first, this package last
    content_hash: str
    entities: dict[str, EntityDef]
    params: dict[str, ParamDef]
    tables: dict[str, TableDef]
    defs: dict[tuple[str, str], DefInfo]
    checks: dict[str, CheckInfo]
    disabled: dict[str, Disabled]
    symbols: Symbols
    deps: dict[tuple[str, str], set[tuple[str, str]]]
    outputs: dict[str, list[str]] = field(default_factory=dict)
    tests: list[Path] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)   # file → text, for excerpts and explain
    functions: dict[str, FunctionDefInfo] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return self.package.ref

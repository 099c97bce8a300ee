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
from engine.runtime.params import ParamDef
from engine.runtime.schema import EntityDef
from engine.runtime.tables import TableDef


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


def span_text(m: Methodology, span: Span | None) -> str | None:
    """The source text a span covers (one line; several lines joined), or None."""
    if span is None:
        return None
    text = m.sources.get(span.file)
    if text is None:
        return None
    lines = text.splitlines()
    if span.line < 1 or span.line > len(lines):
        return None
    if span.end_line > len(lines):
        span = Span(span.file, span.line, span.column, len(lines), len(lines[-1]) + 1)
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1:span.end_column - 1]
    parts = [lines[span.line - 1][span.column - 1:]] + lines[span.line:span.end_line - 1] + \
        [lines[span.end_line - 1][:span.end_column - 1]]
    return " ".join(p.strip() for p in parts if p.strip())


"""Form definitions as plain dataclasses; every item keeps its YAML position.

Expressions are kept as text plus the span of the text inside the YAML file (see
``forms.definition_source``). Loaded by ``forms.definition.load_form``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.diagnostics import Span
from engine.runtime.yamlpos import Located


@dataclass
class Expr:
    text: str
    span: Span


@dataclass
class ColumnRepeat:
    """Columns generated from a methodology table: one per distinct value of ``field``."""

    table: str
    field: str
    label: str | None          # template of the generated labels ({key}); None: the column's label
    span: Span


@dataclass
class ColumnDef:
    code: str
    label: str
    kind: str
    decimals: int
    width: float
    cell: Expr | None          # template for rows without an explicit cell
    where: Expr | None         # column filter, added to every aggregate of template cells
    span: Span
    repeat: ColumnRepeat | None = None   # a template: expanded into generated columns
    applies: Expr | None = None          # bool per cell; false → a deliberate dash («не применяется»)
    defined: Expr | None = None          # bool per cell; false → an empty cell (the value is not defined)
    required: bool = False               # an empty cell fails the form's control
    key: str | None = None               # a generated column's value ($col in its expressions)
    group: str | None = None             # a generated column's template code


@dataclass
class HeaderDef:
    text: str
    colspan: int
    rowspan: int
    span: Span
    columns: str | None = None     # colspan = the number of columns generated from this template
    labels: str | None = None      # one cell per generated column of this template, with its label


@dataclass
class RepeatDef:
    """Rows generated from data: distinct values of ``over``, rows of a table, or a listing."""

    kind: str                  # "values" | "table" | "list"
    source: str                # "entity.field" | table name | entity
    where: Expr | None
    label: str                 # template: {key}, {n}, {<field>} of the first row with that key
    code: str                  # template of the generated row codes: "03.{n}"
    order: str | None          # list: field to order by
    span: Span


@dataclass
class RowDef:
    code: str | None
    label: str
    level: int = 0
    total: bool = False
    section: bool = False
    where: Expr | None = None
    cells: dict[str, Expr | None] = field(default_factory=dict)   # None value: empty; "-" text: dash
    repeat: RepeatDef | None = None
    span: Span | None = None
    cell_spans: dict[str, Span] = field(default_factory=dict)


@dataclass
class ControlDef:
    id: str
    expr: Expr
    message: str | None
    span: Span


@dataclass
class ParamSpec:
    name: str
    label: str
    default: str | None
    span: Span


@dataclass
class XmlDef:
    root: str
    header: str | None
    header_fields: list[tuple[str, str]]
    rows_container: str | None
    row: str
    fields: list[tuple[str, str, bool]]      # (source: column code | "row_code" | "row_label", name, attribute)
    encoding: str
    include_totals: bool
    span: Span


@dataclass
class FormDef:
    id: str
    version: str
    title: str
    file: str
    span: Span
    code: str | None = None
    period: str | None = None
    organisation: str | None = None
    approval: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    orientation: str = "portrait"
    numbering: str = "rosstat"
    source: str = "run"                      # run | methodology
    as_of: str | None = None                  # date for dated parameters/tables (methodology forms)
    stub: dict = field(default_factory=dict)
    header: list[list[HeaderDef]] = field(default_factory=list)
    header_span: Span | None = None
    columns: list[ColumnDef] = field(default_factory=list)
    rows: list[RowDef] = field(default_factory=list)
    controls: list[ControlDef] = field(default_factory=list)
    params: dict[str, ParamSpec] = field(default_factory=dict)
    inputs: Located | None = None               # extra entities, schema.yaml shape
    notes: list[str] = field(default_factory=list)
    signatures: list[tuple[str, str]] = field(default_factory=list)
    stamp: bool = False
    xml: XmlDef | None = None
    extends: list[str] = field(default_factory=list)   # chain of ids, base first

    def column(self, code: str) -> ColumnDef | None:
        return next((c for c in self.columns if c.code == code), None)

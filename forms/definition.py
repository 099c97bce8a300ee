"""Form definitions (YAML): loading with positions, and regional overlays (``extends``).

A definition is read into plain dataclasses that keep the YAML position of every item;
expressions are kept as text plus the span of the text inside the YAML file, so the rule
language's parser and type checker report errors at the exact file:line:col.
See docs/forms.md, «Определения форм».
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dsl.diagnostics import Diagnostic, DiagnosticError, Diagnostics, did_you_mean
from engine.runtime.yamlpos import load_located
from forms.definition_model import (
    ColumnDef,
    ControlDef,
    Expr,
    FormDef,
    HeaderDef,
    ParamSpec,
    RepeatDef,
    RowDef,
    XmlDef,
)
from forms.definition_sections import (
    extend_header,
    read_cell_overrides,
    read_columns,
    read_controls,
    read_footer,
    read_header,
    read_params,
    read_rows,
    read_scalars,
    read_xml,
)
from forms.definition_source import DefinitionSource

__all__ = ["DEFINITIONS_DIR", "TOP_KEYS", "ColumnDef", "ControlDef", "Expr", "FormDef", "HeaderDef", "ParamSpec",
           "RepeatDef", "RowDef", "XmlDef", "base_copy", "list_definitions", "load_form", "resolve_form_path"]

DEFINITIONS_DIR = Path(__file__).parent / "definitions"

TOP_KEYS = {"id", "version", "title", "code", "period", "organisation", "approval", "lines", "orientation",
            "numbering", "source", "as_of", "stub", "header", "columns", "rows", "cells", "controls",
            "parameters", "inputs", "footer", "xml", "extends"}


def resolve_form_path(name: str) -> Path:
    """A definition id («mek_act») or a path to a YAML file."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml") or p.exists():
        return p
    return DEFINITIONS_DIR / f"{name}.yaml"


def list_definitions() -> list[str]:
    return sorted(p.stem for p in DEFINITIONS_DIR.glob("*.yaml"))


def load_form(path: Path | str, _seen: tuple[str, ...] = ()) -> FormDef:
    """Load a definition and its ``extends`` chain; raises DiagnosticError with positions."""
    path = Path(path)
    diags = Diagnostics()
    if not path.is_file():
        raise DiagnosticError([Diagnostic("E0602", f"определение формы не найдено: {path} "
                                          f"(известные формы: {', '.join(list_definitions())})", None)])
    root = load_located(path, str(path))
    text = path.read_text(encoding="utf-8")
    src = DefinitionSource(str(path), text.splitlines(), diags)
    if not isinstance(root.value, dict):
        raise DiagnosticError([Diagnostic("E0601", "определение формы: ожидался словарь", root.span)])
    top = root.value
    for k in top:
        if k not in TOP_KEYS:
            diags.error("E0601", f"неизвестный раздел определения формы «{k}»", root.key_spans[k],
                        hints=did_you_mean(k, TOP_KEYS))
    base: FormDef | None = None
    if "extends" in top:
        ext = top["extends"]
        target = resolve_form_path(str(ext.value)) if not str(ext.value).startswith(".") else \
            (path.parent / str(ext.value))
        if str(target.resolve()) in _seen:
            raise DiagnosticError([Diagnostic("E0401", f"циклическое наследование форм: {ext.value}", ext.span)])
        try:
            base = load_form(target, _seen + (str(path.resolve()),))
        except DiagnosticError as e:
            if e.diagnostics and e.diagnostics[0].span is None:
                raise DiagnosticError([Diagnostic("E0602", e.diagnostics[0].message, ext.span)]) from None
            raise
    form = base_copy(base) if base else FormDef(id="", version="", title="", file=str(path), span=root.span)
    form.file = str(path)
    form.span = root.span
    if base:
        form.extends = base.extends + [base.id]
    read_scalars(form, top, src, base is None)
    read_params(form, top, src)
    if "stub" in top:
        form.stub = {k: v.value for k, v in top["stub"].value.items()}
    if "inputs" in top:
        form.inputs = top["inputs"]
    added_columns = read_columns(form, top.get("columns"), src, base is not None)
    if "header" in top:
        form.header, form.header_span = read_header(top["header"], src), top["header"].span
    elif base is not None and added_columns:
        form.header = extend_header(form.header, added_columns)
    read_rows(form, top.get("rows"), src, base is not None)
    if "cells" in top:
        read_cell_overrides(form, top["cells"], src)
    read_controls(form, top.get("controls"), src)
    read_footer(form, top.get("footer"), src)
    if "xml" in top:
        form.xml = read_xml(top["xml"], src)
    diags.raise_if_errors()
    return form


def base_copy(base: FormDef) -> FormDef:
    return replace(base, columns=list(base.columns), rows=[replace(r, cells=dict(r.cells),
                                                                    cell_spans=dict(r.cell_spans))
                                                           for r in base.rows],
                   controls=list(base.controls), params=dict(base.params), header=[list(h) for h in base.header],
                   approval=list(base.approval), lines=list(base.lines),
                   notes=list(base.notes), signatures=list(base.signatures), stub=dict(base.stub))

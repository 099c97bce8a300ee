"""Form definitions (YAML): loading with positions, and regional overlays (``extends``).

A definition is read into plain dataclasses that keep the YAML position of every item;
expressions are kept as text plus the span of the text inside the YAML file, so the rule
language's parser and type checker report errors at the exact file:line:col.
See docs/forms.md, «Определения форм».
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from dsl.diagnostics import Diagnostic, DiagnosticError, Diagnostics, Related, Span, did_you_mean
from engine.yamlpos import Located, load_located

DEFINITIONS_DIR = Path(__file__).parent / "definitions"
ROW_CODE = re.compile(r"^\d{1,3}(\.\d{1,3})*$")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
KINDS = ("int", "money", "number", "text")


@dataclass
class Expr:
    text: str
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


@dataclass
class HeaderDef:
    text: str
    colspan: int
    rowspan: int
    span: Span


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


# ---- loading ----------------------------------------------------------------------------

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
    src = _Source(str(path), text.splitlines(), diags)
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
    _scalars(form, top, src, base is None)
    _params(form, top, src)
    if "stub" in top:
        form.stub = {k: v.value for k, v in top["stub"].value.items()}
    if "inputs" in top:
        form.inputs = top["inputs"]
    added_columns = _columns(form, top.get("columns"), src, base is not None)
    if "header" in top:
        form.header, form.header_span = _header(top["header"], src), top["header"].span
    elif base is not None and added_columns:
        form.header = _extend_header(form.header, added_columns)
    _rows(form, top.get("rows"), src, base is not None)
    if "cells" in top:
        _cell_overrides(form, top["cells"], src)
    _controls(form, top.get("controls"), src)
    _footer(form, top.get("footer"), src)
    if "xml" in top:
        form.xml = _xml(top["xml"], src)
    diags.raise_if_errors()
    return form


def base_copy(base: FormDef) -> FormDef:
    return replace(base, columns=list(base.columns), rows=[replace(r, cells=dict(r.cells),
                                                                    cell_spans=dict(r.cell_spans))
                                                           for r in base.rows],
                   controls=list(base.controls), params=dict(base.params), header=[list(h) for h in base.header],
                   approval=list(base.approval), lines=list(base.lines),
                   notes=list(base.notes), signatures=list(base.signatures), stub=dict(base.stub))


class _Source:
    def __init__(self, file: str, lines: list[str], diags: Diagnostics) -> None:
        self.file = file
        self.lines = lines
        self.diags = diags

    def expr(self, node: Located | None, what: str) -> Expr | None:
        """The expression text of a scalar and the span of that text inside the YAML line."""
        if node is None or node.value is None:
            return None
        if isinstance(node.value, (dict, list)):
            self.diags.error("E0601", f"{what}: ожидалось выражение (строка)", node.span)
            return None
        text = str(node.value)
        s = node.span
        line = self.lines[s.line - 1] if 0 < s.line <= len(self.lines) else ""
        col = s.column
        if col - 1 < len(line) and line[col - 1] in "\"'":
            col += 1
        elif col - 1 < len(line) and line[col - 1] in "|>":  # block scalar: text starts on the next line
            nxt = self.lines[s.line] if s.line < len(self.lines) else ""
            return Expr(text.strip(), Span(self.file, s.line + 1, len(nxt) - len(nxt.lstrip()) + 1,
                                           s.line + 1, len(nxt) + 1))
        return Expr(text, Span(self.file, s.line, col, s.line, col + len(text)))

    def text(self, node: Located | None, what: str, default: str | None = None) -> str | None:
        if node is None or node.value is None:
            return default
        if isinstance(node.value, (dict, list)):
            self.diags.error("E0601", f"{what}: ожидалась строка", node.span)
            return default
        return str(node.value)

    def texts(self, node: Located | None, what: str) -> list[str]:
        if node is None:
            return []
        if not isinstance(node.value, list):
            return [self.text(node, what) or ""]
        return [self.text(x, what) or "" for x in node.value]

    def mapping(self, node: Located, what: str, allowed: set[str]) -> dict[str, Located]:
        if not isinstance(node.value, dict):
            self.diags.error("E0601", f"{what}: ожидался словарь", node.span)
            return {}
        for k in node.value:
            if k not in allowed:
                self.diags.error("E0601", f"{what}: неизвестное поле «{k}»", node.key_spans[k],
                                 hints=did_you_mean(k, allowed))
        return node.value

    def int_(self, node: Located | None, what: str, default: int) -> int:
        if node is None:
            return default
        if not isinstance(node.value, int) or isinstance(node.value, bool):
            self.diags.error("E0601", f"{what}: ожидалось целое число, записано «{node.value}»", node.span)
            return default
        return node.value


def _scalars(form: FormDef, top: dict[str, Located], src: _Source, is_base: bool) -> None:
    for key in ("id", "version", "title"):
        if key in top:
            setattr(form, key, src.text(top[key], key) or "")
        elif is_base:
            src.diags.error("E0601", f"в определении формы нет обязательного поля «{key}»", form.span)
    if "id" in top and not IDENT.match(form.id):
        src.diags.error("E0601", f"id формы «{form.id}»: допустимы латинские буквы, цифры и _", top["id"].span)
    for key in ("code", "period", "organisation", "source", "as_of", "orientation", "numbering"):
        if key in top:
            setattr(form, key, src.text(top[key], key))
    for key in ("approval", "lines"):
        if key in top:
            setattr(form, key, src.texts(top[key], key))
    if "orientation" in top and form.orientation not in ("portrait", "landscape"):
        src.diags.error("E0601", f"orientation: «{form.orientation}» — ожидается portrait или landscape",
                        top["orientation"].span)
    if "numbering" in top and form.numbering not in ("rosstat", "sequential", "none"):
        src.diags.error("E0601", f"numbering: «{form.numbering}» — ожидается rosstat, sequential или none",
                        top["numbering"].span)
    if "source" in top and form.source not in ("run", "methodology"):
        src.diags.error("E0601", f"source: «{form.source}» — ожидается run или methodology", top["source"].span)


def _params(form: FormDef, top: dict[str, Located], src: _Source) -> None:
    node = top.get("parameters")
    if node is None:
        return
    for name, spec in src.mapping(node, "parameters", set(node.value) if isinstance(node.value, dict) else set()).items():
        if not IDENT.match(name):
            src.diags.error("E0601", f"параметр формы «{name}»: допустимы латинские буквы, цифры и _",
                            node.key_spans[name])
        fields = src.mapping(spec, f"параметр «{name}»", {"label", "default"}) if isinstance(spec.value, dict) else {}
        default = fields.get("default")
        form.params[name] = ParamSpec(name, src.text(fields.get("label"), "label", name) or name,
                                      None if default is None or default.value is None else str(default.value),
                                      node.key_spans[name])


COLUMN_KEYS = {"code", "label", "kind", "decimals", "width", "cell", "where", "override", "after"}


def _columns(form: FormDef, node: Located | None, src: _Source, overlay: bool) -> list[ColumnDef]:
    added: list[ColumnDef] = []
    if node is None:
        return added
    if not isinstance(node.value, list):
        src.diags.error("E0601", "columns: ожидался список столбцов", node.span)
        return added
    for item in node.value:
        f = src.mapping(item, "столбец", COLUMN_KEYS)
        if not f:
            continue
        code = src.text(f.get("code"), "code")
        if not code or not IDENT.match(code):
            src.diags.error("E0601", f"код столбца «{code}»: допустимы латинские буквы, цифры и _ "
                            "(на него ссылаются формулы: r01.{код})", f["code"].span if "code" in f else item.span)
            continue
        existing = form.column(code)
        override = bool(f.get("override") and f["override"].value)
        if existing is not None and not override:
            src.diags.error("E0301", f"столбец «{code}» уже есть в форме {form.id}; чтобы заменить его, "
                            "укажите override: true", f["code"].span, related=[Related(existing.span, "первое описание")])
            continue
        if existing is None and override:
            src.diags.error("E0302", f"override: в базовой форме нет столбца «{code}»", f["override"].span,
                            hints=did_you_mean(code, [c.code for c in form.columns]))
            continue
        kind = src.text(f.get("kind"), "kind", existing.kind if existing else "int")
        if kind not in KINDS:
            src.diags.error("E0207", f"тип столбца «{kind}»: ожидается один из {', '.join(KINDS)}", f["kind"].span)
            kind = "int"
        col = ColumnDef(code, src.text(f.get("label"), "label", existing.label if existing else code) or code,
                        kind, src.int_(f.get("decimals"), "decimals", existing.decimals if existing else 2),
                        float(f["width"].value) if "width" in f else (existing.width if existing else 25.0),
                        src.expr(f.get("cell"), "cell") or (existing.cell if existing else None),
                        src.expr(f.get("where"), "where") or (existing.where if existing else None), item.span)
        if existing is not None:
            form.columns[form.columns.index(existing)] = col
            continue
        after = src.text(f.get("after"), "after")
        if after is not None:
            prev = form.column(after)
            if prev is None:
                src.diags.error("E0102", f"after: в форме нет столбца «{after}»", f["after"].span,
                                hints=did_you_mean(after, [c.code for c in form.columns]))
                form.columns.append(col)
            else:
                form.columns.insert(form.columns.index(prev) + 1, col)
        else:
            form.columns.append(col)
        if overlay:
            added.append(col)
    return added


def _header(node: Located, src: _Source) -> list[list[HeaderDef]]:
    out: list[list[HeaderDef]] = []
    if not isinstance(node.value, list):
        src.diags.error("E0601", "header: ожидался список строк заголовка", node.span)
        return out
    for row in node.value:
        if not isinstance(row.value, list):
            src.diags.error("E0601", "header: строка заголовка — список ячеек", row.span)
            continue
        cells = []
        for c in row.value:
            if isinstance(c.value, dict):
                f = src.mapping(c, "ячейка заголовка", {"text", "colspan", "rowspan"})
                cells.append(HeaderDef(src.text(f.get("text"), "text", "") or "", src.int_(f.get("colspan"), "colspan", 1),
                                       src.int_(f.get("rowspan"), "rowspan", 1), c.span))
            else:
                cells.append(HeaderDef(src.text(c, "ячейка заголовка") or "", 1, 1, c.span))
        out.append(cells)
    return out


def _extend_header(header: list[list[HeaderDef]], added: list[ColumnDef]) -> list[list[HeaderDef]]:
    if not header:
        return header
    out = [list(r) for r in header]
    for col in added:
        out[0].append(HeaderDef(col.label, 1, len(out), col.span))
    return out


ROW_KEYS = {"code", "label", "level", "total", "section", "where", "cells", "repeat", "override", "after"}
REPEAT_KEYS = {"values", "table", "list", "where", "label", "code", "order_by"}


def _rows(form: FormDef, node: Located | None, src: _Source, overlay: bool) -> None:
    if node is None:
        return
    if not isinstance(node.value, list):
        src.diags.error("E0601", "rows: ожидался список строк", node.span)
        return
    for item in node.value:
        f = src.mapping(item, "строка", ROW_KEYS)
        if not f:
            continue
        code = src.text(f.get("code"), "code")
        if code is not None and not ROW_CODE.match(code):
            src.diags.error("E0601", f"код строки «{code}»: ожидаются цифры с точками, например «01», «02.1»",
                            f["code"].span)
            continue
        existing = next((r for r in form.rows if code is not None and r.code == code), None)
        override = bool(f.get("override") and f["override"].value)
        if existing is not None and not override:
            src.diags.error("E0301", f"строка с кодом «{code}» уже есть в форме; чтобы изменить её, "
                            "укажите override: true", f["code"].span, related=[Related(existing.span, "первое описание")])
            continue
        if existing is None and override:
            src.diags.error("E0302", f"override: в базовой форме нет строки с кодом «{code}»", f["override"].span)
            continue
        row = existing if existing is not None else RowDef(code, "", span=item.span)
        if "section" in f:
            row.section, row.label = True, src.text(f["section"], "section") or ""
        if "label" in f:
            row.label = src.text(f["label"], "label") or ""
        row.level = src.int_(f.get("level"), "level", row.level)
        if "total" in f:
            row.total = bool(f["total"].value)
        if "where" in f:
            row.where = src.expr(f["where"], "where")
        if "cells" in f:
            cells = f["cells"]
            if not isinstance(cells.value, dict):
                src.diags.error("E0601", "cells: ожидался словарь «столбец: выражение»", cells.span)
            else:
                for cc, v in cells.value.items():
                    row.cells[cc] = src.expr(v, f"ячейка {cc}") if v.value is not None else None
                    row.cell_spans[cc] = cells.key_spans[cc]
        if "repeat" in f:
            row.repeat = _repeat(f["repeat"], src)
        if not row.section and not row.label and row.repeat is None:
            src.diags.error("E0601", "строка без наименования (label)", item.span)
        if existing is None:
            after = src.text(f.get("after"), "after")
            prev = next((r for r in form.rows if after is not None and r.code == after), None)
            if after is not None and prev is None:
                src.diags.error("E0102", f"after: в форме нет строки с кодом «{after}»", f["after"].span)
            if prev is not None:
                form.rows.insert(form.rows.index(prev) + 1, row)
            else:
                form.rows.append(row)


def _repeat(node: Located, src: _Source) -> RepeatDef | None:
    f = src.mapping(node, "repeat", REPEAT_KEYS)
    kinds = [k for k in ("values", "table", "list") if k in f]
    if len(kinds) != 1:
        src.diags.error("E0601", "repeat: укажите ровно одно из values (сущность.поле), table (таблица) "
                        "или list (сущность)", node.span)
        return None
    kind = kinds[0]
    return RepeatDef(kind, src.text(f[kind], kind) or "", src.expr(f.get("where"), "where"),
                     src.text(f.get("label"), "label", "{key}") or "{key}", src.text(f.get("code"), "code", "") or "",
                     src.text(f.get("order_by"), "order_by"), f[kind].span)


def _cell_overrides(form: FormDef, node: Located, src: _Source) -> None:
    if not isinstance(node.value, dict):
        src.diags.error("E0601", "cells: ожидался словарь «rКОД.столбец: выражение»", node.span)
        return
    for ref, v in node.value.items():
        m = re.match(r"^r([0-9_]+)\.([A-Za-z_][A-Za-z0-9_]*)$", ref)
        row = next((r for r in form.rows if m and r.code and r.code.replace(".", "_") == m.group(1)), None)
        if m is None or row is None:
            src.diags.error("E0102", f"cells: нет ячейки «{ref}» (ожидается rКОД_СТРОКИ.код_столбца, "
                            "например r02_1.billed)", node.key_spans[ref])
            continue
        row.cells[m.group(2)] = src.expr(v, ref) if v.value is not None else None
        row.cell_spans[m.group(2)] = node.key_spans[ref]


def _controls(form: FormDef, node: Located | None, src: _Source) -> None:
    if node is None:
        return
    if not isinstance(node.value, list):
        src.diags.error("E0601", "controls: ожидался список контрольных соотношений", node.span)
        return
    for _i, item in enumerate(node.value, start=1):
        if isinstance(item.value, str):
            e = src.expr(item, "контрольное соотношение")
            form.controls.append(ControlDef(f"КС{len(form.controls) + 1}", e, None, item.span))
            continue
        f = src.mapping(item, "контрольное соотношение", {"id", "check", "message", "override"})
        cid = src.text(f.get("id"), "id", f"КС{len(form.controls) + 1}") or ""
        if "check" not in f:
            src.diags.error("E0601", "контрольное соотношение без check (выражения)", item.span)
            continue
        ctrl = ControlDef(cid, src.expr(f["check"], "check"), src.text(f.get("message"), "message"), item.span)
        prev = next((c for c in form.controls if c.id == cid), None)
        if prev is not None:
            form.controls[form.controls.index(prev)] = ctrl
        else:
            form.controls.append(ctrl)


def _footer(form: FormDef, node: Located | None, src: _Source) -> None:
    if node is None:
        return
    f = src.mapping(node, "footer", {"notes", "signatures", "stamp"})
    if "notes" in f:
        form.notes = src.texts(f["notes"], "notes")
    if "signatures" in f:
        form.signatures = []
        for s in f["signatures"].value if isinstance(f["signatures"].value, list) else []:
            if isinstance(s.value, dict):
                form.signatures.append((src.text(s.value.get("role"), "role", "") or "",
                                        src.text(s.value.get("name"), "name", "") or ""))
            else:
                form.signatures.append((src.text(s, "подпись") or "", ""))
    if "stamp" in f:
        form.stamp = bool(f["stamp"].value)


def _xml(node: Located, src: _Source) -> XmlDef | None:
    f = src.mapping(node, "xml", {"root", "header", "header_fields", "rows_container", "row", "fields",
                                   "encoding", "include_totals"})
    if "root" not in f or "row" not in f or "fields" not in f:
        src.diags.error("E0601", "xml: обязательны root, row и fields", node.span)
        return None
    header_fields = []
    if "header_fields" in f and isinstance(f["header_fields"].value, dict):
        header_fields = [(k, str(v.value)) for k, v in f["header_fields"].value.items()]
    fields = []
    for item in f["fields"].value if isinstance(f["fields"].value, list) else []:
        g = src.mapping(item, "xml.fields", {"from", "name", "attribute"})
        fields.append((src.text(g.get("from"), "from", "") or "", src.text(g.get("name"), "name", "") or "",
                       bool(g["attribute"].value) if "attribute" in g else False))
    return XmlDef(src.text(f["root"], "root") or "", src.text(f.get("header"), "header"), header_fields,
                  src.text(f.get("rows_container"), "rows_container"), src.text(f["row"], "row") or "", fields,
                  src.text(f.get("encoding"), "encoding", "windows-1251") or "windows-1251",
                  bool(f["include_totals"].value) if "include_totals" in f else False, node.span)

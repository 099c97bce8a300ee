"""The sections of a form definition (columns, header, rows, cells, controls, footer, xml).

Each reader fills a :class:`FormDef` from one YAML section; in a regional overlay
(``extends``) the same readers add to or ``override`` what the base form has.
"""

from __future__ import annotations

import re

from dsl.diagnostics import Related, did_you_mean
from engine.runtime.yamlpos import Located
from forms.definition_model import (
    ColumnDef,
    ColumnRepeat,
    ControlDef,
    FormDef,
    HeaderDef,
    ParamSpec,
    RepeatDef,
    RowDef,
    XmlDef,
)
from forms.definition_source import DefinitionSource

ROW_CODE = re.compile(r"^\d{1,3}(\.\d{1,3})*$")
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
KINDS = ("int", "money", "number", "text")


def read_scalars(form: FormDef, top: dict[str, Located], src: DefinitionSource, is_base: bool) -> None:
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


def read_params(form: FormDef, top: dict[str, Located], src: DefinitionSource) -> None:
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


COLUMN_KEYS = {"code", "label", "kind", "decimals", "width", "cell", "where", "override", "after", "repeat",
               "applies", "defined", "required"}
COLUMN_REPEAT_KEYS = {"table", "field", "label"}


def read_columns(form: FormDef, node: Located | None, src: DefinitionSource, overlay: bool) -> list[ColumnDef]:
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
                        src.expr(f.get("where"), "where") or (existing.where if existing else None), item.span,
                        _column_repeat(f.get("repeat"), src) if "repeat" in f else (existing.repeat if existing else None),
                        src.expr(f.get("applies"), "applies") or (existing.applies if existing else None),
                        src.expr(f.get("defined"), "defined") or (existing.defined if existing else None),
                        bool(f["required"].value) if "required" in f else (existing.required if existing else False))
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


def _column_repeat(node: Located, src: DefinitionSource) -> ColumnRepeat | None:
    f = src.mapping(node, "repeat столбца", COLUMN_REPEAT_KEYS)
    if "table" not in f or "field" not in f:
        src.diags.error("E0601", "repeat столбца: укажите table (таблица методики) и field (её столбец: "
                        "один столбец формы на каждое значение)", node.span)
        return None
    return ColumnRepeat(src.text(f["table"], "table") or "", src.text(f["field"], "field") or "",
                        src.text(f.get("label"), "label"), node.span)


def read_header(node: Located, src: DefinitionSource) -> list[list[HeaderDef]]:
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
                f = src.mapping(c, "ячейка заголовка", {"text", "colspan", "rowspan", "columns", "labels"})
                cells.append(HeaderDef(src.text(f.get("text"), "text", "") or "", src.int_(f.get("colspan"), "colspan", 1),
                                       src.int_(f.get("rowspan"), "rowspan", 1), c.span,
                                       src.text(f.get("columns"), "columns"), src.text(f.get("labels"), "labels")))
            else:
                cells.append(HeaderDef(src.text(c, "ячейка заголовка") or "", 1, 1, c.span))
        out.append(cells)
    return out


def extend_header(header: list[list[HeaderDef]], added: list[ColumnDef]) -> list[list[HeaderDef]]:
    if not header:
        return header
    out = [list(r) for r in header]
    for col in added:
        out[0].append(HeaderDef(col.label, 1, len(out), col.span))
    return out


ROW_KEYS = {"code", "label", "level", "total", "section", "where", "cells", "repeat", "override", "after"}
REPEAT_KEYS = {"values", "table", "list", "where", "label", "code", "order_by"}


def read_rows(form: FormDef, node: Located | None, src: DefinitionSource, overlay: bool) -> None:
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


def _repeat(node: Located, src: DefinitionSource) -> RepeatDef | None:
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


def read_cell_overrides(form: FormDef, node: Located, src: DefinitionSource) -> None:
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


def read_controls(form: FormDef, node: Located | None, src: DefinitionSource) -> None:
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


def read_footer(form: FormDef, node: Located | None, src: DefinitionSource) -> None:
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


def read_xml(node: Located, src: DefinitionSource) -> XmlDef | None:
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

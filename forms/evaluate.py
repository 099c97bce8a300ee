"""Evaluate a form definition over a form world → RenderedForm and control-ratio results.

Compilation happens first and for the whole form (every problem is reported at once, with
its YAML position); only then are cells evaluated, in dependency order, by the engine's
Evaluator in the global context. Money stays int kopecks; fractional numbers become
``Decimal`` rounded half up to the column's digits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from dsl import ir
from dsl.columns import EPOCH, code_strings
from dsl.diagnostics import Diagnostics, Span
from dsl.types import Type
from engine.evaluator import EvalError, Evaluator, materialize
from engine.params import FAR_FUTURE, ParamDef, Period
from engine.values import display
from forms import model as fm
from forms.cells import CellCompiler, Compiled, cell_name
from forms.dataset import FormWorld
from forms.definition import ColumnDef, Expr, FormDef, RowDef
from forms.render.layout import format_cell

KIND = {"int": fm.ValueKind.INT, "money": fm.ValueKind.MONEY, "number": fm.ValueKind.NUMBER,
        "text": fm.ValueKind.TEXT}
ACCEPTS = {"int": ("int",), "money": ("money",), "number": ("number", "int", "money"),
           "text": ("code", "text", "int", "date", "number", "money", "bool")}


class FormError(Exception):
    """Evaluation failed (message in Russian)."""


@dataclass
class ControlResult:
    id: str
    ok: bool
    expression: str
    message: str
    span: Span


@dataclass
class FormResult:
    form: fm.RenderedForm
    controls: list[ControlResult] = field(default_factory=list)
    values: dict[str, object] = field(default_factory=dict)   # "01.billed" → python value

    @property
    def failed(self) -> list[ControlResult]:
        return [c for c in self.controls if not c.ok]


@dataclass
class _Cell:
    row: RowDef
    column: ColumnDef
    compiled: Compiled | None        # None: empty
    dash: bool = False


def check_form(form: FormDef, world: FormWorld, params: dict[str, str] | None = None) -> None:
    """Type-check every cell and control; raises DiagnosticError."""
    _compile(form, world, Diagnostics(), raise_errors=True)


def _compile(form: FormDef, world: FormWorld, diags: Diagnostics, raise_errors: bool):
    codes = {r.code for r in form.rows if r.code and r.repeat is None}
    seen: dict[str, RowDef] = {}
    for r in form.rows:
        if r.code and r.repeat is None:
            if r.code in seen:
                diags.error("E0301", f"код строки «{r.code}» повторяется", r.span)
            seen[r.code] = r
    columns = {c.code for c in form.columns}
    for r in form.rows:
        for cc, span in r.cell_spans.items():
            if cc not in columns:
                from dsl.diagnostics import did_you_mean

                diags.error("E0102", f"строка «{r.label}»: в форме нет столбца «{cc}»", span,
                            hints=did_you_mean(cc, columns))
    comp = CellCompiler(world.methodology.symbols, diags, codes, columns, set(form.params) | {"key"})
    _check_header(form, diags)
    static: dict[str, _Cell] = {}
    pending: list[tuple[str, _Cell, Expr, list[Expr]]] = []
    for r in form.rows:
        if r.section:
            continue
        for c in form.columns:
            expr, filters = _cell_source(r, c)
            if expr is None or expr.text.strip() == "-":
                cell = _Cell(r, c, None, dash=expr is not None)
                if r.repeat is None and r.code:
                    static[cell_name(r.code, c.code)] = cell
                continue
            name = cell_name(r.code or f"#{id(r)}", c.code)
            pending.append((name, _Cell(r, c, None), expr, filters))
    types: dict[str, Type] = {}
    # cells whose references are typed compile first; the rest waits (a cycle stays pending)
    progress = True
    while pending and progress:
        progress = False
        rest = []
        for name, cell, expr, filters in pending:
            try:
                from forms.cells import parse

                node, _ = parse(expr)
                needed = [n for n, _ in comp.references(node, cell.row.code)]
            except Exception:  # noqa: BLE001 - parse errors are reported by compile below
                needed = []
            if any(n not in types and n in _all_names(pending) for n in needed):
                rest.append((name, cell, expr, filters))
                continue
            entity = cell.row.repeat.source if cell.row.repeat and cell.row.repeat.kind == "list" else None
            cell.compiled = comp.compile(expr, entity, filters, cell.row.code, types)
            progress = True
            if cell.compiled is not None:
                _check_kind(cell, expr, diags)
                types[name] = cell.compiled.ir.type
            else:
                comp.failed.add(name)
            if cell.row.repeat is None and cell.row.code:
                static[name] = cell
        pending = rest
    for name, _cell, expr, _ in pending:
        diags.error("E0401", f"циклическая зависимость ячеек: «{name}» ссылается (через другие ячейки) "
                    "на себя", expr.span)
    controls = []
    for ctrl in form.controls:
        if ctrl.expr is None:
            continue
        c = comp.compile(ctrl.expr, None, (), None, types)
        if c is not None and c.ir.type.kind != "bool":
            diags.error("E0201", f"контрольное соотношение {ctrl.id}: ожидалось условие (bool), "
                        f"выражение имеет тип {c.ir.type}", ctrl.expr.span)
        controls.append((ctrl, c))
    repeats = {}
    for r in form.rows:
        if r.repeat is not None and r.repeat.where is not None:
            ent = _repeat_entity(form, r, world, diags)
            repeats[id(r)] = comp.compile(r.repeat.where, ent) if ent else None
    if raise_errors:
        diags.raise_if_errors()
    return static, types, controls, repeats


def _all_names(pending) -> set[str]:
    return {p[0] for p in pending}


def _check_header(form: FormDef, diags: Diagnostics) -> None:
    if not form.header:
        return
    width, height = len(form.columns), len(form.header)
    taken = [[False] * width for _ in range(height)]
    for r, hrow in enumerate(form.header):
        c = 0
        for cell in hrow:
            while c < width and taken[r][c]:
                c += 1
            if c + cell.colspan > width or r + cell.rowspan > height:
                diags.error("E0601", f"ячейка заголовка «{cell.text}» (colspan={cell.colspan}, rowspan={cell.rowspan}) "
                            f"выходит за пределы таблицы: {width} столбцов, {height} строк заголовка", cell.span)
                return
            for rr in range(r, r + cell.rowspan):
                for cc in range(c, c + cell.colspan):
                    taken[rr][cc] = True
            c += cell.colspan
        if not all(taken[r]):
            missing = form.columns[taken[r].index(False)]
            span = form.header_span if form.header_span else form.span
            diags.error("E0601", f"заголовок, строка {r + 1}: нет ячейки над столбцом «{missing.code}» "
                        f"({missing.label}); ячеек заголовка меньше, чем столбцов", span)


def _cell_source(r: RowDef, c: ColumnDef) -> tuple[Expr | None, list[Expr]]:
    if c.code in r.cells:
        return r.cells[c.code], []
    if c.cell is None:
        return None, []
    filters = [f for f in (r.where, c.where) if f is not None]
    return c.cell, filters


def _check_kind(cell: _Cell, expr: Expr, diags: Diagnostics) -> None:
    t = cell.compiled.ir.type
    if t.kind not in ACCEPTS[cell.column.kind]:
        diags.error("E0201", f"ячейка «{cell.row.label}» × «{cell.column.label}»: столбец типа {cell.column.kind}, "
                    f"а выражение имеет тип {t}", expr.span)


def _repeat_entity(form: FormDef, r: RowDef, world: FormWorld, diags: Diagnostics) -> str | None:
    rp = r.repeat
    ents = world.methodology.entities
    if rp.kind == "table":
        if rp.source not in world.methodology.tables:
            diags.error("E0104", f"repeat: нет таблицы «{rp.source}»", rp.span)
        return None
    ent = rp.source.split(".")[0]
    if ent not in ents:
        diags.error("E0103", f"repeat: нет сущности «{ent}»", rp.span)
        return None
    if rp.kind == "values":
        fld = rp.source.partition(".")[2]
        if fld not in ents[ent].fields:
            diags.error("E0102", f"repeat: у сущности «{ent}» нет поля «{fld}»", rp.span)
    return ent


# ---- evaluation -------------------------------------------------------------------------

def evaluate_form(form: FormDef, world: FormWorld, params: dict[str, str] | None = None,
                  generated_at: dt.datetime | None = None) -> FormResult:
    diags = Diagnostics()
    static, types, controls, repeats = _compile(form, world, diags, raise_errors=True)
    values = {k: v.default for k, v in form.params.items()}
    values.update(params or {})
    missing = [k for k, v in values.items() if v is None]
    if missing:
        raise FormError(f"не заданы параметры формы: {', '.join(missing)} (--param имя=значение)")
    ev = Evaluator(world.methodology, world.data, world.context_day)
    cell_values: dict[str, object] = {}
    rows: list[fm.Row] = []
    for r in form.rows:
        if r.section:
            rows.append(fm.Row(_fmt(r.label, values), code=r.code, level=r.level, is_section=True))
        elif r.repeat is None:
            cells = []
            for c in form.columns:
                cell = static.get(cell_name(r.code, c.code)) if r.code else None
                cells.append(_eval_cell(ev, world, cell, r, c, values, {}, cell_values))
            rows.append(fm.Row(_fmt(r.label, values), cells, r.code, r.level, r.total))
        else:
            rows.extend(_repeat_rows(ev, world, form, r, values, repeats.get(id(r))))
    results = []
    for ctrl, comp in controls:
        if comp is None:
            continue
        _bind(ev, world, comp, values, {}, cell_values, "")
        ok = bool(_scalar(ev, comp))
        msg = _control_message(form, ctrl, comp, cell_values, ok, values)
        x = comp.ir
        if isinstance(x, ir.Binary) and x.op in ("==", "!=", "<", "<=", ">", ">="):
            sides = [_show(_scalar(ev, Compiled(side, {}, [])), side.type) for side in (x.left, x.right)]
            msg += f"; левая часть = {sides[0]}, правая часть = {sides[1]}"
        results.append(ControlResult(ctrl.id, ok, ctrl.expr.text, msg, ctrl.expr.span))
    meta = fm.FormMeta(form.id, form.version, world.base.ref, generated_at or dt.datetime.now().replace(microsecond=0))
    title = fm.TitleBlock(_fmt(form.title, values), _fmt(form.code, values), _fmt(form.period, values),
                          _fmt(form.organisation, values), tuple(_fmt(x, values) for x in form.approval),
                          tuple(_fmt(x, values) for x in form.lines))
    columns = [fm.Column(c.code, _fmt(c.label, values), KIND[c.kind], c.decimals if c.kind == "number" else 0, c.width)
               for c in form.columns]
    header = [[fm.HeaderCell(_fmt(h.text, values), h.colspan, h.rowspan) for h in hr] for hr in form.header]
    st = form.stub
    stub = fm.Stub(st.get("label", "Наименование показателя"),
                   st.get("code", "№ строки") if st.get("code", "") is not None else None,
                   float(st.get("label_width", 70)), float(st.get("code_width", 14)))
    notes = [_fmt(n, values) for n in form.notes]
    notes += [c.message for c in results if not c.ok]
    footer = fm.Footer(tuple(notes), tuple(fm.Signature(a, b) for a, b in form.signatures), form.stamp)
    rendered = fm.RenderedForm(title, columns, rows, meta, header, stub, footer, form.orientation,
                               column_numbering=form.numbering)
    return FormResult(rendered, results, cell_values)


def _fmt(text: str | None, values: dict) -> str | None:
    if text is None:
        return None
    out = text
    for k, v in values.items():
        out = out.replace("{" + k + "}", str(v)).replace("$" + k, str(v))
    return out


def _bind(ev: Evaluator, world: FormWorld, comp: Compiled, values: dict, extra: dict, cell_values: dict,
          where: str) -> None:
    for name, consts in comp.consts.items():
        v = extra.get(name, values.get(name))
        for c in consts:
            c.value = str(v)
    for name, _span in comp.refs:
        v = cell_values.get(name)
        t = comp_type(comp, name)
        ev.m.params[name] = ParamDef(name, t, name, None, None, None,
                                     [Period(-(2 ** 40), FAR_FUTURE, v, str(v), None, _span)], _span)


def comp_type(comp: Compiled, name: str) -> Type:
    for n in ir.walk(comp.ir):
        if isinstance(n, ir.ParamRef) and n.name == name:
            return n.type
    raise KeyError(name)


def _scalar(ev: Evaluator, comp: Compiled):
    frame = ev.root_frame(None)
    try:
        col = materialize(ev.eval(comp.ir, [frame]), 1)
    except EvalError as e:
        raise FormError(str(e)) from None
    return col.value_at(0)


def _eval_cell(ev, world, cell, r: RowDef, c: ColumnDef, values: dict, extra: dict, cell_values: dict) -> fm.Cell:
    if cell is None or cell.compiled is None:
        return fm.Cell.dash() if cell is not None and cell.dash else fm.Cell()
    _bind(ev, world, cell.compiled, values, extra, cell_values, "")
    v = _scalar(ev, cell.compiled)
    if r.code and r.repeat is None:
        cell_values[cell_name(r.code, c.code)] = v
    return fm.Cell(_convert(v, cell.compiled.ir.type, c))


def _convert(v, t: Type, c: ColumnDef):
    if v is None:
        return None
    if c.kind == "number":
        if t.kind == "money":
            return Decimal(int(v)) / 100
        if t.kind == "int":
            return int(v)
        return Decimal(repr(float(v))).quantize(Decimal(1).scaleb(-c.decimals), ROUND_HALF_UP)
    if c.kind == "text":
        if t.kind in ("code", "text"):
            return str(v)
        if t.kind == "number":
            return format_value(Decimal(repr(float(v))), fm.ValueKind.NUMBER, 2)
        return display(v, t) if t.kind != "bool" else ("да" if v else "нет")
    return int(v)


def _repeat_rows(ev, world: FormWorld, form: FormDef, r: RowDef, values: dict, where_comp) -> list[fm.Row]:
    rp = r.repeat
    keys, labels = _repeat_keys(ev, world, rp, where_comp)
    if rp.kind == "list":
        return _list_rows(ev, world, form, r, keys, labels, values)
    out = []
    for n, (key, fields) in enumerate(zip(keys, labels, strict=True), start=1):
        extra = {"key": key}
        cells = []
        for c in form.columns:
            expr, filters = _cell_source(r, c)
            if expr is None or expr.text.strip() == "-":
                cells.append(fm.Cell.dash() if expr is not None else fm.Cell())
                continue
            comp = _compile_one(world, form, expr, filters, None)
            cell = _Cell(r, c, comp)
            cells.append(_eval_cell(ev, world, cell, RowDef(None, ""), c, values, extra, {}))
        sub = {**values, **fields, "key": key, "n": n}
        out.append(fm.Row(_fmt(rp.label, sub), cells, _fmt(rp.code, sub) or None, r.level, r.total))
    return out


_COMPILED: dict[tuple, Compiled] = {}


def _compile_one(world: FormWorld, form: FormDef, expr: Expr, filters, entity) -> Compiled:
    key = (id(world), id(expr), tuple(id(f) for f in filters), entity)
    hit = _COMPILED.get(key)
    if hit is None:
        diags = Diagnostics()
        comp = CellCompiler(world.methodology.symbols, diags, set(), {c.code for c in form.columns},
                            set(form.params) | {"key"})
        hit = comp.compile(expr, entity, filters)
        diags.raise_if_errors()
        _COMPILED[key] = hit
    return hit


def _repeat_keys(ev, world: FormWorld, rp, where_comp) -> tuple[list, list[dict]]:
    if rp.kind == "table":
        t = world.methodology.tables[rp.source]
        day = world.context_day
        keys, labels, seen = [], [], set()
        for i, row in enumerate(t.rows):
            if day is not None and t.starts is not None and not (t.starts[i] <= day < t.ends[i]):
                continue
            k = str(row[t.keys[0]])
            if k in seen:
                continue
            seen.add(k)
            keys.append(k)
            labels.append({n: ("" if v is None else v) for n, v in row.items()})
        return keys, labels
    ent = rp.source.split(".")[0]
    data = world.data.entities[ent]
    rows = np.arange(data.n)
    if where_comp is not None:
        frame = ev.root_frame(ent)
        mask = materialize(ev.eval(where_comp.ir, [frame]), data.n)
        ok = np.asarray(mask.data, dtype=bool)
        if mask.missing is not None:
            ok &= ~mask.missing
        rows = rows[ok]
    if rp.kind == "list":
        if rp.order:
            col = data.cols[rp.order]
            vals = code_strings(col) if col.type.kind in ("code", "text") else np.asarray(col.data)
            rows = rows[np.argsort(vals[rows], kind="stable")]
        return list(rows), [_row_fields(world, ent, int(i)) for i in rows]
    fld = rp.source.partition(".")[2]
    col = data.cols[fld]
    vals = code_strings(col) if col.type.kind in ("code", "text") else np.asarray(col.data).astype(str)
    keys, labels, seen = [], [], {}
    for i in rows:
        v = vals[i]
        if v is None or (col.missing is not None and col.missing[i]) or v in seen:
            continue
        seen[v] = len(keys)
        keys.append(str(v))
        labels.append(_row_fields(world, ent, int(i)))
    order = sorted(range(len(keys)), key=lambda j: keys[j])
    return [keys[j] for j in order], [labels[j] for j in order]


def _row_fields(world: FormWorld, ent: str, i: int) -> dict:
    data = world.data.entities[ent]
    out = {}
    for name, col in data.cols.items():
        if world.methodology.entities[ent].fields.get(name) is None:
            continue
        if getattr(world.methodology.entities[ent].fields[name], "personal", False):
            continue
        v = col.value_at(i)
        out[name] = "" if v is None else (v if col.type.kind in ("code", "text", "int") else display(v, col.type))
    return out


def _list_rows(ev, world: FormWorld, form: FormDef, r: RowDef, rows: list, labels: list[dict],
               values: dict) -> list[fm.Row]:
    ent = r.repeat.source
    idx = np.array(rows, dtype=np.int64)
    frame = ev.root_frame(ent, idx)
    columns = []
    for c in form.columns:
        expr, filters = _cell_source(r, c)
        if expr is None or expr.text.strip() == "-":
            columns.append([fm.Cell.dash() if expr is not None else fm.Cell()] * len(idx))
            continue
        comp = _compile_one(world, form, expr, (), ent)
        _bind(ev, world, comp, values, {}, {}, "")
        try:
            col = materialize(ev.eval(comp.ir, [frame]), len(idx))
        except EvalError as e:
            raise FormError(str(e)) from None
        columns.append([fm.Cell(_convert(col.value_at(i), col.type, c)) for i in range(len(idx))])
    out = []
    for n, fields in enumerate(labels, start=1):
        sub = {**values, **fields, "n": n}
        out.append(fm.Row(_fmt(r.repeat.label, sub), [col[n - 1] for col in columns],
                          _fmt(r.repeat.code, sub) or None, r.level, r.total))
    return out


def _control_message(form: FormDef, ctrl, comp: Compiled, cell_values: dict, ok: bool, values: dict) -> str:
    parts = []
    seen = set()
    for name, _span in comp.refs:
        if name in seen:
            continue
        seen.add(name)
        code, _, col = name.rpartition(".")
        cdef = form.column(col)
        row = next((r for r in form.rows if r.code == code), None)
        v = cell_values.get(name)
        kind = KIND[cdef.kind] if cdef else fm.ValueKind.INT
        shown = "—" if v is None else format_value(v if kind is not fm.ValueKind.NUMBER else
                                                   Decimal(repr(float(v))), kind, cdef.decimals if cdef else 0)
        parts.append(f"стр. {code} «{row.label if row else ''}», гр. «{cdef.label if cdef else col}» = {shown}")
    head = ctrl.message or f"Контрольное соотношение {ctrl.id} {'выполнено' if ok else 'нарушено'}"
    return f"{head}: {_fmt(ctrl.expr.text, values)}; " + "; ".join(parts)


def format_value(v, kind: fm.ValueKind, decimals: int) -> str:
    col = fm.Column("x", "x", kind if kind in fm.COLUMN_KINDS else fm.ValueKind.TEXT, decimals)
    return format_cell(fm.Cell(v), col, sep=" ")


def _show(v, t: Type) -> str:
    if v is None:
        return "—"
    if t.kind == "money":
        return format_value(int(v), fm.ValueKind.MONEY, 2)
    if t.kind == "int":
        return format_value(int(v), fm.ValueKind.INT, 0)
    if t.kind == "number":
        return format_value(Decimal(repr(float(v))).normalize(), fm.ValueKind.NUMBER, 4)
    return str(v)


def day_of(text: str | None) -> int | None:
    if not text:
        return None
    return (dt.date.fromisoformat(str(text)) - EPOCH).days

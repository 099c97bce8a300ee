"""Compile a whole form before evaluating it: every cell and control, with YAML positions.

Cells whose references are typed compile first; the rest wait, so a cycle of cells is
reported (E0401) instead of recursing. All problems are collected into one DiagnosticError.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl.diagnostics import Diagnostics, did_you_mean
from dsl.types import Type
from forms.cells import CellCompiler, Compiled, cell_name, parse
from forms.dataset import FormWorld
from forms.definition_model import ColumnDef, Expr, FormDef, RowDef

ACCEPTS = {"int": ("int",), "money": ("money",), "number": ("number", "int", "money"),
           "text": ("code", "text", "int", "date", "number", "money", "bool")}


@dataclass
class FormCell:
    row: RowDef
    column: ColumnDef
    compiled: Compiled | None        # None: empty
    dash: bool = False


def check_form(form: FormDef, world: FormWorld, params: dict[str, str] | None = None) -> None:
    """Type-check every cell and control; raises DiagnosticError."""
    from forms.generated_columns import expand_columns

    diags = Diagnostics()
    form = expand_columns(form, world, diags)
    diags.raise_if_errors()
    compile_form(form, world, diags, raise_errors=True)


def placeholders(form: FormDef) -> set[str]:
    """Names usable as $name: form parameters, $key of generated rows, $col of generated columns."""
    out = set(form.params) | {"key"}
    if any(c.key is not None for c in form.columns):
        out.add("col")
    return out


def compile_form(form: FormDef, world: FormWorld, diags: Diagnostics, raise_errors: bool):
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
                diags.error("E0102", f"строка «{r.label}»: в форме нет столбца «{cc}»", span,
                            hints=did_you_mean(cc, columns))
    comp = CellCompiler(world.methodology.symbols, diags, codes, columns, placeholders(form))
    _check_header(form, diags)
    _check_methodology_rows(form, world, diags)
    for c in form.columns:
        for what, cond in (("applies", c.applies), ("defined", c.defined)):
            if cond is None or c.key != _first_key(form, c):
                continue
            a = comp.compile(cond, None, (), None, {})
            if a is not None and a.ir.type.kind != "bool":
                diags.error("E0201", f"столбец «{c.label}», {what}: ожидалось условие (bool), выражение имеет тип "
                            f"{a.ir.type}", cond.span)
    static: dict[str, FormCell] = {}
    pending: list[tuple[str, FormCell, Expr, list[Expr]]] = []
    for r in form.rows:
        if r.section:
            continue
        for c in form.columns:
            expr, filters = cell_source(r, c)
            if expr is None or expr.text.strip() == "-":
                cell = FormCell(r, c, None, dash=expr is not None)
                if r.repeat is None and r.code:
                    static[cell_name(r.code, c.code)] = cell
                continue
            name = cell_name(r.code or f"#{id(r)}", c.code)
            pending.append((name, FormCell(r, c, None), expr, filters))
    types: dict[str, Type] = {}
    # cells whose references are typed compile first; the rest waits (a cycle stays pending)
    progress = True
    while pending and progress:
        progress = False
        rest = []
        for name, cell, expr, filters in pending:
            try:
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
        if r.repeat is not None:
            ent = _repeat_entity(form, r, world, diags)
            if r.repeat.where is None:
                continue
            repeats[id(r)] = comp.compile(r.repeat.where, ent) if ent or r.repeat.kind == "table" else None
            if repeats[id(r)] is not None and repeats[id(r)].ir.type.kind != "bool":
                diags.error("E0201", f"repeat, where: ожидалось условие (bool), выражение имеет тип "
                            f"{repeats[id(r)].ir.type}", r.repeat.where.span)
    if raise_errors:
        diags.raise_if_errors()
    return static, types, controls, repeats


def _first_key(form: FormDef, c: ColumnDef) -> str | None:
    """applies is checked once per template: on its first generated column (or the column itself)."""
    if c.group is None:
        return c.key
    return next(x.key for x in form.columns if x.group == c.group)


def _check_methodology_rows(form: FormDef, world: FormWorld, diags: Diagnostics) -> None:
    """A form over a methodology has no entity rows to filter: a row's `where` would be ignored."""
    if form.source != "methodology":
        return
    for r in form.rows:
        if r.where is not None:
            hint = ("отберите строки условием repeat: {table: …, where: …} по ключу $key"
                    if r.repeat is not None and r.repeat.kind == "table" else
                    "в форме по методике ячейки читают параметры и таблицы, отбирать нечего")
            diags.error("E0601", f"строка «{r.label}»: where в форме по методике (source: methodology) не действует",
                        r.where.span, hints=[hint])


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


def cell_source(r: RowDef, c: ColumnDef) -> tuple[Expr | None, list[Expr]]:
    if c.code in r.cells:
        return r.cells[c.code], []
    if c.cell is None:
        return None, []
    filters = [f for f in (r.where, c.where) if f is not None]
    return c.cell, filters


def _check_kind(cell: FormCell, expr: Expr, diags: Diagnostics) -> None:
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

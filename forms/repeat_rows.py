"""Rows generated from data (``repeat``): distinct values, table rows, or a listing of an entity."""

from __future__ import annotations

import numpy as np

from dsl.columns import code_strings
from dsl.diagnostics import Diagnostics
from engine.backends.numpy.evaluator import EvalError, materialize
from engine.runtime.values import display
from forms import model as fm
from forms.cell_eval import FormError, bind, eval_cell, scalar
from forms.cells import CellCompiler, Compiled
from forms.dataset import FormWorld
from forms.definition_model import Expr, FormDef, RowDef
from forms.form_compile import FormCell, cell_source, placeholders
from forms.form_values import convert, fill


def repeat_rows(ev, world: FormWorld, form: FormDef, r: RowDef, values: dict, where_comp) -> list[fm.Row]:
    rp = r.repeat
    keys, labels = _repeat_keys(ev, world, rp, where_comp, values)
    if rp.kind == "list":
        return _list_rows(ev, world, form, r, keys, labels, values)
    out = []
    for n, (key, fields) in enumerate(zip(keys, labels, strict=True), start=1):
        extra = {"key": key}
        cells = []
        for c in form.columns:
            expr, filters = cell_source(r, c)
            if expr is None or expr.text.strip() == "-":
                cells.append(fm.Cell.dash() if expr is not None else fm.Cell())
                continue
            state = column_state(ev, world, form, c, values, extra)
            if state is not None:
                cells.append(state)
                continue
            comp = _compile_one(world, form, expr, filters, None)
            cell = FormCell(r, c, comp)
            cells.append(eval_cell(ev, world, cell, RowDef(None, ""), c, values, extra, {}))
        sub = {**values, **fields, "key": key, "n": n}
        out.append(fm.Row(fill(rp.label, sub), cells, fill(rp.code, sub) or None, r.level, r.total))
    return out


_COMPILED: dict[tuple, Compiled] = {}


def column_state(ev, world: FormWorld, form: FormDef, c, values: dict, extra: dict) -> fm.Cell | None:
    """A column's conditions for one cell: a dash where it does not apply, an empty cell where its
    value is not defined, None where the cell is to be evaluated."""
    for cond, cell in ((c.applies, fm.Cell.dash), (c.defined, fm.Cell)):
        if cond is None:
            continue
        comp = _compile_one(world, form, cond, (), None)
        bind(ev, world, comp, values, {**extra, "col": c.key} if c.key is not None else extra, {}, "")
        if not scalar(ev, comp):
            return cell()
    return None


def _compile_one(world: FormWorld, form: FormDef, expr: Expr, filters, entity) -> Compiled:
    key = (id(world), id(expr), tuple(id(f) for f in filters), entity)
    hit = _COMPILED.get(key)
    if hit is None:
        diags = Diagnostics()
        comp = CellCompiler(world.methodology.symbols, diags, set(), {c.code for c in form.columns},
                            placeholders(form))
        hit = comp.compile(expr, entity, filters)
        diags.raise_if_errors()
        _COMPILED[key] = hit
    return hit


def _repeat_keys(ev, world: FormWorld, rp, where_comp, values: dict) -> tuple[list, list[dict]]:
    if rp.kind == "table":
        keys, labels = _table_keys(world, rp)
        if where_comp is None:
            return keys, labels
        kept = []
        for k, lab in zip(keys, labels, strict=True):
            bind(ev, world, where_comp, values, {"key": k}, {}, "")
            if scalar(ev, where_comp):
                kept.append((k, lab))
        return [k for k, _ in kept], [lab for _, lab in kept]
    return _entity_keys(ev, world, rp, where_comp)


def _table_keys(world: FormWorld, rp) -> tuple[list, list[dict]]:
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


def _entity_keys(ev, world: FormWorld, rp, where_comp) -> tuple[list, list[dict]]:
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
        expr, filters = cell_source(r, c)
        if expr is None or expr.text.strip() == "-":
            columns.append([fm.Cell.dash() if expr is not None else fm.Cell()] * len(idx))
            continue
        if c.applies is not None or c.defined is not None:
            raise FormError(f"столбец «{c.label}»: applies и defined не поддерживаются в строках repeat: list")
        comp = _compile_one(world, form, expr, (), ent)
        bind(ev, world, comp, values, {"col": c.key} if c.key is not None else {}, {}, "")
        try:
            col = materialize(ev.eval(comp.ir, [frame]), len(idx))
        except EvalError as e:
            raise FormError(str(e)) from None
        columns.append([fm.Cell(convert(col.value_at(i), col.type, c)) for i in range(len(idx))])
    out = []
    for n, fields in enumerate(labels, start=1):
        sub = {**values, **fields, "n": n}
        out.append(fm.Row(fill(r.repeat.label, sub), [col[n - 1] for col in columns],
                          fill(r.repeat.code, sub) or None, r.level, r.total))
    return out

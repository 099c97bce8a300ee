"""Columns generated from a methodology table (``repeat`` in a column), e.g. one column per level
(sub-level) of medical organisations in the tariff appendix; their header cells; per-cell
``applies`` (a dash where the column does not apply) and ``required`` (an empty cell fails a
control of the form).

A template column is expanded when the form meets its methodology (the table's rows valid at
``as_of``), before anything is compiled, so every generated column is an ordinary column with a
value of ``$col``.
"""

from __future__ import annotations

from dataclasses import replace

from dsl.diagnostics import Diagnostics, did_you_mean
from forms import model as fm
from forms.dataset import FormWorld
from forms.definition_model import ColumnDef, FormDef, HeaderDef
from forms.form_values import fill


def expand_columns(form: FormDef, world: FormWorld, diags: Diagnostics) -> FormDef:
    """The form with every template column replaced by its generated columns (a copy)."""
    if not any(c.repeat is not None for c in form.columns):
        return form
    columns: list[ColumnDef] = []
    made: dict[str, list[ColumnDef]] = {}
    for c in form.columns:
        if c.repeat is None:
            columns.append(c)
            continue
        template = c.repeat.label or c.label
        gen = [replace(c, code=f"{c.code}_{i}", label=fill(template, {"key": v}) or v, repeat=None,
                       key=v, group=c.code)
               for i, v in enumerate(_values(c, world, diags), start=1)]
        made[c.code] = gen
        columns.extend(gen)
    header = [_header_row(row, made, diags) for row in form.header]
    return replace(form, columns=columns, header=header)


def _values(c: ColumnDef, world: FormWorld, diags: Diagnostics) -> list[str]:
    rp = c.repeat
    t = world.methodology.tables.get(rp.table)
    if t is None:
        diags.error("E0104", f"столбец «{c.code}», repeat: нет таблицы «{rp.table}»", rp.span,
                    hints=did_you_mean(rp.table, list(world.methodology.tables)))
        return []
    if rp.field not in t.columns:
        diags.error("E0102", f"столбец «{c.code}», repeat: в таблице «{rp.table}» нет столбца «{rp.field}»",
                    rp.span, hints=did_you_mean(rp.field, list(t.columns)))
        return []
    day = world.context_day
    out: list[str] = []
    for i, row in enumerate(t.rows):
        if day is not None and t.starts is not None and not (t.starts[i] <= day < t.ends[i]):
            continue
        v = row.get(rp.field)
        if v is not None and str(v) not in out:
            out.append(str(v))
    if not out:
        diags.error("E0601", f"столбец «{c.code}»: в таблице «{rp.table}» нет строк"
                    + (" на дату формы" if day is not None else ""), rp.span)
    return out


def _header_row(row: list[HeaderDef], made: dict[str, list[ColumnDef]], diags: Diagnostics) -> list[HeaderDef]:
    out = []
    for h in row:
        code = h.columns or h.labels
        if code is None:
            out.append(h)
            continue
        if code not in made:
            diags.error("E0102", f"ячейка заголовка «{h.text}»: нет столбца-шаблона «{code}» (с repeat)", h.span,
                        hints=did_you_mean(code, list(made)))
            continue
        if h.columns:
            out.append(replace(h, colspan=max(len(made[code]), 1), columns=None))
        else:
            out.extend(HeaderDef(c.label, 1, h.rowspan, h.span) for c in made[code])
    return out


def required_failures(form: FormDef, rows: list[fm.Row]) -> list[tuple[ColumnDef, list[fm.Row]]]:
    """Per required column, the data rows whose cell is empty (not a deliberate dash)."""
    out = []
    for j, c in enumerate(form.columns):
        if not c.required:
            continue
        empty = [r for r in rows if not r.is_section and r.cells[j].value is None
                 and r.cells[j].kind is not fm.ValueKind.DASH]
        out.append((c, empty))
    return out

"""Evaluate a form definition over a form world → RenderedForm and control-ratio results.

Compilation happens first and for the whole form (every problem is reported at once, with
its YAML position); only then are cells evaluated, in dependency order, by the engine's
Evaluator in the global context. Money stays int kopecks; fractional numbers become
``Decimal`` rounded half up to the column's digits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from dsl import ir
from dsl.diagnostics import Diagnostics, Span
from engine.backends.numpy.evaluator import Evaluator
from forms import model as fm
from forms.cell_eval import FormError, bind, comp_type, eval_cell, scalar
from forms.cells import Compiled, cell_name
from forms.dataset import FormWorld
from forms.definition_model import FormDef
from forms.form_compile import ACCEPTS, check_form, compile_form
from forms.form_values import KIND, day_of, fill, format_value, show
from forms.generated_columns import expand_columns, required_failures
from forms.repeat_rows import column_state, repeat_rows

__all__ = ["ACCEPTS", "KIND", "ControlResult", "FormError", "FormResult", "check_form", "comp_type", "day_of",
           "evaluate_form", "format_value"]


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


def evaluate_form(form: FormDef, world: FormWorld, params: dict[str, str] | None = None,
                  generated_at: dt.datetime | None = None) -> FormResult:
    diags = Diagnostics()
    form = expand_columns(form, world, diags)
    diags.raise_if_errors()
    static, types, controls, repeats = compile_form(form, world, diags, raise_errors=True)
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
            rows.append(fm.Row(fill(r.label, values), code=r.code, level=r.level, is_section=True))
        elif r.repeat is None:
            cells = []
            for c in form.columns:
                cell = static.get(cell_name(r.code, c.code)) if r.code else None
                state = column_state(ev, world, form, c, values, {}) if cell is not None and cell.compiled else None
                if state is not None:
                    cells.append(state)
                    continue
                cells.append(eval_cell(ev, world, cell, r, c, values, {}, cell_values))
            rows.append(fm.Row(fill(r.label, values), cells, r.code, r.level, r.total))
        else:
            rows.extend(repeat_rows(ev, world, form, r, values, repeats.get(id(r))))
    results = []
    for ctrl, comp in controls:
        if comp is None:
            continue
        bind(ev, world, comp, values, {}, cell_values, "")
        ok = bool(scalar(ev, comp))
        x = comp.ir
        sides = []
        if isinstance(x, ir.Binary) and x.op in ("==", "!=", "<", "<=", ">", ">="):
            sides = [(_side_text(ctrl.expr, side.span), show(scalar(ev, Compiled(side, {}, [])), side.type))
                     for side in (x.left, x.right)]
        msg = control_message(form, ctrl, comp, cell_values, ok, values, sides)
        results.append(ControlResult(ctrl.id, ok, ctrl.expr.text, msg, ctrl.expr.span))
    results.extend(required_controls(form, rows))
    meta = fm.FormMeta(form.id, form.version, world.base.ref, generated_at or dt.datetime.now().replace(microsecond=0))
    title = fm.TitleBlock(fill(form.title, values), fill(form.code, values), fill(form.period, values),
                          fill(form.organisation, values), tuple(fill(x, values) for x in form.approval),
                          tuple(fill(x, values) for x in form.lines))
    columns = [fm.Column(c.code, fill(c.label, values), KIND[c.kind], c.decimals if c.kind == "number" else 0, c.width)
               for c in form.columns]
    header = [[fm.HeaderCell(fill(h.text, values), h.colspan, h.rowspan) for h in hr] for hr in form.header]
    st = form.stub
    stub = fm.Stub(st.get("label", "Наименование показателя"),
                   st.get("code", "№ строки") if st.get("code", "") is not None else None,
                   float(st.get("label_width", 70)), float(st.get("code_width", 14)))
    notes = [fill(n, values) for n in form.notes]
    notes += [c.message for c in results if not c.ok]
    footer = fm.Footer(tuple(notes), tuple(fm.Signature(a, b) for a, b in form.signatures), form.stamp)
    rendered = fm.RenderedForm(title, columns, rows, meta, header, stub, footer, form.orientation,
                               column_numbering=form.numbering)
    return FormResult(rendered, results, cell_values)


def required_controls(form: FormDef, rows: list[fm.Row]) -> list[ControlResult]:
    """One control per required column: every data row has a value (an empty cell is a failure,
    a deliberate dash is not)."""
    out = []
    for c, empty in required_failures(form, rows):
        what = f"гр. «{c.label}» заполнена во всех строках"
        if not empty:
            out.append(ControlResult(f"{c.code}: обязательна", True, what, f"выполнено: {what}", c.span))
            continue
        shown = "; ".join(f"стр. {r.code or '—'} «{r.label}»" for r in empty[:10])
        more = f" и ещё {len(empty) - 10}" if len(empty) > 10 else ""
        out.append(ControlResult(f"{c.code}: обязательна", False, what,
                                 f"НАРУШЕНО: гр. «{c.label}» не заполнена (нет значения) в {len(empty)} "
                                 f"стр.: {shown}{more}", c.span))
    return out


def _side_text(expr, span) -> str:
    """The source text of one side of a comparison (both lie on the expression's line)."""
    if span is None or span.line != expr.span.line or span.end_line != span.line:
        return ""
    start = span.column - expr.span.column
    return expr.text[start: start + span.end_column - span.column].strip()


def control_message(form: FormDef, ctrl, comp: Compiled, cell_values: dict, ok: bool, values: dict,
                    sides: list[tuple[str, str]]) -> str:
    """«выполнено»/«НАРУШЕНО», the relation, each side named by its text with its value, then every
    referenced cell (row, column, value); parts are joined without empty pieces."""
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
    state = "выполнено" if ok else "НАРУШЕНО"
    head = f"{state}: {ctrl.id}" + (f" — {fill(ctrl.message, values)}" if ctrl.message else "")
    pieces = [f"{head}: {fill(ctrl.expr.text, values)}"]
    for word, (text, shown) in zip(("левая часть", "правая часть"), sides, strict=False):
        pieces.append(f"{word} «{fill(text, values)}» = {shown}" if text else f"{word} = {shown}")
    pieces += parts
    return "; ".join(p for p in pieces if p.strip())

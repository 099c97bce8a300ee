"""Evaluate one compiled cell or control in the engine's Evaluator (global context)."""

from __future__ import annotations

from dsl import ir
from dsl.types import Type
from engine.backends.numpy.evaluator import EvalError, Evaluator, materialize
from engine.runtime.params import FAR_FUTURE, ParamDef, Period
from forms import model as fm
from forms.cells import Compiled, cell_name
from forms.dataset import FormWorld
from forms.definition_model import ColumnDef, RowDef
from forms.form_values import convert


class FormError(Exception):
    """Evaluation failed (message in Russian)."""


def bind(ev: Evaluator, world: FormWorld, comp: Compiled, values: dict, extra: dict, cell_values: dict,
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


def scalar(ev: Evaluator, comp: Compiled):
    frame = ev.root_frame(None)
    try:
        col = materialize(ev.eval(comp.ir, [frame]), 1)
    except EvalError as e:
        raise FormError(str(e)) from None
    return col.value_at(0)


def eval_cell(ev, world, cell, r: RowDef, c: ColumnDef, values: dict, extra: dict, cell_values: dict) -> fm.Cell:
    if cell is None or cell.compiled is None:
        return fm.Cell.dash() if cell is not None and cell.dash else fm.Cell()
    if c.key is not None:
        extra = {**extra, "col": c.key}
    bind(ev, world, cell.compiled, values, extra, cell_values, "")
    v = scalar(ev, cell.compiled)
    if r.code and r.repeat is None:
        cell_values[cell_name(r.code, c.code)] = v
    return fm.Cell(convert(v, cell.compiled.ir.type, c))

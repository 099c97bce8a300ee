"""One call from a definition and a run (or a methodology) to an evaluated form."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dsl.diagnostics import Diagnostics
from engine.oms.pipeline import read_extra
from engine.runtime.model import Methodology
from engine.runtime.schema import load_schema
from engine.runtime.yamlpos import Located
from forms.dataset import RunData, methodology_world, run_world
from forms.definition_model import FormDef
from forms.evaluate import FormError, FormResult, day_of, evaluate_form


def input_entities(form: FormDef, files: dict[str, Path]) -> dict:
    """The extra entities a form declares (``inputs:``), bound from the given CSV files."""
    if form.inputs is None:
        return {}
    diags = Diagnostics()
    defs = load_schema(Located({"entities": form.inputs}, form.inputs.span), diags)
    diags.raise_if_errors()
    out = {}
    for name, edef in defs.items():
        path = files.get(name)
        if path is None:
            raise FormError(f"форме {form.id} нужна входная таблица «{name}» ({edef.label}): "
                            f"--input {name}=ФАЙЛ.csv")
        raw = read_extra({name: Path(path)})[name]
        out[name] = (edef, raw)
    return out


def build_form(form: FormDef, *, run: RunData | None = None, methodology: Methodology | None = None,
               params: dict[str, str] | None = None, inputs: dict[str, Path] | None = None,
               generated_at: dt.datetime | None = None) -> FormResult:
    params = dict(params or {})
    if form.source == "methodology":
        m = methodology or (run.methodology if run else None)
        if m is None:
            raise FormError(f"форма {form.id} вычисляется по методике: укажите пакет методики")
        day = day_of(params.get("as_of") or (form.params["as_of"].default if "as_of" in form.params else None)
                     or form.as_of)
        world = methodology_world(m, day)
    else:
        if run is None:
            raise FormError(f"форма {form.id} строится по результатам расчёта: укажите --run")
        from engine.runtime.dataset import DataError

        try:
            world = run_world(run, input_entities(form, inputs or {}))
        except DataError as e:
            raise FormError(str(e)) from None
    return evaluate_form(form, world, params, generated_at)

"""The example month processed by the test package, shared by the form-definition tests."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

from engine.oms.pipeline import process
from engine.runtime.compiler import compile_package
from forms.build import build_form
from forms.dataset import run_data_from_result
from forms.definition import load_form, resolve_form_path
from forms.mek_outputs import write_outputs

ROOT = Path(__file__).parents[2]
PACKAGE = Path(__file__).parent / "data" / "pkg"
MONTH = ROOT / "examples" / "registries" / "2025-03"
INSURED = MONTH / "ERZ_2025-03.csv"
PLAN = Path(__file__).parent / "data" / "plan_2025-03.csv"
GENERATED = dt.datetime(2025, 4, 1, 9, 0)
PARAMS = {"mek_act": {"period": "за март 2025 г."}, "invoice": {"mo": "000002", "period": "за март 2025 г."},
          "smo_register": {"period": "за март 2025 г."}, "med14": {"period": "за март 2025 г."},
          "ksg_report": {"period": "2025-03"}, "ksg_tariff": {"as_of": "2025-03-01"},
          "plan_fact": {"period": "за март 2025 г."}}
SHIPPED = sorted(PARAMS)


@cache
def methodology():
    return compile_package(PACKAGE)


@cache
def pipeline_result():
    return process(methodology(), [MONTH], {"insured": INSURED})


@cache
def run_data():
    return run_data_from_result(pipeline_result())


def write_run(out: Path) -> Path:
    write_outputs(pipeline_result(), out)
    return out


def build(form_id: str, run=None, form=None):
    form = form or load_form(resolve_form_path(form_id))
    return build_form(form, run=run or run_data(), methodology=methodology(), params=PARAMS.get(form_id, {}),
                      inputs={"plan": PLAN}, generated_at=GENERATED)

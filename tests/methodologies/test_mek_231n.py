"""231н by the letter: amounts and texts the YAML tests do not compare (withheld sums, book names)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from engine.backends.numpy.checks import run_checks
from engine.backends.numpy.evaluator import Evaluator
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import bind
from engine.testing import build_input, with_parameters

PKG = Path(__file__).parents[2] / "methodologies" / "federal" / "2025"
TESTS = PKG / "tests"


@pytest.fixture(scope="module")
def federal():
    return compile_package(PKG)


def _defaults(name: str) -> dict:
    return yaml.safe_load((TESTS / name).read_text(encoding="utf-8"))["defaults"]


def _checks(m, inp: dict, defaults: dict, params: dict | None = None, only: list[str] | None = None):
    from dsl.diagnostics import Span

    mm = with_parameters(m, params or {}, Span("test", 1, 1, 1, 1))
    data = bind(mm.entities, build_input(mm, yaml.safe_load(yaml.safe_dump(inp, allow_unicode=True)), defaults, None))
    return run_checks(Evaluator(mm, data), only).defects


@pytest.mark.parametrize("mode, withheld", [("refuse", 30000), ("tariff", 0)])
def test_below_tariff_mode_decides_the_withholding(federal, mode, withheld):
    inp = {"account": [{"summav": "300.00"}], "patient": [{}], "case": [{"key": "c1", "sumv": "300.00"}],
           "sl": [{"sum_m": "300.00"}]}
    got = _checks(federal, inp, _defaults("mek_tariff_ts.yaml"), {"mek_below_tariff": mode}, ["tariff_mismatch"])
    assert [(d.row_key, d.withheld) for d in got] == [("c1", withheld)]
    assert "ниже тарифа" in got[0].message


def test_above_tariff_is_still_refused_in_full_in_every_mode(federal):
    inp = {"account": [{"summav": "520.40"}], "patient": [{}], "case": [{"key": "c1", "sumv": "520.40"}],
           "sl": [{"sum_m": "520.40"}]}
    for mode in ("refuse", "billed", "tariff"):
        got = _checks(federal, inp, _defaults("mek_tariff_ts.yaml"), {"mek_below_tariff": mode}, ["tariff_mismatch"])
        assert [(d.row_key, d.withheld) for d in got] == [("c1", 52040)], mode


def test_day_hospital_death_message_names_outcomes_from_the_books(federal):
    case = {"key": "c1", "usl_ok": 2, "vidpom": 13, "for_pom": 3, "npr_mo": "760001", "idsp": 33,
            "date_z_1": dt.date(2025, 3, 5), "date_z_2": dt.date(2025, 3, 10), "kd_z": 6, "rslt": 205, "ishod": 203}
    sl = {"date_1": dt.date(2025, 3, 5), "date_2": dt.date(2025, 3, 10), "kd": 6, "n_ksg": "ds13.001",
          "bztsz": "1000.00", "koef_z": 1.0, "tarif": "1000.00"}
    got = _checks(federal, {"account": [{}], "patient": [{}], "case": [case], "sl": [sl]},
                  _defaults("mek_dates_outcome.yaml"), {"mek_tariff_ts": False}, ["death_ishod"])
    assert len(got) == 1
    # V009 205 «Умер»; V012 204 «Ухудшение», 203 «Без перемен» — names from the shipped books
    assert got[0].message == ("Случай 1: результат RSLT = 205 «Умер» (V009) требует исхода ISHOD = 204 «Ухудшение» "
                              "(V012), указан ISHOD = 203 «Без перемен»")

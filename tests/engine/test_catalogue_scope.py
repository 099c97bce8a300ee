"""Catalogue-bound checks at run time: file kind and reporting period of the account decide the scope."""

from __future__ import annotations

import numpy as np

from dsl.checker import CheckIR
from dsl.columns import encode_strings
from dsl.types import parse_type_name
from engine.backends.numpy.checks import run_checks
from engine.backends.numpy.evaluator import Evaluator
from engine.backends.numpy.explain import Explainer
from engine.runtime.dataset import bind
from engine.runtime.scope import describe, file_kinds
from engine.testing import build_input
from tests.dsl.harness import HERE, compile_entry, in_dir

GOOD = HERE / "good" / "catalogue.rules"


def _run(accounts: list[dict]):
    m = compile_entry(GOOD)
    inp = {"account": accounts, "patient": [{"key": "p1", "dr": "1980-01-01"}],
           "case": [{"key": f"c{i}", "patient_ref": "p1", "account_ref": a["key"], "kd": 0}
                    for i, a in enumerate(accounts)],
           "service": [{"key": f"s{i}", "case_ref": f"c{i}", "code_usl": "X"} for i in range(len(accounts))]}
    defaults = {"account": {"dschet": "2025-03-31", "code_mo": "760002", "summav": 0},
                "case": {"usl_ok": 1, "profil": 97, "lpu": "760002", "ds1": "H25.1", "rslt": 101, "sumv": 100,
                         "date_z_1": "2025-03-01", "date_z_2": "2025-03-10"},
                "service": {"kol_usl": 1, "sumv_usl": 0, "date_in": "2025-03-05"}}
    with in_dir(HERE):
        data = bind(m.entities, build_input(m, inp, defaults, None))
    ev = Evaluator(m, data)
    return m, ev, run_checks(ev)


def test_defects_carry_the_catalogue_id_and_respect_kind_and_period():
    _, _, table = _run([{"key": "a1", "file_type": "H", "year": 2025, "month": 3},
                        {"key": "a2", "file_type": "T", "year": 2025, "month": 3},
                        {"key": "a3", "file_type": "C", "year": 2025, "month": 4}])
    got = sorted((d.check, d.row_key, d.catalogue) for d in table.defects)
    assert got == [("q015_001f_00_0060", "s0", "001F.00.0060"), ("q015_003f_00_0010", "c0", "003F.00.0010")]
    assert table.defects[0].as_row()["catalogue"] in ("001F.00.0060", "003F.00.0010")


def test_explain_check_names_the_id_and_says_why_out_of_scope():
    _, ev, _ = _run([{"key": "a1", "file_type": "H", "year": 2025, "month": 3},
                     {"key": "a2", "file_type": "T", "year": 2025, "month": 3}])
    inside = Explainer(ev).explain_check("case", "c0", "q015_003f_00_0010")
    assert inside.value == "срабатывает" and "Q015 003F.00.0010; файлы H, C; с 2025-02 по 2025-03" in inside.text
    outside = Explainer(ev).explain_check("case", "c1", "q015_003f_00_0010")
    assert outside.value == "не выполняется"
    assert "вид файла T" in outside.note and "2025-03" in outside.note


def test_file_kind_falls_back_to_the_file_name():
    code = parse_type_name("code", True)
    given = encode_strings(np.array([None, "C", None, None, "-", None], dtype=object), code)
    names = encode_strings(np.array(["HM760002T76_250301", "TM1", "DPM760002T76_2503", None, "TM2", "XM1"],
                                    dtype=object), code)
    assert list(file_kinds(given, names, 6)) == ["H", "C", "D", None, "T", None]


def test_describe_without_binding_is_none():
    assert describe(CheckIR("x", "case", None, None, None, None, None, None, None)) is None


def test_shipped_month_runs_checks_of_its_kind_and_period_only(tmp_path):
    """A package extending the federal one: on the shipped H month of 2025-03 only the H check in force fires."""
    from pathlib import Path

    from engine.oms.pipeline import process
    from engine.runtime.compiler import compile_package

    root = Path(__file__).resolve().parents[2]
    month = root / "examples" / "registries" / "2025-03"
    rules = "".join(f'''
check q015_003f_00_{n} on case:
    catalogue "003F.00.{n}"
    kinds {kinds}
    valid from {start}
    code "1.4.3"
    title "Проба области проверки"
    when sumv > 0
''' for n, kinds, start in (("0001", "H", "2025-01-01"), ("0002", "C, T", "2025-01-01"),
                            ("0003", "H", "2025-04-01")))
    (tmp_path / "probe.rules").write_text(rules, encoding="utf-8")
    (tmp_path / "methodology.yaml").write_text(
        f"id: probe\nversion: 0.0.1\ntitle: probe\nextends: {root / 'methodologies' / 'federal' / '2025'}\n"
        "modules: [probe.rules]\n", encoding="utf-8")
    res = process(compile_package(tmp_path), [month], {"insured": month / "ERZ_2025-03.csv"})
    probes = {"q015_003f_00_0001", "q015_003f_00_0002", "q015_003f_00_0003"}
    fired = {d.check for d in res.run.defects.defects if d.check in probes}
    assert fired == {"q015_003f_00_0001"}
    assert sum(d.check == "q015_003f_00_0001" for d in res.run.defects.defects) == res.run.data.entities["case"].n
    from forms.mek_outputs import protocol_form

    texts = [str(c.value) for r in protocol_form(res).rows for c in r.cells if isinstance(c.value, str)]
    assert any("(Q015 003F.00.0001)" in t for t in texts)   # the МЭК protocol names the catalogue ID

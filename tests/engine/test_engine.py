"""Engine behaviour: chunking, explain, diff, hashing, data errors, CLI."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest

from api.cli.main import main
from dsl.diagnostics import DiagnosticError
from engine.backends.numpy.checks import run_checks
from engine.backends.numpy.evaluator import Evaluator
from engine.backends.numpy.explain import Explainer, render_text
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import DataError, bind
from engine.runtime.diff import diff, render
from tests.engine.conftest import make_package, synthetic_raw


def test_chunked_evaluation_equals_whole_frame(package):
    data = bind(package.entities, synthetic_raw(3000))
    whole = Evaluator(package, data)
    chunked = Evaluator(package, data, chunk_rows=257)
    for name in ("kz", "kus", "cost", "services", "dups", "age", "short"):
        a, b = whole.column("case", name), chunked.column("case", name)
        assert np.array_equal(np.asarray(a.data), np.asarray(b.data)), name


def test_numexpr_fusion_equals_numpy(package):
    data = bind(package.entities, synthetic_raw(2000, seed=5))
    fused, plain = Evaluator(package, data, fuse=True), Evaluator(package, data, fuse=False)
    for name in ("cost", "short"):
        assert np.array_equal(np.asarray(fused.column("case", name).data), np.asarray(plain.column("case", name).data))


def test_cost_matches_decimal_arithmetic_row_by_row(package):
    raw = synthetic_raw(500, seed=9)
    data = bind(package.entities, raw)
    ev = Evaluator(package, data)
    cost = ev.column("case", "cost")
    kz = {"st02.003": "0.98", "st21.001": ("0.49", "0.51"), "ds02.001": "0.83"}
    kus = {"760001": "0.9", "760002": "1.05", "760003": "1.25"}
    for i in range(500):
        code, lpu, d2 = raw["case"]["n_ksg"][i], raw["case"]["lpu"][i], raw["case"]["date_z_2"][i]
        late = d2 >= "2025-07-01"
        base = Decimal("30000.00") if late else Decimal("28147.26")
        k = kz.get(code, "0")
        if isinstance(k, tuple):
            k = k[1] if late else k[0]
        want = (base * Decimal(k) * Decimal(kus.get(lpu, "1"))).quantize(Decimal("0.01"), ROUND_HALF_UP)
        assert cost.value_at(i) == int(want * 100), (i, code, lpu, d2)


def test_explain_tree_names_parameter_table_row_and_reference(package):
    raw = synthetic_raw(50)
    raw["case"]["n_ksg"][0], raw["case"]["lpu"][0], raw["case"]["date_z_2"][0] = "st21.001", "760002", "2025-03-10"
    ev = Evaluator(package, bind(package.entities, raw))
    tree = Explainer(ev).explain("case", "c0", "cost")
    text = render_text(tree)
    assert tree.value == "14481.77"
    assert "«Базовая ставка, КС»" in text and "значение действует с 2025-01-01 по 2025-06-30" in text
    assert "tables/ksg.csv:3" in text and "МР, п. 3.1" in text
    blob = json.dumps(tree.to_json(), ensure_ascii=False)
    assert '"kind": "parameter"' in blob and '"kind": "table"' in blob


def test_explain_masks_personal_fields(package):
    rules = "for case:\n    first_digit: bool = default(patient.enp, \"\") == \"x\"\n"
    m = compile_package(make_package(package.package.path.parent / "m2", rules))
    ev = Evaluator(m, bind(m.entities, synthetic_raw(10)))
    text = render_text(Explainer(ev).explain("case", "c0", "first_digit"))
    assert "7600000" not in text and "***" in text
    text = render_text(Explainer(ev, personal_data=True).explain("case", "c0", "first_digit"))
    assert "7600000" in text


def test_defects_carry_values_code_and_version(package):
    raw = synthetic_raw(30)
    raw["case"]["patient_ref"][1] = raw["case"]["patient_ref"][0]
    raw["case"]["date_z_1"][1] = raw["case"]["date_z_1"][0]
    raw["case"]["profil"][1] = raw["case"]["profil"][0]
    ev = Evaluator(package, bind(package.entities, raw))
    defects = [d for d in run_checks(ev).defects if d.row_key in ("c0", "c1")]
    assert {d.row_key for d in defects} == {"c0", "c1"}
    d = defects[0]
    assert d.code == "1.10.2" and d.package == "t@1.0.0" and d.values == {"dups": "2"}
    assert d.withheld == d.base and "повторяется 2 раз" in d.message


def test_binding_errors_name_entity_row_and_field(package):
    raw = synthetic_raw(5)
    raw["case"]["date_z_1"][3] = "2025-13-01"
    raw["case"]["sumv"][2] = "12.345"
    with pytest.raises(DataError) as e:
        bind(package.entities, raw)
    text = str(e.value)
    assert "case [c3].date_z_1" in text and "case [c2].sumv" in text


def test_binding_never_prints_personal_values(package):
    raw = synthetic_raw(6)
    raw["patient"]["enp"][1] = None
    with pytest.raises(DataError) as e:
        bind(package.entities, raw)
    text = str(e.value)
    assert "patient [p1].enp: обязательное поле не заполнено" in text
    assert "760000000000" not in text


def test_hash_is_stable_and_changes_with_content(tmp_path):
    a = compile_package(make_package(tmp_path / "a"))
    b = compile_package(make_package(tmp_path / "b"))
    assert a.content_hash == b.content_hash
    c = compile_package(make_package(tmp_path / "c", "for case:\n    x: int = 1\n"))
    assert c.content_hash != a.content_hash


def test_diff_lists_changed_parameter_and_rule(tmp_path):
    a = compile_package(make_package(tmp_path / "a"))
    pkg = make_package(tmp_path / "b", "for case:\n    x: int = 1\n", "parameters: params.yaml\n")
    (pkg / "params.yaml").write_text(
        "base_rate:\n  type: money\n  label: Базовая ставка, КС\n  override: true\n  values:\n"
        "    2025-01-01: 29000.00\n", encoding="utf-8")
    b = compile_package(pkg)
    text = render(a, b, diff(a, b))
    assert "~ base_rate «Базовая ставка, КС» с 2025-01-01: 28147.26 → 29000.00 руб." in text
    assert "+ case.x: int = 1" in text and "− case.cost" in text


def test_cli_check_reports_positioned_error(tmp_path, capsys):
    pkg = make_package(tmp_path, "for case:\n    x: int = y + 1\n")
    assert main(["check", str(pkg)]) == 1
    err = capsys.readouterr().err
    assert "E0101" in err and "rules.rules:2:14" in err


def test_cli_calc_writes_values_and_defects(tmp_path, capsys):
    pkg = make_package(tmp_path)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    import csv

    raw = synthetic_raw(20)
    for ent, cols in raw.items():
        with (data_dir / f"{ent}.csv").open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(list(cols))
            for i in range(len(next(iter(cols.values())))):
                w.writerow(["" if cols[c][i] is None else cols[c][i] for c in cols])
    out = tmp_path / "out"
    assert main(["calc", str(pkg), "--data", str(data_dir), "--out", str(out)]) == 0
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["methodology"] == "t@1.0.0" and info["rows"]["case"] == 20
    assert (out / "case.csv").read_text(encoding="utf-8").startswith("key,kz,kus,cost")


def test_compile_errors_are_collected_not_first_only(tmp_path):
    pkg = make_package(tmp_path, "for case:\n    a: int = nope\n    b: money = 1.555\n")
    with pytest.raises(DiagnosticError) as e:
        compile_package(pkg)
    assert [d.code for d in e.value.diagnostics] == ["E0101", "E0206"]


def test_explain_group_aggregate_and_window_on_one_row(tmp_path):
    from engine.runtime.values import display

    rules = ("for case:\n    n: int = count(case by lpu)\n    r: int = rank(case by lpu order by date_z_1)\n"
             "    s: money = sum(sumv by lpu where usl_ok == 1)\n")
    m = compile_package(make_package(tmp_path, rules))
    data = bind(m.entities, synthetic_raw(40))
    full = Evaluator(m, data)
    lpu = data.entities["case"].cols["lpu"].value_at(7)
    same = [i for i in range(40) if data.entities["case"].cols["lpu"].value_at(i) == lpu]
    assert full.column("case", "n").value_at(7) == len(same) > 1
    for name in ("n", "r", "s"):
        col = full.column("case", name)
        tree = Explainer(Evaluator(m, data)).explain("case", "c7", name)   # one row, fresh evaluator
        assert tree.value == display(col.value_at(7), col.type), name


def test_failing_yaml_case_on_group_aggregate_reports_instead_of_crashing(tmp_path):
    from engine.testing import run_tests

    pkg = make_package(tmp_path, "for case:\n    n: int = count(case by lpu)\n",
                       "tests: [t.yaml]\n")
    (pkg / "t.yaml").write_text(
        "- name: неверное ожидание\n  input:\n    case: [{key: c1, lpu: '1'}, {key: c2, lpu: '1'}]\n"
        "  output:\n    case: {c1: {n: 5}}\n", encoding="utf-8")
    report = run_tests(compile_package(pkg))
    assert report.failed == 1
    assert "ожидалось 5, получено 2" in report.results[0].failures[0]


def test_parameter_not_in_force_only_matters_where_it_is_used(tmp_path):

    rules = ("for case:\n    x: money = if usl_ok == 1 then base_rate else 0\n"
             "    has_rate: bool = present(base_rate)\n")
    m = compile_package(make_package(tmp_path, rules))
    raw = synthetic_raw(6)
    raw["case"]["usl_ok"][:] = "2"
    raw["case"]["date_z_2"][3] = "2024-12-20"
    ev = Evaluator(m, bind(m.entities, raw))
    assert ev.column("case", "x").value_at(3) == 0
    assert ev.column("case", "has_rate").to_python()[3] is False
    raw["case"]["usl_ok"][3] = "1"
    ev = Evaluator(m, bind(m.entities, raw))
    x = ev.column("case", "x")          # one row without a rate does not stop the others
    assert x.value_at(3) is None and all(x.value_at(i) == 0 for i in (0, 1, 2, 4, 5))
    note = ev.unresolved_notes["case.x"]
    assert note.reason == "параметр «base_rate» не действует на дату 2024-12-20"
    assert (note.row_key, note.rows) == ("c3", 1)


def test_explain_shows_conditions_tried_and_the_branch_taken(tmp_path):
    rules = ("for case:\n    tier: int = if usl_ok == 1 then 10 elif kd > 5 then kd * 2 else 0\n"
             "    share: number = decide first:\n        kd <= 3 -> 0.3\n        kd <= 8 -> 0.5\n        else -> 1.0\n")
    m = compile_package(make_package(tmp_path, rules))
    raw = synthetic_raw(5)
    raw["case"]["usl_ok"][0], raw["case"]["kd"][0] = "2", "7"
    ev = Evaluator(m, bind(m.entities, raw))
    tree = Explainer(ev).explain("case", "c0", "tier")
    assert tree.value == "14"
    assert [c.text for c in tree.children] == ["usl_ok == 1", "kd > 5", "kd * 2"]
    assert [c.value for c in tree.children] == ["false", "true", "14"]
    share = Explainer(ev).explain("case", "c0", "share")
    assert [c.text for c in share.children] == ["строка 2 таблицы решений"]
    assert share.value == "0.5"


def test_explain_check_condition_on_one_row(package):
    raw = synthetic_raw(30)
    raw["case"]["patient_ref"][1] = raw["case"]["patient_ref"][0]
    raw["case"]["date_z_1"][1] = raw["case"]["date_z_1"][0]
    raw["case"]["profil"][1] = raw["case"]["profil"][0]
    ev = Evaluator(package, bind(package.entities, raw))
    tree = Explainer(ev).explain_check("case", "c0", "duplicate")
    assert tree.value == "срабатывает" and tree.text == "проверка duplicate: when dups > 1"
    assert tree.children[0].text.startswith("case.dups = count(case by patient_ref") and tree.children[0].value == "2"
    with pytest.raises(KeyError):
        Explainer(ev).explain_check("case", "c0", "nope")


def test_optional_code_column_absent_from_the_input(tmp_path):
    m = compile_package(make_package(tmp_path, 'for case:\n    z: bool = default(ds2, "Z") == "Z"\n'))
    raw = synthetic_raw(4)
    del raw["case"]["ds2"]   # absent column: an optional field with an empty dictionary
    assert Evaluator(m, bind(m.entities, raw)).column("case", "z").to_python() == [True] * 4


@pytest.mark.parametrize("fuse", [False, True])
def test_division_by_zero_only_matters_where_the_branch_is_taken(tmp_path, fuse):
    from engine.backends.numpy.evaluator import EvalError

    rules = ("for case:\n    r: number = if kd > 3 then to_number(sumv) / (kd - 3) else 0\n"
             "    d: number = decide first:\n        kd <= 3 -> 0.0\n        else -> 1.0 / (kd - 3)\n"
             "    bad: number = if kd > 1 then 1.0 / (kd - 3) else 0\n")
    m = compile_package(make_package(tmp_path, rules))
    raw = synthetic_raw(20)
    raw["case"]["kd"][:5] = "3"
    ev = Evaluator(m, bind(m.entities, raw), fuse=fuse)
    assert ev.column("case", "r").to_python()[:5] == [0.0] * 5
    assert ev.column("case", "d").to_python()[:5] == [0.0] * 5
    with pytest.raises(EvalError, match="деление на ноль"):
        ev.column("case", "bad")

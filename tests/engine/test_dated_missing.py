"""A parameter not in force on a row's date leaves that row without a value; the run goes on.

The evaluator's three-valued semantics for such rows (unit tests on the golden fixture), and the
shipped month with one case dated years before the rates: that case carries МЭК 1.7.1 and every
other case comes out exactly as in the month without it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from engine.backends.numpy.evaluator import Evaluator
from engine.backends.numpy.explain import Explainer
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import bind
from tests.engine.conftest import make_package, synthetic_raw

RULES = """
for case:
    x: money = if usl_ok == 1 then base_rate else 0
    y: money = base_rate * 2
    known: bool = present(y)
    big: bool = y > 100
    and_false: bool = usl_ok == 9 and y > 100
    or_true: bool = usl_ok != 9 or y > 100
    and_open: bool = usl_ok != 9 and y > 100
    negated: bool = not (y > 100)
    picked: int = if y > 100 then 1 else 2
    first_row: number = decide first:
        kd > 0 -> 1.0
        y > 100 -> 2.0
        else -> 3.0
    open_row: number = decide first:
        y > 100 -> 2.0
        else -> 3.0
    ratio: number = 100.0 / to_number(y)
    by_lpu: money = sum(y by lpu)
    found: bool = exists(level[if y > 100 then lpu else "760001"])
    code_eq: bool = (if y > 100 then lpu else "760001") == "760001"

for patient:
    total: money = sum(case.y)

check big_y on case:
    code "T1"
    title "большая сумма"
    when y > 100
    withhold share 1.0 of sumv
"""

BAD = 3          # the row dated before base_rate comes into force (2025-01-01)


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    m = compile_package(make_package(tmp_path_factory.mktemp("dm"), RULES))
    raw = synthetic_raw(12)
    raw["case"]["usl_ok"][:] = "2"
    raw["case"]["kd"][:] = "5"
    raw["case"]["date_z_1"][:] = "2025-03-05"
    raw["case"]["date_z_2"][:] = "2025-03-10"
    raw["case"]["date_z_2"][BAD] = "2024-12-20"
    raw["case"]["date_z_1"][BAD] = "2024-12-18"
    return Evaluator(m, bind(m.entities, raw))


def values(ev: Evaluator, name: str, entity: str = "case") -> list:
    return ev.column(entity, name).to_python()


def test_unselected_branch_does_not_matter(evaluated):
    assert values(evaluated, "x") == [0] * 12


def test_the_row_has_no_value_and_the_others_are_computed(evaluated):
    y = values(evaluated, "y")
    assert y[BAD] is None
    assert all(v == 2 * 2814726 for i, v in enumerate(y) if i != BAD)
    assert values(evaluated, "known") == [i != BAD for i in range(12)]
    note = evaluated.unresolved_notes["case.y"]
    assert note.reason == "параметр «base_rate» не действует на дату 2024-12-20"
    assert (note.row_key, note.rows) == (f"c{BAD}", 1)


def test_three_valued_logic(evaluated):
    ev = evaluated
    assert values(ev, "big")[BAD] is None and values(ev, "negated")[BAD] is None
    assert values(ev, "and_false")[BAD] is False        # a known false decides «and»
    assert values(ev, "or_true")[BAD] is True           # a known true decides «or»
    assert values(ev, "and_open")[BAD] is None
    assert values(ev, "picked")[BAD] is None            # an undetermined condition chooses nothing
    others = [i for i in range(12) if i != BAD]
    assert all(values(ev, "big")[i] is True and values(ev, "negated")[i] is False for i in others)
    assert all(values(ev, "picked")[i] == 1 for i in others)


def test_decision_table_first_match_before_the_undetermined_row_decides(evaluated):
    assert values(evaluated, "first_row")[BAD] == 1.0
    assert values(evaluated, "open_row")[BAD] is None


def test_no_division_by_zero_on_the_row_without_value(evaluated):
    r = values(evaluated, "ratio")
    assert r[BAD] is None and r[0] == pytest.approx(100.0 / (2 * 28147.26))


def test_aggregates_with_an_undetermined_member_are_undetermined(evaluated):
    ev = evaluated
    lpu = ev.data.entities["case"].cols["lpu"].to_python()
    by_lpu = values(ev, "by_lpu")
    for i in range(12):
        assert (by_lpu[i] is None) == (lpu[i] == lpu[BAD]), i
    pat = ev.data.entities["case"].rel["patient"]
    total = values(ev, "total", "patient")
    for p in range(len(total)):
        assert (total[p] is None) == (p == pat[BAD]), p


def test_undetermined_key_finds_no_row(evaluated):
    assert values(evaluated, "found")[BAD] is False
    assert values(evaluated, "code_eq")[BAD] is None


def test_check_does_not_fire_on_the_undetermined_row(evaluated):
    from engine.backends.numpy.checks import run_checks

    rows = {d.row_key for d in run_checks(evaluated).defects}
    assert rows == {f"c{i}" for i in range(12) if i != BAD}


def test_explain_shows_why_the_value_is_missing(evaluated):
    tree = Explainer(evaluated).explain("case", f"c{BAD}", "y")
    assert tree.value == "—" and tree.note.startswith("значение не определено")
    param = next(c for c in tree.children if c.text == "base_rate")
    assert param.value == "—" and param.note.startswith("не действует на дату 2024-12-20")


# ---- the shipped month with one case dated before the rates --------------------------------------

MONTH = Path(__file__).parents[2] / "examples" / "registries" / "2025-03"
FEDERAL = Path(__file__).parents[2] / "methodologies" / "federal" / "2025"


def _month():
    from engine.oms.io import read_registry

    reg = read_registry(sorted(p for p in MONTH.iterdir() if p.suffix == ".XML"))
    assert reg.ok
    return {e: {k: v.copy() for k, v in cols.items()} for e, cols in reg.data.tables.items()}


def _descendants(raw: dict, entity: str, keys: set) -> dict[str, np.ndarray]:
    """Row numbers of `keys` in `entity` and of every row that points to them (transitively)."""
    out = {entity: np.nonzero(np.isin(raw[entity]["key"], list(keys)))[0]}
    frontier = {entity: keys}
    while frontier:
        nxt = {}
        for ent, ks in frontier.items():
            for child, cols in raw.items():
                ref = cols.get(f"{ent}_ref")
                if ref is None or child == ent:
                    continue
                rows = np.nonzero(np.isin(ref, list(ks)))[0]
                if len(rows):
                    out[child] = np.union1d(out.get(child, np.zeros(0, np.int64)), rows)
                    nxt[child] = set(cols["key"][rows])
        frontier = nxt
    return out


def _shift_dates(cols: dict, rows: np.ndarray, delta: dt.timedelta) -> None:
    for name, v in cols.items():
        if name.startswith("date") or name == "npr_date":
            for r in rows:
                if v[r]:
                    v[r] = (dt.date.fromisoformat(v[r]) + delta).isoformat()


def _per_row(res) -> dict:
    out = {}
    for ent, cols in res.run.values.items():
        keys = res.run.data.entities[ent].keys
        for name, col in cols.items():
            for i, v in enumerate(col.to_python()):
                out[(ent, str(keys[i]), name)] = v
    return out


def test_month_with_one_case_dated_before_the_rates():
    from engine.oms.pipeline import process_tables

    m = compile_package(FEDERAL)
    shifted = _month()
    case = shifted["case"]
    i = int(np.nonzero((case["usl_ok"] == "2") & (case["idsp"] == "33"))[0][0])
    key = str(case["key"][i])
    delta = dt.date(2021, 12, 20) - dt.date.fromisoformat(case["date_z_2"][i])
    rows = _descendants(shifted, "case", {key})
    for ent, r in rows.items():
        _shift_dates(shifted[ent], r, delta)
    without = _month()
    acc = without["account"]            # the header of the month without the case agrees with it
    j = int(np.nonzero(acc["key"] == case["account_ref"][i])[0][0])
    acc["summav"][j] = f"{float(acc['summav'][j]) - float(case['sumv'][i]):.2f}"
    acc["sd_z"][j] = str(int(acc["sd_z"][j]) - 1)
    for ent, r in rows.items():
        keep = np.setdiff1d(np.arange(len(without[ent]["key"])), r)
        without[ent] = {k: v[keep] for k, v in without[ent].items()}

    a = process_tables(m, shifted)          # before this change: EvalError, the month stopped
    b = process_tables(m, without)
    assert a.status == b.status == "done"
    sl_key = str(shifted["sl"]["key"][rows["sl"][0]])
    va, vb = _per_row(a), _per_row(b)
    assert va[("sl", sl_key, "base_rate")] is None and va[("case", key, "tariff_cost")] is None
    assert va[("case", key, "tariff_missing")] is True
    own = {(e, str(shifted[e]["key"][r])) for e, rs in rows.items() for r in rs}
    others = {k: v for k, v in va.items() if (k[0], k[1]) not in own}
    assert others == vb                     # every other row, every value, identical
    da = {(d.row_key, d.check, d.withheld, d.fine) for d in a.run.defects.defects}
    db = {(d.row_key, d.check, d.withheld, d.fine) for d in b.run.defects.defects}
    assert {d for d in da if not d[0].startswith(key)} == db
    assert {d[1] for d in da if d[0] == key} >= {"tariff_missing"}
    assert "tariff_mismatch" not in {d[1] for d in da if d[0] == key}
    from engine.backends.numpy.runner import undetermined

    why = undetermined(a.run)
    assert why["sl.base_rate"]["rows"] == 1 and why["sl.base_rate"]["first_row"] == sl_key
    for what in ("sl.base_rate", "sl.ksg_cost", "case.tariff_cost"):   # the branch taken names the cause
        assert why[what]["reason"] == "параметр «base_rate_ds» не действует на дату 2021-12-20", what
    assert undetermined(b.run) == {}
    sa, sb = _settled(a.settlement), _settled(b.settlement)
    assert sa.pop(key)[1] == sa_billed(a.settlement, key)    # the case itself is withheld in full
    assert sa == sb                         # every other case settled to the kopeck as without it


def _settled(s) -> dict:
    return {str(k): (int(s.billed[i]), int(s.withheld[i]), int(s.accepted[i]), int(s.fine[i]), s.codes[i])
            for i, k in enumerate(s.keys)}


def sa_billed(s, key: str) -> int:
    return int(s.billed[list(map(str, s.keys)).index(key)])

"""The 2026 grouper: generated months against the independent oracle, wrong N_KSG found
exactly, explain shows the matched rules with their row numbers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from engine.backends.numpy.checks import run_checks
from engine.backends.numpy.evaluator import Evaluator
from engine.backends.numpy.explain import Explainer, render_text
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import bind
from tests.grouper import oracle
from tests.grouper.cost_calc import KSG, cost
from tests.grouper.generate import month

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "methodologies/federal/2026"


@pytest.fixture(scope="module")
def m():
    return compile_package(PKG)


def _cases(f: dict, n: int) -> list[oracle.Case]:
    svc: dict[str, list[str]] = {}
    for s, c in zip(*f["services"], strict=True):
        svc.setdefault(s, []).append(c)
    crit: dict[str, list[str]] = {}
    for s, c in zip(*f["crits"], strict=True):
        crit.setdefault(s, []).append(c)
    day = lambda x: dt.date.fromisoformat(str(x))  # noqa: E731
    out = []
    for i in range(n):
        k = f"{i:07d}"
        out.append(oracle.Case(int(f["usl"][i]), f["ds1"][i], day(f["dr"][i]), int(f["w"][i]), day(f["d1"][i]),
                               day(f["d2"][i]), f["ds2"][i], f["ds3"][i], svc.get(k, []), crit.get(k, []),
                               int(f["dur"][i])))
    return out


def test_generated_month_agrees_with_the_oracle(m):
    raw, _, f = month(1500, seed=11)
    ev = Evaluator(m, bind(m.entities, raw))
    got = ev.column("sl", "ksg_grouped").to_python()
    index = {1: oracle.Index(oracle.load_rules("ks")), 2: oracle.Index(oracle.load_rules("ds"))}
    expected = [oracle.choose(index[c.usl_ok], c)[0] for c in _cases(f, 1500)]
    diff = [(i, e, g) for i, (e, g) in enumerate(zip(expected, got, strict=True)) if e != g]
    assert not diff, diff[:10]
    assert sum(e is not None for e in expected) > 1400


def test_wrong_ksg_found_and_right_ones_not_flagged(m):
    n = 1200
    raw, _, f = month(n, seed=5)
    cases = _cases(f, n)
    index = {1: oracle.Index(oracle.load_rules("ks")), 2: oracle.Index(oracle.load_rules("ds"))}
    rng = np.random.default_rng(7)
    by_usl = {u: sorted(k for k, r in KSG.items() if int(r["usl_ok"]) == u) for u in (1, 2)}
    n_ksg, sum_m, wrong = [], [], set()
    for i, c in enumerate(cases):
        true, _ = oracle.choose(index[c.usl_ok], c)
        bs = "32120.12" if c.usl_ok == 1 else "17622.00"
        right_cost = cost(true, bs, interrupt=oracle.interrupt(true, c)) if true else 0
        billed = true or ""
        if true and rng.random() < 0.2:        # a fifth of the МО's groups are upcoded
            pool = [k for k in by_usl[c.usl_ok] if k != true
                    and cost(k, bs, interrupt=oracle.interrupt(k, c)) > right_cost]
            if pool:
                billed = pool[int(rng.integers(0, len(pool)))]
                wrong.add(f"{i:07d}")
        n_ksg.append(billed or None)
        sum_m.append(int(cost(billed, bs, interrupt=oracle.interrupt(billed, c)) * 100) if billed else 0)
    raw["sl"]["n_ksg"] = np.array(n_ksg, dtype=object)
    raw["sl"]["sum_m"] = np.array(sum_m, dtype=np.int64)
    ev = Evaluator(m, bind(m.entities, raw))
    defects = run_checks(ev, ["ksg_grouping_mismatch"]).defects
    assert len(wrong) > 150
    assert {d.row_key for d in defects} == wrong
    assert all(d.withheld > 0 for d in defects)


def test_explain_shows_rows_and_costs(m):
    from engine.runtime.dataset import read_csv_dir

    data = bind(m.entities, read_csv_dir(ROOT / "tests/grouper/data/example_3a"))
    ev = Evaluator(m, data)
    text = render_text(Explainer(ev).explain("sl", "s1", "ksg_grouped"))
    assert "st25.004" in text
    for row in ("строка № 24454", "строка № 25873", "строка № 25889"):
        assert row in text
    assert "45867.53" in text          # st27.007 interrupted (2 days, прил. 4): 57 334,41 × 0,8
    assert "ksg_candidate.priority → 1" in text


def test_defect_code_and_withheld_amount(m):
    """Example 3a billed as st27.007 (57 334,41): grouped st25.004 costs 34 063,39; the excess is withheld."""
    from engine.runtime.dataset import read_csv_dir

    ev = Evaluator(m, bind(m.entities, read_csv_dir(ROOT / "tests/grouper/data/example_3a")))
    defects = run_checks(ev, ["ksg_grouping_mismatch"]).defects
    assert [(d.row_key, d.code, d.withheld) for d in defects] == [("s1", "1.7.2", 5733441 - 3406339)]
    assert "st25.004" in defects[0].message and "24454" in defects[0].message

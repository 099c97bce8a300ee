"""Planning: package YAML tests, exact sums in every cut, corrections, versions, limits, plan-fact."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from engine.oms.planning.allocate import allocate
from engine.oms.planning.corrections import Correction, apply_corrections
from engine.oms.planning.csvio import PlanningInputError
from engine.oms.planning.inputs import read_planning_dir
from engine.oms.planning.notifications import load_notifications
from engine.oms.planning.plan import Plan, check_limits, diff_plans, save_version
from engine.oms.planning.planfact import plan_fact, read_fact_csv
from engine.runtime.compiler import compile_package
from engine.testing import run_tests

ROOT = Path(__file__).resolve().parents[2]
PKGS = ["federal", "yaroslavl", "magadan"]
EXAMPLE = ROOT / "examples/planning/2025"


@pytest.fixture(scope="module")
def federal():
    return compile_package(ROOT / "methodologies/planning/federal/2025")


@pytest.fixture(scope="module")
def result(federal):
    return allocate(federal, read_planning_dir(EXAMPLE, 2025, "76"))


@pytest.mark.parametrize("name", PKGS)
def test_package_yaml_tests(name):
    m = compile_package(ROOT / f"methodologies/planning/{name}/2025")
    report = run_tests(m)
    assert report.failed == 0, [f for r in report.results for f in r.failures]
    assert report.passed > 0


def test_sums_exact_in_every_cut(result):
    plan = result.plan
    prog = {(p["care_kind"], p["tier"]): p for p in result.programme}
    by_group = plan.cut(("care_kind", "tier"), "year")
    for r in by_group:
        p = prog[(r["care_kind"], r["tier"])]
        assert r["volume"] == p["volume"]
        assert r["amount"] == p["total_amount"]
    for keys in [("mo",), ("mo", "care_kind"), ("mo", "care_kind", "profile"), ("care_kind",)]:
        year = {tuple(r[k] for k in keys): (r["volume"], r["amount"]) for r in plan.cut(keys, "year")}
        for period in ("quarter", "month"):
            acc: dict = {}
            for r in plan.cut(keys, period):
                k = tuple(r[x] for x in keys)
                v, a = acc.get(k, (0, 0))
                acc[k] = (v + r["volume"], a + r["amount"])
            assert acc == year
    for c in result.cells:
        assert c["months_volume"] == c["volume"] and c["months_amount"] == c["amount"]
    assert not result.defects.defects


def test_mo_leaving_mid_year_has_no_volume_after(result):
    plan = result.plan
    leaving = read_planning_dir(EXAMPLE, 2025, "76").mo[3]
    assert leaving["date_out"] == "2025-06-30"
    rows = plan.mo == leaving["mo"]
    assert plan.volume[rows & (plan.month > 6)].sum() == 0
    assert plan.volume[rows & (plan.month <= 6)].sum() > 0
    joining = read_planning_dir(EXAMPLE, 2025, "76").mo[4]
    assert plan.volume[(plan.mo == joining["mo"]) & (plan.month < 4)].sum() == 0


def test_limits_table_and_check(result):
    rows = result.plan.limits_rows()
    assert rows[0][:4] == ["760001", "disp", "2025-01-01", "2025-01-31"]
    assert check_limits(rows) == []
    bad = [r[:] for r in rows]
    bad[0][4] = 10**9          # a month above its quarter and the year
    problems = check_limits(bad)
    assert any("превышает квартальный" in p for p in problems)
    assert any("годовой" in p for p in problems)


def test_corrections_rebalance_and_keep_totals(result, tmp_path):
    plan = result.plan
    c = Correction("760001", "ks", "-", dt.date(2025, 4, 1), dt.date(2025, 6, 30), 120, None, "рост", "12", "2025-03-27")
    c2 = Correction("760002", "smp", "-", dt.date(2025, 7, 1), dt.date(2025, 12, 31), -300, 100000, "снижение", "31",
                    "2025-06-26")
    new = apply_corrections(plan, [c, c2])
    for period in ("month", "quarter", "year"):
        assert plan.cut(("care_kind", "tier"), period) == new.cut(("care_kind", "tier"), period)
    assert (new.volume >= 0).all() and (new.amount >= 0).all()
    q2 = lambda p, mo, ck: int(p.volume[(p.mo == mo) & (p.care_kind == ck) & np.isin(p.month, [4, 5, 6])].sum())  # noqa: E731
    assert q2(new, "760001", "ks") - q2(plan, "760001", "ks") == 120
    h2 = (new.mo == "760002") & (new.care_kind == "smp") & (new.month > 6)
    assert int(new.volume[h2].sum()) - int(plan.volume[h2].sum()) == -300
    assert int(new.amount[h2].sum()) - int(plan.amount[h2].sum()) == 100000
    v1 = save_version(plan, tmp_path, {"kind": "распределение"})
    v2 = save_version(new, tmp_path, {"kind": "корректировка", "parent": v1})
    assert (v1, v2) == ("v001", "v002")
    a, b = Plan.read(tmp_path / v1 / "plan.csv"), Plan.read(tmp_path / v2 / "plan.csv")
    assert (a.volume == plan.volume).all() and (a.amount == plan.amount).all()
    d = diff_plans(a, b)
    assert sum(r["volume_delta"] for r in d if r["mo"] == "760001" and r["care_kind"] == "ks") == 120
    assert sum(r["volume_delta"] for r in d) == 0


def test_notifications_status_history():
    book = load_notifications(EXAMPLE)
    returned = [n for n in book.items.values() if n.status == "returned"]
    assert returned and all(n.comment for n in returned)
    assert all(len(n.history) >= 1 for n in book.items.values())
    n = returned[0]
    book.set_status(n.id, "accepted", "2024-09-20", "исправлено")
    assert n.status == "accepted" and [h.status for h in n.history][-2:] == ["returned", "accepted"]
    with pytest.raises(PlanningInputError):
        book.set_status(n.id, "returned", "2024-09-21")       # no comment


def test_planfact_from_fact_csv(federal, result):
    rows = plan_fact(federal, result.plan, read_fact_csv(EXAMPLE / "fact.csv"))
    main = [r for r in rows if not r["ksg"]]
    assert sum(r["plan_volume"] for r in main) == int(result.plan.volume.sum())
    assert sum(r["fact_volume"] for r in main) > 0
    ksg = [r for r in rows if r["ksg"]]
    assert ksg and all(r["care_kind"] in ("ks", "ds") for r in ksg)
    for r in main:
        if r["plan_volume"]:
            assert r["volume_pct"] is not None


def test_cli_allocate_and_planfact(tmp_path):
    from api.cli.main import main

    out = tmp_path / "plan"
    assert main(["allocate", str(ROOT / "methodologies/planning/yaroslavl/2025"), "--data", str(EXAMPLE),
                 "--out", str(out), "--region", "76", "--corrections", str(EXAMPLE / "corrections.csv")]) == 0
    for f in ("plan_month.csv", "plan_quarter.csv", "plan_year.csv", "limits.csv", "allocation.xlsx", "diff.csv"):
        assert (out / f).is_file()
    assert (out / "limits.csv").read_text(encoding="utf-8").splitlines()[0] == \
        "mo,care_kind,period_start,period_end,quantity,amount"
    pf = tmp_path / "pf"
    assert main(["planfact", str(ROOT / "methodologies/planning/yaroslavl/2025"), "--plan", str(out / "versions/v002"),
                 "--fact", str(EXAMPLE / "fact.csv"), "--out", str(pf)]) == 0
    from openpyxl import load_workbook

    ws = load_workbook(pf / "planfact.xlsx").active
    assert ws.conditional_formatting
    assert main(["plandiff", str(out / "versions/v001"), str(out / "versions/v002"), "--out", str(tmp_path / "d.csv")]) == 0

"""Planning benchmark: allocation 500 МО × 50 profiles × 12 months; plan-fact over 1,000,000 cases.

    python3 -m benchmarks.planning.bench_planning [--mo 500 --profiles 50 --cases 1000000 --repeat 3]

The hand-written numpy allocation computes the same thing as the federal planning package
for the notifications method (weights = accepted requests × share of the year the МО works,
caps = capacity, no minimum; monthly split by seasonal coefficients × share of the month
worked) with the same largest-remainder kernel, and the run asserts equal results.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from dsl.primitives.distribute import allocate as kernel
from engine.oms.planning.allocate import allocate
from engine.oms.planning.inputs import build_raw, read_planning_dir
from engine.oms.planning.planfact import plan_fact, read_fact_csv
from engine.runtime.compiler import compile_package
from examples.planning.generate import generate

ROOT = Path(__file__).resolve().parents[2]


def numpy_allocation(m, raw: dict, year: int):
    """Same allocation as the package (notifications method), hand-written over the raw grid."""
    mo = raw["mo"]
    mo_idx = {k: i for i, k in enumerate(mo["mo"])}
    lvl = np.array(mo["level"], dtype=object)
    d_in = np.array(mo["date_in"], dtype="datetime64[D]")
    d_out = np.array([x or f"{year}-12-31" for x in mo["date_out"]], dtype="datetime64[D]")
    c = raw["cell"]
    ci = np.array([mo_idx[k] for k in c["mo"]])
    y0, y1 = np.datetime64(f"{year}-01-01"), np.datetime64(f"{year}-12-31")
    act = np.maximum(0, (np.minimum(y1, d_out[ci]) - np.maximum(y0, d_in[ci])).astype(np.int64) + 1)
    share = act / ((y1 - y0).astype(np.int64) + 1)
    req = np.array(c["requested"], dtype=np.int64)
    cap = np.array([np.inf if x is None else float(x) for x in c["capacity"]])
    w = req * share
    ck = np.array(c["care_kind"], dtype=object)
    prog = raw["programme"]
    tiers = {(a, b) for a, b in zip(prog["care_kind"], prog["tier"], strict=True)}
    tier = np.array([lv if (k, lv) in tiers else "0" for k, lv in zip(ck, lvl[ci], strict=True)], dtype=object)
    gkey = np.char.add(ck.astype(str), np.char.add("/", tier.astype(str)))
    ukeys, g = np.unique(gkey, return_inverse=True)
    vol_of = {f"{a}/{b}": int(v) for a, b, v in zip(prog["care_kind"], prog["tier"], prog["volume"], strict=True)}
    cost = {(str(r["care_kind"]), str(r["tier"])): int(r["cost"]) for i, r in enumerate(m.tables["normative"].rows)
            if m.tables["normative"].starts[i] <= (y0 - np.datetime64("1970-01-01")).astype(int) < m.tables["normative"].ends[i]}
    gt = np.array([vol_of.get(k, 0) for k in ukeys], dtype=np.float64)
    ga = np.array([vol_of.get(k, 0) * cost.get(tuple(k.split("/")), 0) for k in ukeys], dtype=np.float64)
    volume = kernel(g, len(ukeys), gt, w, cap)
    amount = kernel(g, len(ukeys), ga, volume.astype(np.float64), np.full(len(volume), np.inf))
    # months
    mstart = np.array([f"{year}-{m:02d}-01" for m in range(1, 13)], dtype="datetime64[D]")
    mend = np.append(mstart[1:], np.datetime64(f"{year + 1}-01-01")) - 1
    season = {(str(r["care_kind"]), int(r["month"])): float(r["weight"]) for r in m.tables["season"].rows}
    sw = np.array([[season.get((k, mth), 1.0) for mth in range(1, 13)] for k in ck])
    days_m = (mend - mstart).astype(np.int64) + 1
    act_m = np.maximum(0, (np.minimum(mend[None, :], d_out[ci][:, None]) -
                           np.maximum(mstart[None, :], d_in[ci][:, None])).astype(np.int64) + 1)
    wm = (sw * act_m / days_m[None, :]).ravel()
    gm = np.repeat(np.arange(len(volume)), 12)
    mv = kernel(gm, len(volume), volume.astype(np.float64), wm, np.full(len(wm), np.inf))
    ma = kernel(gm, len(volume), amount.astype(np.float64), wm, np.full(len(wm), np.inf))
    return volume, amount, mv, ma


def timed(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mo", type=int, default=500)
    ap.add_argument("--profiles", type=int, default=50)
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t = time.perf_counter()
        generate(d, a.mo, a.profiles, a.cases, seed=11)
        gen_s = time.perf_counter() - t
        m = compile_package(ROOT / "methodologies/planning/federal/2025")
        inp = read_planning_dir(d, 2025, "76")
        raw = build_raw(m, inp)
        n_cells = len(raw["cell"]["key"])
        eng_s, res = timed(lambda: allocate(m, inp), a.repeat)
        np_s, (vol, amt, mv, ma) = timed(lambda: numpy_allocation(m, raw, 2025), a.repeat)
        cv = {c["mo"] + c["care_kind"] + c["profile"]: (c["volume"], c["amount"]) for c in res.cells}
        keys = [x + y + z for x, y, z in zip(raw["cell"]["mo"], raw["cell"]["care_kind"], raw["cell"]["profile"],
                                           strict=True)]
        assert [cv[k][0] for k in keys] == vol.tolist(), "volumes differ"
        assert [cv[k][1] for k in keys] == amt.tolist(), "amounts differ"
        assert res.plan.volume.tolist() == mv.tolist() and res.plan.amount.tolist() == ma.tolist(), "months differ"
        t = time.perf_counter()
        fact = read_fact_csv(d / "fact.csv")
        read_s = time.perf_counter() - t
        pf_s, rows = timed(lambda: plan_fact(m, res.plan, fact), a.repeat)
    print(f"generate inputs ({a.mo} МО, {a.profiles} profiles, {a.cases} cases): {gen_s:.2f} s")
    print(f"grid: {n_cells} cells, {len(res.plan)} month rows; engine timings of one run: "
          + ", ".join(f"{k} {v:.3f}" for k, v in res.timings.items()))
    print(f"allocation, engine (package rules, end to end): {eng_s:.3f} s")
    print(f"allocation, hand-written numpy (same kernel):   {np_s:.3f} s  → engine/numpy = {eng_s / np_s:.1f}×")
    print(f"results equal to the kopeck: yes; plan-fact rows {len(rows)}")
    print(f"plan-fact: read fact.csv {read_s:.2f} s; classify by rules + join + % : {pf_s:.3f} s "
          f"({a.cases / pf_s / 1e6:.2f} M cases/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

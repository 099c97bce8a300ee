"""Grouping benchmark: N КС/ДС cases (generated from random grouper rules, tests/grouper/generate.py)
grouped by the federal 2026 package: candidates by the indexed join, conditions, priorities,
cost of every candidate and the choice (sl.ksg_grouped and sl.ksg_grouped_cost).

    python3 -m benchmarks.grouper.bench_grouper --cases 1000000
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from engine.backends.numpy.evaluator import Evaluator
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import bind
from tests.grouper.generate import month

PKG = Path(__file__).resolve().parents[2] / "methodologies/federal/2026"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    t0 = time.perf_counter()
    m = compile_package(PKG)
    t1 = time.perf_counter()
    raw, _, _ = month(a.cases, a.seed)
    t2 = time.perf_counter()
    data = bind(m.entities, raw)
    t3 = time.perf_counter()
    c3 = time.process_time()
    ev = Evaluator(m, data)
    cand = ev.data.entities["ksg_candidate"]
    t4 = time.perf_counter()
    grouped = ev.column("sl", "ksg_grouped")
    ev.column("sl", "ksg_grouped_cost")
    t5 = time.perf_counter()
    c5 = time.process_time()
    done = int((grouped.data >= 0).sum()) if grouped.missing is None else int((~grouped.missing).sum())
    print(f"compile package: {t1 - t0:.2f} s")
    print(f"generate {a.cases} cases (not part of grouping): {t2 - t1:.2f} s")
    print(f"bind: {t3 - t2:.2f} s")
    print(f"candidates (indexed join): {t4 - t3:.2f} s, {cand.n} rule matches")
    print(f"conditions, priorities, costs, choice: {t5 - t4:.2f} s")
    print(f"grouping total (join + choice): {t5 - t3:.2f} s wall, {c5 - c3:.2f} s CPU; grouped {done} of {a.cases}")


if __name__ == "__main__":
    main()

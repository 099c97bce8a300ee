"""Grouping benchmark: N КС/ДС cases (generated from random grouper rules, tests/grouper/generate.py)
grouped by the federal 2026 package: candidates by the indexed join, conditions, priorities,
cost of every candidate and the choice (sl.ksg_grouped and sl.ksg_grouped_cost).

    python3 -m benchmarks.grouper.bench_grouper --cases 1000000
    python3 -m benchmarks.grouper.bench_grouper --cases 10000 --postgres   # + the SQL backend, compared

With --postgres the same bound cases are grouped again on PostgreSQL (METODIKA_SQL_URL, default the
local server; the derived entity by engine/backends/sql/match.py): both values must be equal; the
seconds of both and their ratio are printed.
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
    ap.add_argument("--postgres", action="store_true", help="group on PostgreSQL too and compare")
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
    if a.postgres:
        _postgres(m, data, cand.n, {n: ev.column("sl", n) for n in OUTPUTS}, t5 - t3)


OUTPUTS = ("ksg_grouped", "ksg_grouped_cost")


def _postgres(m, data, n_cand: int, want: dict, numpy_s: float) -> None:
    from engine.backends.sql.differential import same_col
    from engine.backends.sql.postgres import PgSession
    from engine.backends.sql.run import SqlEvaluator

    s = PgSession()
    try:
        t0 = time.perf_counter()
        ev = SqlEvaluator(s, m, data)
        t1 = time.perf_counter()
        ev.ensure([("sl", n) for n in OUTPUTS])
        got = {n: ev.column("sl", n) for n in OUTPUTS}
        t2 = time.perf_counter()
        diffs = {n: same_col(want[n], got[n]) for n in OUTPUTS}
        rows = ev.data.entities["ksg_candidate"].n
        ev.close()
    finally:
        s.close()
    print(f"postgres: load {t1 - t0:.2f} s (rule tables once per connection), candidates + choice {t2 - t1:.2f} s; "
          f"{rows} rule matches (numpy {n_cand})")
    print(f"postgres / numpy (grouping): {(t2 - t1) / numpy_s:.1f}x; equal: "
          + ", ".join(f"{n} {'yes' if d is None else d}" for n, d in diffs.items()))


if __name__ == "__main__":
    main()

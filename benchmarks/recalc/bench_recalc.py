"""Recalculation of a stored month under two methodology versions, with deltas.

Usage:
  python -m benchmarks.recalc.make_dataset --cases 1000000          # once: benchmarks/data/recalc_1m.npz
  python -m benchmarks.recalc.bench_recalc --from methodologies/federal/2025 --to methodologies/yaroslavl/2025

Times the whole `metodika recalc` path in-process: load the stored dataset, compile both
packages, evaluate the value under each, per-case deltas, per-МО totals, reasons for the
10 largest changes. The goal in issue 4 is ≤ 10 s for 1,000,000 cases.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from engine.oms.recalc import recalc
from engine.oms.storage import load_dataset
from engine.runtime.compiler import compile_package

ROOT = Path(__file__).parents[2]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT / "benchmarks" / "data" / "recalc_1m.npz"))
    ap.add_argument("--from", dest="old", default=str(ROOT / "methodologies" / "federal" / "2025"))
    ap.add_argument("--to", dest="new", default=str(ROOT / "methodologies" / "yaroslavl" / "2025"))
    ap.add_argument("--value", default="case.tariff_cost")
    a = ap.parse_args()
    t0 = time.perf_counter()
    data = load_dataset(Path(a.data))
    t1 = time.perf_counter()
    ma, mb = compile_package(Path(a.old)), compile_package(Path(a.new))
    t2 = time.perf_counter()
    entity, _, name = a.value.partition(".")
    res = recalc(ma, mb, data, entity, name, "lpu", explain_top=10)
    t3 = time.perf_counter()
    n = data.entities[entity].n
    print(f"{ma.ref} → {mb.ref}, {n} rows of {entity}; changed {int(np.count_nonzero(res.delta))}\n")
    print("| step | seconds |\n|---|---|")
    for label, t in [("load stored dataset", t1 - t0), ("compile both packages", t2 - t1),
                     ("evaluate A and B", res.timings["evaluate_s"]), ("deltas and per-МО totals", res.timings["deltas_s"]),
                     ("reasons for the 10 largest changes", res.timings["explain_s"]), ("total", t3 - t0)]:
        print(f"| {label} | {t:.2f} |")


if __name__ == "__main__":
    main()

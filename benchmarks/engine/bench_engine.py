"""Engine throughput on a KSG pricing methodology vs hand-written numpy on the same data.

Usage: python -m benchmarks.engine.bench_engine [--rows 1000000] [--repeat 3]
Prints a Markdown table; every figure is measured in this one run (medians of --repeat).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from dsl.columns import Col, encode_strings
from dsl.primitives.rounding import to_kopecks
from dsl.types import CODE, DATE, INT, MONEY
from engine.backends.numpy.evaluator import Evaluator
from engine.backends.numpy.explain import Explainer
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import bind

FIXTURE = Path(__file__).parents[2] / "tests" / "dsl" / "fixture"
RULES = """
for case:
    kz: number = default(ksg[default(n_ksg, "")].koef_z, 0)
    kus: number = default(level[lpu].kus, 1)
    @label "Стоимость случая по КСГ"
    cost: money = round_money(base_rate * kz * kus)
    share: number = decide first:
        kd <= max_days and usl_ok == 1 -> 0.3
        kd <= max_days -> 0.5
        else -> 1.0
    paid: money = round_money(to_number(cost) * share)
    dups: int = count(case by patient_ref, date_z_1, profil)
"""


def make_data(n: int, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    d1 = np.datetime64("2025-01-01").astype(np.int64) + rng.integers(0, 360, n)
    ksg_codes = np.array(["st02.003", "st21.001", "ds02.001", "zz"], dtype=object)
    lpu_codes = np.array(["760001", "760002", "760003", "999999"], dtype=object)
    n_pat = n // 3
    keys = np.char.add("c", np.arange(n).astype(str)).astype(object)
    case = {
        "key": Col(CODE, np.arange(n, dtype=np.int32), None, keys),
        "account_ref": Col(CODE, np.zeros(n, np.int32), None, np.array(["A"], dtype=object)),
        "patient_ref": Col(CODE, rng.integers(0, n_pat, n).astype(np.int32), None,
                           np.char.add("p", np.arange(n_pat).astype(str)).astype(object)),
        "date_z_1": Col(DATE, d1), "date_z_2": Col(DATE, d1 + rng.integers(0, 12, n)),
        "usl_ok": Col(INT, rng.integers(1, 3, n)), "profil": Col(INT, rng.choice([97, 136, 29], n)),
        "lpu": Col(CODE, rng.integers(0, 4, n).astype(np.int32), None, lpu_codes),
        "ds1": Col(CODE, np.zeros(n, np.int32), None, np.array(["I10"], dtype=object)),
        "n_ksg": Col(CODE.as_optional(), rng.integers(0, 4, n).astype(np.int32), None, ksg_codes),
        "rslt": Col(INT, np.full(n, 101)), "sumv": Col(MONEY, rng.integers(0, 5_000_000, n)),
        "kd": Col(INT, rng.integers(1, 15, n)),
    }
    patient = {"key": encode_strings(np.char.add("p", np.arange(n_pat).astype(str)).astype(object), CODE),
               "enp": Col(CODE, np.arange(n_pat, dtype=np.int32), None, np.arange(n_pat).astype(str).astype(object)),
               "w": Col(INT, np.ones(n_pat, np.int64)), "dr": Col(DATE, np.zeros(n_pat, np.int64))}
    account = {"key": encode_strings(np.array(["A"], dtype=object), CODE),
               "dschet": Col(DATE, np.array([20000])), "code_mo": encode_strings(np.array(["760001"], dtype=object), CODE),
               "summav": Col(MONEY, np.array([0]))}
    return {"case": case, "patient": patient, "account": account, "service": {}}


def numpy_reference(data: dict) -> tuple[np.ndarray, np.ndarray]:
    """The same cost and paid computed by hand with numpy (what a developer would write)."""
    c = data["case"]
    d2 = c["date_z_2"].data
    late = d2 >= np.datetime64("2025-07-01").astype(np.int64)
    base = np.where(late, 30000.00, 28147.26)
    code = c["n_ksg"].data
    kz = np.select([code == 0, (code == 1) & ~late, (code == 1) & late, code == 2], [0.98, 0.49, 0.51, 0.83], 0.0)
    kus = np.array([0.9, 1.05, 1.25, 1.0])[c["lpu"].data]
    cost = to_kopecks(base * kz * kus)
    kd, usl = c["kd"].data, c["usl_ok"].data
    share = np.where((kd <= 3) & (usl == 1), 0.3, np.where(kd <= 3, 0.5, 1.0))
    paid = to_kopecks(cost / 100.0 * share)
    return cost, paid


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp)
        (pkg / "methodology.yaml").write_text(f"id: bench\nversion: 1\ntitle: b\nextends: {FIXTURE}\n"
                                              "modules: [r.rules]\n", encoding="utf-8")
        (pkg / "r.rules").write_text(RULES, encoding="utf-8")
        t_compile, m = timed(lambda: compile_package(pkg), a.repeat)
    raw = make_data(a.rows)
    t_bind, data = timed(lambda: bind(m.entities, raw), a.repeat)

    def engine(fuse: bool, names: tuple[str, ...]):
        ev = Evaluator(m, data, fuse=fuse)
        return [ev.column("case", n) for n in names]

    t_np, (cost_np, paid_np) = timed(lambda: numpy_reference(raw), a.repeat)
    t_fused, cols = timed(lambda: engine(True, ("cost", "paid")), a.repeat)
    assert np.array_equal(cols[0].data, cost_np) and np.array_equal(cols[1].data, paid_np), "engine ≠ numpy"
    t_plain, _ = timed(lambda: engine(False, ("cost", "paid")), a.repeat)
    t_agg, _ = timed(lambda: engine(True, ("dups",)), a.repeat)
    ev = Evaluator(m, data)
    t_explain, _ = timed(lambda: Explainer(ev).explain("case", "c12345", "paid"), a.repeat)
    n = a.rows
    rows = [
        ("compile package (parse, check, graph)", t_compile, ""),
        ("bind typed columns", t_bind, ""),
        ("hand-written numpy: cost + paid", t_np, f"{n / t_np / 1e6:.1f} M rows/s"),
        ("engine, numexpr fusion: cost + paid", t_fused, f"{n / t_fused / 1e6:.1f} M rows/s; ×{t_fused / t_np:.2f} of numpy"),
        ("engine, numpy only: cost + paid", t_plain, f"×{t_plain / t_np:.2f} of numpy"),
        ("engine: duplicates count by 3 keys", t_agg, f"{n / t_agg / 1e6:.1f} M rows/s"),
        ("explain one value (tree of 1 row)", t_explain, f"×{t_explain / t_fused:.4f} of the full run"),
    ]
    print(f"rows: {n}, median of {a.repeat}; results of engine and numpy are identical to the kopeck\n")
    print("| step | seconds | note |\n|---|---|---|")
    for name, t, note in rows:
        print(f"| {name} | {t:.3f} | {note} |")


if __name__ == "__main__":
    main()

"""The engine against hand-written numpy, construct by construct, and on the anchor job of issue 13.

Usage: python -m benchmarks.engine.bench_constructs [--rows 1000000] [--repeat 5]

The anchor job: a plain tariff and two checks over N cases — КЗ by a 400-row table, a dated base
rate, coefficients (level of the МО by a table, КД as a parameter), an interruption share
(decision table) and the two checks' conditions (tariff missing; billed ≠ tariff). Then one line
per construct: undated lookup, dated lookup, decision table, aggregate by keys, aggregate along a
relation. Each has its numpy twin, written the way a developer would write it by hand for this
data; the run asserts that engine and twin agree on every row (money to the kopeck) and prints
the medians of --repeat runs and their ratio, all measured in this one run.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.engine.bench_engine import timed
from dsl.columns import Col
from dsl.primitives.rounding import to_kopecks
from dsl.types import CODE, DATE, INT, MONEY
from engine.backends.numpy.evaluator import Evaluator
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import bind

N_KSG = 400
JULY = int(np.datetime64("2025-07-01").astype(np.int64))
BASE = (28147.26, 30000.00)           # base rate before / from 2025-07-01
LEVELS = (0.9, 1.05, 1.25)            # КУС of МО 1..3; the fourth МО has no row → 1
KD = 1.0

RULES = """
for case:
    kz: number = default(ksg[n_ksg].koef_z, 0)
    kz_dated: number = default(ksg_dated[n_ksg].koef_z, 0)
    kus: number = default(level[lpu].kus, 1)
    interrupt_share: number = decide first:
        kd <= 3 and usl_ok == 1 -> 0.3
        kd <= 3 -> 0.5
        rslt in {102, 105, 107} -> 0.8
        else -> 1.0
    tariff: money = round_money(base_rate * kz * kus * koef_diff * interrupt_share)
    tariff_missing: bool = not exists(ksg[n_ksg])
    dups: int = count(case by patient, date_z_1, profil)
    services: money = sum(service.sumv_usl)

check no_tariff on case:
    code "1.7.1"
    title "Тариф отсутствует"
    when tariff_missing
    withhold share 1.0 of sumv

check wrong_tariff on case:
    code "1.7.2"
    title "Тариф не соответствует"
    when not tariff_missing and abs(sumv - tariff) > 1.00
    withhold share 1.0 of sumv
"""

SCHEMA = """entities:
  case:
    label: Случай
    as_of: date_z_2
    fields: {date_z_1: date, date_z_2: date, usl_ok: int, lpu: code, n_ksg: code, rslt: int, kd: int,
             sumv: money, patient: code, profil: int}
  service:
    label: Услуга
    fields: {sumv_usl: money}
    relations:
      case: {entity: case, via: case_ref}
"""

PARAMETERS = f"""base_rate:
  type: money
  label: Базовая ставка
  values: {{2025-01-01: {BASE[0]}, 2025-07-01: {BASE[1]}}}
koef_diff:
  type: number
  label: КД
  values: {{2019-01-01: {KD}}}
"""


def ksg_codes() -> list[str]:
    return [f"st{i // 20 + 1:02d}.{i % 20 + 1:03d}" for i in range(N_KSG)]


def kz_values(later: bool = False) -> np.ndarray:
    """КЗ as the table file writes them (from 2025-07-01 every second КСГ has +0.05)."""
    base = 0.4 + (np.arange(N_KSG) * 37 % 500) / 100.0 + np.where(later & (np.arange(N_KSG) % 2 == 1), 0.05, 0)
    return np.array([float(f"{v:.2f}") for v in base])


def write_package(root: Path) -> Path:
    (root / "tables").mkdir(parents=True)
    codes, kz, kz_late = ksg_codes(), kz_values(), kz_values(later=True)
    (root / "tables" / "ksg.csv").write_text(
        "code,koef_z\n" + "".join(f"{c},{k:.2f}\n" for c, k in zip(codes, kz, strict=True)), encoding="utf-8")
    lines = ["code,koef_z,DATEBEG,DATEEND"]
    for i, (c, k) in enumerate(zip(codes, kz, strict=True)):
        if i % 2:            # every second КСГ changes its КЗ on 2025-07-01
            lines += [f"{c},{k:.2f},01.01.2025,30.06.2025", f"{c},{kz_late[i]:.2f},01.07.2025,"]
        else:
            lines.append(f"{c},{k:.2f},01.01.2025,")
    (root / "tables" / "ksg_dated.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "tables" / "level.csv").write_text(
        "lpu,kus\n" + "".join(f"76000{i + 1},{v}\n" for i, v in enumerate(LEVELS)), encoding="utf-8")
    (root / "schema.yaml").write_text(SCHEMA, encoding="utf-8")
    (root / "parameters.yaml").write_text(PARAMETERS, encoding="utf-8")
    (root / "r.rules").write_text(RULES, encoding="utf-8")
    (root / "methodology.yaml").write_text(
        "id: bench\nversion: 1.0.0\ntitle: b\nschema: schema.yaml\nparameters: parameters.yaml\nmodules: [r.rules]\n"
        "tables:\n"
        "  ksg: {file: tables/ksg.csv, key: [code], columns: {code: code, koef_z: number}}\n"
        "  ksg_dated: {file: tables/ksg_dated.csv, key: [code], columns: {code: code, koef_z: number}, dated: true}\n"
        "  level: {file: tables/level.csv, key: [lpu], columns: {lpu: code, kus: number}}\n", encoding="utf-8")
    return root


def make_data(n: int, seed: int = 1) -> dict:
    """Cases as bound columns: КСГ codes dictionary-encoded (the registry's 400 codes + 2 unknown)."""
    rng = np.random.default_rng(seed)
    d1 = int(np.datetime64("2025-01-01").astype(np.int64)) + rng.integers(0, 360, n)
    qcodes = np.array(sorted(ksg_codes()[::-1][:398] + ["zz.001", "zz.002"]), dtype=object)
    n_pat = max(n // 3, 1)
    n_srv = 2 * n
    case = {
        "key": Col(CODE, np.arange(n, dtype=np.int32), None, np.char.add("c", np.arange(n).astype(str)).astype(object)),
        "date_z_1": Col(DATE, d1), "date_z_2": Col(DATE, d1 + rng.integers(0, 12, n)),
        "usl_ok": Col(INT, rng.integers(1, 3, n)),
        "lpu": Col(CODE, rng.integers(0, 4, n).astype(np.int32), None,
                   np.array(["760001", "760002", "760003", "769999"], dtype=object)),
        "n_ksg": Col(CODE, rng.integers(0, len(qcodes), n).astype(np.int32), None, qcodes),
        "rslt": Col(INT, rng.choice([101, 102, 105, 201], n)), "kd": Col(INT, rng.integers(1, 15, n)),
        "sumv": Col(MONEY, rng.integers(1_000_000, 5_000_000, n)),
        "patient": Col(CODE, rng.integers(0, n_pat, n).astype(np.int32), None,
                       np.char.add("p", np.arange(n_pat).astype(str)).astype(object)),
        "profil": Col(INT, rng.choice([97, 136, 29], n)),
    }
    service = {
        "key": Col(CODE, np.arange(n_srv, dtype=np.int32), None,
                   np.char.add("s", np.arange(n_srv).astype(str)).astype(object)),
        "case_ref": Col(CODE, rng.integers(0, n, n_srv).astype(np.int32), None, case["key"].cats),
        "sumv_usl": Col(MONEY, rng.integers(0, 100_000, n_srv)),
    }
    tariff, _, _ = np_anchor(case)      # МО bill the tariff, except 2 % of cases (→ check 2)
    off = rng.random(n) < 0.02
    case["sumv"] = Col(MONEY, np.where(off, tariff + rng.integers(200, 100_000, n), tariff))
    return {"case": case, "service": service}


# ---- the numpy twins -------------------------------------------------------------------------

def _code_map(qcats: np.ndarray, table: list[str], values: np.ndarray, fill: float) -> np.ndarray:
    """Value per query category (what a numpy developer builds once per column dictionary)."""
    pos = {c: i for i, c in enumerate(table)}
    return np.array([values[pos[c]] if c in pos else fill for c in qcats], dtype=np.float64)


def np_kz(c: dict) -> np.ndarray:
    return _code_map(c["n_ksg"].cats, ksg_codes(), kz_values(), 0.0)[c["n_ksg"].data]


def np_kz_dated(c: dict) -> np.ndarray:
    early = _code_map(c["n_ksg"].cats, ksg_codes(), kz_values(), 0.0)[c["n_ksg"].data]
    late = _code_map(c["n_ksg"].cats, ksg_codes(), kz_values(later=True), 0.0)[c["n_ksg"].data]
    return np.where(c["date_z_2"].data >= JULY, late, early)


def np_share(c: dict) -> np.ndarray:
    kd, usl, rslt = c["kd"].data, c["usl_ok"].data, c["rslt"].data
    return np.select([(kd <= 3) & (usl == 1), kd <= 3, (rslt == 102) | (rslt == 105) | (rslt == 107)],
                     [0.3, 0.5, 0.8], 1.0)


def np_anchor(c: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    base = np.where(c["date_z_2"].data >= JULY, BASE[1], BASE[0])
    kus = np.array([*LEVELS, 1.0])[c["lpu"].data]
    tariff = to_kopecks(base * np_kz(c) * kus * KD * np_share(c))
    known = _code_map(c["n_ksg"].cats, ksg_codes(), np.ones(N_KSG), 0.0)[c["n_ksg"].data] > 0
    wrong = known & (np.abs(c["sumv"].data - tariff) > 100)
    return tariff, ~known, wrong


def np_dups(c: dict) -> np.ndarray:
    ids = np.zeros(len(c["kd"].data), dtype=np.int64)
    for k in ("patient", "date_z_1", "profil"):
        _, inv = np.unique(c[k].data, return_inverse=True)
        ids = ids * (int(inv.max()) + 1) + inv
    _, inv, counts = np.unique(ids, return_inverse=True, return_counts=True)
    return counts[inv]


def np_services(s: dict, n: int) -> np.ndarray:
    return np.bincount(s["case_ref"].data, weights=s["sumv_usl"].data, minlength=n).astype(np.int64)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        m = compile_package(write_package(Path(tmp) / "pkg"))
    raw = make_data(a.rows)
    data = bind(m.entities, raw)
    c, n = raw["case"], a.rows
    checks = [m.checks["no_tariff"].ir.when, m.checks["wrong_tariff"].ir.when]

    def engine_anchor():
        ev = Evaluator(m, data)
        frame = [ev.root_frame("case")]
        return [ev.column("case", "tariff")] + [ev.eval(w, frame) for w in checks]

    def engine(name: str):
        return lambda: Evaluator(m, data).column("case", name)

    rows = []
    t_np, (tariff, missing, wrong) = timed(lambda: np_anchor(c), a.repeat)
    t_en, (e_tariff, e_missing, e_wrong) = timed(engine_anchor, a.repeat)
    assert np.array_equal(e_tariff.data, tariff), "anchor: tariff differs"
    assert np.array_equal(np.broadcast_to(e_missing.data, (n,)), missing), "anchor: check 1 differs"
    assert np.array_equal(np.broadcast_to(e_wrong.data, (n,)), wrong), "anchor: check 2 differs"
    rows.append(("**anchor job**: tariff + two check conditions", t_en, t_np))
    for label, name, twin in [
        ("undated lookup (400-row table by code)", "kz", lambda: np_kz(c)),
        ("dated lookup (400 codes, 600 rows)", "kz_dated", lambda: np_kz_dated(c)),
        ("decision table (4 rows, first match)", "interrupt_share", lambda: np_share(c)),
        ("aggregate by keys (count by 3 keys)", "dups", lambda: np_dups(c)),
        ("aggregate along a relation (Σ of 2 N services)", "services", lambda: np_services(raw["service"], n)),
    ]:
        t_np, ref = timed(twin, a.repeat)
        t_en, col = timed(engine(name), a.repeat)
        assert np.array_equal(col.data, ref), f"{name}: engine ≠ numpy"
        rows.append((label, t_en, t_np))
    from engine.backends.numpy.checks import run_checks

    ev = Evaluator(m, data)
    t_defects, table = timed(lambda: run_checks(ev), 1)
    print(f"rows: {n:,}, median of {a.repeat}; engine and numpy results identical on every row\n")
    print("| construct | engine, s | numpy, s | engine / numpy |\n|---|---|---|---|")
    for label, te, tn in rows:
        print(f"| {label} | {te:.4f} | {tn:.4f} | ×{te / tn:.2f} |")
    print(f"\nthe two checks' defect rows ({len(table):,} defects, Python objects per defect): {t_defects:.3f} s")


if __name__ == "__main__":
    main()

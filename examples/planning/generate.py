"""Synthetic planning inputs: МО, insured population, notifications, history, limits, corrections, fact.

    python -m examples.planning.generate OUT_DIR --mo 20 --profiles 12 [--fact-cases N] [--seed 7]

Deterministic for a seed. The small set in examples/planning/2025/ is `--mo 20 --profiles 12`;
benchmarks use `--mo 500 --profiles 50 --fact-cases 1000000`.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path

import numpy as np

YEAR = 2025
# КС/ДС profiles (V002) most often planned by the Commission
PROFILES = [
    29,
    97,
    100,
    136,
    108,
    162,
    68,
    53,
    81,
    60,
    112,
    122,
    11,
    12,
    16,
    17,
    19,
    20,
    21,
    28,
    30,
    34,
    35,
    36,
    38,
    40,
    45,
    46,
    47,
    49,
    50,
    51,
    54,
    55,
    56,
    57,
    58,
    65,
    66,
    75,
    76,
    77,
    78,
    84,
    85,
    86,
    87,
    89,
    90,
    99,
]
# per 1 insured (2025 package normatives; levelled kinds summed over levels)
NORMS = {
    "ks": 0.170758,
    "ds": 0.070478,
    "profosm": 0.311412,
    "disp": 0.388591,
    "dn": 0.261736,
    "pos_other": 2.133264,
    "obr": 1.7877,
    "neotl": 0.54,
    "smp": 0.29,
}
AGE_SEX = ["0-1м", "0-1ж", "1-4м", "1-4ж", "5-17м", "5-17ж", "18-64м", "18-64ж", "65+м", "65+ж"]
AGE_SHARE = [0.006, 0.006, 0.025, 0.024, 0.085, 0.082, 0.30, 0.31, 0.06, 0.102]
KSG = {
    29: ["st29.001", "st29.007"],
    97: ["st21.001", "st21.005"],
    100: ["st36.001"],
    136: ["st02.001", "st02.003"],
}


def _w(path: Path, header: list[str], rows) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def generate(
    out: Path, n_mo: int = 20, n_profiles: int = 12, fact_cases: int = 0, seed: int = 7, region: str = "76"
) -> dict:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    mos = [f"{region}{i + 1:04d}" for i in range(n_mo)]
    levels = rng.choice(["1", "2", "3"], size=n_mo, p=[0.5, 0.35, 0.15])
    levels[:3] = ["3", "2", "1"]
    date_in = ["2010-01-01"] * n_mo
    date_out = [""] * n_mo
    if n_mo >= 4:
        date_out[3] = f"{YEAR}-06-30"  # leaves the registry mid-year
    if n_mo >= 5:
        date_in[4] = f"{YEAR}-04-01"  # joins from the second quarter
    names = [
        f"ГБУЗ «Больница № {i + 1}»" if levels[i] != "1" else f"ГБУЗ «ЦРБ № {i + 1}»" for i in range(n_mo)
    ]
    _w(
        out / "mo.csv",
        ["mo", "name", "level", "date_in", "date_out"],
        zip(mos, names, levels, date_in, date_out, strict=True),
    )
    attached = (rng.lognormal(10.2, 0.6, n_mo)).astype(np.int64) + 2000
    smos = [f"{region}001", f"{region}002"]
    ins_rows = []
    for i, mo in enumerate(mos):
        for smo_share, smo in zip((0.62, 0.38), smos, strict=True):
            for g, share in zip(AGE_SEX, AGE_SHARE, strict=True):
                ins_rows.append([mo, smo, g, int(attached[i] * smo_share * share) + 1])
    _w(out / "insured.csv", ["mo", "smo", "age_sex", "persons"], ins_rows)
    profiles = PROFILES[:n_profiles]
    notif, status, hist, limits = [], [], [], []
    nid = 0
    weight_level = {"1": 0.6, "2": 1.0, "3": 1.8}
    for i, mo in enumerate(mos):
        lvl = levels[i]
        for ck, norm in NORMS.items():
            if ck == "smp" and lvl == "3":
                continue
            need = norm * attached[i] * (weight_level[lvl] if ck in ("ks", "ds") else 1.0)
            prof_list = profiles if ck in ("ks", "ds") else ["-"]
            if ck in ("ks", "ds"):
                k = max(1, int(len(profiles) * {"1": 0.3, "2": 0.6, "3": 1.0}[lvl]))
                prof_list = list(rng.choice(profiles, size=k, replace=False))
            shares = rng.dirichlet(np.ones(len(prof_list)))
            for p, sh in zip(prof_list, shares, strict=True):
                base = need * sh
                req = int(base * rng.uniform(1.0, 1.3))
                fact = int(base * rng.uniform(0.85, 1.05))
                nid += 1
                cap = int(req * rng.uniform(0.9, 1.4)) if ck in ("ks", "ds") else ""
                st = rng.choice(["accepted", "returned", "submitted"], p=[0.9, 0.06, 0.04])
                comment = "не указана мощность коечного фонда" if st == "returned" else ""
                prof = str(p)
                notif.append(
                    [f"N{nid:06d}", mo, ck, prof, req, cap, f"{YEAR - 1}-08-{1 + nid % 28:02d}", st, comment]
                )
                status.append([f"N{nid:06d}", "submitted", f"{YEAR - 1}-08-{1 + nid % 28:02d}", ""])
                if st != "submitted":
                    status.append([f"N{nid:06d}", st, f"{YEAR - 1}-09-{1 + nid % 28:02d}", comment])
                hist.append([mo, ck, prof, fact])
                limits.append([mo, ck, prof, int(base)])
    _w(
        out / "notifications.csv",
        ["id", "mo", "care_kind", "profile", "volume", "capacity", "submitted", "status", "comment"],
        notif,
    )
    _w(out / "notification_status.csv", ["id", "status", "date", "comment"], status)
    _w(out / "history.csv", ["mo", "care_kind", "profile", "volume"], hist)
    _w(out / "limits.csv", ["mo", "care_kind", "profile", "volume"], limits)
    _w(
        out / "corrections.csv",
        [
            "mo",
            "care_kind",
            "profile",
            "period_start",
            "period_end",
            "delta",
            "amount_delta",
            "reason",
            "decision_no",
            "decision_date",
        ],
        [
            [
                mos[0],
                "ks",
                "-",
                f"{YEAR}-04-01",
                f"{YEAR}-06-30",
                120,
                "",
                "рост госпитализаций по профилю «кардиология»",
                "12",
                f"{YEAR}-03-27",
            ],
            [
                mos[1],
                "smp",
                "-",
                f"{YEAR}-07-01",
                f"{YEAR}-12-31",
                -300,
                "",
                "снижение числа вызовов по итогам I полугодия",
                "31",
                f"{YEAR}-06-26",
            ],
        ],
    )
    if fact_cases:
        write_fact(out / "fact.csv", mos, profiles, fact_cases, rng)
    return {"mo": n_mo, "notifications": len(notif), "fact_cases": fact_cases}


def write_fact(path: Path, mos: list[str], profiles: list[int], n: int, rng) -> None:
    """Accepted cases in the planning `fact` entity's columns (what plan-fact reads from a run)."""
    usl = rng.choice([1, 2, 3, 3, 3, 4], size=n)
    mo = np.asarray(mos, dtype=object)[rng.integers(0, len(mos), n)]
    prof = np.asarray(profiles)[rng.integers(0, len(profiles), n)]
    start = dt.date(YEAR, 1, 1).toordinal()
    day = rng.integers(0, 365, n)
    pcel = np.asarray(["1.0", "2.1", "2.2", "1.3", "3.0"], dtype=object)[rng.integers(0, 5, n)]
    for_pom = np.where(rng.random(n) < 0.1, 2, 3)
    idsp = np.where(usl <= 2, 33, np.where(pcel == "3.0", 30, 29))
    accepted = np.where(rng.random(n) < 0.95, rng.integers(50_00, 90_000_00, n), 0)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["key", "mo", "usl_ok", "for_pom", "idsp", "p_cel", "profil", "n_ksg", "date_z_2", "accepted"]
        )
        for i in range(n):
            ksg = ""
            if usl[i] in (1, 2):
                ksg = rng.choice(KSG.get(int(prof[i]), [f"st{int(prof[i]) % 37 + 1:02d}.001"]))
            w.writerow(
                [
                    f"F{i + 1}",
                    mo[i],
                    int(usl[i]),
                    int(for_pom[i]),
                    int(idsp[i]),
                    pcel[i] if usl[i] == 3 else "",
                    int(prof[i]),
                    ksg,
                    dt.date.fromordinal(start + int(day[i])).isoformat(),
                    f"{accepted[i] / 100:.2f}",
                ]
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--mo", type=int, default=20)
    ap.add_argument("--profiles", type=int, default=12)
    ap.add_argument("--fact-cases", type=int, default=0)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    print(generate(Path(a.out), a.mo, a.profiles, a.fact_cases, a.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Hand calculator for expected КСГ costs in the YAML tests (decimal, half away from zero).

Not used by the engine: it restates the 2026 formula with the КЗ and ДЗП read from the
reference lists, so expected values are computed independently of the rule files.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

REF = Path(__file__).resolve().parents[2] / "methodologies/federal/2026/grouper/tables"


FLAGS = {"MR_APP4_SURGICAL_OR_THROMBOLYSIS": "surgical_app4", "MR_APP5_NO_KUS": "no_kus_app5",
         "PGG_APP8_SHORT_OPTIMAL": "short_app8", "ONKO_PRIORITY_EXCLUDERS": "onco_excluder",
         "ST25_004_PRIORITY": "st25_priority"}


def load():
    ksg = {r["code"]: r for r in csv.DictReader((REF / "ksg_list.csv").open(encoding="utf-8"))}
    lists: dict[str, set[str]] = {name: {k for k, r in ksg.items() if r[col] == "1"} for name, col in FLAGS.items()}
    for r in csv.DictReader((REF / "ksg_lists.csv").open(encoding="utf-8")):
        lists.setdefault(r["list_id"], set()).add(r["code"])
    return ksg, lists


KSG, LISTS = load()


def cost(code: str, bs: str, kus: str = "1.05", interrupt: str = "1") -> Decimal:
    r = KSG[code]
    kz = Decimal(r["kz"])
    dzp = Decimal(r["wage_share"]) if r["wage_share"] else Decimal(1)
    k = Decimal(1) if code in LISTS["MR_APP5_NO_KUS"] or code in {"st01.001", "ds02.005"} else Decimal(kus)
    v = Decimal(bs) * kz * ((1 - dzp) + dzp * k) * Decimal(interrupt)
    return v.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


if __name__ == "__main__":
    import sys

    print(cost(*sys.argv[1:]))

"""Hand calculator for expected КСГ costs in the YAML tests (decimal, half away from zero).

Not used by the engine: it restates the 2026 formula with the КЗ and ДЗП read from the
reference lists, so expected values are computed independently of the rule files.
"""

from __future__ import annotations

import csv
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

REF = Path(__file__).resolve().parents[2] / "methodologies/federal/2026/grouper/tables"


def load():
    ksg = {r["code"]: r for r in csv.DictReader((REF / "ksg_list.csv").open(encoding="utf-8"))}
    lists: dict[str, set[str]] = {}
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

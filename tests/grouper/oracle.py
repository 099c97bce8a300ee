"""A slow, plain-Python restatement of the 2026 grouping (ksg_grouping_rules_2026.md §3–4),
row by row over the reference CSV, independent of the rule files and of engine/runtime/match.py.

Used to decide the true КСГ of generated cases and to cross-check the vectorized grouping.
Covers matching (§3, medflk reading), priorities (§4.2), obstetric and RSV special formation
(§4.1; polytrauma and AMT are left to the YAML tests) and the cost order by the 2026 formula.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from tests.grouper.cost_calc import KSG, LISTS, cost

TABLES = Path(__file__).resolve().parents[2] / "methodologies/federal/2026/grouper/tables"


def load_rules(kind: str) -> list[dict]:
    return list(csv.DictReader((TABLES / f"ksg_grouper_2026_{kind}.csv").open(encoding="utf-8")))


@dataclass
class Case:
    usl_ok: int
    ds1: str
    dr: dt.date
    w: int
    date_1: dt.date
    date_2: dt.date
    ds2: str = ""
    ds3: str = ""
    services: list[str] = field(default_factory=list)
    crits: list[str] = field(default_factory=list)
    kd: int | None = None
    rslt: int = 101


def ds_match(value: str, ds: str) -> bool:
    if not ds:
        return False
    if len(value) == 2:
        return ds[0] == value[0]
    if len(value) == 7:
        return value[:3] <= ds[:3] <= value[4:]
    return ds == value


def full_years(dr: dt.date, at: dt.date) -> int:
    return at.year - dr.year - ((at.month, at.day) < (dr.month, dr.day))


def age_ok(code: str, c: Case) -> bool:
    days = (c.date_1 - c.dr).days
    years = full_years(c.dr, c.date_1)
    return {"": True, "1": days <= 28, "2": 29 <= days <= 90, "3": days >= 91 and years < 1, "4": years < 2,
            "5": years < 18, "6": years >= 18, "7": years < 21}[code]


def duration(c: Case) -> int:
    span = (c.date_2 - c.date_1).days
    return span if c.usl_ok == 1 else min(c.kd if c.kd is not None else span + 1, span + 1)


def dur_ok(code: str, days: int) -> bool:
    return {"": True, "1": days <= 3, "2": 4 <= days <= 10, "3": 11 <= days <= 20, "4": 21 <= days <= 30,
            "5": days == 30}[code]


class Index:
    """Rules by every exact value they name, plus the rules with only classes/ranges."""

    def __init__(self, rules: list[dict]) -> None:
        self.rules = rules
        self.by: dict[str, list[int]] = {}
        self.loose: list[int] = []
        for i, r in enumerate(rules):
            keys = [r[c] for c in ("mkb10", "mkb10_2", "mkb10_3") if r[c] and len(r[c]) not in (2, 7)]
            keys += [r[c] for c in ("service_code", "other_criterion", "fraction_range") if r[c]]
            if not keys:
                self.loose.append(i)
            for k in set(keys):
                self.by.setdefault(k, []).append(i)

    def around(self, c: Case) -> list[dict]:
        idx = set(self.loose)
        for v in [c.ds1, c.ds2, c.ds3, *c.services, *c.crits]:
            idx.update(self.by.get(v, ()))
        return [self.rules[i] for i in sorted(idx)]


def candidates(index: Index, c: Case) -> list[dict]:
    days = duration(c)
    out = []
    for r in index.around(c):
        if r["mkb10"] and not ds_match(r["mkb10"], c.ds1):
            continue
        if r["mkb10_2"] and not ds_match(r["mkb10_2"], c.ds2):
            continue
        if r["mkb10_3"] and not ds_match(r["mkb10_3"], c.ds3):
            continue
        if r["service_code"] and r["service_code"] not in c.services:
            continue
        if r["other_criterion"] and r["other_criterion"] not in c.crits:
            continue
        if r["fraction_range"] and r["fraction_range"] not in c.crits:
            continue
        if not age_ok(r["age"], c) or (r["sex"] and int(r["sex"]) != c.w) or not dur_ok(r["duration"], days):
            continue
        out.append(r)
    return out


def interrupt(ksg: str, c: Case) -> str:
    days = duration(c)
    if c.rslt in {102, 103, 104, 105, 106, 107, 108, 110, 202, 203, 204, 205, 206, 207, 208} or (
            days <= 3 and ksg not in LISTS["PGG_APP8_SHORT_OPTIMAL"]):
        surg = ksg in LISTS["MR_APP4_SURGICAL_OR_THROMBOLYSIS"]
        return ("0.8" if days <= 3 else "1.0") if surg else ("0.5" if days <= 3 else "0.8")
    return "1"


def choose(rules: Index, c: Case) -> tuple[str | None, dict | None]:
    cands = candidates(rules, c)
    if not cands:
        return None, None
    ksgs = {r["ksg"] for r in cands}
    delivery = any(s in LISTS["CHILDBIRTH_SERVICES_ST02_003"] for s in c.services)

    def special(r: dict) -> bool:
        k = r["ksg"]
        if c.usl_ok == 1 and c.ds1.startswith("O"):
            if (k == "st02.003" and delivery) or (k == "st02.001" and not delivery) or \
                    (k == "st02.004" and "A16.20.005" in c.services) or \
                    (k in {"st02.012", "st02.013"} and r["service_code"]
                     and r["service_code"] not in LISTS["CHILDBIRTH_SERVICES_ST02_003"]):
                return True
        return k in {"st36.025", "st36.026", "ds36.012", "ds36.013"} and "Z25.8" in (c.ds1, c.ds2)

    if any(special(r) for r in cands):
        cands = [r for r in cands if special(r)]

    def priority(r: dict) -> int:
        k = r["ksg"]
        onco_excl = bool(ksgs & LISTS["ONKO_PRIORITY_EXCLUDERS"])
        return int(r["service_code"].startswith("A16.") or k[:4] in ("st37", "ds37")
                   or (k[:4] in ("st19", "ds19") and not onco_excl)
                   or (r["duration"] == "1" and bool(ksgs & LISTS["ST25_004_PRIORITY"])
                       and c.rslt not in {105, 106, 205, 206}))

    bs = "32120.12" if c.usl_ok == 1 else "17622.00"
    best = max(cands, key=lambda r: (priority(r), cost(r["ksg"], bs, interrupt=interrupt(r["ksg"], c)), -int(r["n"])))
    return best["ksg"], best


__all__ = ["Case", "KSG", "Index", "choose", "candidates", "load_rules"]

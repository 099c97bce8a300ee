"""Per-case settlement after control: billed, withheld, accepted, fine; summaries by МО and СМО.

Defects may sit on any entity; each is carried to the cases it concerns through the
schema's relations (a service or SL → its case; an account or a patient → all its cases).
When several grounds hit one case, the largest withholding applies (231н: one ground
per position), capped at the billed amount; likewise the largest fine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dsl.primitives.rounding import half_up_scaled
from engine.backends.numpy.checks import DefectTable
from engine.runtime.dataset import Dataset
from engine.runtime.model import Methodology

CASE = "case"


@dataclass
class Settlement:
    keys: np.ndarray
    billed: np.ndarray       # kopecks
    withheld: np.ndarray
    accepted: np.ndarray
    fine: np.ndarray
    codes: list[list[str]]   # defect codes per case
    applied: list[str | None]  # the ground applied: the largest withholding (else the largest fine)
    mo: np.ndarray
    smo: np.ndarray


def _case_rows(m: Methodology, data: Dataset, entity: str, row: int) -> tuple[np.ndarray, bool]:
    """Cases a defect on (entity, row) concerns; True when it covers them as a whole (parent)."""
    if entity == CASE:
        return np.array([row]), False
    ent = m.entities[entity]
    for rel in ent.relations.values():
        if rel.entity == CASE:
            return np.array([data.entities[entity].rel[rel.name][row]]), False
    for rel in m.entities[CASE].relations.values():
        if rel.entity == entity:
            return np.nonzero(data.entities[CASE].rel[rel.name] == row)[0], True
    return np.zeros(0, dtype=np.int64), False


def settle(m: Methodology, data: Dataset, defects: DefectTable, billed_field: str = "sumv",
           mo_field: str = "lpu", smo_path: tuple[str, str] = ("patient", "smo")) -> Settlement:
    cases = data.entities[CASE]
    billed = np.asarray(cases.cols[billed_field].data, dtype=np.int64)
    withheld = np.zeros(cases.n, dtype=np.int64)
    fine = np.zeros(cases.n, dtype=np.int64)
    codes: list[list[str]] = [[] for _ in range(cases.n)]
    applied: list[str | None] = [None] * cases.n
    fine_code: list[str | None] = [None] * cases.n
    with_defects = {d.entity for d in defects.defects}
    index = {e: {str(k): i for i, k in enumerate(data.entities[e].keys)} for e in with_defects}
    for d in defects.defects:
        row = index[d.entity].get(d.row_key)
        if row is None:
            continue
        rows, whole = _case_rows(m, data, d.entity, row)
        for r in rows:
            amount = d.withheld if not whole else int(half_up_scaled(np.array([billed[r] * d.share]), 0)[0])
            if amount > withheld[r] or (applied[r] is None and amount > 0):
                applied[r] = d.code
            withheld[r] = max(withheld[r], amount)
            if d.fine > fine[r]:
                fine[r] = d.fine
                fine_code[r] = d.code
            if d.code not in codes[r]:
                codes[r].append(d.code)
    withheld = np.minimum(withheld, billed)
    for r in range(cases.n):   # a fine without withholding is applied under the fine's ground
        if withheld[r] == 0:
            applied[r] = fine_code[r] if fine[r] > 0 else None
    from dsl.columns import code_strings

    mo = code_strings(cases.cols[mo_field])
    rel, field = smo_path
    smo = np.full(cases.n, None, dtype=object)
    if rel in cases.rel:
        target = m.entities[CASE].relations[rel].entity
        idx = cases.rel[rel]
        col = data.entities[target].cols.get(field)
        if col is not None:
            vals = code_strings(col)
            smo = np.where(idx >= 0, vals[np.clip(idx, 0, None)], None)
    return Settlement(cases.keys, billed, withheld, billed - withheld, fine, codes, applied, mo, smo)


@dataclass
class GroundTotal:
    code: str
    cases: int = 0
    billed: int = 0      # kopecks
    withheld: int = 0
    fine: int = 0

    def as_dict(self) -> dict:
        return {"code": self.code, "cases": self.cases, "billed": self.billed, "withheld": self.withheld,
                "fine": self.fine}


def by_ground(s: Settlement, rows: np.ndarray | None = None) -> list[GroundTotal]:
    """Totals by the ground applied to each case — each case once, under one ground (231н).

    The one place every output (МЭК act, web run page, API, summary_ground.csv) takes its lines
    by ground from; Σ withheld over the lines equals the settlement's withheld total.
    `rows` limits the cases (e.g. to a user's scope).
    """
    idx = range(len(s.keys)) if rows is None else rows
    return totals_by_ground((s.applied[i], int(s.billed[i]), int(s.withheld[i]), int(s.fine[i])) for i in idx)


def totals_by_ground(cases) -> list[GroundTotal]:
    """(applied ground, billed, withheld, fine) per case → lines by ground in F014 order.

    For readers that hold the settlement per case as stored rows (the web page, the API)."""
    out: dict[str, GroundTotal] = {}
    for code, billed, withheld, fine in cases:
        if code is None:
            continue
        g = out.setdefault(code, GroundTotal(code))
        g.cases += 1
        g.billed += billed
        g.withheld += withheld
        g.fine += fine
    return [out[k] for k in sorted(out, key=ground_order)]


def ground_order(code: str) -> tuple:
    """F014 codes in their natural order: 1.4.2 < 1.4.10 < 1.10.2 < 5.1.1."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in str(code).split("."))


def summarize(s: Settlement, by: str) -> list[dict]:
    """Totals per МО ("mo") or СМО ("smo"): cases, billed, withheld, accepted, fine (kopecks)."""
    keys = s.mo if by == "mo" else s.smo
    out: dict[str, dict] = {}
    for i, k in enumerate(keys):
        k = k if k is not None else "—"
        row = out.setdefault(k, {by: k, "cases": 0, "cases_with_defects": 0, "billed": 0, "withheld": 0,
                                 "accepted": 0, "fine": 0})
        row["cases"] += 1
        row["cases_with_defects"] += 1 if s.codes[i] else 0
        row["billed"] += int(s.billed[i])
        row["withheld"] += int(s.withheld[i])
        row["accepted"] += int(s.accepted[i])
        row["fine"] += int(s.fine[i])
    return [out[k] for k in sorted(out)]

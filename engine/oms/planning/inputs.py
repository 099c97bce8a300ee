"""Planning inputs: a directory of CSV files → raw tables for the planning package's entities.

Files (UTF-8, header row; see docs/planning.md):

========================  ====================================================================
``mo.csv``                mo, name, level, date_in, date_out
``insured.csv``           mo, smo, age_sex, persons
``programme.csv``         care_kind, tier, volume[, amount]   (optional: derived from normatives)
``notifications.csv``     id, mo, care_kind, profile, volume, capacity, submitted, status, comment
``history.csv``           mo, care_kind, profile, volume      (fact of the base period)
``limits.csv``            mo, care_kind, profile, volume      (ministry's limit figures)
========================  ====================================================================

The grid (one ``cell`` per МО × вид помощи × профиль that has a notification, history or a
limit figure; twelve ``month`` rows per cell) is built here; every number is computed by the
package's rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from dsl.columns import EPOCH
from engine.oms.planning.csvio import PlanningInputError, as_int, kopecks, read_rows
from engine.oms.planning.notifications import NotificationBook, load_notifications
from engine.runtime.model import Methodology


@dataclass
class PlanningInput:
    year: int
    region: str
    mo: list[dict]
    insured: list[dict]
    programme: list[dict] | None
    notifications: NotificationBook
    history: list[dict] = field(default_factory=list)
    limits: list[dict] = field(default_factory=list)


def read_planning_dir(path: Path, year: int, region: str = "00") -> PlanningInput:
    path = Path(path)
    if not (path / "mo.csv").is_file():
        raise PlanningInputError(f"{path}: нет файла mo.csv (перечень МО)")

    def opt(name: str, req: tuple[str, ...]) -> list[dict] | None:
        f = path / name
        return read_rows(f, req) if f.is_file() else None

    mo = read_rows(path / "mo.csv", ("mo", "level", "date_in"))
    insured = opt("insured.csv", ("mo", "smo", "age_sex", "persons")) or []
    programme = opt("programme.csv", ("care_kind", "volume"))
    history = opt("history.csv", ("mo", "care_kind", "volume")) or []
    limits = opt("limits.csv", ("mo", "care_kind", "volume")) or []
    known = {r["mo"] for r in mo}
    for name, rows in (("insured.csv", insured), ("history.csv", history), ("limits.csv", limits)):
        for i, r in enumerate(rows, start=2):
            if r["mo"] not in known:
                raise PlanningInputError(f"{name}:{i}: МО «{r['mo']}» нет в mo.csv")
    book = load_notifications(path)
    for n in book.items.values():
        if n.mo not in known:
            raise PlanningInputError(f"notifications.csv: уведомление {n.id}: МО «{n.mo}» нет в mo.csv")
    return PlanningInput(year, region, mo, insured, programme, book, history, limits)


def _by_profile(m: Methodology) -> dict[str, bool]:
    t = m.tables.get("care_kind")
    return {str(r["care_kind"]): bool(r.get("by_profile")) for r in (t.rows if t else [])}


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def programme_from_normatives(m: Methodology, inp: PlanningInput) -> list[dict]:
    """Absolute programme volumes = normative × insured persons, half up (see docs/gaps/planning.md G1).

    Used only when the input has no programme.csv; the rule check PL.1 compares a given
    programme with the same product.
    """
    t = m.tables["normative"]
    day = _day(dt.date(inp.year, 1, 1))
    persons = sum(as_int(r["persons"], "insured.csv, persons") for r in inp.insured)
    out = []
    for i, r in enumerate(t.rows):
        if not (t.starts[i] <= day < t.ends[i]):   # DATEEND is stored exclusive
            continue
        vol = (Decimal(repr(float(r["volume"]))) * persons).quantize(Decimal(1), ROUND_HALF_UP)
        out.append({"care_kind": str(r["care_kind"]), "tier": str(r["tier"]), "volume": str(int(vol)), "amount": ""})
    return out


def build_raw(m: Methodology, inp: PlanningInput) -> dict[str, dict[str, np.ndarray]]:
    """Raw tables (strings) for bind(): mo, insured, programme, cell, month."""
    y0, y1 = dt.date(inp.year, 1, 1), dt.date(inp.year, 12, 31)
    by_profile = _by_profile(m)

    def prof(care_kind: str, profile: str) -> str:
        return (profile or "-") if by_profile.get(care_kind, False) else "-"

    def col(rows: list[dict], name: str) -> np.ndarray:
        return np.array([r.get(name) or None for r in rows], dtype=object)

    raw: dict[str, dict[str, np.ndarray]] = {}
    raw["mo"] = {k: col(inp.mo, k) for k in ("mo", "name", "level", "date_in", "date_out")}
    raw["mo"]["name"] = np.array([r.get("name") or r["mo"] for r in inp.mo], dtype=object)
    ins = inp.insured
    raw["insured"] = {
        "key": np.array([f"i{i + 1}" for i in range(len(ins))], dtype=object),
        "region": np.array([inp.region] * len(ins), dtype=object),
        **{k: col(ins, k) for k in ("mo", "smo", "age_sex", "persons")},
    }
    prog = inp.programme if inp.programme is not None else programme_from_normatives(m, inp)
    for r in prog:
        r.setdefault("tier", "0")
        r["tier"] = r.get("tier") or "0"
    raw["programme"] = {
        "key": np.array([f"{r['care_kind']}/{r['tier']}" for r in prog], dtype=object),
        "region": np.array([inp.region] * len(prog), dtype=object),
        "period_start": np.array([y0.isoformat()] * len(prog), dtype=object),
        **{k: col(prog, k) for k in ("care_kind", "tier", "volume", "amount")},
    }
    cells: dict[tuple[str, str, str], dict] = {}

    def cell(mo: str, ck: str, p: str) -> dict:
        key = (mo, ck, prof(ck, p))
        return cells.setdefault(key, {"requested": 0, "capacity": None, "fact_prev": 0, "ministry_limit": None})

    for (mo, ck, p), (vol, cap) in inp.notifications.requested(by_profile).items():
        c = cell(mo, ck, p)
        c["requested"] += vol
        c["capacity"] = cap
    for i, r in enumerate(inp.history, start=2):
        cell(r["mo"], r["care_kind"], r.get("profile", "-"))["fact_prev"] += as_int(r["volume"], f"history.csv:{i}")
    for i, r in enumerate(inp.limits, start=2):
        c = cell(r["mo"], r["care_kind"], r.get("profile", "-"))
        c["ministry_limit"] = (c["ministry_limit"] or 0) + as_int(r["volume"], f"limits.csv:{i}")
    keys = sorted(cells)
    n = len(keys)
    raw["cell"] = {
        "key": np.array(["|".join(k) for k in keys], dtype=object),
        "mo": np.array([k[0] for k in keys], dtype=object),
        "care_kind": np.array([k[1] for k in keys], dtype=object),
        "profile": np.array([k[2] for k in keys], dtype=object),
        "region": np.array([inp.region] * n, dtype=object),
        "period_start": np.array([y0.isoformat()] * n, dtype=object),
        "period_end": np.array([y1.isoformat()] * n, dtype=object),
        **{f: np.array([None if cells[k][f] is None else str(cells[k][f]) for k in keys], dtype=object)
           for f in ("requested", "capacity", "fact_prev", "ministry_limit")},
    }
    starts = [dt.date(inp.year, mth, 1) for mth in range(1, 13)]
    ends = [(dt.date(inp.year + (mth == 12), mth % 12 + 1, 1) - dt.timedelta(days=1)) for mth in range(1, 13)]
    cell_keys = raw["cell"]["key"]
    raw["month"] = {
        "key": np.array([f"{k}|{mth:02d}" for k in cell_keys for mth in range(1, 13)], dtype=object),
        "cell_ref": np.repeat(cell_keys, 12),
        "month_start": np.array([s.isoformat() for s in starts] * n, dtype=object),
        "month_end": np.array([e.isoformat() for e in ends] * n, dtype=object),
    }
    return raw


def parse_amount(value: str, where: str) -> int:
    return kopecks(value, where)

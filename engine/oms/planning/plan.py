"""The plan table (month grain), its cuts, the МЭК limits table, versions and their diff.

A plan is a set of rows МО × вид помощи × профиль × месяц with an integer volume and an
amount in kopecks. Quarters and the year are sums of months, so every cut adds up exactly.
A plan version is a directory ``<root>/<version>/`` with ``plan.csv`` and ``version.json``
(methodology, hash, parent version, corrections applied, created at); versions are never
rewritten.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.oms.planning.csvio import PlanningInputError, as_int, kopecks, money_text, read_rows, write_rows

PLAN_COLUMNS = ["mo", "care_kind", "profile", "tier", "month", "volume", "amount"]
LIMIT_COLUMNS = ["mo", "care_kind", "period_start", "period_end", "quantity", "amount"]


@dataclass
class Plan:
    year: int
    mo: np.ndarray          # object (str)
    care_kind: np.ndarray
    profile: np.ndarray
    tier: np.ndarray
    month: np.ndarray       # int64 1..12
    volume: np.ndarray      # int64
    amount: np.ndarray      # int64 kopecks
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.mo)

    @property
    def quarter(self) -> np.ndarray:
        return (self.month - 1) // 3 + 1

    def copy(self) -> Plan:
        return Plan(self.year, *(a.copy() for a in (self.mo, self.care_kind, self.profile, self.tier, self.month,
                                                   self.volume, self.amount)), dict(self.meta))

    def cut(self, keys: tuple[str, ...], period: str = "year") -> list[dict]:
        """Sums of volume and amount by keys (any of mo, care_kind, profile, tier) and period
        (``month``, ``quarter``, ``year``); rows sorted by key."""
        cols = [getattr(self, k) for k in keys]
        per = {"month": self.month, "quarter": self.quarter, "year": np.zeros(len(self), np.int64)}[period]
        return group_sum(cols + [per], [self.volume, self.amount], list(keys) + [period], ["volume", "amount"])

    def limits_rows(self) -> list[list]:
        """The limits table МЭК uses: МО × вид помощи × период (month, quarter, year)."""
        out = []
        for period in ("month", "quarter", "year"):
            for r in self.cut(("mo", "care_kind"), period):
                start, end = period_bounds(self.year, period, int(r[period]))
                out.append([r["mo"], r["care_kind"], start.isoformat(), end.isoformat(), int(r["volume"]),
                            money_text(int(r["amount"]))])
        return out

    def write(self, path: Path) -> Path:
        return write_rows(path, PLAN_COLUMNS, ([self.mo[i], self.care_kind[i], self.profile[i], self.tier[i],
                                                int(self.month[i]), int(self.volume[i]),
                                                money_text(int(self.amount[i]))] for i in range(len(self))))

    @classmethod
    def read(cls, path: Path, year: int | None = None) -> Plan:
        rows = read_rows(path, tuple(PLAN_COLUMNS))
        meta_path = path.parent / "version.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        y = year or int(meta.get("year", 0)) or dt.date.today().year

        def arr(k):
            return np.array([r[k] for r in rows], dtype=object)

        return cls(y, arr("mo"), arr("care_kind"), arr("profile"), arr("tier"),
                   np.array([as_int(r["month"], f"{path.name}:{i + 2}") for i, r in enumerate(rows)], np.int64),
                   np.array([as_int(r["volume"], f"{path.name}:{i + 2}") for i, r in enumerate(rows)], np.int64),
                   np.array([kopecks(r["amount"], f"{path.name}:{i + 2}") for i, r in enumerate(rows)], np.int64),
                   meta)


def period_bounds(year: int, period: str, n: int) -> tuple[dt.date, dt.date]:
    if period == "month":
        first, last = n, n
    elif period == "quarter":
        first, last = 3 * n - 2, 3 * n
    else:
        first, last = 1, 12
    start = dt.date(year, first, 1)
    end = dt.date(year + (last == 12), last % 12 + 1, 1) - dt.timedelta(days=1)
    return start, end


def group_sum(keys: list[np.ndarray], values: list[np.ndarray], key_names: list[str],
              value_names: list[str]) -> list[dict]:
    """Exact integer sums of `values` grouped by `keys` (numpy; keys may be object arrays)."""
    n = len(values[0])
    if n == 0:
        return []
    codes = []
    uniques = []
    for k in keys:
        a = np.asarray(k)
        u, inv = np.unique(a.astype(str) if a.dtype == object else a, return_inverse=True)
        codes.append(inv.astype(np.int64))
        uniques.append(u)
    combo = np.zeros(n, dtype=np.int64)
    for c, u in zip(codes, uniques, strict=True):
        combo = combo * len(u) + c
    gid, first, inv = np.unique(combo, return_index=True, return_inverse=True)
    out = []
    sums = [_int_bincount(inv, v, len(gid)) for v in values]
    for g in range(len(gid)):
        row = {name: np.asarray(k)[first[g]] for name, k in zip(key_names, keys, strict=True)}
        for name, s in zip(value_names, sums, strict=True):
            row[name] = int(s[g])
        out.append(row)
    return out


def _int_bincount(inv: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int64)
    np.add.at(out, inv, np.asarray(v, dtype=np.int64))
    return out


def check_limits(rows: list[list]) -> list[str]:
    """«Месячный лимит превышает квартальный или годовой» on a limits table (quantity and amount)."""
    by: dict[tuple[str, str], dict[str, list]] = {}
    for mo, ck, start, end, qty, amount in rows:
        s, e = dt.date.fromisoformat(str(start)), dt.date.fromisoformat(str(end))
        months = (e.year - s.year) * 12 + e.month - s.month + 1
        kind = {1: "month", 3: "quarter", 12: "year"}.get(months)
        if kind is None:
            raise PlanningInputError(f"лимит {mo}/{ck} {start}…{end}: период не месяц, не квартал и не год")
        by.setdefault((mo, ck), {"month": [], "quarter": [], "year": []})[kind].append(
            (s, e, int(qty), kopecks(str(amount), "amount")))
    problems = []
    for (mo, ck), d in sorted(by.items()):
        for small, big in (("month", "quarter"), ("month", "year"), ("quarter", "year")):
            for s, e, q, a in d[small]:
                for bs, be_, bq, ba in d[big]:
                    if bs <= s and e <= be_ and (q > bq or a > ba):
                        problems.append(f"{mo}/{ck}: {'месячный' if small == 'month' else 'квартальный'} лимит "
                                        f"{s:%m.%Y} ({q} ед., {money_text(a)} руб.) превышает "
                                        f"{'квартальный' if big == 'quarter' else 'годовой'} ({bq} ед., "
                                        f"{money_text(ba)} руб.)")
            if small == "month" and d["year"]:
                tq, ta = sum(x[2] for x in d["month"]), sum(x[3] for x in d["month"])
                for _bs, _be, bq, ba in d["year"]:
                    if tq > bq or ta > ba:
                        problems.append(f"{mo}/{ck}: сумма месячных лимитов ({tq} ед., {money_text(ta)} руб.) "
                                        f"превышает годовой ({bq} ед., {money_text(ba)} руб.)")
    return problems


# --- versions ---------------------------------------------------------------------------------

def save_version(plan: Plan, root: Path, info: dict) -> str:
    """Write a new immutable version directory under `root`; returns its name (v001, v002 …)."""
    root.mkdir(parents=True, exist_ok=True)
    existing = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith("v"))
    name = f"v{len(existing) + 1:03d}"
    d = root / name
    d.mkdir()
    plan.write(d / "plan.csv")
    meta = {"version": name, "year": plan.year, "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "rows": len(plan), "volume": int(plan.volume.sum()), "amount": money_text(int(plan.amount.sum())), **info}
    (d / "version.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    plan.meta = meta
    return name


def diff_plans(a: Plan, b: Plan, keys: tuple[str, ...] = ("mo", "care_kind", "profile"),
               period: str = "quarter") -> list[dict]:
    """Rows where two plan versions differ at the given grain: old/new volume and amount, deltas."""
    ra = {tuple(r[k] for k in (*keys, period)): r for r in a.cut(keys, period)}
    rb = {tuple(r[k] for k in (*keys, period)): r for r in b.cut(keys, period)}
    out = []
    for k in sorted(set(ra) | set(rb), key=lambda t: tuple(str(x) for x in t)):
        va, vb = ra.get(k, {"volume": 0, "amount": 0}), rb.get(k, {"volume": 0, "amount": 0})
        if va["volume"] != vb["volume"] or va["amount"] != vb["amount"]:
            out.append({**dict(zip((*keys, period), k, strict=True)), "volume_old": va["volume"],
                        "volume_new": vb["volume"], "volume_delta": vb["volume"] - va["volume"],
                        "amount_old": money_text(va["amount"]), "amount_new": money_text(vb["amount"]),
                        "amount_delta": money_text(vb["amount"] - va["amount"])})
    return out

"""Commission corrections (корректировки решением Комиссии) as data, applied with re-balancing.

``corrections.csv``::

    mo,care_kind,profile,period_start,period_end,delta,amount_delta,reason,decision_no,decision_date

A correction changes the volume of one МО (all its profiles when ``profile`` is ``-``) in the
months of the period by ``delta`` (split over the months in proportion to its plan, integer by
largest remainder); the other МО of the same programme group (вид помощи × уровень) give up
(or receive) the same quantity in the same months in proportion to their plan, never below
zero. The amount moves likewise: ``amount_delta`` if given, otherwise ``delta`` × the group's
average unit cost in those months. Totals of every group and month stay exactly as they were.

The splitting kernel is the rule language's own ``distribute`` (dsl.primitives.distribute.allocate);
the correction itself is not expressed in rules — see docs/gaps/planning.md (G3).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from dsl.primitives.distribute import allocate as _kernel
from engine.oms.planning.csvio import PlanningInputError, as_int, kopecks, read_rows
from engine.oms.planning.plan import Plan

COLUMNS = ("mo", "care_kind", "profile", "period_start", "period_end", "delta", "amount_delta", "reason",
           "decision_no", "decision_date")


@dataclass
class Correction:
    mo: str
    care_kind: str
    profile: str
    period_start: dt.date
    period_end: dt.date
    delta: int
    amount_delta: int | None
    reason: str
    decision_no: str
    decision_date: str

    def label(self) -> str:
        return f"решение № {self.decision_no} от {self.decision_date}: {self.mo}/{self.care_kind} {self.delta:+d}"


def load_corrections(path: Path) -> list[Correction]:
    out = []
    for i, r in enumerate(read_rows(path, ("mo", "care_kind", "period_start", "period_end", "delta", "reason",
                                           "decision_no", "decision_date")), start=2):
        where = f"{path.name}:{i}"
        try:
            s, e = dt.date.fromisoformat(r["period_start"]), dt.date.fromisoformat(r["period_end"])
        except ValueError:
            raise PlanningInputError(f"{where}: период — даты ГГГГ-ММ-ДД") from None
        if e < s:
            raise PlanningInputError(f"{where}: конец периода раньше начала")
        if not r["reason"] or not r["decision_no"]:
            raise PlanningInputError(f"{where}: укажите причину и номер решения Комиссии")
        out.append(Correction(r["mo"], r["care_kind"], r.get("profile") or "-", s, e, as_int(r["delta"], where),
                              kopecks(r["amount_delta"], where) if r.get("amount_delta") else None,
                              r["reason"], r["decision_no"], r["decision_date"]))
    return out


def _split(total: int, weights: np.ndarray, caps: np.ndarray | None = None) -> np.ndarray:
    """Integer split of `total` ≥ 0 by weights (evenly if all zero), capped; exact or raises."""
    n = len(weights)
    if total == 0 or n == 0:
        return np.zeros(n, dtype=np.int64)
    w = weights.astype(np.float64)
    if not (w > 0).any():
        w = np.ones(n) if caps is None else (caps > 0).astype(np.float64)
    cap = np.full(n, np.inf) if caps is None else caps.astype(np.float64)
    out = _kernel(np.zeros(n, dtype=np.int64), 1, np.array([float(total)]), w, cap)
    if int(out.sum()) != total:
        raise PlanningInputError(f"нельзя перераспределить {total}: не хватает объёма у МО группы")
    return out


def apply_corrections(plan: Plan, corrections: list[Correction]) -> Plan:
    """A new plan with the corrections applied in order; group × month totals unchanged."""
    p = plan.copy()
    for c in corrections:
        months = [m for m in range(1, 13) if c.period_start <= dt.date(p.year, m, 1) <= c.period_end
                  or (c.period_start.year == p.year and c.period_start.month == m)]
        tgt = (p.mo == c.mo) & (p.care_kind == c.care_kind)
        if c.profile != "-":
            tgt &= p.profile == c.profile
        if not tgt.any():
            raise PlanningInputError(f"{c.label()}: в плане нет строк этой МО и вида помощи")
        tiers = set(p.tier[tgt].tolist())
        inm = np.isin(p.month, months)
        t_idx = np.nonzero(tgt & inm)[0]
        # 1) volume over the target's months and profiles
        mag = abs(c.delta)
        t_give = _split(mag, p.volume[t_idx], p.volume[t_idx] if c.delta < 0 else None)
        vol_moves = np.sign(c.delta) * t_give
        # 2) amount
        if c.amount_delta is not None:
            a_total = c.amount_delta
        else:
            grp = (p.care_kind == c.care_kind) & np.isin(p.tier, list(tiers)) & inm
            unit = Decimal(int(p.amount[grp].sum())) / Decimal(max(int(p.volume[grp].sum()), 1))
            a_total = int((unit * c.delta).quantize(Decimal(1), ROUND_HALF_UP))
        a_moves = np.sign(a_total) * _split(abs(a_total), p.volume[t_idx].astype(np.float64) + vol_moves.clip(0),
                                            p.amount[t_idx] if a_total < 0 else None)
        p.volume[t_idx] += vol_moves
        p.amount[t_idx] += a_moves
        # 3) the others of the same group give/receive per month
        for m in months:
            here = t_idx[p.month[t_idx] == m]
            dv = int(vol_moves[np.isin(t_idx, here)].sum())
            da = int(a_moves[np.isin(t_idx, here)].sum())
            for tier in tiers:
                o_idx = np.nonzero((p.care_kind == c.care_kind) & (p.tier == tier) & (p.month == m) & ~tgt)[0]
                share = here[p.tier[here] == tier]
                if len(tiers) > 1:
                    dv_t = int(vol_moves[np.isin(t_idx, share)].sum())
                    da_t = int(a_moves[np.isin(t_idx, share)].sum())
                else:
                    dv_t, da_t = dv, da
                if dv_t:
                    p.volume[o_idx] -= np.sign(dv_t) * _split(abs(dv_t), p.volume[o_idx],
                                                              p.volume[o_idx] if dv_t > 0 else None)
                if da_t:
                    p.amount[o_idx] -= np.sign(da_t) * _split(abs(da_t), p.amount[o_idx].astype(np.float64),
                                                              p.amount[o_idx] if da_t > 0 else None)
    p.meta = {**plan.meta, "corrections": [c.label() + f" — {c.reason}" for c in corrections]}
    return p

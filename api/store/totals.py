"""Run totals read back from the stored case rows: overall, per МО, per СМО and by applied ground.

Summaries are computed from the case rows of ``run_results`` (settlement in kopecks per case)
in Python, because a SQL aggregate over JSON values differs per backend (docs/gaps/web.md).
The lines by ground come from :func:`engine.oms.settlement.totals_by_ground` — the same function
the МЭК act and ``summary_ground.csv`` use — over each case's applied ground, so a case is
counted once and Σ by ground = the run's withheld total. The web run page and the API both
read this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from api.auth.scoping import apply_scope
from api.db.models import RunDefect, RunResult
from engine.oms.settlement import ground_order, totals_by_ground

MONEY_FIELDS = ("billed", "withheld", "accepted", "fine")


@dataclass
class Totals:
    cases: int = 0
    billed: int = 0
    withheld: int = 0
    accepted: int = 0
    fine: int = 0
    with_defects: int = 0

    def add(self, values: dict[str, Any]) -> None:
        self.cases += 1
        for f in MONEY_FIELDS:
            setattr(self, f, getattr(self, f) + int(values.get(f"{f}_kopecks") or 0))
        if values.get("defect_codes"):
            self.with_defects += 1


@dataclass
class Summary:
    total: Totals = field(default_factory=Totals)
    by_mo: dict[str, Totals] = field(default_factory=dict)
    by_smo: dict[str, Totals] = field(default_factory=dict)
    # by the ground applied to each case (engine.oms.settlement.totals_by_ground): code, title, cases, withheld, fine
    by_code: list[tuple[str, str, int, int, int]] = field(default_factory=list)
    defect_codes: list[str] = field(default_factory=list)   # every code among the run's defects
    grounds: list = field(default_factory=list)              # engine.oms.settlement.GroundTotal, F014 order
    titles: dict[str, str] = field(default_factory=dict)     # code → title of its defects


def summary_in_scope(session: Any, user: Any, run_id: int) -> Summary:
    """Totals, per-МО and per-СМО summaries of the case rows in the user's scope; lines by applied ground."""
    out = Summary()
    stmt = apply_scope(select(RunResult.mo_code, RunResult.smo_code, RunResult.values)
                       .where(RunResult.run_id == run_id, RunResult.entity == "case"), user, RunResult)
    applied = []
    for mo, smo, values in session.execute(stmt.execution_options(yield_per=5000)):
        out.total.add(values)
        out.by_mo.setdefault(mo or "—", Totals()).add(values)
        out.by_smo.setdefault(smo or "—", Totals()).add(values)
        applied.append((values.get("applied_code"), *(int(values.get(f"{f}_kopecks") or 0)
                                                       for f in ("billed", "withheld", "fine"))))
    codes = apply_scope(select(RunDefect.code, func.min(RunDefect.title)).where(RunDefect.run_id == run_id),
                        user, RunDefect).group_by(RunDefect.code)
    out.titles = {c: t or "" for c, t in session.execute(codes)}
    out.defect_codes = sorted(out.titles, key=ground_order)
    out.grounds = totals_by_ground(applied)
    out.by_code = [(g.code, out.titles.get(g.code, ""), g.cases, g.withheld, g.fine) for g in out.grounds]
    out.by_mo = dict(sorted(out.by_mo.items()))
    out.by_smo = dict(sorted(out.by_smo.items()))
    return out

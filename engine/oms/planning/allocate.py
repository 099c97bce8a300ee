"""Run a planning package over planning inputs: annual allocation, monthly plan-tasks, checks."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

import numpy as np

from dsl.columns import EPOCH, code_strings
from engine.backends.numpy.checks import DefectTable
from engine.backends.numpy.runner import run
from engine.oms.planning.inputs import PlanningInput, build_raw
from engine.oms.planning.plan import Plan
from engine.runtime.dataset import Dataset, bind
from engine.runtime.model import Methodology

CELL_OUTPUTS = ["tier", "active_days", "weight", "min_volume", "volume", "amount", "months_volume", "months_amount"]
MONTH_OUTPUTS = ["month_no", "volume", "amount"]
PROGRAMME_OUTPUTS = ["norm_volume", "volume_by_norm", "total_amount", "allocated", "allocated_amount"]


@dataclass
class AllocationResult:
    plan: Plan
    cells: list[dict]
    programme: list[dict]
    defects: DefectTable
    data: Dataset
    timings: dict[str, float] = field(default_factory=dict)


def _codes(col) -> np.ndarray:
    return code_strings(col)


def allocate(m: Methodology, inp: PlanningInput) -> AllocationResult:
    t0 = time.perf_counter()
    raw = build_raw(m, inp)
    t1 = time.perf_counter()
    data = bind(m.entities, raw)
    t2 = time.perf_counter()
    day = (dt.date(inp.year, 1, 1) - EPOCH).days
    res = run(m, data, {"cell": CELL_OUTPUTS, "month": MONTH_OUTPUTS, "programme": PROGRAMME_OUTPUTS},
              context_day=day)
    t3 = time.perf_counter()
    cell = data.entities["cell"]
    cv = res.values["cell"]
    mv = res.values["month"]
    month = data.entities["month"]
    ci = month.rel["cell"]
    c_mo, c_ck, c_prof = (_codes(cell.cols[f]) for f in ("mo", "care_kind", "profile"))
    c_tier = _codes(cv["tier"])
    plan = Plan(inp.year, c_mo[ci], c_ck[ci], c_prof[ci], c_tier[ci],
                np.asarray(mv["month_no"].data, np.int64), np.asarray(mv["volume"].data, np.int64),
                np.asarray(mv["amount"].data, np.int64),
                {"methodology": m.ref, "methodology_hash": m.content_hash, "year": inp.year})
    cells = []
    for i in range(cell.n):
        row = {"mo": c_mo[i], "care_kind": c_ck[i], "profile": c_prof[i], "tier": c_tier[i]}
        for f in ("requested", "capacity", "fact_prev", "ministry_limit"):
            row[f] = cell.cols[f].value_at(i)
        for f in CELL_OUTPUTS[1:]:
            row[f] = cv[f].value_at(i)
        cells.append(row)
    prog = data.entities["programme"]
    pv = res.values["programme"]
    programme = []
    for i in range(prog.n):
        row = {"care_kind": prog.cols["care_kind"].value_at(i), "tier": prog.cols["tier"].value_at(i),
               "volume": prog.cols["volume"].value_at(i)}
        for f in PROGRAMME_OUTPUTS:
            row[f] = pv[f].value_at(i)
        programme.append(row)
    t4 = time.perf_counter()
    return AllocationResult(plan, cells, programme, res.defects, data,
                            {"grid_s": t1 - t0, "bind_s": t2 - t1, "rules_s": t3 - t2, "collect_s": t4 - t3})

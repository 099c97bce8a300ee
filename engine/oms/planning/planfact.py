"""Plan-fact: fact from accepted cases of processed registries vs the plan.

Fact sources, all reduced to the planning package's ``fact`` entity (mo, usl_ok, for_pom, idsp,
p_cel, profil, n_ksg, date_z_2, accepted):

* a run directory of ``metodika run`` — ``case_settlement.csv`` (accepted amounts per case)
  joined with the registry's case/SL tables (re-read from the registry files given);
* a :class:`engine.oms.pipeline.PipelineResult` in memory (:func:`fact_from_pipeline`);
* a ready ``fact.csv`` in the entity's columns (:func:`read_fact_csv`).

The care kind, quarter and month of each case come from the package's rules (``fact.rules``).
Execution is computed at the plan's grain (МО × вид помощи × профиль × квартал); the КСГ
rows show how the fact of a plan cell splits by КСГ (plan is not set per КСГ).
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from dsl.columns import EPOCH, code_strings
from engine.backends.numpy.runner import run
from engine.oms.planning.csvio import PlanningInputError
from engine.oms.planning.plan import Plan, group_sum
from engine.runtime.dataset import bind, read_csv_dir
from engine.runtime.model import Methodology

FACT_FIELDS = ("mo", "usl_ok", "for_pom", "idsp", "p_cel", "profil", "n_ksg", "date_z_2", "accepted")
PLANFACT_COLUMNS = ["mo", "care_kind", "profile", "ksg", "quarter", "plan_volume", "fact_volume", "volume_pct",
                    "plan_amount", "fact_amount", "amount_pct"]


def read_fact_csv(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise PlanningInputError(f"{path}: нет такого файла или каталога (ожидался fact.csv или каталог "
                                 "результатов metodika run с case_settlement.csv)")
    if path.is_dir():
        return read_csv_dir(path)["fact"]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip() for h in rows[0]]
    return {h: np.array([(r[i] if i < len(r) and r[i] != "" else None) for r in rows[1:]], dtype=object)
            for i, h in enumerate(header)}


def _first_sl(case_keys: np.ndarray, sl: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """SL fields of each case's first SL (profile, КСГ, цель посещения)."""
    refs = np.asarray(sl["case_ref"]).astype(str)
    _, first = np.unique(refs, return_index=True)
    pos = {refs[i]: i for i in first}
    idx = np.array([pos.get(str(k), -1) for k in case_keys], dtype=np.int64)
    out = {}
    for f in ("profil", "n_ksg", "p_cel"):
        col = sl.get(f, np.array([None] * len(refs), dtype=object))
        out[f] = np.array([col[i] if i >= 0 else None for i in idx], dtype=object)
    out["profil"] = np.array([v if v is not None else "0" for v in out["profil"]], dtype=object)
    return out


def fact_from_tables(tables: dict[str, dict[str, np.ndarray]], keys: np.ndarray, mo: np.ndarray,
                     accepted_rub: np.ndarray) -> dict[str, np.ndarray]:
    """`fact` columns for the settled cases `keys` from registry tables (case, sl)."""
    case = tables["case"]
    ck = np.asarray(case["key"]).astype(str)
    order = {k: i for i, k in enumerate(ck)}
    idx = np.array([order.get(str(k), -1) for k in keys], dtype=np.int64)
    if (idx < 0).any():
        bad = str(keys[int(np.nonzero(idx < 0)[0][0])])
        raise PlanningInputError(f"случай «{bad}» из case_settlement.csv не найден в реестре")
    sl = _first_sl(np.asarray(keys), tables["sl"])
    return {"key": np.asarray(keys, dtype=object), "mo": np.asarray(mo, dtype=object),
            **{f: np.asarray(case[f], dtype=object)[idx] for f in ("usl_ok", "for_pom", "idsp", "date_z_2")},
            **sl, "accepted": np.asarray(accepted_rub, dtype=object)}


def fact_from_run_dir(run_dir: Path, registry: list[Path]) -> dict[str, np.ndarray]:
    from engine.oms.io import read_registry

    path = run_dir / "case_settlement.csv"
    if not path.is_file():
        raise PlanningInputError(f"{run_dir}: нет case_settlement.csv (это каталог результатов metodika run?)")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    reg = read_registry(registry)
    if not reg.ok:
        raise PlanningInputError(f"реестр {', '.join(map(str, registry))} не прошёл ФЛК")
    return fact_from_tables(reg.data.tables, np.array([r["case"] for r in rows], dtype=object),
                            np.array([r["mo"] for r in rows], dtype=object),
                            np.array([r["accepted"] for r in rows], dtype=object))


def fact_from_pipeline(res) -> dict[str, np.ndarray]:
    """From an engine.oms.pipeline.PipelineResult (status done) — no files involved."""
    from dsl.types import MONEY
    from engine.runtime.values import display

    data = res.run.data
    s = res.settlement
    tables = {"case": {}, "sl": {}}
    for ent in ("case", "sl"):
        e = data.entities[ent]
        tables[ent]["key"] = e.keys
        for f, c in e.cols.items():
            tables[ent][f] = np.array([display(c.value_at(i), c.type) if c.value_at(i) is not None else None
                                       for i in range(e.n)], dtype=object)
    sl = data.entities["sl"]
    tables["sl"]["case_ref"] = data.entities["case"].keys[sl.rel["case"]]
    return fact_from_tables(tables, s.keys, s.mo, np.array([display(int(v), MONEY) for v in s.accepted], dtype=object))


def merge_facts(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if len(parts) == 1:
        return parts[0]
    return {f: np.concatenate([p.get(f, np.array([None] * len(p["mo"]), dtype=object)) for p in parts])
            for f in ("key", *FACT_FIELDS)}


def classify(m: Methodology, fact: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Care kind, quarter, counted per fact case — by the package's rules."""
    fact = {k: v for k, v in fact.items() if k == "key" or k in FACT_FIELDS}
    data = bind(m.entities, {"fact": fact})
    res = run(m, data, {"fact": ["care_kind", "quarter", "counted"]}, checks=False)
    e = data.entities["fact"]
    v = res.values["fact"]
    return {"mo": code_strings(e.cols["mo"]), "care_kind": code_strings(v["care_kind"]),
            "profil": np.asarray(e.cols["profil"].data, np.int64).astype(str).astype(object),
            "ksg": np.array(["" if x is None else x for x in code_strings(e.cols["n_ksg"])], dtype=object),
            "quarter": np.asarray(v["quarter"].data, np.int64),
            "counted": np.asarray(v["counted"].data, bool),
            "accepted": np.asarray(e.cols["accepted"].data, np.int64),
            "year": (np.asarray(e.cols["date_z_2"].data, np.int64).astype("datetime64[D]").astype("datetime64[Y]")
                     .astype(np.int64) + 1970)}


def _pct(f: int, p: int) -> Decimal | None:
    if p == 0:
        return None
    return (Decimal(f) * 100 / Decimal(p)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def plan_fact(m: Methodology, plan: Plan, fact: dict[str, np.ndarray]) -> list[dict]:
    """Rows at plan grain (ksg = "") followed by КСГ detail rows; execution % of volume and amount."""
    f = classify(m, fact)
    keep = f["counted"] & (f["year"] == plan.year)
    by_profile = {str(r["care_kind"]): bool(r.get("by_profile")) for r in m.tables["care_kind"].rows}
    prof = np.array([p if by_profile.get(ck, False) else "-" for p, ck in zip(f["profil"], f["care_kind"],
                                                                               strict=True)], dtype=object)
    ones = np.ones(len(keep), dtype=np.int64)
    fk = [f["mo"][keep], f["care_kind"][keep], prof[keep]]
    fact_rows = group_sum(fk + [f["quarter"][keep]], [ones[keep], f["accepted"][keep]],
                          ["mo", "care_kind", "profile", "quarter"], ["volume", "amount"])
    ksg_rows = group_sum(fk + [f["ksg"][keep], f["quarter"][keep]], [ones[keep], f["accepted"][keep]],
                         ["mo", "care_kind", "profile", "ksg", "quarter"], ["volume", "amount"])
    plan_rows = plan.cut(("mo", "care_kind", "profile"), "quarter")
    pk = {(r["mo"], r["care_kind"], r["profile"], int(r["quarter"])): r for r in plan_rows}
    fkd = {(r["mo"], r["care_kind"], r["profile"], int(r["quarter"])): r for r in fact_rows}
    out = []
    for k in sorted(set(pk) | set(fkd), key=lambda t: (str(t[0]), str(t[1]), str(t[2]), t[3])):
        p = pk.get(k, {"volume": 0, "amount": 0})
        fr = fkd.get(k, {"volume": 0, "amount": 0})
        out.append({"mo": k[0], "care_kind": k[1], "profile": k[2], "ksg": "", "quarter": k[3],
                    "plan_volume": p["volume"], "fact_volume": fr["volume"], "volume_pct": _pct(fr["volume"], p["volume"]),
                    "plan_amount": p["amount"], "fact_amount": fr["amount"], "amount_pct": _pct(fr["amount"], p["amount"])})
    for r in sorted(ksg_rows, key=lambda r: (str(r["mo"]), str(r["care_kind"]), str(r["profile"]), str(r["ksg"]),
                                             int(r["quarter"]))):
        if not r["ksg"]:
            continue
        out.append({"mo": r["mo"], "care_kind": r["care_kind"], "profile": r["profile"], "ksg": r["ksg"],
                    "quarter": int(r["quarter"]), "plan_volume": None, "fact_volume": r["volume"], "volume_pct": None,
                    "plan_amount": None, "fact_amount": r["amount"], "amount_pct": None})
    return out


def day_of(d: dt.date) -> int:
    return (d - EPOCH).days

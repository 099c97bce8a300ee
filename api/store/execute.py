"""Run a methodology over stored raw tables and turn the outcome into database rows.

A stored registry is columns in an ``.npz``; ``engine.oms.pipeline.process_tables`` runs the
same bind → run → settle steps as a registry run on them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from api.store.personal import is_personal, masked_message, personal_names
from dsl.columns import Col
from engine.oms.pipeline import PipelineResult, Progress, process_tables
from engine.oms.settlement import CASE, Settlement
from engine.runtime.dataset import Dataset
from engine.runtime.model import Methodology

SETTLEMENT_FIELDS = ("billed", "withheld", "accepted", "fine")


def _quiet(stage: str, share: float) -> None:
    return None


def execute(m: Methodology, raw: dict[str, dict[str, np.ndarray]], extra: dict[str, Path] | None = None,
            progress: Progress = _quiet) -> tuple[PipelineResult, dict[str, float]]:
    """bind → run → settle on raw tables (+ reference CSVs); the result and stage timings (s)."""
    res = process_tables(m, raw, extra, progress)
    return res, res.timings


def column_json(col: Col) -> list[Any]:
    """Values of a column as JSON: money and int as integers (money in kopecks), dates ISO."""
    k = col.type.kind
    if k in ("code", "text"):
        cats = np.asarray(col.cats, dtype=object)
        codes = np.asarray(col.data)
        vals = np.where(codes >= 0, cats[np.clip(codes, 0, None)] if len(cats) else None, None).tolist()
    elif k == "date":
        vals = np.asarray(col.data).astype("datetime64[D]").astype(str).tolist()
    else:
        vals = np.asarray(col.data).tolist()
    if col.missing is not None:
        miss = np.broadcast_to(col.missing, (len(vals),))
        vals = [None if miss[i] else v for i, v in enumerate(vals)]
    return vals


def row_scope(m: Methodology, data: Dataset, s: Settlement | None) -> dict[str, tuple[list, list]]:
    """(МО, СМО) of every row of every entity, carried from the cases it belongs to."""
    out: dict[str, tuple[list, list]] = {}
    if s is None or CASE not in data.entities:
        return {e: ([None] * d.n, [None] * d.n) for e, d in data.entities.items()}
    mo, smo = np.asarray(s.mo, dtype=object), np.asarray(s.smo, dtype=object)
    cases = data.entities[CASE]
    for name, ent in data.entities.items():
        if name == CASE:
            out[name] = (mo.tolist(), smo.tolist())
            continue
        idx = None
        mixed_mo = mixed_smo = None
        for rel in m.entities[name].relations.values():
            if rel.entity == CASE:
                idx = ent.rel[rel.name]
        if idx is None:
            for rel in m.entities[CASE].relations.values():
                if rel.entity == name:
                    refs = cases.rel[rel.name]
                    idx = np.full(ent.n, -1, dtype=np.int64)
                    order = np.arange(len(refs))[::-1]  # first case wins
                    valid = refs[order] >= 0
                    idx[refs[order][valid]] = order[valid]
                    mixed_mo, mixed_smo = _mixed(refs, idx, mo), _mixed(refs, idx, smo)
        if idx is None:
            out[name] = ([None] * ent.n, [None] * ent.n)
            continue
        ok = idx >= 0
        safe = np.clip(idx, 0, None)
        out[name] = (np.where(ok & ~_or_none(mixed_mo, ent.n), mo[safe] if len(mo) else None, None).tolist(),
                     np.where(ok & ~_or_none(mixed_smo, ent.n), smo[safe] if len(smo) else None, None).tolist())
    return out


def _mixed(refs: np.ndarray, first: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Rows (of an entity many cases point to, e.g. an account) whose cases carry different codes.

    Such a row belongs to no single МО/СМО: it gets no scope code, so a scoped operator does not
    see it (an account of several СМО would otherwise show one СМО the others' cases and amounts;
    docs/security.md, "Data scoping").
    """
    mixed = np.zeros(len(first), dtype=bool)
    valid = refs >= 0
    if not len(codes) or not valid.any():
        return mixed
    _, inv = np.unique(np.asarray([str(c) for c in codes]), return_inverse=True)
    rows, own = refs[valid], inv[valid]
    first_code = inv[np.clip(first, 0, None)]
    mixed[rows[own != first_code[rows]]] = True
    return mixed


def _or_none(mask: np.ndarray | None, n: int) -> np.ndarray:
    return mask if mask is not None else np.zeros(n, dtype=bool)


def result_rows(res: PipelineResult, scope: dict[str, tuple[list, list]]) -> list[dict[str, Any]]:
    """Rows for ``run_results``: computed outputs per entity row; cases also get the settlement."""
    assert res.run is not None
    data, s = res.run.data, res.settlement
    rows: list[dict[str, Any]] = []
    entities = dict(res.run.values)
    if s is not None:
        entities.setdefault(CASE, {})
    for ent, cols in entities.items():
        keys = data.entities[ent].keys
        columns = {name: column_json(col) for name, col in cols.items()}
        if ent == CASE and s is not None:
            for f in SETTLEMENT_FIELDS:
                columns[f"{f}_kopecks"] = np.asarray(getattr(s, f)).tolist()
        mo, smo = scope[ent]
        names = list(columns)
        for i in range(len(keys)):
            values = {n: columns[n][i] for n in names}
            if ent == CASE and s is not None:
                values["defect_codes"] = list(s.codes[i])
                values["applied_code"] = s.applied[i]   # the ground the settlement applied (totals by ground)
            rows.append({"entity": ent, "row_key": str(keys[i]), "mo_code": mo[i], "smo_code": smo[i],
                         "values": values})
    return rows


def defect_rows(m: Methodology, res: PipelineResult, scope: dict[str, tuple[list, list]],
                strip: list[str]) -> list[dict[str, Any]]:
    """Rows for ``run_defects``: money in kopecks, the condition's values, personal keys marked."""
    assert res.run is not None
    data = res.run.data
    names = personal_names(m)
    index = {e: {str(k): i for i, k in enumerate(d.keys)} for e, d in data.entities.items()}
    rows = []
    for d in res.run.defects.defects:
        i = index[d.entity].get(d.row_key)
        mo, smo = scope[d.entity]
        info = m.checks.get(d.check)
        template = info.ir.message if info is not None and info.ir is not None else None
        placeholders = list(info.ir.placeholders) if info is not None and info.ir is not None else []
        rule = d.rule
        for p in strip:
            rule = rule.replace(p, "")
        doc: dict[str, Any] = {
            "check": d.check, "share": d.share, "base_kopecks": d.base, "message": d.message,
            "values": d.values, "package": d.package, "reference": d.reference, "rule": rule,
            "catalogue": d.catalogue,
            "personal_keys": sorted(k for k in d.values if is_personal(k, names)),
        }
        masked = masked_message(template, d.message, placeholders, names)
        if masked is not None:
            doc["message_masked"] = masked
        rows.append({"entity": d.entity, "row_key": d.row_key, "code": d.code, "title": d.title,
                     "withheld_kopecks": d.withheld, "fine_kopecks": d.fine, "values": doc,
                     "mo_code": mo[i] if i is not None else None, "smo_code": smo[i] if i is not None else None})
    return rows

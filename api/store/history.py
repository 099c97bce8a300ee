"""The history of accepted cases: written after a run, read back as the ``paid_case`` input.

The identifying key of a case (231н, прил., п. 1.10.1 «позиция реестра оплачена ранее»): the
insured person (ЕНП, else policy number, else ID_PAC — the methodology's ``case.mek_person``),
the МО, the conditions of care (USL_OK), the profile of the first SL (``case.main_profil``), the
dates DATE_Z_1 and DATE_Z_2. Each row also keeps IDSP (1.10.3: what a tariff includes), the volume
rubric (``case.lim_rubric``, 1.6.2/1.6.3: execution of the limit in earlier months), the accepted
sum, IDCASE and NSCHET. Only cases with a positive accepted sum are history.

A run of period P reads the history of the periods up to P (``period <= P``, the months
``HISTORY_MONTHS`` back; other registries of P itself count too — a second registry of the month
is checked against the first), except its own registry, for the persons of its registry and its МО (limits count an МО's earlier cases whoever the
patient). The rows become raw ``paid_case`` columns, added to any ``--table paid_case=…`` given.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from api.db.models import AcceptedCase
from api.store.execute import column_json
from engine.oms.pipeline import PipelineResult

HISTORY_MONTHS = 24
ENTITY = "paid_case"
HISTORY_INPUT = "paid_case:history"   # name of the history's sha256 among a run's input hashes
#: paid_case field -> case definition or field that gives it (the methodology defines the key)
KEY_SOURCES = {"enp": "mek_person", "lpu": "lpu", "usl_ok": "usl_ok", "profil": "main_profil", "idsp": "idsp",
               "date_z_1": "date_z_1", "date_z_2": "date_z_2", "rubric": "lim_rubric", "idcase": "idcase"}
COLUMNS = ["enp", "lpu", "usl_ok", "profil", "idsp", "date_z_1", "date_z_2", "rubric", "sump", "idcase",
           "nschet", "period"]
_IN_CHUNK = 500


def _case_values(res: PipelineResult) -> dict[str, list[Any]] | None:
    assert res.run is not None and res.run.evaluator is not None
    m, ev = res.run.methodology, res.run.evaluator
    have = {name for ent, name in m.defs if ent == "case"} | set(m.entities["case"].fields)
    if "case" not in m.entities or not set(KEY_SOURCES.values()) <= have:
        return None
    out = {f: column_json(ev.column("case", src)) for f, src in KEY_SOURCES.items()}
    cases = res.run.data.entities["case"]
    acc = res.run.data.entities.get("account")
    idx = cases.rel.get("account")
    if acc is not None and idx is not None and "nschet" in acc.cols:
        nschet = column_json(acc.cols["nschet"])
        out["nschet"] = [nschet[i] if i >= 0 else None for i in np.asarray(idx).tolist()]
    else:
        out["nschet"] = [None] * cases.n
    return out


def accepted_rows(res: PipelineResult, period: str) -> list[dict[str, Any]]:
    """History rows of a finished run: the cases with a positive accepted sum."""
    if res.run is None or res.settlement is None or res.run.evaluator is None:
        return []
    vals = _case_values(res)
    if vals is None:
        return []
    s = res.settlement
    rows = []
    for i, accepted in enumerate(np.asarray(s.accepted).tolist()):
        # a case without conditions of care or profile (a D-file case: dispanserization) has no
        # key of 231н п. 1.10.1 here; such cases are not kept (their repeats are not checked yet)
        if accepted <= 0 or vals["enp"][i] is None or vals["usl_ok"][i] is None or vals["profil"][i] is None:
            continue
        rows.append({"period": period, "person": str(vals["enp"][i]), "lpu": str(vals["lpu"][i]),
                     "usl_ok": int(vals["usl_ok"][i]), "profil": int(vals["profil"][i]),
                     "idsp": None if vals["idsp"][i] is None else int(vals["idsp"][i]),
                     "date_z_1": date.fromisoformat(vals["date_z_1"][i]),
                     "date_z_2": date.fromisoformat(vals["date_z_2"][i]),
                     "rubric": vals["rubric"][i], "sump_kopecks": int(accepted),
                     "idcase": str(vals["idcase"][i]), "nschet": vals["nschet"][i]})
    return rows


def store_history(session: Session, registry_id: int, run_id: int, rows: list[dict[str, Any]]) -> None:
    """The registry's history becomes this run's accepted cases (caller commits)."""
    from api.store.bulk import HISTORY_COLUMNS, history_records, write_rows

    session.execute(delete(AcceptedCase).where(AcceptedCase.registry_id == registry_id))
    session.flush()
    write_rows(session, "accepted_cases", HISTORY_COLUMNS, (registry_id, run_id), history_records(rows))


def _months_before(period: str, n: int) -> str:
    y, m = (int(x) for x in period.split("-"))
    k = y * 12 + (m - 1) - n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(values), _IN_CHUNK):
        yield values[i:i + _IN_CHUNK]


def load_history(session: Session, period: str, persons: Iterable[str], mos: Iterable[str],
                 exclude_registry: int | None = None) -> list[AcceptedCase]:
    """Accepted cases of other registries up to this period for these persons or these МО (each row once)."""
    if not period:
        return []
    since = _months_before(period, HISTORY_MONTHS)
    base = select(AcceptedCase).where(AcceptedCase.period <= period, AcceptedCase.period >= since)
    if exclude_registry is not None:
        base = base.where(AcceptedCase.registry_id != exclude_registry)
    found: dict[int, AcceptedCase] = {}
    for column, values in ((AcceptedCase.person, sorted(set(persons))), (AcceptedCase.lpu, sorted(set(mos)))):
        for part in _chunks(values):
            for row in session.scalars(base.where(or_(column.in_(part)))):
                found[row.id] = row
    return [found[k] for k in sorted(found)]


def _money(kopecks: int) -> str:
    sign = "-" if kopecks < 0 else ""
    k = abs(kopecks)
    return f"{sign}{k // 100}.{k % 100:02d}"


def as_raw(rows: list[AcceptedCase]) -> dict[str, np.ndarray]:
    """History rows as raw ``paid_case`` columns (strings, as the CSV reader gives them)."""
    cols: dict[str, list[Any]] = {c: [] for c in ["key", *COLUMNS]}
    for r in rows:
        cols["key"].append(f"h{r.id}")
        for c, v in (("enp", r.person), ("lpu", r.lpu), ("usl_ok", str(r.usl_ok)), ("profil", str(r.profil)),
                     ("idsp", None if r.idsp is None else str(r.idsp)), ("date_z_1", r.date_z_1.isoformat()),
                     ("date_z_2", r.date_z_2.isoformat()), ("rubric", r.rubric), ("sump", _money(r.sump_kopecks)),
                     ("idcase", r.idcase), ("nschet", r.nschet), ("period", r.period)):
            cols[c].append(v)
    return {c: np.array(v, dtype=object) for c, v in cols.items()}


def digest(raw: dict[str, np.ndarray]) -> str:
    """sha256 of the history rows a run read (recorded with the run's inputs)."""
    h = hashlib.sha256()
    names = sorted(raw)
    n = len(raw[names[0]]) if names else 0
    for i in range(n):
        h.update("\x1f".join("" if raw[c][i] is None else str(raw[c][i]) for c in names).encode())
        h.update(b"\x1e")
    return h.hexdigest()


def registry_keys(raw: dict[str, dict[str, np.ndarray]]) -> tuple[set[str], set[str]]:
    """(persons, МО) of a registry's raw tables — what the history is looked up by."""
    pat = raw.get("patient", {})
    persons: set[str] = set()
    for name in ("enp", "npolis", "id_pac"):
        col = pat.get(name)
        if col is not None:
            persons.update(str(v) for v in col.tolist() if v is not None)
    mos = {str(v) for v in raw.get("case", {}).get("lpu", np.array([], dtype=object)).tolist() if v is not None}
    return persons, mos


def with_history(raw: dict[str, dict[str, np.ndarray]], extra: dict[str, Path], history: dict[str, np.ndarray]
                 ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Path]]:
    """Raw tables with ``paid_case`` = the CSV given (if any) followed by the stored history."""
    if not len(history.get("key", ())):
        return raw, extra
    extra = dict(extra)
    given = extra.pop(ENTITY, None)
    table = {c: list(v) for c, v in history.items()}
    if given is not None and given.is_file():
        with given.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        header = [h.strip() for h in rows[0]] if rows else []
        n_given = len(rows) - 1
        for c in set(header) | set(table):
            hist = table.get(c, [None] * len(history["key"]))
            if c in header:
                i = header.index(c)
                own = [(r[i] if i < len(r) and r[i] != "" else None) for r in rows[1:]]
            else:
                own = [f"csv{j + 1}" for j in range(n_given)] if c == "key" else [None] * n_given
            table[c] = own + hist
    return {**raw, ENTITY: {c: np.array(v, dtype=object) for c, v in table.items()}}, extra


def history_inputs(sessions: sessionmaker[Session], registry_id: int, period: str,
                   raw: dict[str, dict[str, np.ndarray]], extra: dict[str, Path]
                   ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, Path], str | None]:
    """Raw tables and reference files of a run with the stored history added; its sha256 or None."""
    persons, mos = registry_keys(raw)
    with sessions() as session:
        rows = load_history(session, period, persons, mos, exclude_registry=registry_id)
    if not rows:
        return raw, extra, None
    hist = as_raw(rows)
    raw, extra = with_history(raw, extra, hist)
    return raw, extra, digest(hist)

"""Defects of the FFOMS catalogue checks (НСИ Q015) as ФЛК protocol entries, for the FLK_P file.

A catalogue-bound check is named ``q015_`` + its ID lower-cased with dots as ``_``
(coord convention: ``q015_003f_00_0010`` ↔ ``003F.00.0010``). Each of its defects becomes an entry
with the same public attributes as a reader's ФЛК entry (code, message, file, n_zap, idcase, sl_id,
idserv, path), so engine/oms/io/flk_p.py writes both alike: OSHIB is the catalogue ID, BAS_EL the
record of the defect's entity, IM_POL the first field of that record the check's condition reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dsl.columns import Col
from engine.oms.pipeline import PipelineResult
from engine.runtime.dataset import Dataset, EntityData

_NAME = re.compile(r"^q015_(\d{3}[a-z])_(\d{2})_(\d{4})$")
RECORD_OF = {"account": "SCHET", "patient": "ZAP", "case": "Z_SL", "sl": "SL", "service": "USL"}
#: entity -> (relation to follow, fields it gives) for the identifiers of a protocol line
_IDS = {"case": {"n_zap": "n_zap", "idcase": "idcase"}, "sl": {"sl_id": "sl_id"}, "service": {"idserv": "idserv"}}


@dataclass(frozen=True)
class CatalogueEntry:
    code: str
    message: str
    file: str | None
    path: str
    n_zap: str | None = None
    idcase: str | None = None
    sl_id: str | None = None
    idserv: str | None = None


def catalogue_id(check: str) -> str | None:
    m = _NAME.match(check)
    return f"{m.group(1).upper()}.{m.group(2)}.{m.group(3)}" if m else None


def _value(ent: EntityData, name: str, i: int) -> str | None:
    col: Col | None = ent.cols.get(name)
    if col is None or i < 0:
        return None
    v = col.value_at(i)
    return None if v is None else str(v)


def _related(data: Dataset, entity: str, i: int) -> dict[str, int]:
    """Row of every entity up the chain service → sl → case → account (and patient)."""
    rows = {entity: i}
    todo = [entity]
    while todo:
        name = todo.pop()
        ent = data.entities[name]
        for rel, idx in ent.rel.items():
            if rel in data.entities and rel not in rows and rows[name] >= 0:
                rows[rel] = int(idx[rows[name]])
                todo.append(rel)
    return rows


def catalogue_entries(res: PipelineResult) -> list[CatalogueEntry]:
    if res.run is None:
        return []
    data = res.run.data
    index: dict[str, dict[str, int]] = {}
    out = []
    for d in res.run.defects.defects:
        cid = catalogue_id(d.check)
        if cid is None or d.entity not in data.entities:
            continue
        keys = index.setdefault(d.entity, {str(k): n for n, k in enumerate(data.entities[d.entity].keys)})
        rows = _related(data, d.entity, keys.get(d.row_key, -1))
        ids = {f: _value(data.entities[e], col, rows[e]) for e, m in _IDS.items() if e in rows for f, col in m.items()}
        acc = data.entities.get("account")
        file = _value(acc, "source_file", rows["account"]) if acc is not None and "account" in rows else None
        fields = data.entities[d.entity].cols
        element = next((k.upper() for k in d.values if k in fields), None)
        record = RECORD_OF.get(d.entity, d.entity.upper())
        out.append(CatalogueEntry(cid, d.message, file, f"{record}/{element}" if element else record, **ids))
    return out

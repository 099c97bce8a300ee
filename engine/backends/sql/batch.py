"""Several bound datasets as one, for one SQL evaluation of many small inputs (the differential suite
runs all cases of a YAML test file that share parameters and date this way).

Each entity's rows are the parts' rows one after another: relations are offset to the part's rows
(so they never reach another part), every entity gets the hidden field ``_batch`` (the part's
index), and row keys become ``<part>\\x1f<key>`` (keys stay unique; defects name their part).
Whatever crosses rows — keyed, pair, group and all-row aggregates, windows — is kept within one
part by the SQL compiler of a batched run (engine/backends/sql/aggregates.py: the ``_batch``
column joins every group key and PARTITION BY); values come back per part by row range.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from dsl.columns import Col
from dsl.types import INT
from engine.backends.numpy.checks import Defect
from engine.runtime.dataset import Dataset, EntityData
from engine.runtime.schema import EntityDef

BATCH_FIELD = "_batch"      # hidden field: the part a row belongs to
KEY_SEP = "\x1f"


@dataclass
class Batch:
    data: Dataset
    offsets: dict[str, list[int]]     # entity → first row of each part, then the total

    def rows(self, entity: str, part: int) -> slice:
        o = self.offsets[entity]
        return slice(o[part], o[part + 1])


def concat(parts: list[Dataset], schema: dict[str, EntityDef]) -> Batch:
    """The parts (bound with ``schema``) as one dataset with the hidden ``_batch`` field."""
    first = parts[0].entities
    out: dict[str, EntityData] = {}
    offsets: dict[str, list[int]] = {}
    for name, ent in first.items():
        if BATCH_FIELD in ent.cols:
            raise ValueError(f"поле «{BATCH_FIELD}» зарезервировано для пакетного расчёта")
        ents = [p.entities[name] for p in parts]
        offs = [0]
        for e in ents:
            offs.append(offs[-1] + e.n)
        offsets[name] = offs
        cols = {f: concat_cols([e.cols[f] for e in ents]) for f in ent.cols}
        cols[BATCH_FIELD] = Col(INT, np.repeat(np.arange(len(parts), dtype=np.int64), [e.n for e in ents]))
        keys = np.array([f"{i}{KEY_SEP}{k}" for i, e in enumerate(ents) for k in e.keys], dtype=object)
        as_of = None if ent.as_of is None else np.concatenate([np.asarray(e.as_of, dtype=np.int64) for e in ents])
        out[name] = EntityData(name, offs[-1], cols, keys, as_of)
    for name, ent in first.items():
        for rel in ent.rel:
            target = schema[name].relations[rel].entity
            pieces = []
            for i, p in enumerate(parts):
                idx = np.asarray(p.entities[name].rel[rel], dtype=np.int64)
                pieces.append(np.where(idx >= 0, idx + offsets[target][i], -1))
            out[name].rel[rel] = np.concatenate(pieces)
    return Batch(Dataset(out), offsets)


def concat_cols(cols: list[Col]) -> Col:
    """One column of the parts' rows in order (code and text columns over one dictionary)."""
    c0 = cols[0]
    missing = None
    if any(c.missing is not None for c in cols):
        missing = np.concatenate([np.asarray(c.missing, dtype=bool) if c.missing is not None
                                  else np.zeros(len(c), dtype=bool) for c in cols])
    if c0.type.kind not in ("code", "text"):
        data = np.concatenate([np.asarray(c.data) for c in cols])
        return Col(c0.type, data, missing)
    cats = np.unique(np.concatenate([np.asarray(c.cats, dtype=object).astype(str) for c in cols]))
    pieces = []
    for c in cols:
        data = np.asarray(c.data, dtype=np.int32)
        if len(c.cats) == 0:
            pieces.append(np.full(len(c), -1, dtype=np.int32))
            continue
        where = np.searchsorted(cats, np.asarray(c.cats, dtype=object).astype(str)).astype(np.int32)
        pieces.append(np.where(data >= 0, where[np.clip(data, 0, None)], -1).astype(np.int32))
    return Col(c0.type, np.concatenate(pieces), missing, cats.astype(object))


def slice_col(c: Col, rows: slice) -> Col:
    return Col(c.type, np.asarray(c.data)[rows], None if c.missing is None else c.missing[rows], c.cats)


def split_defects(defects: list[Defect], parts: int) -> list[list[Defect]]:
    """The defects of each part, their row keys without the part prefix."""
    out: list[list[Defect]] = [[] for _ in range(parts)]
    for d in defects:
        part, key = d.row_key.split(KEY_SEP, 1)
        out[int(part)].append(dataclasses.replace(d, row_key=key))
    return out

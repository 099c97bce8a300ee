"""A bound dataset ↔ one numpy .npz file: typed columns, dictionaries, masks, relation indexes.

Loading a stored dataset skips XML parsing and string conversion entirely, which is what
mass recalculation of a month already processed needs.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from dsl.columns import Col
from dsl.types import Type
from engine.runtime.dataset import Dataset, EntityData

FORMAT = "metodika-dataset/1"


def save_dataset(path: Path, data: Dataset) -> None:
    arrays: dict[str, np.ndarray] = {}
    meta: dict = {"format": FORMAT, "entities": {}}
    for name, ent in data.entities.items():
        em = {"n": ent.n, "cols": {}, "rels": list(ent.rel), "as_of": ent.as_of is not None}
        arrays[f"{name}/__keys"] = ent.keys.astype(str)
        if ent.as_of is not None:
            arrays[f"{name}/__as_of"] = ent.as_of
        for rel, idx in ent.rel.items():
            arrays[f"{name}/__rel/{rel}"] = idx
        for cname, col in ent.cols.items():
            em["cols"][cname] = {"kind": col.type.kind, "optional": col.type.optional}
            arrays[f"{name}/{cname}"] = np.ascontiguousarray(np.asarray(col.data))
            if col.missing is not None:
                arrays[f"{name}/{cname}/__missing"] = col.missing
            if col.cats is not None:
                arrays[f"{name}/{cname}/__cats"] = col.cats.astype(str)
        meta["entities"][name] = em
    arrays["__meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load_dataset(path: Path) -> Dataset:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(bytes(z["__meta"]).decode("utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: не набор данных Metodika ({meta.get('format')})")
        out: dict[str, EntityData] = {}
        for name, em in meta["entities"].items():
            cols = {}
            for cname, cm in em["cols"].items():
                base = f"{name}/{cname}"
                missing = z[base + "/__missing"] if base + "/__missing" in z.files else None
                cats = z[base + "/__cats"].astype(object) if base + "/__cats" in z.files else None
                cols[cname] = Col(Type(cm["kind"], cm["optional"]), z[base], missing, cats)
            ent = EntityData(name, em["n"], cols, z[f"{name}/__keys"].astype(object),
                             z[f"{name}/__as_of"] if em["as_of"] else None)
            ent.rel = {rel: z[f"{name}/__rel/{rel}"] for rel in em["rels"]}
            out[name] = ent
    return Dataset(out)


def compatible(data: Dataset, entities) -> list[str]:
    """Fields a methodology's schema needs that the stored dataset lacks or types differently."""
    problems = []
    for name, ent in entities.items():
        have = data.entities.get(name)
        for fname, f in ent.fields.items():
            col = have.cols.get(fname) if have is not None else None
            if col is None:
                if have is not None and have.n and not f.type.optional:
                    problems.append(f"{name}.{fname}: нет в сохранённых данных")
            elif col.type.kind != f.type.kind:
                problems.append(f"{name}.{fname}: {col.type.kind} в данных, {f.type.kind} в схеме")
    return problems

"""Raw registry columns ↔ one numpy ``.npz`` file (see docs/platform.md for the decision).

Text columns are stored as fixed-width unicode arrays plus a null mask (no pickled object
arrays, so loading never executes anything); integer columns as they are. The file is
written to a temporary name in the same directory, fsynced and renamed into place.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from engine.backends.numpy.runner import file_hash

NULL_PREFIX = "null:"
SEP = "."


def _encode(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    if arr.dtype != object:
        return arr, None
    nulls = np.equal(arr, None)     # elementwise `is None` for the reader's str/None columns, in C
    filled = np.where(nulls, "", arr) if nulls.any() else arr
    text = filled.astype(str) if len(arr) else np.array([], dtype="U1")
    return text, (nulls if nulls.any() else None)


def save_tables(path: Path, tables: dict[str, dict[str, np.ndarray]]) -> str:
    """Write ``tables`` atomically to ``path``; returns the sha256 of the written file."""
    arrays: dict[str, np.ndarray] = {}
    for entity, cols in tables.items():
        for name, arr in cols.items():
            data, nulls = _encode(np.asarray(arr))
            arrays[f"{entity}{SEP}{name}"] = data
            if nulls is not None:
                arrays[f"{NULL_PREFIX}{entity}{SEP}{name}"] = nulls
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".npz.part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        digest = file_sha256(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def load_tables(path: Path) -> dict[str, dict[str, np.ndarray]]:
    """The raw tables as the registry reader produced them (object arrays with None)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path, allow_pickle=False) as npz:
        names = [n for n in npz.files if not n.startswith(NULL_PREFIX)]
        nulls = {n[len(NULL_PREFIX):] for n in npz.files if n.startswith(NULL_PREFIX)}
        for key in names:
            entity, _, col = key.partition(SEP)
            arr = npz[key]
            if arr.dtype.kind == "U":
                obj = arr.astype(object)
                if key in nulls:
                    obj[npz[NULL_PREFIX + key]] = None
                arr = obj
            out.setdefault(entity, {})[col] = arr
    return out


def file_sha256(path: Path) -> str:
    return file_hash(path)

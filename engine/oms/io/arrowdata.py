"""Arrow columns of a read submission, and the columnar join of a case file with its L file.

``ArrowColumns`` is what ``RegistryData.tables[entity]`` holds when the columnar reader made it:
a mapping from column name to the same numpy arrays the row reader produced (object arrays of
str/None, ``src_line`` int64), built from the Arrow column only when asked; ``bind`` asks
``arrow(name)`` instead and never materializes the strings it does not need.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .protocol import FlkError

# the C library's allocator gives large freed buffers back at once (mimalloc/jemalloc keep them
# cached): the peak RSS then counts live columns, not an allocator's cache
pa.set_memory_pool(pa.system_memory_pool())


class ArrowColumns(Mapping):
    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self._np: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        hit = self._np.get(name)
        if hit is None:
            col = self.table.column(name)  # KeyError for an unknown column, as a dict
            if name == "src_line":
                hit = col.fill_null(0).to_numpy().astype(np.int64, copy=False)
            else:
                hit = np.empty(len(col), dtype=object)
                hit[:] = col.to_numpy(zero_copy_only=False)
            self._np[name] = hit
        return hit

    def __iter__(self) -> Iterator[str]:
        return iter(self.table.column_names)

    def __len__(self) -> int:
        return self.table.num_columns

    def __contains__(self, name: object) -> bool:
        return name in self.table.column_names

    def arrow(self, name: str) -> pa.Array:
        col = self.table.column(name)
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)

    @property
    def rows(self) -> int:
        return self.table.num_rows


def merge_pers(patient: pa.Table, pers: pa.Table, file: str) -> tuple[pa.Table, list[FlkError]]:
    """Patient rows of one case file completed from its L file by ID_PAC (empty columns only)."""
    at = pc.index_in(patient.column("id_pac"), value_set=pers.column("key"))
    missing = pc.is_null(at)
    errors = []
    if pc.any(missing).as_py():
        lines = patient.column("src_line").filter(missing).to_pylist()
        n_zap = patient.column("n_zap").filter(missing).to_pylist()
        for line, nz in zip(lines, n_zap, strict=True):
            errors.append(FlkError("FLK-PERS-MISSING", "Для ID_PAC записи нет сведений PERS в файле "
                                   "персональных данных", file, line, n_zap=nz,
                                   path="ZL_LIST/ZAP/PACIENT/ID_PAC"))  # fmt: skip
        return patient, errors
    cols = []
    for name in patient.column_names:
        col = patient.column(name)
        if name != "key" and name != "src_line" and name in pers.column_names:
            col = pc.coalesce(col, pers.column(name).take(at))
        cols.append(col)
    return pa.table(cols, names=patient.column_names), errors

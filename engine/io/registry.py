"""Read a submission of FFOMS registry files into raw columnar tables.

``read_registry`` is all-or-nothing: it returns either tables and an empty protocol,
or a protocol and no tables. Files are scanned in parallel worker processes when
the submission is large enough to pay for them; one file is always one process.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .columns import ACCOUNT, CASE, KSLP_ITEM, PATIENT, PERS, SERVICE, SL
from .guard import Limits
from .protocol import FlkError, sort_key
from .scan import FileInfo, ScanResult, scan_source
from .sources import Source, expand


@dataclass
class RegistryData:
    """Raw string columns (dtype object, None where the element is absent) per entity.

    ``src_line`` columns are int64; every other column is text exactly as in the file.
    """

    tables: dict[str, dict[str, np.ndarray]]

    def __getitem__(self, entity: str) -> dict[str, np.ndarray]:
        return self.tables[entity]

    def count(self, entity: str) -> int:
        cols = self.tables[entity]
        return len(next(iter(cols.values()))) if cols else 0


@dataclass
class RegistryResult:
    ok: bool
    data: RegistryData | None
    protocol: list[FlkError]
    files: list[FileInfo] = field(default_factory=list)


def read_registry(
    paths: Sequence[Path | str],
    *,
    validate: bool = True,
    require_pers: bool = False,
    limits: Limits | None = None,
) -> RegistryResult:
    """Read, check (ФЛК stage 1) and tabulate a submission.

    An H/D-file without an L-file is accepted unless ``require_pers`` (its patients then
    have no personal columns); an L-file without its H-file never is.
    """
    limits = limits or Limits()
    expanded = expand([Path(p) for p in paths], limits)
    scans = _scan_all(expanded.sources, validate, limits)
    errors = list(expanded.errors)
    for s in scans:
        errors.extend(s.errors)
    errors.extend(_archive_errors(expanded.archives, scans, errors))
    files = [s.info for s in scans]
    if errors:
        return RegistryResult(False, None, sorted(errors, key=sort_key), files)
    data, join_errors = _build(scans, require_pers)
    if join_errors:
        return RegistryResult(False, None, sorted(join_errors, key=sort_key), files)
    return RegistryResult(True, data, [], files)


def _scan_all(sources: list[Source], validate: bool, limits: Limits) -> list[ScanResult]:
    workers = min(limits.workers or os.cpu_count() or 1, len(sources))
    total = sum(s.size_hint() for s in sources)
    if workers < 2 or total < limits.parallel_min_bytes:
        return [scan_source(s, validate, limits) for s in sources]
    # largest first, so one huge file does not start last
    order = sorted(range(len(sources)), key=lambda i: -sources[i].size_hint())
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {i: pool.submit(scan_source, sources[i], validate, limits) for i in order}
        return [futures[i].result() for i in range(len(sources))]


def _archive_errors(
    archives: dict[str, list[Source]], scans: list[ScanResult], errors: list[FlkError]
) -> list[FlkError]:
    by_name = {s.info.name: s.info for s in scans}
    out = []
    for archive, members in archives.items():
        if any(e.file.startswith(archive + ":") or e.file == archive for e in errors):
            continue  # a refused member may have been the H-file
        kinds = {by_name[m.name].kind for m in members if m.name in by_name}
        if not kinds & {"H", "D"} and not any(
            by_name[m.name].kind is None for m in members if m.name in by_name
        ):
            out.append(FlkError("FLK-ZIP-NO-H", "В архиве нет файла случаев (H- или D-файла)", archive))
    return out


def _pair(scans: list[ScanResult], require_pers: bool) -> tuple[dict[int, ScanResult | None], list[FlkError]]:
    """Map index of each H/D scan -> its L scan (None if it has none); report unpaired files."""
    cases = [i for i, s in enumerate(scans) if s.info.kind in ("H", "D")]
    pers = [s for s in scans if s.info.kind == "L"]
    by_filename = {scans[i].info.filename: i for i in cases}
    by_tail = {Path(scans[i].info.name.split(":")[-1]).stem[1:].upper(): i for i in cases}
    pairs: dict[int, ScanResult | None] = {}
    errors = []
    for lscan in pers:
        i = by_filename.get(lscan.info.filename1)
        if i is None:
            i = by_tail.get(Path(lscan.info.name.split(":")[-1]).stem[1:].upper())
        if i is None or i in pairs:
            errors.append(FlkError("FLK-PAIR-NO-H", "Нет парного файла случаев для файла персональных данных "
                                   "(ZGLV/FILENAME1)", lscan.info.name, lscan.info.line, path="PERS_LIST/ZGLV/FILENAME1"))  # fmt: skip
            continue
        pairs[i] = lscan
    for i in cases:
        if i in pairs:
            continue
        pairs[i] = None
        if require_pers:
            errors.append(FlkError("FLK-PAIR-NO-L", "Нет парного файла персональных данных (L-файла)",
                                   scans[i].info.name, scans[i].info.line))  # fmt: skip
    return pairs, errors


def _build(scans: list[ScanResult], require_pers: bool) -> tuple[RegistryData | None, list[FlkError]]:
    pairs, errors = _pair(scans, require_pers)
    seen: dict[str, str] = {}
    for i in pairs:
        info = scans[i].info
        key = scans[i].rows.account_key  # type: ignore[union-attr]
        if key in seen:
            errors.append(FlkError("FLK-FILE-DUP", f"FILENAME {key} уже встречался в файле {seen[key]}",
                                   info.name, info.line, path="ZL_LIST/ZGLV/FILENAME"))  # fmt: skip
        seen[key] = info.name
    if errors:
        return None, errors
    rows: dict[str, list[tuple]] = {"account": [], "patient": [], "case": [], "sl": [], "service": [],
                                    "kslp_item": []}
    id_pac_at = PATIENT.index("id_pac")
    n_pers = len(PERS)
    for i, lscan in sorted(pairs.items()):
        scan = scans[i]
        assert scan.rows is not None
        rows["account"].append(scan.account or _empty(ACCOUNT))
        pers_start = PATIENT.index(PERS[0])
        if lscan is None:
            rows["patient"].extend(scan.rows.patient)
        for prow in scan.rows.patient if lscan is not None and lscan.pers is not None else ():
            p = lscan.pers.get(prow[id_pac_at])
            if p is None:
                errors.append(FlkError("FLK-PERS-MISSING", "Для ID_PAC записи нет сведений PERS в файле "
                                       "персональных данных", scan.info.name, prow[-1],
                                       n_zap=prow[PATIENT.index("n_zap")], path="ZL_LIST/ZAP/PACIENT/ID_PAC"))  # fmt: skip
                continue
            rows["patient"].append(prow[:pers_start] + p[1 : 1 + n_pers] + prow[pers_start + n_pers :])
        rows["case"].extend(scan.rows.case)
        rows["sl"].extend(scan.rows.sl)
        rows["service"].extend(scan.rows.service)
        rows["kslp_item"].extend(scan.rows.kslp_item)
    if errors:
        return None, errors
    schema = {"account": ACCOUNT, "patient": PATIENT, "case": CASE, "sl": SL, "service": SERVICE,
              "kslp_item": KSLP_ITEM}
    return RegistryData({name: _columns(schema[name], rows[name]) for name in schema}), []


def _empty(columns: tuple[str, ...]) -> tuple:
    return tuple(None for _ in columns)


def _columns(names: tuple[str, ...], rows: list[tuple]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    transposed = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    for name, values in zip(names, transposed, strict=True):
        if name == "src_line":
            out[name] = np.fromiter((v or 0 for v in values), dtype=np.int64, count=len(values))
        else:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            out[name] = arr
    return out

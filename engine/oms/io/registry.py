"""Read a submission of FFOMS registry files into raw columnar tables.

``read_registry`` is all-or-nothing: it returns either tables and an empty protocol,
or a protocol and no tables. Files are scanned in parallel worker processes when
the submission is large enough to pay for them; one file is always one process.

Three readers (``METODIKA_READER``) make the same tables. ``columnar`` (default): each worker
walks its file's records (scan.py) and returns Arrow columns; the files are joined and bound
without a Python loop over rows. ``xslt``: the worker parses and validates the file whole and
lets the description's XSLT make the rows in C (fastscan.py) — equal, but slower on this
project's machine (benchmarks/README.md). ``rows``: the row reader end to end (Python rows,
numpy object columns), the equality oracle the others are tested against. Every ФЛК message
comes from the record walk: the XSLT reader hands every file that is not clean to it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .arrowdata import ArrowColumns, merge_pers
from .fastscan import concat_tables, rows_table, scan_columnar
from .formats import month_index
from .guard import Limits
from .mapping import plans
from .protocol import FlkError, sort_key
from .scan import FileInfo, ReadConfig, ScanResult, period_error, scan_source
from .sources import Source, expand
from .versions import VersionTable

CASE_KINDS = ("H", "C", "T", "D")


@dataclass
class RegistryData:
    """Raw string columns (dtype object, None where the element is absent) per entity.

    ``src_line`` columns are int64; every other column is text exactly as in the file.
    """

    tables: dict[str, Mapping[str, np.ndarray]]  # dict, or ArrowColumns from the columnar reader

    def __getitem__(self, entity: str) -> Mapping[str, np.ndarray]:
        return self.tables[entity]

    def count(self, entity: str) -> int:
        cols = self.tables[entity]
        if isinstance(cols, ArrowColumns):
            return cols.rows
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
    versions: VersionTable | None = None,
    formats_dir: Path | None = None,
) -> RegistryResult:
    """Read, check (ФЛК stage 1) and tabulate a submission.

    ``versions``: the dated table of versions in force (the methodology package's); without it,
    the periods the descriptions declare. ``formats_dir``: the descriptions (default engine/oms/io/formats).
    A case file without an L-file is accepted unless ``require_pers`` (its patients then have
    no personal columns); an L-file whose FILENAME1 names no case file of the submission never is.
    """
    limits = limits or Limits()
    config = ReadConfig(Path(formats_dir) if formats_dir else None, versions)
    expanded = expand([Path(p) for p in paths], limits)
    scans = _scan_all(expanded.sources, validate, limits, config)
    errors = list(expanded.errors)
    for s in scans:
        errors.extend(s.errors)
    errors.extend(_archive_errors(expanded.archives, scans, errors))
    files = [s.info for s in scans]
    if errors:
        return RegistryResult(False, None, sorted(errors, key=sort_key), files)
    data, join_errors = _build(scans, require_pers, config)
    if join_errors:
        return RegistryResult(False, None, sorted(join_errors, key=sort_key), files)
    return RegistryResult(True, data, [], files)


READERS = ("columnar", "xslt", "rows")


def reader() -> str:
    """``METODIKA_READER``: columnar (default), xslt, or rows (the row reader end to end, the oracle)."""
    name = os.environ.get("METODIKA_READER", "columnar").strip().lower() or "columnar"
    if name not in READERS:
        raise ValueError(f"METODIKA_READER={name}: ожидается одно из {', '.join(READERS)}")
    return name


def scan_file(src: Source, validate: bool, limits: Limits, config: ReadConfig, mode: str) -> ScanResult:
    """One file's scan. Except in ``rows`` mode its rows come back as Arrow tables (``columns``):
    made by the description's XSLT (``xslt``) or from the row walk in the worker (``columnar``)."""
    if mode == "xslt" and validate:
        fast = scan_columnar(src, limits, config)
        if fast is not None:
            return fast
    if mode == "rows":
        return scan_source(src, validate, limits, config)
    lay, _ = plans(config.formats())
    batches: dict[str, list] = {}

    def flush(rows: dict[str, list[list]]) -> None:
        for entity, got in rows.items():
            if got:
                batches.setdefault(entity, []).append(rows_table(lay.columns[entity], got))
                got.clear()

    res = scan_source(src, validate, limits, config, flush)
    if res.errors or res.info.kind is None:
        return res
    if res.rows is not None:
        flush(res.rows)
        res.columns = {e: concat_tables(batches.get(e, []), lay.columns[e]) for e in res.rows}
    elif res.pers is not None:
        res.columns = {"pers": rows_table(lay.columns["pers"], list(res.pers.values()))}
    res.rows = res.pers = None
    return res


def _scan_all(sources: list[Source], validate: bool, limits: Limits, config: ReadConfig) -> list[ScanResult]:
    mode = reader()
    workers = min(limits.workers or os.cpu_count() or 1, len(sources))
    total = sum(s.size_hint() for s in sources)
    if workers < 2 or total < limits.parallel_min_bytes:
        return [scan_file(s, validate, limits, config, mode) for s in sources]
    # largest first, so one huge file does not start last
    order = sorted(range(len(sources)), key=lambda i: -sources[i].size_hint())
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {i: pool.submit(scan_file, sources[i], validate, limits, config, mode) for i in order}
        return [futures[i].result() for i in range(len(sources))]


def _archive_errors(
    archives: dict[str, list[Source]], scans: list[ScanResult], errors: list[FlkError]
) -> list[FlkError]:
    by_name = {s.info.name: s.info for s in scans}
    out = []
    for archive, members in archives.items():
        if any(e.file.startswith(archive + ":") or e.file == archive for e in errors):
            continue  # a refused member may have been the case file
        kinds = {by_name[m.name].kind for m in members if m.name in by_name}
        if not kinds & set(CASE_KINDS) and None not in kinds:
            out.append(FlkError("FLK-ZIP-NO-H", "В архиве нет файла случаев (H, C, T или D)", archive))
    return out


def _pair(scans: list[ScanResult], require_pers: bool) -> tuple[dict[int, ScanResult | None], list[FlkError]]:
    """Map index of each case-file scan -> its L scan (None if it has none); report unpaired files."""
    cases = [i for i, s in enumerate(scans) if s.info.kind in CASE_KINDS]
    by_filename = {scans[i].info.filename: i for i in cases}
    pairs: dict[int, ScanResult | None] = {}
    errors = []
    for lscan in (s for s in scans if s.info.kind == "L"):
        i = by_filename.get(lscan.info.filename1)
        if i is None or i in pairs:
            what = ("уже указан другим файлом персональных данных" if i is not None
                    else "не называет ни одного файла случаев пакета")
            errors.append(FlkError("FLK-PAIR-NO-H", f"ZGLV/FILENAME1 ({lscan.info.filename1 or 'пусто'}) {what}",
                                   lscan.info.name, lscan.info.line, path="PERS_LIST/ZGLV/FILENAME1"))  # fmt: skip
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


def _l_version_errors(pairs: dict[int, ScanResult | None], scans: list[ScanResult],
                      config: ReadConfig) -> list[FlkError]:
    """An L file has no period of its own: its version must be in force for its case file's period."""
    out = []
    for i, lscan in pairs.items():
        period = scans[i].info.period
        if lscan is None or period is None:
            continue
        msg = period_error(config.table(), lscan.info, month_index(period))
        if msg is not None:
            out.append(FlkError("FLK-VERSION-PERIOD", msg + f" (период парного файла {scans[i].info.name})",
                                lscan.info.name, lscan.version_line, path="PERS_LIST/ZGLV/VERSION"))
    return out


def _build(scans: list[ScanResult], require_pers: bool,
           config: ReadConfig) -> tuple[RegistryData | None, list[FlkError]]:
    pairs, errors = _pair(scans, require_pers)
    errors += _l_version_errors(pairs, scans, config)
    seen: dict[str, str] = {}
    for i in pairs:
        info = scans[i].info
        key = scans[i].account[0]  # type: ignore[index]
        if key in seen:
            errors.append(FlkError("FLK-FILE-DUP", f"FILENAME {key} уже встречался в файле {seen[key]}",
                                   info.name, info.line, path="ZL_LIST/ZGLV/FILENAME"))  # fmt: skip
        seen[key] = info.name
    if errors:
        return None, errors
    if any(s.columns is not None for s in scans):
        return _build_columns(scans, pairs, config)
    lay, _ = plans(config.formats())
    rows: dict[str, list[list]] = {e: [] for e in lay.columns}
    pidx, fidx = lay.index("patient"), lay.index("pers")
    moves = [(fidx[c], pidx[c]) for c in lay.columns["pers"] if c != "key" and c in pidx and c != "src_line"]
    id_pac = pidx["id_pac"]
    for i, lscan in sorted(pairs.items()):
        scan = scans[i]
        assert scan.rows is not None and scan.account is not None
        rows["account"].append(scan.account)
        for entity, got in scan.rows.items():
            if entity not in ("account", "patient"):
                rows[entity].extend(got)
        if lscan is None or lscan.pers is None:
            rows["patient"].extend(scan.rows["patient"])
            continue
        for prow in scan.rows["patient"]:
            p = lscan.pers.get(prow[id_pac])
            if p is None:
                errors.append(FlkError("FLK-PERS-MISSING", "Для ID_PAC записи нет сведений PERS в файле "
                                       "персональных данных", scan.info.name, prow[-1],
                                       n_zap=prow[pidx["n_zap"]], path="ZL_LIST/ZAP/PACIENT/ID_PAC"))  # fmt: skip
                continue
            for src, dst in moves:
                if prow[dst] is None:
                    prow[dst] = p[src]
            rows["patient"].append(prow)
    if errors:
        return None, errors
    del rows["pers"]
    return RegistryData({name: _columns(lay.columns[name], rows[name]) for name in rows}), []


def _build_columns(scans: list[ScanResult], pairs: dict[int, ScanResult | None],
                   config: ReadConfig) -> tuple[RegistryData | None, list[FlkError]]:
    """The columnar twin of the row join below: file tables concatenated, L columns joined by ID_PAC."""
    lay, _ = plans(config.formats())
    parts: dict[str, list] = {e: [] for e in lay.columns if e != "pers"}
    accounts = []
    errors: list[FlkError] = []
    for i, lscan in sorted(pairs.items()):
        scan = scans[i]
        assert scan.columns is not None and scan.account is not None
        accounts.append(scan.account)
        for entity, table in scan.columns.items():
            if entity not in ("account", "patient", "pers"):
                parts[entity].append(table)
        patient = scan.columns["patient"]
        if lscan is not None and lscan.columns is not None:
            patient, missing = merge_pers(patient, lscan.columns["pers"], scan.info.name)
            errors += missing
        parts["patient"].append(patient)
    if errors:
        return None, errors
    parts["account"] = [rows_table(lay.columns["account"], accounts)]
    tables = {}
    for entity, got in parts.items():
        tables[entity] = ArrowColumns(concat_tables(got, lay.columns[entity]))
    return RegistryData(tables), []


def _columns(names: list[str], rows: list[list]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    n = len(rows)
    transposed = zip(*rows, strict=True) if rows else (() for _ in names)
    for name, values in zip(names, transposed, strict=True):
        if name == "src_line":
            out[name] = np.fromiter((v or 0 for v in values), dtype=np.int64, count=n)
        else:
            arr = np.empty(n, dtype=object)
            arr[:] = values
            out[name] = arr
    return out

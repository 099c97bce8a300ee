"""Registry processing end to end: read + ФЛК → bind → methodology (pricing, МЭК) → settlement.

All-or-nothing: a submission that fails ФЛК or binding yields a protocol and no results.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np

from dsl.types import MONEY
from engine.backends.numpy.runner import RunResult, file_hash, run, write_run
from engine.oms.settlement import Settlement, by_ground, settle, summarize
from engine.runtime.dataset import DataError, Dataset, bind, read_csv_dir
from engine.runtime.model import Methodology
from engine.runtime.values import display

Progress = Callable[[str, float], None]


@dataclass
class PipelineResult:
    status: str                          # done | flk_failed | data_failed
    protocol: list = field(default_factory=list)
    data_problems: list = field(default_factory=list)
    run: RunResult | None = None
    settlement: Settlement | None = None
    input_hashes: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)   # package and input paths, recorded in run.json
    timings: dict[str, float] = field(default_factory=dict)
    notices: list = field(default_factory=list)  # engine.runtime.required_inputs.MissingInput: inputs not supplied


def _no_progress(stage: str, share: float) -> None:
    return None


def read_extra(tables: dict[str, Path]) -> dict[str, dict[str, np.ndarray]]:
    """Reference inputs given as CSV files per entity (ЕРЗ, licences, limits …)."""
    out = {}
    for entity, path in tables.items():
        if path.is_dir():
            out.update(read_csv_dir(path))
            continue
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        header = [h.strip() for h in rows[0]] if rows else []
        out[entity] = {h: np.array([(r[i] if i < len(r) and r[i] != "" else None) for r in rows[1:]], dtype=object)
                       for i, h in enumerate(header)}
    return out


def format_versions(m: Methodology):
    """The package's dated table of format versions in force (``format_version``), or None."""
    import datetime as dt

    from dsl.columns import EPOCH
    from engine.oms.io.versions import from_dated_rows
    from engine.runtime.params import FAR_FUTURE

    t = m.tables.get("format_version")
    if t is None:
        return None
    rows = []
    for i, r in enumerate(t.rows):
        start, end = int(t.starts[i]), int(t.ends[i])  # type: ignore[index]
        rows.append((str(r["kind"]), str(r["version"]), bool(r.get("accept", 1)),
                     EPOCH + dt.timedelta(days=max(start, 0)),
                     None if end >= FAR_FUTURE else EPOCH + dt.timedelta(days=end - 1)))
    return from_dated_rows(rows, f"{m.package.ref}: format_version")


def process(m: Methodology, registry: list[Path], extra: dict[str, Path] | None = None,
            progress: Progress = _no_progress) -> PipelineResult:
    from engine.oms.io import read_registry

    progress("чтение и ФЛК", 0.0)
    hashes = {p.name: file_hash(p) for p in _files(registry)}
    for entity, p in (extra or {}).items():
        if p.is_file():
            hashes[f"{entity}:{p.name}"] = file_hash(p)
    reg = read_registry(registry, versions=format_versions(m))
    if not reg.ok:
        return PipelineResult("flk_failed", protocol=reg.protocol, input_hashes=hashes)
    res = process_tables(m, dict(reg.data.tables), extra, progress)
    res.input_hashes = hashes
    res.inputs = {"package": str(m.package.path), "registry": [str(p.resolve()) for p in registry],
                  **{entity: str(p.resolve()) for entity, p in (extra or {}).items()}}
    return res


def process_tables(m: Methodology, raw: dict[str, dict[str, np.ndarray]], extra: dict[str, Path] | None = None,
                   progress: Progress = _no_progress) -> PipelineResult:
    """The steps after reading: bind raw tables (+ reference CSVs), evaluate, settle."""
    t0 = time.perf_counter()
    raw = dict(raw)
    raw.update(read_extra(extra or {}))
    progress("связывание данных", 0.3)
    try:
        data = bind(m.entities, raw)
    except DataError as e:
        return PipelineResult("data_failed", data_problems=e.problems)
    res = process_dataset(m, data, progress)
    res.timings["bind_s"] = time.perf_counter() - t0
    return res


def process_dataset(m: Methodology, data: Dataset, progress: Progress = _no_progress) -> PipelineResult:
    counts = {e: d.n for e, d in data.entities.items()}
    progress("расчёт и контроль", 0.4)
    result = run(m, data)
    progress("итоги", 0.9)
    t = time.perf_counter()
    settlement = settle(m, data, result.defects) if "case" in data.entities else None
    timings = dict(result.timings, settle_s=time.perf_counter() - t)
    progress("готово", 1.0)
    from engine.runtime.required_inputs import missing_inputs

    return PipelineResult("done", run=result, settlement=settlement, counts=counts, timings=timings,
                          notices=missing_inputs(m, data))


def _files(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        out.extend(sorted(x for x in p.iterdir() if x.is_file()) if p.is_dir() else [p])
    return out


def _money_texts(kopecks) -> list[str]:
    """``display(v, MONEY)`` of every value, computed once per distinct value."""
    uniq, inv = np.unique(np.asarray(kopecks, dtype=np.int64), return_inverse=True)
    return np.array([display(v, MONEY) for v in uniq.tolist()], dtype=object)[inv.reshape(-1)].tolist()


DocumentWriter = Callable[[PipelineResult, Path, list[Path]], dict]


def write_outputs(res: PipelineResult, out: Path, registry: list[Path] | None = None,
                  documents: DocumentWriter | None = None) -> dict:
    """Write protocol or results (CSV) into `out`; returns run.json content.

    `documents` — the layer above renders its documents from the results (the МЭК protocol and
    SANK registries: forms.mek_outputs.write_outputs); `registry` — the registry files they are
    built from (default: `res.inputs`).
    """
    out.mkdir(parents=True, exist_ok=True)
    if res.status == "flk_failed":
        from engine.oms.io.protocol import write_protocol

        for ext in ("html", "csv", "json"):
            write_protocol(out / f"flk_protocol.{ext}", res.protocol)
        return {"status": res.status, "errors": len(res.protocol)}
    if res.status == "data_failed":
        text = "\n".join(str(p) for p in res.data_problems)
        (out / "data_errors.txt").write_text(text + "\n", encoding="utf-8")
        return {"status": res.status, "errors": len(res.data_problems)}
    info = write_run(res.run, out, res.input_hashes)
    info.update(res.inputs)
    if res.settlement is not None:
        s = res.settlement
        with (out / "case_settlement.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["case", "mo", "smo", "billed", "withheld", "accepted", "fine", "codes", "applied"])
            rows = zip(list(s.keys), list(s.mo), [x or "" for x in s.smo],
                       *(_money_texts(v) for v in (s.billed, s.withheld, s.accepted, s.fine)),
                       [" ".join(c) for c in s.codes], [x or "" for x in s.applied], strict=True)
            while chunk := list(islice(rows, 50000)):
                w.writerows(chunk)
        for by in ("mo", "smo"):
            rows = summarize(s, by)
            with (out / f"summary_{by}.csv").open("w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(list(rows[0]) if rows else [by])
                for r in rows:
                    w.writerow([display(v, MONEY) if k in ("billed", "withheld", "accepted", "fine") else v
                                for k, v in r.items()])
        grounds = by_ground(s)
        with (out / "summary_ground.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["code", "cases", "billed", "withheld", "fine"])
            for g in grounds:
                w.writerow([g.code, g.cases, *(display(v, MONEY) for v in (g.billed, g.withheld, g.fine))])
        info["by_ground"] = [{"code": g.code, "cases": g.cases, "billed": display(g.billed, MONEY),
                              "withheld": display(g.withheld, MONEY), "fine": display(g.fine, MONEY)}
                             for g in grounds]
        info["totals"] = {k: display(int(v.sum()), MONEY) for k, v in
                          (("billed", s.billed), ("withheld", s.withheld), ("accepted", s.accepted), ("fine", s.fine))}
        if documents is not None:
            info["mek"] = documents(res, out, registry or [Path(p) for p in res.inputs.get("registry") or []])
    info["notices"] = [n.to_dict() for n in res.notices]
    info["status"] = "done"
    (out / "run.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    return info

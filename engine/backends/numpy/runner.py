"""Run a methodology over a dataset: requested outputs (lazily, with their dependencies) and checks."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from dsl.columns import Col
from engine.backends.numpy.checks import DefectTable, run_checks
from engine.backends.numpy.evaluator import Evaluator
from engine.runtime.dataset import Dataset
from engine.runtime.model import Methodology
from engine.runtime.values import display_column

ENGINE_VERSION = "0.1.0"


@dataclass
class RunResult:
    methodology: Methodology
    data: Dataset
    values: dict[str, dict[str, Col]]
    defects: DefectTable
    timings: dict[str, float] = field(default_factory=dict)
    evaluator: Evaluator | None = None


def default_outputs(m: Methodology) -> dict[str, list[str]]:
    if m.outputs:
        return m.outputs
    out: dict[str, list[str]] = {}
    for ent, name in m.defs:
        out.setdefault(ent, []).append(name)
    return out


def run(m: Methodology, data: Dataset, outputs: dict[str, list[str]] | None = None, *, checks: bool = True,
        context_day: int | None = None, fuse: bool | None = None) -> RunResult:
    from engine.backends import current

    wanted = outputs if outputs is not None else default_outputs(m)
    backend = current()
    if backend.name in ("postgres", "spark"):
        from engine.backends.sql.runner import run_sql

        return run_sql(m, data, wanted, checks, context_day, backend.url, backend.name)
    ev = Evaluator(m, data, context_day) if fuse is None else Evaluator(m, data, context_day, fuse=fuse)
    values: dict[str, dict[str, Col]] = {}
    t0 = time.perf_counter()
    for ent, names in wanted.items():
        values[ent] = {n: ev.column(ent, n) for n in names}
    t1 = time.perf_counter()
    defects = run_checks(ev) if checks else DefectTable()
    t2 = time.perf_counter()
    return RunResult(m, data, values, defects, {"values_s": t1 - t0, "checks_s": t2 - t1}, ev)


def write_run(result: RunResult, out_dir: Path, input_hashes: dict[str, str] | None = None) -> dict:
    """Write values per entity (CSV), the defects table (CSV and JSON) and run.json; returns run.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    m = result.methodology
    for ent, cols in result.values.items():
        keys = result.data.entities[ent].keys
        with (out_dir / f"{ent}.csv").open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            names = list(cols)
            w.writerow(["key", *names])
            texts = [display_column(cols[n]) for n in names]
            rows = zip(keys.tolist() if hasattr(keys, "tolist") else keys, *texts, strict=True)
            while chunk := list(islice(rows, 50000)):
                w.writerows(chunk)
    rows = [d.as_row() for d in result.defects.defects]
    with (out_dir / "defects.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        head = ["entity", "row", "check", "catalogue", "code", "title", "share", "withheld", "fine", "message",
                "values", "methodology", "reference", "rule"]
        w.writerow(head)
        for r in rows:
            w.writerow([json.dumps(r[h], ensure_ascii=False) if h == "values" else r[h] for h in head])
    (out_dir / "defects.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    info = {
        "methodology": m.ref,
        "methodology_hash": m.content_hash,
        "chain": [p.ref for p in m.chain],
        "engine_version": ENGINE_VERSION,
        "inputs": input_hashes or {},
        "rows": {e: d.n for e, d in result.data.entities.items()},
        "defects": len(result.defects),
        "undetermined": undetermined(result),
        "timings": {k: round(v, 4) for k, v in result.timings.items()},
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (out_dir / "run.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    return info


def undetermined(result: RunResult) -> dict[str, dict]:
    """Values that could not be determined on some rows (a parameter not in force on the row's
    date): how many rows, why, and the first row — the rows carry no value, the run went on."""
    ev = result.evaluator
    if ev is None:
        return {}
    return {what: {"rows": n.rows, "reason": n.reason, "first_row": n.row_key, "rule": str(n.span or "")}
            for what, n in ev.unresolved_notes.items() if n.entity is not None}


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

"""Outputs of МЭК: the protocol for people and the registry with sanctions for machines.

* ``mek_protocol.xlsx`` / ``mek_protocol.html`` — a :mod:`forms.model` form: one row per case
  and ground (счёт, N_ZAP / IDCASE, МО, СМО, код F014, наименование, выставлено, не принято,
  штраф), then totals by МО and by СМО;
* ``sank/<FILENAME>.XML`` — each H-file of the registry written back with the results of
  control: ``Z_SL/OPLATA``, ``SUMP``, one ``SANK`` per ground (S_CODE, S_SUM, S_TIP = 1 (F006: МЭК),
  SL_ID for grounds found on an SL, S_OSN = F014 Kod, DATE_ACT, NUM_ACT, S_COM, S_IST), ``SANK_IT``;
  ``SCHET/SUMMAP`` and ``SANK_MEK``. Every file is validated against «САНКЦИИ / МП 3.2»
  (``engine/oms/io/schemas/SANK_MP_3.2.xsd``) and written only if it is valid. Files are streamed
  (forms/sank_stream.py), in parallel per file.

One ground per position (231н): the withholding of a case is the largest of its grounds
(:mod:`engine.oms.settlement`); that ground's SANK carries the withheld sum, the others carry
0.00 and say so in S_COM, so Σ S_SUM = SANK_IT = SUMV − SUMP.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsl.columns import code_strings
from engine.oms.settlement import CASE, _case_rows, summarize
from forms.model import (
    Cell,
    Column,
    Footer,
    FormMeta,
    RenderedForm,
    Row,
    Signature,
    Stub,
    TitleBlock,
    ValueKind,
)
from forms.sank_stream import (
    SANK_XSD,
    CaseSank,
    Job,
    MekAct,
    Outcome,
    Source,
    sank_schema,
    source_name,
    source_size,
    write_file,
)

__all__ = ["SANK_XSD", "MekAct", "sank_schema"]   # re-exported: the act and schema live with the writer

F014_TABLE = "f014"


class MekOutputError(Exception):
    """A result that cannot be written (the message is in Russian)."""


@dataclass
class Ground:
    code: str
    title: str
    withheld: int           # kopecks actually withheld on this ground (0 unless applied)
    fine: int
    sl_ids: list[str] = field(default_factory=list)
    message: str = ""
    catalogue: list[str] = field(default_factory=list)   # Q015 IDs of the checks that found it


@dataclass
class CaseResult:
    key: str
    account_file: str
    nschet: str
    n_zap: int
    idcase: str
    mo: str
    smo: str
    billed: int
    withheld: int
    accepted: int
    fine: int
    grounds: list[Ground]


# --- collecting -------------------------------------------------------------------------------
def case_results(res) -> list[CaseResult]:
    """Every case of the run with its grounds (cases without defects have an empty list)."""
    m, data, s = res.run.methodology, res.run.data, res.settlement
    cases = data.entities[CASE]
    acc_rel = cases.rel.get("account")
    accounts = data.entities.get("account")
    acc_file = code_strings(accounts.cols["filename"]) if accounts is not None and accounts.n else np.array([])
    acc_num = code_strings(accounts.cols["nschet"]) if accounts is not None and accounts.n else np.array([])
    idcase = code_strings(cases.cols["idcase"])
    n_zap = np.asarray(cases.cols["n_zap"].data)
    sl = data.entities.get("sl")
    sl_id = code_strings(sl.cols["sl_id"]) if sl is not None and sl.n else np.array([])
    per_case: dict[int, dict[str, Ground]] = {}
    index = {e: {str(k): i for i, k in enumerate(d.keys)} for e, d in data.entities.items()}
    for d in res.run.defects.defects:
        row = index[d.entity].get(d.row_key)
        if row is None:
            continue
        rows, _ = _case_rows(m, data, d.entity, row)
        for r in rows:
            r = int(r)
            g = per_case.setdefault(r, {}).get(d.code)
            if g is None:
                g = per_case[r][d.code] = Ground(d.code, d.title, 0, 0, message=d.message)
            g.fine = max(g.fine, d.fine)
            if d.catalogue and d.catalogue not in g.catalogue:
                g.catalogue.append(d.catalogue)
            if d.entity == "sl" and len(sl_id) > row and sl_id[row] not in g.sl_ids:
                g.sl_ids.append(str(sl_id[row]))
    out = []
    for i in range(cases.n):
        grounds = list(per_case.get(i, {}).values())
        for g in grounds:
            if g.code == s.applied[i]:
                g.withheld = int(s.withheld[i])
        if grounds and s.applied[i] is None and int(s.withheld[i]) > 0:
            grounds[0].withheld = int(s.withheld[i])
        a = int(acc_rel[i]) if acc_rel is not None and acc_rel[i] >= 0 else -1
        out.append(CaseResult(
            str(cases.keys[i]), str(acc_file[a]) if a >= 0 else "", str(acc_num[a]) if a >= 0 else "",
            int(n_zap[i]), str(idcase[i]), str(s.mo[i]), str(s.smo[i] or "—"), int(s.billed[i]),
            int(s.withheld[i]), int(s.accepted[i]), int(s.fine[i]), grounds))
    return out


def f014_kod(m) -> dict[str, int]:
    """F014 ground code (Osn, e.g. "1.10.2" or "5.7.2") → numeric Kod, from the package's f014 table."""
    table = m.tables.get(F014_TABLE)
    out: dict[str, int] = {}
    if table is None:
        return out
    for r in table.rows:
        osn, kod = r.get("osn"), r.get("kod")
        if osn is not None and kod is not None:
            out[str(osn)] = int(kod)
    return out


# --- the protocol (people) --------------------------------------------------------------------
COLUMNS = (
    Column("account", "Счёт (файл)", ValueKind.TEXT, width_mm=34),
    Column("idcase", "N_ZAP / IDCASE", ValueKind.TEXT, width_mm=24),
    Column("mo", "МО", ValueKind.TEXT, width_mm=16),
    Column("smo", "СМО", ValueKind.TEXT, width_mm=14),
    Column("code", "Код дефекта (F014)", ValueKind.TEXT, width_mm=16),
    Column("title", "Основание", ValueKind.TEXT, width_mm=70),
    Column("billed", "Выставлено", ValueKind.MONEY, width_mm=24),
    Column("withheld", "Не принято", ValueKind.MONEY, width_mm=24),
    Column("accepted", "Принято", ValueKind.MONEY, width_mm=24),
    Column("fine", "Штраф", ValueKind.MONEY, width_mm=20),
)


def protocol_form(res, act: MekAct | None = None, generated_at: dt.datetime | None = None,
                  results: list[CaseResult] | None = None) -> RenderedForm:
    act = act or MekAct()
    results = case_results(res) if results is None else results
    rows: list[Row] = [Row("Случаи с дефектами", is_section=True)]
    n = 0
    for c in results:
        if not c.grounds:
            continue
        for j, g in enumerate(c.grounds):
            n += 1
            title = f"{g.title} (Q015 {', '.join(g.catalogue)})" if g.catalogue else g.title
            text = title if not g.message else f"{title}. {g.message}"
            rows.append(Row(str(n), [
                Cell(c.account_file or c.nschet), Cell(f"{c.n_zap} / {c.idcase}"), Cell(c.mo), Cell(c.smo),
                Cell(g.code), Cell(text[:1000]),
                Cell(c.billed) if j == 0 else Cell.dash(), Cell(g.withheld),
                Cell(c.accepted) if j == 0 else Cell.dash(), Cell(g.fine)]))
    s = res.settlement
    for by, title in (("mo", "Итоги по МО"), ("smo", "Итоги по СМО")):
        rows.append(Row(title, is_section=True))
        for r in summarize(s, by):
            label = f"{'МО' if by == 'mo' else 'СМО'} {r[by]}"
            rows.append(Row(label, [
                Cell(f"случаев {r['cases']}"), Cell(f"с дефектами {r['cases_with_defects']}"),
                Cell(r[by] if by == "mo" else None), Cell(r[by] if by == "smo" else None), Cell(None),
                Cell(None), Cell(r["billed"]), Cell(r["withheld"]), Cell(r["accepted"]), Cell(r["fine"])], level=1))
    rows.append(Row("Всего", [Cell(f"случаев {len(results)}"),
                              Cell(f"с дефектами {sum(1 for c in results if c.grounds)}"),
                              Cell(None), Cell(None), Cell(None),
                              Cell(None), Cell(int(s.billed.sum())), Cell(int(s.withheld.sum())),
                              Cell(int(s.accepted.sum())), Cell(int(s.fine.sum()))],
                    is_total=True))
    m = res.run.methodology
    periods = sorted({f"{c.account_file}" for c in results if c.account_file})
    return RenderedForm(
        title=TitleBlock("Протокол медико-экономического контроля", code="МЭК",
                         period=f"акт от {act.date.strftime('%d.%m.%Y')}",
                         organisation=", ".join(periods)[:300] or None,
                         lines=("Единица измерения: руб.",
                                "Основания — F014 (Приказ Минздрава России от 19.03.2021 № 231н)")),
        columns=COLUMNS, rows=rows,
        meta=FormMeta("mek_protocol", "1", m.ref, generated_at or dt.datetime.now()),
        stub=Stub(label_title="№ п/п", code_title=None, label_width_mm=12),
        footer=Footer(signatures=(Signature("Специалист по МЭК"), Signature("Руководитель")), stamp=False),
        orientation="landscape", column_numbering="sequential")


def write_protocol(res, out: Path, act: MekAct | None = None, formats: tuple[str, ...] = ("xlsx", "html"),
                   generated_at: dt.datetime | None = None, results: list[CaseResult] | None = None) -> list[Path]:
    from forms.render import render

    form = protocol_form(res, act, generated_at, results)
    return [render(form, fmt, Path(out) / f"mek_protocol.{fmt}") for fmt in formats]


# --- the registry with SANK (machines) --------------------------------------------------------
PARALLEL_MIN_BYTES = 32 << 20   # below this the worker processes cost more than they save


def _sources(paths: list[Path]) -> list[Source]:
    """H-files among the registry inputs (files, directories, ZIP archives), in input order."""
    out: list[Source] = []
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(x for x in p.iterdir() if x.is_file()) if p.is_dir() else [p])
    for f in files:
        if f.suffix.lower() == ".zip":
            with zipfile.ZipFile(f) as z:
                for info in z.infolist():
                    name = Path(info.filename).name
                    if name.upper().startswith("H") and name.lower().endswith(".xml"):
                        out.append((f, info.filename))
        elif f.name.upper().startswith("H") and f.suffix.lower() == ".xml":
            out.append((f, None))
    return out


def sank_cases(results: list[CaseResult]) -> dict[str, dict[str, CaseSank]]:
    """ZGLV/FILENAME -> IDCASE -> what its SANK say (cases are keyed ``FILENAME/IDCASE``)."""
    out: dict[str, dict[str, CaseSank]] = {}
    for c in results:
        filename, sep, idcase = c.key.partition("/")
        if sep:
            out.setdefault(filename, {})[idcase] = (
                c.accepted, c.withheld, tuple((g.code, g.withheld, tuple(g.sl_ids), g.message) for g in c.grounds))
    return out


def _cases_of(results: list[CaseResult], filename: str) -> dict[str, CaseSank]:
    prefix = f"{filename}/"
    return {c.key[len(prefix):]: (c.accepted, c.withheld, tuple((g.code, g.withheld, tuple(g.sl_ids), g.message)
                                                                 for g in c.grounds))
            for c in results if c.key.startswith(prefix)}


def _run_jobs(jobs: list[Job], workers: int | None) -> list[Outcome]:
    n = min(workers or os.cpu_count() or 1, len(jobs))
    if n < 2 or (workers is None and sum(source_size(j.source) for j in jobs) < PARALLEL_MIN_BYTES):
        return [write_file(j) for j in jobs]
    order = sorted(range(len(jobs)), key=lambda i: -source_size(jobs[i].source))   # largest first
    # spawned, not forked: a fork of the run's process would count its whole memory as theirs
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
        futures = {i: pool.submit(write_file, jobs[i]) for i in order}
        return [futures[i].result() for i in range(len(jobs))]


def write_sank_registries(res, registry: list[Path], out_dir: Path, act: MekAct | None = None,
                          results: list[CaseResult] | None = None, workers: int | None = None) -> dict:
    """Write every H-file of `registry` with SANK into `out_dir`; only XSD-valid files are written.

    Files are streamed one ZAP at a time (forms.sank_stream), in min(files, cores) worker
    processes once the registry is ≥ PARALLEL_MIN_BYTES (``workers`` forces the number).
    """
    act = act or MekAct()
    results = case_results(res) if results is None else results
    groups = sank_cases(results)
    kod = f014_kod(res.run.methodology)
    out_dir = Path(out_dir)
    jobs = []
    for src in _sources(registry):
        stem = Path(source_name(src)).stem      # usually ZGLV/FILENAME; checked by the writer
        jobs.append(Job(src, stem, groups.get(stem, {}), act, kod, out_dir))
    outcomes = _run_jobs(jobs, workers)
    for i, o in enumerate(outcomes):
        if o.status == "other_file":   # ZGLV/FILENAME is not the file's name: its cases are another group
            outcomes[i] = write_file(Job(jobs[i].source, o.filename, _cases_of(results, o.filename), act, kod,
                                         out_dir))
    problems: list[str] = []
    written: list[Path] = []
    invalid: dict[str, list[str]] = {}
    for o in outcomes:
        problems.extend(o.problems)
        if o.status == "written" and o.target is not None:
            written.append(o.target)
        else:
            invalid[o.filename or o.name] = o.errors
    if not written and out_dir.is_dir() and not any(out_dir.iterdir()):
        out_dir.rmdir()
    return {"written": written, "invalid": invalid, "problems": problems,
            "worker_peak_mb": max((o.peak_mb for o in outcomes), default=0.0)}


def write_mek_outputs(res, out: Path, registry: list[Path] | None = None, act: MekAct | None = None) -> dict:
    """Protocol (XLSX, HTML) and, when the registry files are known, the registries with SANK."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    act = act or MekAct()
    results = case_results(res)
    info: dict = {"protocol": [p.name for p in write_protocol(res, out, act, results=results)]}
    if registry:
        r = write_sank_registries(res, registry, out / "sank", act, results=results)
        info["sank"] = [f"sank/{p.name}" for p in r["written"]]
        if r["invalid"]:
            info["sank_invalid"] = r["invalid"]
        if r["problems"]:
            info["sank_problems"] = r["problems"][:50]
    return info


def write_outputs(res, out: Path, registry: list[Path] | None = None) -> dict:
    """A processed month's results (engine.oms.pipeline: CSV, run.json) with its МЭК documents."""
    from engine.oms.pipeline import write_outputs as write_results

    return write_results(res, Path(out), registry, documents=write_mek_outputs)

"""Differential runs: the same inputs through the numpy backend and a SQL backend, compared value
for value (every output of the case and every definition they read), defect for defect.

numpy evaluates each case on its own; the SQL backend evaluates all cases of a file that share
parameter overrides and date in ONE run (engine/backends/sql/batch.py: the cases' datasets
concatenated, a hidden ``_batch`` column keeping aggregates and windows within a case), and the
values and defects are split back per case, so a database pays its statements per file, not per
case. A batch where SQL reports an error or E0901 is run again case by case, so the report
names the case."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsl.columns import EPOCH, Col
from dsl.diagnostics import DiagnosticError
from engine.backends.numpy.checks import run_checks
from engine.backends.numpy.evaluator import EvalError, Evaluator
from engine.runtime.dataset import DataError, bind
from engine.runtime.model import Methodology
from engine.runtime.values import ValueError_
from engine.runtime.yamlpos import load_located, plain
from engine.testing import _text, build_input, file_parts, with_parameters

REL_TOL = 1e-12     # float sums may be added in another order by the database


@dataclass
class CaseDiff:
    file: str
    name: str
    line: int
    mismatches: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)   # positioned E0901 diagnostics
    compared: int = 0
    batched: bool = False                                   # judged from a batched SQL run


def same_col(a: Col, b: Col) -> str | None:
    """None when equal (missing where missing; floats within REL_TOL), else the first difference."""
    n = len(a)
    if len(b) != n:
        return f"строк {n} и {len(b)}"
    for i in range(n):
        x, y = a.value_at(i), b.value_at(i)
        if x is None or y is None:
            if x is not None or y is not None:
                return f"строка {i + 1}: {x!r} и {y!r}"
            continue
        if isinstance(x, float) and isinstance(y, float):
            if not math.isclose(x, y, rel_tol=REL_TOL, abs_tol=1e-9):
                return f"строка {i + 1}: {x!r} и {y!r}"
        elif x != y:
            return f"строка {i + 1}: {x!r} и {y!r}"
    return None


def _defect_rows(table) -> list[tuple]:
    return _rows_of(table.defects)


def _rows_of(defects) -> list[tuple]:
    return sorted((d.entity, d.row_key, d.check, d.code, d.title, round(d.share, 12), d.withheld, d.fine, d.base,
                   d.message, tuple(sorted(d.values.items()))) for d in defects)


@dataclass
class _Case:
    """One case, bound and evaluated on numpy, waiting for its SQL values."""

    res: CaseDiff
    spec: dict
    mm: Methodology
    data: object
    day: int | None
    wanted: list[tuple[str, str]]
    only: list[str] | None            # checks whose defects are compared (None: defects not compared)
    want_cols: dict = field(default_factory=dict)
    want_def: list[tuple] | None = None
    np_error: str | None = None


def _prepare(m: Methodology, spec: dict, defaults: dict, default_checks, default_catalogue,
             res: CaseDiff) -> _Case | None:
    """Bind the case's input and evaluate it on numpy; None (with the problem in res) when its
    input cannot be bound."""
    date = _text(spec.get("date"))
    try:
        mm = with_parameters(m, spec.get("parameters") or {}, None)
        data = bind(mm.entities, build_input(mm, spec.get("input") or {}, defaults, date))
    except (DataError, ValueError_, KeyError) as e:
        res.mismatches.append(f"входные данные: {e}")
        return None
    day = (dt.date.fromisoformat(date) - EPOCH).days if date else None
    wanted = list(dict.fromkeys((ent, f) for ent, rows in (spec.get("output") or {}).items()
                                for fields in (rows or {}).values() for f in fields if (ent, f) in mm.defs))
    only = None
    if "defects" in spec:
        only = [str(c) for c in spec.get("checks") or default_checks or []] or None
        if only is None and not spec.get("catalogue", default_catalogue):
            only = [n for n, ci in mm.checks.items() if ci.ir is None or ci.ir.catalogue is None]
        only = [c for c in only if c in mm.checks] if only is not None else list(mm.checks)
    case = _Case(res, spec, mm, data, day, wanted, only)
    ev = Evaluator(mm, data, day)
    try:
        case.want_cols = {k: ev.column(*k) for k in wanted}
        case.want_def = _defect_rows(run_checks(ev, only)) if only is not None else None
    except EvalError as e:
        case.np_error = str(e)
    return case


def _judge(case: _Case, got_cols: dict, got_def: list[tuple] | None) -> None:
    """The SQL values of a case against its numpy values."""
    res = case.res
    if case.np_error is not None:
        res.mismatches.append(f"ошибка только в numpy: {case.np_error}")
        return
    for k, a in case.want_cols.items():
        diff = same_col(a, got_cols[k])
        res.compared += 1
        if diff:
            res.mismatches.append(f"{k[0]}.{k[1]}: {diff}")
    if case.want_def is not None:
        res.compared += 1
        if case.want_def != got_def:
            extra = sorted(set(got_def) - set(case.want_def))[:3]
            missing = sorted(set(case.want_def) - set(got_def))[:3]
            res.mismatches.append(f"дефекты различаются: только SQL {extra}; только numpy {missing}")


def _run_single(session, case: _Case) -> None:
    """The case alone in one SQL run (what a batch falls back to)."""
    from engine.backends.sql.run import SqlEvaluator

    res = case.res
    sq = SqlEvaluator(session, case.mm, case.data, case.day)
    try:
        try:
            sq.ensure(case.wanted, case.only or [])     # a construct SQL cannot express: reported before any run
            got_cols = sq.columns(case.wanted)
            got_def = _defect_rows(sq.defects(case.only)) if case.only is not None else None
        except DiagnosticError as e:         # E0901: before the run, or a query the database refuses (Spark)
            res.unsupported += [d.render() for d in e.diagnostics]
            return
        except EvalError as e:
            if case.np_error is None:
                res.mismatches.append(f"ошибка только в SQL: {e}")
            return
        _judge(case, got_cols, got_def)
    finally:
        sq.close()


def _run_batch(session, cases: list[_Case]) -> list[_Case]:
    """All the cases (same parameters, same date) in one SQL run, judged case by case. Returns the
    cases still to run alone: every case when SQL reports an error or E0901 — except, when the
    database refuses to plan a statement, the cases whose own run has that very statement (they
    get its diagnostic: a refusal depends on the SQL text, not on the data)."""
    from engine.backends.sql.batch import BATCH_FIELD, concat, slice_col, split_defects
    from engine.backends.sql.run import SqlEvaluator

    mm = cases[0].mm
    batch = concat([c.data for c in cases], mm.entities)
    wanted = list(dict.fromkeys(k for c in cases for k in c.wanted))
    judged = [c for c in cases if c.only is not None]
    only = list(dict.fromkeys(n for c in judged for n in c.only))
    sq = SqlEvaluator(session, mm, batch.data, cases[0].day, batch_field=BATCH_FIELD)
    try:
        sq.ensure(wanted, only)
        cols = sq.columns(wanted)
        parts = split_defects(sq.defects(only).defects, len(cases)) if judged else None
    except DiagnosticError as e:
        if sq.refused is None:
            return cases
        shown = [d.render() for d in e.diagnostics]
        rest = []
        for c in cases:
            if sq.refused in SqlEvaluator(session, mm, c.data, c.day).steps(c.wanted, c.only or []):
                c.res.unsupported += shown
            else:
                rest.append(c)
        return rest
    except EvalError:
        return cases
    finally:
        sq.close()
    for i, c in enumerate(cases):
        got_cols = {k: slice_col(cols[k], batch.rows(k[0], i)) for k in c.wanted}
        got_def = None
        if c.only is not None:
            chosen = set(c.only)
            got_def = _rows_of(d for d in parts[i] if d.check in chosen)
        c.res.batched = True
        _judge(c, got_cols, got_def)
    return []


def compare_case(session, m: Methodology, spec: dict, defaults: dict, default_checks, default_catalogue,
                 res: CaseDiff) -> None:
    case = _prepare(m, spec, defaults, default_checks, default_catalogue, res)
    if case is not None:
        _run_single(session, case)


def compare_file(session, m: Methodology, path: Path, display: str, batch: bool = True) -> list[CaseDiff]:
    """Every case of the file compared; with ``batch`` the cases that share parameter overrides and
    date are one SQL run (a case numpy cannot evaluate is run alone, as is every case of a batch
    SQL reports an error or E0901 in)."""
    root = load_located(path, display)
    defaults, checks, catalogue, cases = file_parts(root)
    out = []
    groups: dict[str, list[_Case]] = {}
    for located in cases:
        spec = plain(located)
        r = CaseDiff(display, str(spec.get("name", "?")), located.span.line)
        out.append(r)
        case = _prepare(m, spec, defaults, checks, catalogue, r)
        if case is None:
            continue
        if not batch or case.np_error is not None:
            _run_single(session, case)
            continue
        key = json.dumps([spec.get("parameters") or {}, case.day], sort_keys=True, default=str)
        groups.setdefault(key, []).append(case)
    for group in groups.values():
        for case in group if len(group) == 1 else _run_batch(session, group):
            _run_single(session, case)
    return out


__all__ = ["CaseDiff", "compare_case", "compare_file", "same_col", "np"]

"""Differential runs: the same inputs through the numpy backend and a SQL backend, compared value
for value (every output of the case and every definition they read), defect for defect."""

from __future__ import annotations

import datetime as dt
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
    return sorted((d.entity, d.row_key, d.check, d.code, d.title, round(d.share, 12), d.withheld, d.fine, d.base,
                   d.message, tuple(sorted(d.values.items()))) for d in table.defects)


def compare_case(session, m: Methodology, spec: dict, defaults: dict, default_checks, default_catalogue,
                 res: CaseDiff) -> None:
    from engine.backends.sql.run import SqlEvaluator

    date = _text(spec.get("date"))
    try:
        mm = with_parameters(m, spec.get("parameters") or {}, None)
        data = bind(mm.entities, build_input(mm, spec.get("input") or {}, defaults, date))
    except (DataError, ValueError_, KeyError) as e:
        res.mismatches.append(f"входные данные: {e}")
        return
    day = (dt.date.fromisoformat(date) - EPOCH).days if date else None
    wanted = [(ent, f) for ent, rows in (spec.get("output") or {}).items() for fields in (rows or {}).values()
              for f in fields if (ent, f) in mm.defs]
    only = None
    if "defects" in spec:
        only = [str(c) for c in spec.get("checks") or default_checks or []] or None
        if only is None and not spec.get("catalogue", default_catalogue):
            only = [n for n, ci in mm.checks.items() if ci.ir is None or ci.ir.catalogue is None]
        only = [c for c in only if c in mm.checks] if only is not None else list(mm.checks)
    sq = SqlEvaluator(session, mm, data, day)
    try:
        try:
            sq.ensure(wanted, only or [])     # a construct SQL cannot express: reported before any run
        except DiagnosticError as e:
            res.unsupported += [d.render() for d in e.diagnostics]
            return
        except EvalError as e:
            sql_error = str(e)
        else:
            sql_error = None
        ev = Evaluator(mm, data, day)
        np_error = None
        try:
            want_cols = {k: ev.column(*k) for k in dict.fromkeys(wanted)}
            want_def = _defect_rows(run_checks(ev, only)) if only is not None else None
        except EvalError as e:
            np_error = str(e)
        if sql_error is not None:
            if np_error is None:
                res.mismatches.append(f"ошибка только в SQL: {sql_error}")
            return
        try:
            got_cols = {k: sq.column(*k) for k in dict.fromkeys(wanted)}
            got_def = _defect_rows(sq.defects(only)) if only is not None else None
        except DiagnosticError as e:          # a query the database itself refuses (Spark)
            res.unsupported += [d.render() for d in e.diagnostics]
            return
        except EvalError as e:
            if np_error is None:
                res.mismatches.append(f"ошибка только в SQL: {e}")
            return
        if np_error is not None:
            res.mismatches.append(f"ошибка только в numpy: {np_error}")
            return
        for k, a in want_cols.items():
            diff = same_col(a, got_cols[k])
            res.compared += 1
            if diff:
                res.mismatches.append(f"{k[0]}.{k[1]}: {diff}")
        if want_def is not None:
            res.compared += 1
            if want_def != got_def:
                extra = sorted(set(got_def) - set(want_def))[:3]
                missing = sorted(set(want_def) - set(got_def))[:3]
                res.mismatches.append(f"дефекты различаются: только SQL {extra}; только numpy {missing}")
    finally:
        sq.close()


def compare_file(session, m: Methodology, path: Path, display: str) -> list[CaseDiff]:
    root = load_located(path, display)
    defaults, checks, catalogue, cases = file_parts(root)
    out = []
    for case in cases:
        spec = plain(case)
        r = CaseDiff(display, str(spec.get("name", "?")), case.span.line)
        compare_case(session, m, spec, defaults, checks, catalogue, r)
        out.append(r)
    return out


__all__ = ["CaseDiff", "compare_case", "compare_file", "same_col", "np"]

"""YAML tests of a methodology: inputs → expected values and defects, with tolerances.

File shape (a list of cases, or a mapping with shared `defaults` and `cases`)::

    defaults:                      # field values every row of an entity gets unless given
      # (a file may also set `checks: [...]`: the default scope of defect comparisons)
      case: {usl_ok: 1, date_z_2: 2025-03-10}
    cases:
      - name: КСГ st21.001 до смены ставки
        date: 2025-03-01           # date for values with no row date (optional)
        parameters: {base_ks: 30000}   # parameter overrides for this case (optional)
        input:
          case: [{key: c1, n_ksg: st21.001}]
        output:
          case: {c1: {cost: 13792.16}}
        defects: [{check: dup_case, row: c1}]   # the exact set expected (optional)
        checks: [dup_case]         # compare defects of these checks only (optional)
        catalogue: false           # do not judge checks bound to the Q015 catalogue (optional;
                                   # a file may set it for all its cases: МЭК tests on minimal
                                   # records that the catalogue's presence checks would flag)
        tolerance: 0.01            # absolute, for number and money (optional);
                                   # or {absolute: 0.01, relative: 1e-6}

A failing value is printed with the explanation of how it was computed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dsl.columns import EPOCH
from dsl.diagnostics import DiagnosticError, Span
from engine.backends.numpy.checks import run_checks
from engine.backends.numpy.evaluator import EvalError, Evaluator
from engine.backends.numpy.explain import Explainer, render_text
from engine.runtime.dataset import DataError, bind
from engine.runtime.model import Methodology
from engine.runtime.params import FAR_FUTURE, Period
from engine.runtime.values import ValueError_, convert, display
from engine.runtime.yamlpos import Located, load_located, plain


@dataclass
class CaseResult:
    file: str
    name: str
    line: int
    ok: bool
    failures: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class TestReport:
    results: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.ok for r in self.results)

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.results)


def _text(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()[:10]
    return str(v)


def build_input(m: Methodology, inp: dict, defaults: dict, date: str | None) -> dict:
    rows_by: dict[str, list[dict]] = {e: [dict(r) for r in (inp.get(e) or [])] for e in m.entities}
    for e, rows in rows_by.items():
        for i, r in enumerate(rows):
            r.setdefault(m.entities[e].key, f"{e}{i + 1}")
            for k, v in (defaults.get(e) or {}).items():
                r.setdefault(k, v)
    changed = True
    while changed:   # a stub row created for one relation may itself need a parent (case → patient → account)
        changed = False
        for e, ent in m.entities.items():
            for rel in ent.relations.values():
                if not rows_by[e] or all(rel.via in r for r in rows_by[e]):
                    continue
                target = rows_by[rel.entity]
                if not target:
                    target.append({m.entities[rel.entity].key: f"{rel.entity}1", **(defaults.get(rel.entity) or {})})
                    changed = True
                if len(target) == 1:
                    tkey = target[0][m.entities[rel.entity].key]
                    for r in rows_by[e]:
                        if rel.via not in r:
                            r[rel.via] = tkey
                            changed = True
    raw: dict[str, dict[str, np.ndarray]] = {}
    for e, rows in rows_by.items():
        ent = m.entities[e]
        cols: dict[str, list] = {}
        for fname, fdef in ent.fields.items():
            vals = []
            for r in rows:
                if fname in r:
                    vals.append(_text(r[fname]))
                elif fdef.type.optional:
                    vals.append(None)
                else:
                    vals.append(_neutral(fdef.type.kind, date))
            cols[fname] = np.array(vals, dtype=object)
        unknown = {k for r in rows for k in r} - set(ent.fields)
        if unknown:
            raise ValueError_(f"у сущности «{e}» нет полей: {', '.join(sorted(unknown))}")
        raw[e] = cols
    return raw


def _neutral(kind: str, date: str | None) -> str:
    return {"int": "0", "number": "0", "money": "0", "bool": "0", "date": date or "1970-01-01"}.get(kind, "-")


def with_parameters(m: Methodology, overrides: dict, span: Span) -> Methodology:
    if not overrides:
        return m
    params = dict(m.params)
    for name, value in overrides.items():
        p = params.get(name)
        if p is None:
            raise ValueError_(f"параметр «{name}» не определён")
        typed = convert(value, p.type)
        params[name] = dataclasses.replace(p, periods=[Period(-(2**30), FAR_FUTURE, typed, str(value),
                                                              "переопределено в тесте", span)])
    return dataclasses.replace(m, params=params)


def _tolerances(spec) -> tuple[float, float]:
    if isinstance(spec, dict):
        return float(spec.get("absolute") or 0.0), float(spec.get("relative") or 0.0)
    return float(spec or 0.0), 0.0


def _compare(expected, col, i: int, tol: tuple[float, float]) -> tuple[bool, str]:
    got = col.value_at(i)
    kind = col.type.kind
    shown = display(got, col.type)
    if expected is None:
        return got is None, shown
    if got is None:
        return False, shown
    absolute, relative = tol
    if kind == "money":
        want = convert(expected, col.type)
        return abs(want - got) <= max(round(absolute * 100), abs(want) * relative), shown
    if kind == "number":
        return math.isclose(float(expected), got, rel_tol=relative, abs_tol=max(absolute, 1e-9)), shown
    if kind == "date":
        want = convert(expected, col.type)
        return (EPOCH + dt.timedelta(days=want)) == got, shown
    if kind == "bool":
        return bool(convert(expected, col.type)) == got, shown
    if kind == "int":
        return int(expected) == got, shown
    return str(expected) == str(got), shown


def run_case(m: Methodology, case: Located, file: str, defaults: dict,
             default_checks: list[str] | None = None, default_catalogue: bool = True) -> CaseResult:
    c = case.value
    name = str(c["name"].value) if "name" in c else f"случай в строке {case.span.line}"
    res = CaseResult(file, name, case.span.line, True)
    spec = plain(case)
    date = _text(spec.get("date"))
    try:
        mm = with_parameters(m, spec.get("parameters") or {}, case.span)
        data = bind(mm.entities, build_input(mm, spec.get("input") or {}, defaults, date))
        day = (dt.date.fromisoformat(date) - EPOCH).days if date else None
        ev = Evaluator(mm, data, day)
        tol = _tolerances(spec.get("tolerance"))
        for ent, rows in (spec.get("output") or {}).items():
            if ent not in data.entities:
                res.failures.append(f"нет сущности «{ent}»")
                continue
            for key, fields in (rows or {}).items():
                idx = data.entities[ent].row_index(str(key))
                if idx is None:
                    res.failures.append(f"{ent} [{key}]: такой строки нет во входных данных")
                    continue
                for fname, want in fields.items():
                    if (ent, fname) not in mm.defs and fname not in data.entities[ent].cols:
                        res.failures.append(f"{ent}.{fname}: нет такого определения")
                        continue
                    col = ev.column(ent, fname)
                    try:
                        ok, got = _compare(want, col, idx, tol)
                    except (ValueError, ValueError_, TypeError, OverflowError):
                        res.failures.append(f"{ent} [{key}].{fname}: ожидаемое значение «{want}» не подходит "
                                            f"к типу {col.type.kind}")
                        continue
                    if not ok:
                        tree = render_text(Explainer(ev).explain(ent, str(key), fname)) if (ent, fname) in mm.defs else ""
                        res.failures.append(f"{ent} [{key}].{fname}: ожидалось {want}, получено {got}\n{tree}")
        if "defects" in spec:
            want = {(str(d["check"]), str(d["row"])) for d in spec.get("defects") or []}
            only = [str(c) for c in spec.get("checks") or default_checks or []] or None
            if only is None and not spec.get("catalogue", default_catalogue):
                only = [n for n, ci in mm.checks.items() if ci.ir is None or ci.ir.catalogue is None]
            unknown = [c for c in only or [] if c not in mm.checks]
            if unknown:
                res.failures.append(f"checks: нет проверок {', '.join(unknown)}")
            table = run_checks(ev, only)
            got = {(d.check, d.row_key) for d in table.defects}
            for miss in sorted(want - got):
                res.failures.append(f"ожидался дефект {miss[0]} для строки {miss[1]}, но проверка не сработала")
            for extra in sorted(got - want):
                d = next(x for x in table.defects if (x.check, x.row_key) == extra)
                res.failures.append(f"неожиданный дефект {extra[0]} ({d.code}) для строки {extra[1]}: {d.values}")
    except (DataError, EvalError, ValueError_, KeyError) as e:
        res.failures.append(f"ошибка выполнения: {e}")
    res.ok = not res.failures
    return res



def file_parts(root) -> tuple[dict, list[str] | None, bool, object]:
    """A test file's header and cases: (defaults, checks to judge or None for all, catalogue on, cases).

    The file is either a list of cases or a mapping with ``defaults``/``checks``/``catalogue``/``cases``.
    """
    cases = root.value
    if not isinstance(cases, dict):
        return {}, None, True, cases
    defaults = plain(cases["defaults"]) if "defaults" in cases else {}
    checks = [str(c) for c in plain(cases["checks"])] if "checks" in cases else None
    catalogue = bool(plain(cases["catalogue"])) if "catalogue" in cases else True
    return defaults, checks, catalogue, cases["cases"].value if "cases" in cases else []

def run_file(m: Methodology, path: Path, display_path: str) -> list[CaseResult]:
    """Cases of one file; a malformed file is one failed result naming where, not a traceback."""
    try:
        root = load_located(path, display_path)
    except DiagnosticError as e:
        d = e.diagnostics[0]
        where = d.span.line if d.span else 1
        return [CaseResult(display_path, "файл тестов", where, False, [d.render()])]
    from engine.runtime.testshape import check_shape

    problems = check_shape(root)
    if problems:
        return [CaseResult(display_path, "файл тестов", d.span.line if d.span else 1, False, [d.render()])
                for d in problems]
    defaults, checks, catalogue, cases = file_parts(root)
    if not isinstance(cases, list):
        return [CaseResult(display_path, "файл тестов", root.span.line, False,
                           ["ожидался список случаев или словарь с defaults/checks/cases"])]
    return [run_case(m, case, display_path, defaults, checks, catalogue) for case in cases]


def run_tests(m: Methodology, paths: list[Path] | None = None, name_filter: str | None = None) -> TestReport:
    from engine.runtime.package import display_path

    report = TestReport()
    for p in paths if paths is not None else m.tests:
        for r in run_file(m, p, display_path(p)):
            if name_filter is None or name_filter in r.name:
                report.results.append(r)
    return report

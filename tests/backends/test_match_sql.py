"""Rule-table entities (`kind: match`) in SQL: the join of the items with the rule rows gives the
same derived rows as numpy's indexed join (engine/runtime/match.py) — the same pairs, order,
keys, fields — and the same values of everything read from them.

The package tests/backends/match_demo has two tables feeding one entity: exact, class and range
diagnosis cells, a service code, a pair of code cells, a second diagnosis, a rule without any
cell (every selected case), a `when`, a dated table (valid in the first half of 2026), cases
with no candidate and with several."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import pytest

from dsl.columns import EPOCH
from engine.backends.sql.differential import compare_file, same_col
from engine.runtime.dataset import bind
from engine.runtime.yamlpos import load_located, plain
from engine.testing import build_input, file_parts

PKG = Path(__file__).parent / "match_demo"
TESTS = PKG / "tests" / "candidates.yaml"

# the derived rows of the first case, in order (by case, then table, then CSV row): hand-derived
EXPECTED_KEYS = [
    "c1:rules_a:1", "c1:rules_a:5", "c1:rules_a:9", "c1:rules_b:1",          # exact I21.0 (not I21), service, empty
    "c2:rules_a:3", "c2:rules_a:4", "c2:rules_a:5", "c2:rules_a:6",          # class C., range C00-C80, pairs
    "c2:rules_a:7", "c2:rules_a:8", "c2:rules_a:9",                          # service + criterion, DS2 J18
    "c4:rules_a:3", "c4:rules_a:9",                                          # C81 is not in C00-C80; B not in force
    "c5:rules_a:9", "c5:rules_a:10",                                         # Z99-Z99
    "c6:rules_a:3", "c6:rules_a:9",                                          # «C8»: a class, no rubric
    "c7:rules_a:9", "c7:rules_a:11",                                         # two classes D. + J.
    "c8:rules_a:5", "c8:rules_a:7", "c8:rules_a:9", "c8:rules_b:2",          # criterion of a child row
    "c9:rules_b:1",                                                          # not selected by A's when
]
CAND_FIELDS = ["n", "ds", "ds_2", "usl", "crit", "prio", "ksg", "table", "line", "as_of"]
CAND_DEFS = ["kc", "prio_v", "where_from", "day", "parent_usl"]


@cache
def _package():
    from engine.runtime.compiler import compile_package

    return compile_package(PKG)


def _first_case():
    m = _package()
    defaults, _, _, cases = file_parts(load_located(TESTS, "candidates.yaml"))
    spec = plain(cases[0])
    data = bind(m.entities, build_input(m, spec["input"], defaults, str(spec["date"])))
    return m, data, (dt.date.fromisoformat(str(spec["date"])) - EPOCH).days


def test_numpy_expectations_of_the_demo_package():
    from engine.testing import run_tests

    report = run_tests(_package())
    assert len(report.results) == 3
    assert not [f for r in report.results for f in r.failures]


@pytest.mark.postgres
def test_demo_package_equal_on_postgres(pg):
    results = compare_file(pg, _package(), TESTS, "match_demo/tests/candidates.yaml")
    assert not [x for r in results for x in r.mismatches + r.unsupported]
    assert sum(r.compared for r in results) >= 6


@pytest.mark.postgres
def test_derived_rows_identical(pg):
    from engine.backends.numpy.evaluator import Evaluator
    from engine.backends.sql.run import SqlEvaluator

    m, data, day = _first_case()
    ev = Evaluator(m, data, day)
    want = ev.data.entities["cand"]
    assert list(want.keys) == EXPECTED_KEYS
    sq = SqlEvaluator(pg, m, data, day)
    try:
        sq.ensure([("cand", d) for d in CAND_DEFS])
        got = sq.data.entities["cand"]
        assert got.n == want.n == len(EXPECTED_KEYS)
        assert list(got.keys) == EXPECTED_KEYS
        assert got.rel["case"].tolist() == want.rel["case"].tolist()
        for f in CAND_FIELDS:
            assert same_col(want.cols[f], got.cols[f]) is None, f
        for d in CAND_DEFS:
            assert same_col(ev.column("cand", d), sq.column("cand", d)) is None, d
    finally:
        sq.close()


@pytest.mark.postgres
def test_rubric_in_sql_as_in_numpy(pg):
    """A code's rubric (letter + two digits): equal where it can lie in a range cell (A00…Z99);
    elsewhere SQL has none and numpy's lies outside every range."""
    from sqlglot import exp

    from engine.backends.sql.match import rubric_sql
    from engine.runtime.match_table import rubric_number

    codes = ["C34.1", "C00", "Z99", "A0", "C8", "CX1", "c34", "Ж12", "C٣٤", "A1²", "", "1AB", "@99", "[00", "Z99.9"]
    expr = rubric_sql(exp.column("v", quoted=True))
    values = ", ".join(f"('{c}')" for c in codes)
    rows = pg.fetch(f'SELECT v, {pg.dialect.render(expr)} FROM (VALUES {values}) AS x ("v")')
    got = {v: r for v, r in rows}
    for c in codes:
        want = rubric_number(c)
        if "A" <= c[:1] <= "Z":
            assert got[c] == (None if want < 0 else want), c
        else:
            assert got[c] is None and not 6500 <= want <= 9099, c

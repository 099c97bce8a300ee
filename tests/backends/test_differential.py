"""Differential suite: every shipped package's YAML tests give the same values and the same
defects on numpy and on PostgreSQL; the shipped month gives the same value of every definition,
the same defects table and the same settlement.

What the SQL backend cannot express yet is reported as positioned E0901 diagnostics, never as
a different value; the files where that happens are listed here exactly (the gap is visible)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from engine.backends.sql.differential import compare_file
from tests.engine.conftest import RULES as FIXTURE_RULES

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(p.relative_to(ROOT) for p in ROOT.glob("methodologies/*/*/tests/*.yaml"))

# Packages whose every case reads a rule-table entity (kind: match — the 2026 КСГ grouper):
# the SQL backend reports E0901 at the definition reading it (docs/sql-backend.md, «Not yet»).
NOT_YET: set[str] = set()


@cache
def _package(pkg: Path):
    from engine.runtime.compiler import compile_package

    return compile_package(ROOT / pkg)


def check_file(session, rel: Path) -> None:
    """Every case of one YAML test file equal on numpy and on the session's SQL backend; the files
    of NOT_YET (and only they) give positioned E0901 diagnostics instead of values."""
    m = _package(rel.parent.parent)
    results = compare_file(session, m, ROOT / rel, str(rel))
    mismatches = [f"{r.file}:{r.line} {r.name}: {x}" for r in results for x in r.mismatches]
    assert not mismatches, "\n".join(mismatches[:10])
    unsupported = [r for r in results if r.unsupported]
    if str(rel) in NOT_YET:
        assert unsupported, "поддержано — уберите файл из NOT_YET"
        assert all("E0901" in r.unsupported[0] and ":" in r.unsupported[0] for r in unsupported)
    else:
        assert not unsupported, "\n".join(r.unsupported[0] for r in unsupported[:3])
        assert sum(r.compared for r in results) > 0


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.parametrize("rel", FILES, ids=[str(f) for f in FILES])
def test_yaml_tests_equal_on_postgres(pg, rel):
    check_file(pg, rel)


# ---- batching: all cases of a file in one SQL run, no value mixing two cases -----------------------

LEAK_RULES = """
for case:
    dups: int = count(case by patient_ref, profil)
    same_lpu: int = count(case as other by lpu where other.sumv > sumv)
    place: int = rank(case by lpu order by sumv)
    running: money = running_sum(sumv by lpu order by sumv)
    top_lpu: money = max(case.sumv by lpu)
    services: money = sum(service.sumv_usl)

for service:
    same_code: int = count(service by code_usl)
    lpu_cases: int = count(case by lpu = case.lpu)
    in_lpu: int = count(service as other by case.lpu where other.sumv_usl >= sumv_usl)
    multi: money = sum(service.sumv_usl where count(service by code_usl) > 1)

for patient:
    accounts: int = count(account)

""" + FIXTURE_RULES[FIXTURE_RULES.index("check duplicate"):]     # the fixture's check: fires where dups > 1

# Both cases use the same row keys and the same patient, code and ЛПУ values: mixed in one run, every
# cross-row value above (group, pair, keyed, all-row, window, a group nested in a group) would count the
# other case.
LEAK_TESTS = """
defaults:
  case: {date_z_1: 2025-03-01, date_z_2: 2025-03-05, usl_ok: 1, profil: 97, lpu: "760001", ds1: I10, rslt: 101, kd: 3}
  service: {date_in: 2025-03-02, code_usl: A01, kol_usl: 1}
  account: {dschet: 2025-03-31, code_mo: "760001", summav: 0}
  patient: {enp: "7600000000000001", w: 1, dr: 1980-01-01}
cases:
  - name: два случая одного пациента
    date: 2025-03-10
    input:
      account: [{key: A}]
      patient: [{key: p1}]
      case: [{key: c1, patient_ref: p1, sumv: 100}, {key: c2, patient_ref: p1, sumv: 200}]
      service: [{key: s1, case_ref: c1, sumv_usl: 10}, {key: s2, case_ref: c2, sumv_usl: 20}]
    output:
      case:
        c1: {dups: 2, same_lpu: 1, place: 1, running: 100, top_lpu: 200, services: 10}
        c2: {dups: 2, same_lpu: 0, place: 2, running: 300, top_lpu: 200, services: 20}
      service:
        s1: {same_code: 2, lpu_cases: 2, in_lpu: 2, multi: 30}
        s2: {same_code: 2, lpu_cases: 2, in_lpu: 1, multi: 30}
      patient:
        p1: {accounts: 1}
    defects: [{check: duplicate, row: c1}, {check: duplicate, row: c2}]
  - name: один случай того же пациента
    date: 2025-03-10
    input:
      account: [{key: A}, {key: B}]
      patient: [{key: p1}]
      case: [{key: c1, patient_ref: p1, account_ref: A, sumv: 300}]
      service: [{key: s1, case_ref: c1, sumv_usl: 30}]
    output:
      case:
        c1: {dups: 1, same_lpu: 0, place: 1, running: 300, top_lpu: 300, services: 30}
      service:
        s1: {same_code: 1, lpu_cases: 1, in_lpu: 1, multi: 0}
      patient:
        p1: {accounts: 2}
    defects: []
"""


def _leak_world(tmp_path, rules: str = LEAK_RULES):
    from engine.runtime.compiler import compile_package
    from tests.engine.conftest import make_package

    m = compile_package(make_package(tmp_path, rules))
    path = tmp_path / "leak.yaml"
    path.write_text(LEAK_TESTS, encoding="utf-8")
    return m, path


@pytest.mark.postgres
def test_batched_run_keeps_cases_apart(pg, tmp_path, monkeypatch):
    """The two cases are one SQL run (batched) and equal numpy case by case — as when run one by one;
    with the batch partition taken out of the SQL the same run mixes them and the suite says where."""
    from engine.backends.sql import aggregates
    from engine.testing import run_file

    m, path = _leak_world(tmp_path)
    assert all(r.ok for r in run_file(m, path, "leak.yaml")), "ожидаемые значения numpy"
    for batch in (True, False):
        results = compare_file(pg, m, path, "leak.yaml", batch=batch)
        assert [r.batched for r in results] == [batch, batch]
        assert not [x for r in results for x in r.mismatches + r.unsupported]
        assert [r.compared for r in results] == [12, 12]
    monkeypatch.setattr(aggregates, "_batch", lambda c, alias: None)
    for compiled in ("sql_cache", "key_sql"):          # the session's compiled SQL: compile again
        monkeypatch.setattr(pg, compiled, {})
    leaked = compare_file(pg, m, path, "leak.yaml")
    assert all(r.batched for r in leaked)
    mixed = {x.split(":")[0] for r in leaked for x in r.mismatches}
    cross_row = {"case.dups", "case.same_lpu", "case.place", "case.running", "case.top_lpu", "service.same_code",
                 "service.lpu_cases", "service.in_lpu", "service.multi", "patient.accounts"}    # not case.services
    assert mixed == cross_row | {"дефекты различаются"}, mixed


# Spark plans an outer reference one subquery deep only: the service aggregates keyed through
# `case.lpu` (and the group nested in a group) are refused there (E0901) until relation lookups
# become joins; the rest of the leak world runs batched on Spark.
SPARK_LEAK_RULES = "\n".join(line for line in LEAK_RULES.splitlines()
                              if not line.lstrip().startswith(("lpu_cases:", "in_lpu:", "multi:")))


@pytest.mark.slow
def test_batched_run_keeps_cases_apart_on_spark(spark, tmp_path):
    m, path = _leak_world(tmp_path, SPARK_LEAK_RULES)
    results = compare_file(spark, m, path, "leak.yaml")
    assert [r.batched for r in results] == [True, True]
    assert not [x for r in results for x in r.mismatches + r.unsupported]
    assert [r.compared for r in results] == [9, 9]


def test_concatenated_datasets_keep_values_relations_and_keys(tmp_path):
    """batch.concat: codes over one dictionary, missing where missing, relations offset to their
    own case's rows, keys prefixed by the case; slices give each case back."""
    import numpy as np

    from engine.backends.sql.batch import BATCH_FIELD, concat, slice_col
    from engine.runtime.dataset import bind
    from engine.testing import build_input

    m, _ = _leak_world(tmp_path)
    one = bind(m.entities, build_input(m, {"case": [{"key": "c1", "ds2": "A01"}, {"key": "c2"}]}, {}, "2025-01-01"))
    two = bind(m.entities, build_input(m, {"case": [{"key": "c1", "ds2": "B02"}]}, {}, "2025-01-01"))
    b = concat([one, two], m.entities)
    case = b.data.entities["case"]
    assert case.n == 3 and list(case.keys) == ["0\x1fc1", "0\x1fc2", "1\x1fc1"]
    assert case.cols["ds2"].to_python() == ["A01", None, "B02"]
    assert case.cols[BATCH_FIELD].to_python() == [0, 0, 1]
    assert list(case.rel["patient"]) == [0, 0, 1] and b.data.entities["patient"].n == 2
    for i, part in enumerate((one, two)):
        assert slice_col(case.cols["ds2"], b.rows("case", i)).to_python() == part.entities["case"].cols["ds2"].to_python()
    assert np.array_equal(case.as_of, np.concatenate([one.entities["case"].as_of, two.entities["case"].as_of]))

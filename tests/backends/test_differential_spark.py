"""The differential suite on Spark SQL (a local pyspark session, one per test session): the same
YAML tests against numpy, as on PostgreSQL. No case may give a different value or defect; a case
whose SQL Spark refuses to plan must say so as a positioned E0901 «не поддерживается на spark».

Spark allows an outer reference only one subquery deep; the compiler hoists relation lookups and
table lookups into LEFT JOINs of the level (engine/backends/sql/base.py: ``related``, ``_Lookup``),
so the shipped tariffs and checks run there. The default set below must now run with every case
compared and equal (no refusal): a regression to E0901 fails it. SPARK_REFUSED lists the default
files still refused as a whole (none today; a file goes here only with the reason in the commit).
Spark local takes seconds per statement, so the default set is small; the full set is marked slow."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.backends.sql.differential import compare_file
from tests.backends.test_differential import FILES, NOT_YET, ROOT, _package

DEFAULT = [Path(p) for p in (
    "methodologies/kaluga/2025/tests/tariffs_kaluga.yaml",       # relation lookups inside dated lookups
    "methodologies/federal/2025/tests/tariffs_percapita.yaml",
    "methodologies/federal/2025/tests/tariffs_outpatient.yaml",
)]
SPARK_REFUSED: set[str] = set()
REST = [f for f in FILES if f not in DEFAULT]


def _check(spark, rel: Path, refused: bool | None) -> None:
    results = compare_file(spark, _package(rel.parent.parent), ROOT / rel, str(rel))
    mismatches = [f"{r.file}:{r.line} {r.name}: {x}" for r in results for x in r.mismatches]
    assert not mismatches, "\n".join(mismatches[:10])
    for r in results:
        for d in r.unsupported:
            assert "E0901" in d and ":" in d, d
    unsupported = [r for r in results if r.unsupported]
    if str(rel) in NOT_YET:
        assert len(unsupported) == len(results)
    elif refused is True:
        assert unsupported and all("не поддерживается на spark" in r.unsupported[0] for r in unsupported)
    elif refused is False:
        assert not unsupported and sum(r.compared for r in results) > 0
    assert results


def test_default_set_is_in_the_suite():
    assert set(DEFAULT) <= set(FILES) and not {str(p) for p in DEFAULT} & NOT_YET
    assert SPARK_REFUSED <= {str(p) for p in DEFAULT}


@pytest.mark.parametrize("rel", DEFAULT, ids=[str(f) for f in DEFAULT])
def test_yaml_tests_on_spark(spark, rel):
    _check(spark, rel, str(rel) in SPARK_REFUSED)


@pytest.mark.slow
@pytest.mark.parametrize("rel", REST, ids=[str(f) for f in REST])
def test_yaml_tests_on_spark_full(spark, rel):
    """Every other file: no different value anywhere; what Spark refuses is a positioned E0901."""
    _check(spark, rel, None)

"""The differential suite on Spark SQL (a local pyspark session, one per test session): the same
YAML tests, value for value and defect for defect against numpy, as on PostgreSQL.

Spark local runs each statement in tens of milliseconds, so the default suite takes a bounded
representative set — one file of every package and every kind of construct (tariffs, tables by
date, the repeat checks' pair aggregates, ФЛК-style checks, the grouper's E0901) — and the full
set is marked slow (`-m slow`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backends.test_differential import FILES, check_file

DEFAULT = {Path(p) for p in (
    "methodologies/amur/2025/tests/tariffs_amur.yaml",
    "methodologies/kaluga/2025/tests/tariffs_kaluga.yaml",
    "methodologies/yaroslavl/2025/tests/tariffs_yaroslavl.yaml",
    "methodologies/federal/2025/tests/mek_tariff.yaml",
    "methodologies/federal/2025/tests/mek_repeats.yaml",
    "methodologies/federal/2025/tests/q015_presence_service.yaml",
    "methodologies/federal/2026/tests/grouper_defects.yaml",
    "methodologies/kaluga/2026/tests/grouping_pairs.yaml",
)}
REST = [f for f in FILES if f not in DEFAULT]


def test_default_set_exists():
    assert DEFAULT <= set(FILES) and len({f.parts[1] for f in DEFAULT}) == len({f.parts[1] for f in FILES})


@pytest.mark.parametrize("rel", sorted(DEFAULT), ids=[str(f) for f in sorted(DEFAULT)])
def test_yaml_tests_equal_on_spark(spark, rel):
    check_file(spark, rel)


@pytest.mark.slow
@pytest.mark.parametrize("rel", REST, ids=[str(f) for f in REST])
def test_yaml_tests_equal_on_spark_full(spark, rel):
    check_file(spark, rel)

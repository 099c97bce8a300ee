"""Mutated YAML test files through the test runner: results with failures, never an exception."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.testing import run_tests
from tests.dsl.harness import HERE, compile_entry, in_dir
from tests.fuzz.mutate import deadline, fuzz_settings, mutated

pytestmark = pytest.mark.fuzz

PROGRAMS = ["checks", "codes_conditions", "child_aggregates", "catalogue", "ksg_cost", "money_rounding", "dated_values"]


@pytest.fixture(scope="module")
def compiled():
    out = {}
    for name in PROGRAMS:
        rules = HERE / "good" / f"{name}.rules"
        if rules.exists():
            out[name] = compile_entry(rules)
    assert len(out) >= 3
    return out


@fuzz_settings(400)
@given(data=st.data())
def test_mutated_test_files(compiled, tmp_path_factory, data):
    name = data.draw(st.sampled_from(sorted(compiled)))
    mutation = data.draw(mutated([(HERE / "good" / f"{name}.yaml").read_bytes()]))
    path = tmp_path_factory.getbasetemp() / f"fuzz-{name}.yaml"
    path.write_bytes(mutation)
    with deadline(), in_dir(HERE):
        report = run_tests(compiled[name], [path])
    assert all(r.ok or r.failures for r in report.results)

"""Mutated package YAML (manifest, parameters, schema, tables) and CSV tables through the compiler."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsl.diagnostics import DiagnosticError
from engine.runtime.compiler import compile_package
from tests.dsl.harness import FIXTURE
from tests.fuzz.mutate import deadline, fuzz_settings, mutated
from tests.fuzz.scratch import Scratch

pytestmark = pytest.mark.fuzz

YAML = ["methodology.yaml", "parameters.yaml", "schema.yaml"]
CSV = sorted(p.name for p in (FIXTURE / "tables").glob("*.csv"))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Scratch:
    return Scratch(tmp_path_factory.mktemp("fuzz-package"))


def _compile(scratch: Scratch) -> None:
    try:
        compile_package(scratch.pkg)
    except DiagnosticError as e:
        assert e.diagnostics
        e.render()


@fuzz_settings(200)
@given(name=st.sampled_from(YAML), data=st.data())
def test_mutated_package_yaml(scratch, name, data):
    mutation = data.draw(mutated([(FIXTURE / name).read_bytes()]))
    scratch.put(f"base/{name}", mutation)
    with deadline():
        _compile(scratch)


@fuzz_settings(400)
@given(name=st.sampled_from(CSV), data=st.data())
def test_mutated_csv_tables(scratch, name, data):
    mutation = data.draw(mutated([(FIXTURE / "tables" / name).read_bytes()]))
    scratch.put(f"base/tables/{name}", mutation)
    with deadline():
        _compile(scratch)

"""Mutated rule files through the compiler: a positioned diagnostic or a methodology, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given

from dsl.diagnostics import DiagnosticError
from engine.runtime.compiler import compile_package
from engine.testing import run_tests
from tests.fuzz.mutate import deadline, fuzz_settings, mutated
from tests.fuzz.scratch import ROOT, Scratch

pytestmark = pytest.mark.fuzz

SHIPPED = [p.read_bytes() for p in sorted((ROOT / "methodologies").rglob("*.rules")) if p.stat().st_size < 8000]
GOOD = sorted((ROOT / "tests" / "dsl" / "good").glob("*.rules"))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Scratch:
    return Scratch(tmp_path_factory.mktemp("fuzz-rules"))


def _compile(scratch: Scratch):
    try:
        return compile_package(scratch.pkg)
    except DiagnosticError as e:
        assert e.diagnostics and all(d.code and d.message for d in e.diagnostics)
        e.render()                                  # rendering the excerpts must not fail either
        return None


def test_seeds_are_real():
    assert len(SHIPPED) > 20 and len(GOOD) >= 15


@fuzz_settings(300)
@given(data=mutated(SHIPPED))
def test_mutated_shipped_rules(scratch, data):
    scratch.put("pkg/m.rules", data)
    with deadline():
        _compile(scratch)


@fuzz_settings(200)
@given(data=mutated([p.read_bytes() for p in GOOD]))
def test_mutated_good_programs_compile_and_run(scratch, data):
    """Programs written against the fixture: mutations reach the type checker and, when they still
    compile, the evaluator through their own tests."""
    scratch.put("pkg/m.rules", data)
    with deadline():
        m = _compile(scratch)
        if m is not None:
            for good in GOOD:
                if data[:40] == good.read_bytes()[:40]:
                    run_tests(m, [Path(good.with_suffix(".yaml"))])
                    break

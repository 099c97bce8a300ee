"""Compiles and test runs in many threads at once give the same results as one after another.

One Lark parser is shared by the process; its indenter used to keep the indent stack on the
instance, so two threads parsing at once corrupted each other (false E0004/E0002, 500s from the
API). The tests switch threads as often as the interpreter allows to make such races show.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from dsl.diagnostics import DiagnosticError
from dsl.parser import parse_module
from engine.runtime.compiler import compile_package
from engine.testing import run_tests

ROOT = Path(__file__).resolve().parents[2]
FEDERAL = ROOT / "methodologies" / "federal" / "2026"
RULES = sorted((ROOT / "methodologies").rglob("*.rules"))


@pytest.fixture
def busy_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def _parse_all() -> list[str]:
    out = []
    for path in RULES:
        try:
            module = parse_module(path.read_text(encoding="utf-8"), path.name)
            out.append(f"{path.name}: {len(module.definitions)} {len(module.checks)} {len(module.functions)}")
        except DiagnosticError as e:
            out.append(f"{path.name}: {[d.code for d in e.diagnostics]}")
    return out


def test_parallel_parsing_equals_sequential(busy_switching):
    assert len(RULES) > 30
    sequential = _parse_all()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: _parse_all(), range(4)))
    assert all(r == sequential for r in results)


def _summary(m) -> tuple:
    return (m.content_hash, sorted(m.defs), sorted(m.checks), sorted(m.tables), sorted(m.params))


def _report(m) -> list[tuple]:
    return [(r.file, r.name, r.ok, tuple(r.failures)) for r in run_tests(m).results]


@pytest.mark.slow
def test_parallel_compiles_and_test_runs_equal_sequential(busy_switching):
    """Three compiles of the federal package and a YAML test run at the same time."""
    base = compile_package(FEDERAL)
    expected_summary, expected_report = _summary(base), _report(base)
    assert expected_report and all(passed for _, _, passed, _ in expected_report)

    def job(i: int):
        return ("report", _report(base)) if i == 0 else ("compile", _summary(compile_package(FEDERAL)))

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(job, range(4)))
    for kind, value in results:
        assert value == (expected_report if kind == "report" else expected_summary)

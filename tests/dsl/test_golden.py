"""Golden tests of the language: good programs with expected values, bad ones with exact diagnostics.

Regenerate the expected diagnostics after an intended change with
``METODIKA_UPDATE_GOLDEN=1 python -m pytest tests/dsl/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.testing import run_tests
from tests.dsl.harness import HERE, compile_entry, diagnostics_text, in_dir

BAD = sorted([p for p in (HERE / "bad").iterdir() if p.suffix == ".rules" or p.is_dir()])
GOOD = sorted((HERE / "good").glob("*.rules"))
UPDATE = os.environ.get("METODIKA_UPDATE_GOLDEN") == "1"


def test_enough_bad_programs():
    assert len(BAD) >= 40


@pytest.mark.parametrize("entry", BAD, ids=lambda p: p.stem)
def test_bad_program_diagnostic(entry: Path):
    expected_path = entry.parent / f"{entry.stem}.expected"
    got = diagnostics_text(entry)
    assert got != "(ошибок нет)\n", f"{entry.name} должен давать ошибку"
    if UPDATE or not expected_path.exists():
        expected_path.write_text(got, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"нет {expected_path.name}: записан, проверьте его глазами")
    assert got == expected_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("entry", GOOD, ids=lambda p: p.stem)
def test_good_program_values(entry: Path):
    tests = entry.with_suffix(".yaml")
    assert tests.exists(), f"у {entry.name} нет ожидаемых значений {tests.name}"
    m = compile_entry(entry, tests)
    with in_dir(HERE):
        report = run_tests(m)
    failures = [f"{r.name}: {f}" for r in report.results for f in r.failures]
    assert report.results, "нет ни одного теста"
    assert not failures, "\n".join(failures)

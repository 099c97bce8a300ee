"""Every shipped methodology package compiles and passes its own YAML tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.runtime.compiler import compile_package
from engine.testing import run_tests

ROOT = Path(__file__).parents[2] / "methodologies"
PACKAGES = sorted(p.parent for p in ROOT.rglob("methodology.yaml"))


def test_packages_are_found():
    assert len(PACKAGES) >= 7


@pytest.mark.parametrize("pkg", PACKAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_package_compiles_and_its_tests_pass(pkg: Path):
    m = compile_package(pkg)
    report = run_tests(m)
    assert report.results, f"{m.ref}: нет ни одного YAML-теста"
    failures = [f"{r.name} ({r.where}): {f}" for r in report.results for f in r.failures]
    assert not failures, "\n".join(failures)

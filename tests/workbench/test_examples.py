"""The newcomers' example packages (examples/packages, issue 16 part 4): each compiles and its YAML
tests pass; the example form builds over the tariff package and over the regional overlay."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.runtime.compile_cache import compile_cached
from engine.testing import run_tests
from forms.build import build_form
from forms.definition import load_form

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "packages"
PACKAGES = ["tariff", "allocation", "mek", "regional"]


@pytest.mark.parametrize("name", PACKAGES)
def test_example_package_tests_pass(name):
    m = compile_cached(EXAMPLES / name)
    report = run_tests(m)
    assert report.results and report.failed == 0, [f for r in report.results for f in r.failures]


def _levels(pkg: str) -> dict[str, list]:
    result = build_form(load_form(EXAMPLES / "form" / "tariff_appendix.yaml"),
                        methodology=compile_cached(EXAMPLES / pkg), params={"as_of": "2025-03-01"})
    assert not result.failed
    idx = [i for i, c in enumerate(result.form.columns) if c.code.startswith("level_")]
    return {"labels": [result.form.columns[i].label for i in idx],
            **{r.code: [r.cells[i].value for i in idx] for r in result.form.rows if not r.is_section}}


def test_example_form_over_the_base_and_the_regional_overlay():
    base = _levels("tariff")
    assert base["labels"] == ["1", "2"] and base["st02.001"] == [2511000, 2929500]
    regional = _levels("regional")
    assert regional["labels"] == ["1.1", "1.2"]
    assert regional["st02.001"] == [2343646, 2473849]
    assert regional["ds02.001"] == [1859240, 2091640]     # ДС rounded to 0,1 ₽ by the regional override


def test_walkthrough_covers_every_example():
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    for name in PACKAGES + ["form"]:
        assert f"examples/packages/{name}" in text

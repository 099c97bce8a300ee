"""Golden regional overlays (tests/dsl/overlay/<name>/: a package extending its own `base/`):
each compiles and its YAML tests pass. orel_rounding: a regional override appends an input with
a default to a shared function (issue 16, papercut 4)."""

from __future__ import annotations

import pytest

from engine.testing import run_tests
from tests.dsl.harness import HERE, compile_entry, in_dir

OVERLAYS = sorted(p for p in (HERE / "overlay").iterdir() if (p / "methodology.yaml").is_file())


@pytest.mark.parametrize("pkg", OVERLAYS, ids=lambda p: p.name)
def test_overlay_values(pkg):
    m = compile_entry(pkg)
    with in_dir(HERE):
        report = run_tests(m)
    assert report.results, "нет ни одного теста"
    failures = [f"{r.name}: {f}" for r in report.results for f in r.failures]
    assert not failures, "\n".join(failures)


def test_override_with_an_appended_input_keeps_base_calls():
    m = compile_entry(HERE / "overlay" / "orel_rounding")
    fn = m.symbols.functions["ksg_round"]
    assert [p for p, _ in fn.params] == ["x", "usl_ok"] and fn.required == 1
    assert m.functions["ksg_round"].overrides is not None

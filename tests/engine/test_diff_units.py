"""`diff` prints a unit only after a value: «не действует» and «—» (no period) carry none (issue 16, papercut 6)."""

from __future__ import annotations

from engine.runtime.compiler import compile_package
from engine.runtime.diff import diff, render
from tests.engine.conftest import make_package


def _with_params(tmp, name: str, values: str):
    pkg = make_package(tmp / name, extra_manifest="parameters: params.yaml\n")
    (pkg / "params.yaml").write_text(
        "base_rate:\n  type: money\n  label: Базовая ставка, КС\n  unit: руб.\n  override: true\n"
        f"  values:\n{values}", encoding="utf-8")
    return compile_package(pkg)


def test_missing_values_print_without_unit(tmp_path):
    a = _with_params(tmp_path, "a", "    2025-01-01: 28147.26\n")
    b = _with_params(tmp_path, "b", "    2025-01-01: 28147.26\n    2025-03-01: 29000.00\n    2026-01-01: null\n")
    lines = [ln.strip() for ln in render(a, b, diff(a, b)).splitlines()]
    assert "~ base_rate «Базовая ставка, КС» с 2025-03-01: — → 29000.00 руб." in lines
    assert "~ base_rate «Базовая ставка, КС» с 2026-01-01: — → не действует" in lines
    back = [ln.strip() for ln in render(b, a, diff(b, a)).splitlines()]
    assert "~ base_rate «Базовая ставка, КС» с 2026-01-01: не действует → —" in back
    assert "~ base_rate «Базовая ставка, КС» с 2025-03-01: 29000.00 руб. → —" in back
    assert not any("не действует руб." in ln or "— руб." in ln for ln in lines + back)

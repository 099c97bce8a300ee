"""Peak memory of a month must not grow with the number of cases (issue 13, «Must show»).

Each size runs in its own process (`benchmarks.e2e.bench_e2e`: generate a month of every file
kind, read + ФЛК → bind → pricing + МЭК → settlement → outputs) and reports its ru_maxrss.
The larger month may use at most a few percent more than the smaller one plus a fixed margin.

Today it does not hold: the reader collects the whole month as Python rows before it makes
columns, binding and evaluation hold every column of the month, and the SANK writer parses each
source file whole — memory grows about linearly with cases. The test is therefore a strict
xfail: it reports the growth now and fails (XPASS) once intake and outputs are streaming, so
the marker must then be removed. Sizes: METODIKA_MEMORY_CASES="20000,80000" (the default).
Runs with ``pytest -m slow``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SIZES = [int(x) for x in os.environ.get("METODIKA_MEMORY_CASES", "20000,80000").split(",")]
SHARE, MARGIN_MB = 0.05, 150


def peak_mb(cases: int, keep: Path) -> float:
    out = subprocess.run([sys.executable, "-m", "benchmarks.e2e.bench_e2e", "--cases", str(cases),
                          "--keep", str(keep)], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    found = re.search(r"peak RSS: main ([\d,]+) MB, reader workers ([\d,]+) MB", out)
    assert found, out
    return max(float(found[1].replace(",", "")), float(found[2].replace(",", "")))


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="память растёт с числом случаев: чтение и связывание держат весь месяц")
def test_peak_memory_does_not_grow_with_cases(tmp_path, request):
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("долгий тест: запускается с -m slow")
    small, large = (peak_mb(n, tmp_path) for n in SIZES)
    print(f"peak RSS: {SIZES[0]} cases {small:.0f} MB, {SIZES[1]} cases {large:.0f} MB")
    assert large <= small * (1 + SHARE) + MARGIN_MB, (small, large)

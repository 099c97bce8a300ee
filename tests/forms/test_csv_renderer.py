"""CSV output of a form: exact machine-readable values, one line per data row."""

from __future__ import annotations

import csv
from decimal import Decimal

from api.cli.main import main


def test_tariff_appendix_as_csv_from_the_federal_package(tmp_path):
    out = tmp_path / "ksg.csv"
    assert main(["form", "ksg_tariff", "--package", "methodologies/federal/2025", "--format", "csv",
                 "--out", str(out)]) == 0
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert rows[0][:5] == ["code", "label", "kz", "ks", "flag"]
    st02_003 = next(r for r in rows if r[0] == "st02.003")
    # БС 32 120,12 (2025) × КЗ 0,98 × КС 1 × КУС 0,90 = 28 329,9458 → 28 329,95
    assert Decimal(st02_003[5]) == Decimal("28329.95")
    assert (Decimal("32120.12") * Decimal("0.98") * Decimal("0.90")).quantize(Decimal("0.01")) == Decimal("28329.95")


def test_regional_formula_override_reaches_the_appendix(tmp_path):
    """kaluga overrides ksg_base (БС × КЗ rounded to kopecks): its appendix is the published table."""
    out = tmp_path / "kaluga.csv"
    assert main(["form", "ksg_tariff", "--package", "methodologies/kaluga/2025", "--format", "csv",
                 "--out", str(out)]) == 0
    rows = {r[0]: r for r in csv.reader(out.open(encoding="utf-8-sig"))}
    assert [Decimal(x) for x in rows["st01.001"][5:8]] == [Decimal("16847.33")] * 3
    assert [Decimal(x) for x in rows["st02.001"][5:8]] == [Decimal("28202.43"), Decimal("32902.83"),
                                                           Decimal("39170.04")]

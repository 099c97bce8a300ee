"""The reference samples (3.1, 2021) run through pricing and МЭК with their own format version: each
is paired with an L file built from the L 3.2 description (the samples ship without one) carrying
the sample's ID_PAC. Their 2021 dates precede the federal 2025 rates, so the cases are flagged
1.7.1 (tariff missing) instead of stopping the run."""

from __future__ import annotations

from pathlib import Path

import pytest
from xmlbuild import reference_sample_month

from engine.oms.pipeline import process
from engine.runtime.compiler import compile_package

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT.parent / "shared" / "reference" / "samples"
FEDERAL = ROOT / "methodologies" / "federal" / "2025"


@pytest.mark.parametrize("sample", ["H_VALID.XML", "D_VALID_08_2021.XML"])
def test_reference_sample_runs_through_pricing_and_mek(tmp_path, sample):
    src = SAMPLES / sample
    if not src.is_file():
        pytest.skip(f"нет образца {src}")
    doc = reference_sample_month(src, tmp_path)
    res = process(compile_package(FEDERAL), [tmp_path])
    assert res.status == "done", (res.protocol, res.data_problems)
    assert res.counts["case"] == len(doc.findall("ZAP"))
    checks = {d.check for d in res.run.defects.defects}
    # no 2025 rate is in force on a 2021 case: flagged 1.7.1 (5.4.1 before 25.05.2021), not aborted
    assert "tariff_missing" in checks, checks

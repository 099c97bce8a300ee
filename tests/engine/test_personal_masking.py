"""The values a check's condition read are collected into every defect automatically: those derived
from personal data are masked, yes/no answers derived from it are not. (A message is the
methodologist's text; the API masks its personal values by role — tests/api/test_api_scoping.py.)"""

from __future__ import annotations

from pathlib import Path

from engine.oms.pipeline import process
from engine.runtime.compiler import compile_package
from engine.runtime.personal import MASK

ROOT = Path(__file__).resolve().parents[2]
MONTH = ROOT / "examples" / "registries" / "2025-03"


def test_check_reading_personal_fields_masks_its_values(tmp_path):
    (tmp_path / "probe.rules").write_text('''
for patient:
    @label "Есть СНИЛС"
    has_snils: bool = present(snils)

check probe_personal on patient:
    code "1.4.4"
    title "Проба маскирования"
    when default(snils, "") != "" and has_snils and w > 0
    message "СНИЛС {snils}, ЕНП {enp}, пол {w}"
''', encoding="utf-8")
    (tmp_path / "methodology.yaml").write_text(
        f"id: probe\nversion: 0.0.1\ntitle: probe\nextends: {ROOT / 'methodologies' / 'federal' / '2025'}\n"
        "modules: [probe.rules]\n", encoding="utf-8")
    res = process(compile_package(tmp_path), [MONTH], {"insured": MONTH / "ERZ_2025-03.csv"})
    fired = [d for d in res.run.defects.defects if d.check == "probe_personal"]
    assert fired, "the probe check must fire on patients with a SNILS"
    pat = res.run.data.entities["patient"]
    secrets = {str(pat.cols[f].value_at(i)) for f in ("snils", "enp") for i in range(pat.n)} - {"", "None"}
    for d in fired:
        assert d.values["snils"] == MASK
        assert d.values["has_snils"] == "true"          # a yes/no answer is not personal data
        assert d.values["w"] not in ("", MASK)          # sex is not marked personal in the schema
        assert not any(s in " ".join(d.values.values()) for s in secrets)

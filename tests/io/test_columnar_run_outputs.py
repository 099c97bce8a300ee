"""`metodika run` on the shipped 2025-09 month with the row reader and with the columnar reader
writes the same outputs byte for byte: settlement, defects, values CSVs, protocols, SANK
registries — all but the moments of the run (run.json timings, the xlsx creation time)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MONTH = ROOT / "examples" / "registries" / "2025-09"
_MOMENTS = ("started_at", "finished_at", "timings")
_MADE = re.compile(rb"\d\d\.\d\d\.\d{4} \d\d:\d\d")  # the minute of the run ("Сформировано …"; the xlsx writes it as &#…;)


def _run(out: Path, reader: str) -> None:
    env = dict(os.environ, METODIKA_READER=reader)
    subprocess.run([sys.executable, "-m", "api.cli.main", "run", str(ROOT / "methodologies" / "federal" / "2025"),
                    "--registry", *map(str, sorted(MONTH.glob("*.XML"))), "--insured", str(MONTH / "ERZ_2025-09.csv"),
                    "--out", str(out), "--no-store"], cwd=ROOT, env=env, check=True, capture_output=True)


def _content(path: Path) -> object:
    if path.name == "run.json":
        doc = json.loads(path.read_text(encoding="utf-8"))
        return {k: v for k, v in doc.items() if k not in _MOMENTS}
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return {n: _MADE.sub(b"", z.read(n)) for n in z.namelist() if n != "docProps/core.xml"}
    return _MADE.sub(b"", path.read_bytes())


@pytest.mark.slow
def test_run_outputs_identical(tmp_path):
    rows, cols = tmp_path / "rows", tmp_path / "columnar"
    _run(rows, "rows")
    _run(cols, "columnar")
    a = sorted(p.relative_to(rows) for p in rows.rglob("*") if p.is_file())
    b = sorted(p.relative_to(cols) for p in cols.rglob("*") if p.is_file())
    assert a == b and any(p.name == "case_settlement.csv" for p in a)
    for rel in a:
        assert _content(rows / rel) == _content(cols / rel), str(rel)

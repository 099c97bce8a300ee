"""The parallel reader (one worker process per file, min(files, cores) of them) gives exactly
what the sequential reader gives: the same tables, column for column and value for value
(ФЛК source lines included), and the same protocol when the month is refused."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.oms.io import read_registry
from engine.oms.io.guard import Limits

ROOT = Path(__file__).resolve().parents[2]
SEQUENTIAL = Limits(workers=1)
PARALLEL = Limits(workers=2, parallel_min_bytes=0)


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("month")
    subprocess.run([sys.executable, "-m", "examples.generator", "--month", "2025-09", "--mo", "2", "--cases", "600",
                    "--seed", "3", "--defects", "0.1", "--kinds", "HCTD", "--out", str(out)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return out


def _xml(d: Path) -> list[Path]:
    return sorted(d.glob("*.XML"))


def test_same_tables(month):
    seq, par = read_registry(_xml(month), limits=SEQUENTIAL), read_registry(_xml(month), limits=PARALLEL)
    assert seq.ok and par.ok
    assert {f.kind for f in seq.files} >= {"H", "C", "T", "D", "L"}
    assert seq.data.tables.keys() == par.data.tables.keys()
    for entity, cols in seq.data.tables.items():
        assert cols.keys() == par.data.tables[entity].keys(), entity
        for name, col in cols.items():
            other = par.data.tables[entity][name]
            assert col.dtype == other.dtype and np.array_equal(col, other), f"{entity}.{name}"
    assert seq.data.count("case") > 0 and "src_line" in seq.data.tables["case"]


def test_same_protocol(month, tmp_path):
    files = []
    for p in _xml(month):
        files.append(shutil.copy(p, tmp_path / p.name))
    broken = next(p for p in map(Path, files) if p.name.startswith(("HM", "CM")))
    text = broken.read_text(encoding="windows-1251")
    start = text.index("<DATE_Z_1>") + len("<DATE_Z_1>")
    broken.write_text(text[:start] + "2025-13-45" + text[start + 10:], encoding="windows-1251")
    seq, par = read_registry(files, limits=SEQUENTIAL), read_registry(files, limits=PARALLEL)
    assert not seq.ok and seq.protocol
    assert seq.protocol == par.protocol


def test_descriptions_same_with_either_yaml_loader(monkeypatch):
    import yaml

    import engine.oms.io.formats as formats

    fast = formats._load.__wrapped__(formats.FORMATS_DIR, ())
    monkeypatch.setattr(formats, "_LOADER", yaml.SafeLoader)
    plain = formats._load.__wrapped__(formats.FORMATS_DIR, ())
    assert fast.by_key.keys() == plain.by_key.keys() and repr(fast.by_key) == repr(plain.by_key)

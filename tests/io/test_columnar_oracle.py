"""The columnar and XSLT readers against the row reader (``METODIKA_READER=rows``), their oracle.

All read the same inputs: the shipped months, the reference samples, a generated month of every
file kind, and broken copies of it. They must give the same files, the same tables (every
entity, column, dtype and value, ФЛК source lines included), the same bound dataset (codes,
dictionaries, missing masks, relations) and, on broken inputs, the same protocol. The columnar
reader must also have read the clean files itself, not handed them all to the row reader.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from xmlbuild import reference_sample_month

from engine.oms.io import fastscan, read_registry
from engine.oms.io.guard import Limits
from engine.oms.pipeline import format_versions, read_extra
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import Dataset, bind

ROOT = Path(__file__).resolve().parents[2]
FEDERAL = ROOT / "methodologies" / "federal" / "2025"
SAMPLES = ROOT.parent / "shared" / "reference" / "samples"
PARALLEL = Limits(workers=2, parallel_min_bytes=0)


@pytest.fixture(scope="module")
def package():
    return compile_package(FEDERAL)


@pytest.fixture(scope="module")
def month(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("month")
    subprocess.run([sys.executable, "-m", "examples.generator", "--month", "2025-09", "--mo", "2", "--cases", "800",
                    "--seed", "5", "--kinds", "HCTD", "--out", str(out)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return out


def _xml(d: Path) -> list[Path]:
    return sorted(d.glob("*.XML"))


def _read(files, mode: str, monkeypatch, **kw):
    monkeypatch.setenv("METODIKA_READER", mode)
    return read_registry(files, **kw)


def assert_same_tables(rows, cols) -> None:
    assert rows.ok == cols.ok
    assert [f.to_dict() for f in rows.files] == [f.to_dict() for f in cols.files]
    assert rows.protocol == cols.protocol
    if not rows.ok:
        return
    assert list(rows.data.tables) == list(cols.data.tables)
    for entity, table in rows.data.tables.items():
        other = cols.data.tables[entity]
        assert list(table) == list(other), entity
        assert rows.data.count(entity) == cols.data.count(entity), entity
        for name, col in table.items():
            got = other[name]
            assert col.dtype == got.dtype and col.shape == got.shape, f"{entity}.{name}"
            assert col.tolist() == got.tolist(), f"{entity}.{name}"


def assert_same_dataset(a: Dataset, b: Dataset) -> None:
    assert list(a.entities) == list(b.entities)
    for name, ea in a.entities.items():
        eb = b.entities[name]
        assert ea.n == eb.n and ea.keys.tolist() == eb.keys.tolist(), name
        assert list(ea.cols) == list(eb.cols), name
        for f, ca in ea.cols.items():
            cb = eb.cols[f]
            where = f"{name}.{f}"
            assert ca.type == cb.type, where
            da, db = np.asarray(ca.data), np.asarray(cb.data)
            assert da.dtype == db.dtype and np.array_equal(da, db), where
            assert (ca.missing is None) == (cb.missing is None), where
            if ca.missing is not None:
                assert np.array_equal(ca.missing, cb.missing), where
            assert (ca.cats is None) == (cb.cats is None), where
            if ca.cats is not None:
                assert ca.cats.dtype == cb.cats.dtype and ca.cats.tolist() == cb.cats.tolist(), where
        assert (ea.as_of is None) == (eb.as_of is None) and (ea.as_of is None or np.array_equal(ea.as_of, eb.as_of))
        assert list(ea.rel) == list(eb.rel) and all(np.array_equal(ea.rel[r], eb.rel[r]) for r in ea.rel), name


def _both(files, package, monkeypatch, extra=None, **kw):
    """The row reader and each other reader: same tables, protocol and bound dataset."""
    rows = _read(files, "rows", monkeypatch, versions=format_versions(package), **kw)
    bound = []
    for mode in ("columnar", "xslt"):
        cols = _read(files, mode, monkeypatch, versions=format_versions(package), **kw)
        assert_same_tables(rows, cols)
        if rows.ok:
            if not bound:
                bound.append(bind(package.entities, dict(rows.data.tables) | read_extra(extra or {})))
            assert_same_dataset(bound[0], bind(package.entities, dict(cols.data.tables) | read_extra(extra or {})))
    return rows, cols


@pytest.mark.parametrize("month_dir", ["2025-03", "2025-09"])
def test_shipped_months(package, monkeypatch, month_dir):
    d = ROOT / "examples" / "registries" / month_dir
    insured = next(d.glob("ERZ_*.csv"), None)
    rows, _ = _both(_xml(d), package, monkeypatch, {"insured": insured} if insured else None)
    assert rows.ok


def test_generated_month_of_every_kind_in_parallel(package, monkeypatch, month):
    rows, cols = _both(_xml(month), package, monkeypatch, limits=PARALLEL)
    assert rows.ok and {f.kind for f in rows.files} >= {"H", "C", "T", "D", "L"}


def test_small_batches_give_the_same_tables(package, monkeypatch, month):
    """A worker hands its rows to Arrow every few records: the joined batches are the same tables."""
    rows, _ = _both(_xml(month), package, monkeypatch, limits=Limits(batch_records=7))
    assert rows.ok and max(f.records for f in rows.files) > 7


def test_unknown_reader_is_refused(monkeypatch, month):
    monkeypatch.setenv("METODIKA_READER", "fast")
    with pytest.raises(ValueError, match="METODIKA_READER"):
        read_registry(_xml(month))


def test_clean_files_are_read_by_the_xslt_reader(monkeypatch, month):
    from engine.oms.io.scan import ReadConfig
    from engine.oms.io.sources import Source

    for path in _xml(month):
        got = fastscan.scan_columnar(Source(path), Limits(), ReadConfig())
        assert got is not None and got.columns, path.name  # not handed to the row reader


@pytest.mark.parametrize("sample", ["H_VALID.XML", "D_VALID_08_2021.XML"])
def test_reference_samples(package, monkeypatch, tmp_path, sample):
    src = SAMPLES / sample
    if not src.is_file():
        pytest.skip(f"нет образца {src}")
    reference_sample_month(src, tmp_path)
    rows, _ = _both([tmp_path], package, monkeypatch)
    assert rows.ok


def _replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="windows-1251")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="windows-1251")


BREAKS = {
    "bad date": ("HM", "<DATE_Z_1>2025-09-", "<DATE_Z_1>2025-13-"),
    "unknown element": ("CM", "<IDCASE>", "<NEVER>1</NEVER><IDCASE>"),
    "syntax": ("TM", "</N_ZAP>", "</N_ZA>"),
    "duplicate idcase": ("HM", None, None),
    "numeric reference": ("DP", "<COMENTSL>", "<COMENTSL>&#1234;"),
    "missing pers": ("LM", "<ID_PAC>", "<ID_PAC>X"),
    "version": ("HM", "<VERSION>5.1</VERSION>", "<VERSION>9.9</VERSION>"),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_broken_months_give_the_same_protocol(package, monkeypatch, month, tmp_path, case):
    prefix, old, new = BREAKS[case]
    files = [Path(shutil.copy(p, tmp_path / p.name)) for p in _xml(month)]
    target = next(p for p in files if p.name.startswith(prefix))
    if case == "duplicate idcase":
        text = target.read_text(encoding="windows-1251")
        ids = [text[i + 8: text.index("<", i + 8)] for i in (text.index("<IDCASE>"), text.rindex("<IDCASE>"))]
        _replace(target, f"<IDCASE>{ids[1]}<", f"<IDCASE>{ids[0]}<")
    elif case == "numeric reference" and "<COMENTSL>" not in target.read_text(encoding="windows-1251"):
        _replace(target, "<SL_ID>", "<SL_ID>&#1234;")
    else:
        _replace(target, old, new)
    rows, cols = _both(files, package, monkeypatch)
    if case == "numeric reference":
        return  # a valid file the columnar reader hands to the row reader: same tables, checked above
    assert not rows.ok and rows.protocol, case

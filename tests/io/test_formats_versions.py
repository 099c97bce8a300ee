"""Version by reporting period, bad input (kind, version, pairing, names), and adding a version as data."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.oms.io import read_registry
from engine.oms.io.formats import FORMATS_DIR, load_formats
from engine.oms.io.versions import VersionRow, VersionTable

sys.path.insert(0, str(Path(__file__).parent))
from test_formats_kinds import FEDERAL, ROOT, c_file, d_file, h_file  # noqa: E402
from xmlbuild import build  # noqa: E402

H_VALID = Path(__file__).parent / "data" / "H_VALID.XML"


def _replace(p: Path, old: bytes, new: bytes) -> Path:
    data = p.read_bytes()
    assert old in data, old
    p.write_bytes(data.replace(old, new, 1))
    return p


def _federal_versions():
    from engine.oms.pipeline import format_versions
    from engine.runtime.compiler import compile_package

    return format_versions(compile_package(FEDERAL))


def test_version_not_in_force_for_the_period(tmp_path):
    p = _replace(h_file(tmp_path), b"<VERSION>5.0</VERSION>", b"<VERSION>3.2</VERSION>")
    for versions in (None, _federal_versions()):
        r = read_registry([p], versions=versions)
        (e,) = r.protocol
        line = p.read_bytes().split(b"\n").index(b"<VERSION>3.2</VERSION>") + 1
        assert (e.code, e.line, e.path, e.file) == ("FLK-VERSION-PERIOD", line, "ZL_LIST/ZGLV/VERSION", p.name)
        assert "3.2" in e.message and "2025-03" in e.message and "ожидается 5.0" in e.message


def test_july_2025_expects_5_1_and_d_accepts_both(tmp_path):
    h = _replace(_replace(h_file(tmp_path), b"<MONTH>3</MONTH>", b"<MONTH>7</MONTH>"), b"<VERSION>5.0", b"<VERSION>5.0")
    (e,) = read_registry([h], versions=_federal_versions()).protocol
    assert e.code == "FLK-VERSION-PERIOD" and "2025-07" in e.message and "ожидается 5.1" in e.message
    d = _replace(d_file(tmp_path), b"<MONTH>3</MONTH>", b"<MONTH>7</MONTH>")
    assert read_registry([d], versions=_federal_versions()).ok  # 5.0: chipcom keeps D at 5.0
    d51 = _replace(d, b"<VERSION>5.0</VERSION>", b"<VERSION>5.1</VERSION>")
    assert read_registry([d51], versions=_federal_versions()).ok  # 5.1: medflk 002F.00.0016


def test_past_period_reads_with_its_own_description():
    r = read_registry([H_VALID], versions=_federal_versions())
    assert r.ok and r.files[0].version == "3.1" and r.files[0].period == "2021-04"


def test_6_0_is_a_configurable_row(tmp_path):
    p = _replace(_replace(h_file(tmp_path), b"<YEAR>2025</YEAR>", b"<YEAR>2026</YEAR>"),
                 b"<VERSION>5.0</VERSION>", b"<VERSION>5.1</VERSION>")
    table = _federal_versions()
    assert table.in_force("H", 2026 * 12) == ("5.1",)  # 6.0 listed with accept = 0
    enabled = VersionTable(table.rows + (VersionRow(("H",), 2026 * 12, None, ("6.0",)),), "test")
    assert set(enabled.in_force("H", 2026 * 12)) == {"5.1", "6.0"}
    assert read_registry([p], versions=table).ok


def test_l_version_checked_against_its_pair(tmp_path):
    h = h_file(tmp_path)
    desc = load_formats().get("L", "3.1")
    lp = tmp_path / "LM000001T76_25031.XML"
    lp.write_bytes(build(desc, {"VERSION": "3.1", "FILENAME": "LM000001T76_25031", "FILENAME1": h.stem,
                                "ID_PAC": "176", "W": 1, "DR": "1980-01-01", "DATA": "2025-04-05"}))
    (e,) = read_registry([h, lp]).protocol
    assert (e.code, e.file, e.path) == ("FLK-VERSION-PERIOD", lp.name, "PERS_LIST/ZGLV/VERSION")
    assert "3.1" in e.message and "2025-03" in e.message and "3.2" in e.message


BAD = [
    # what, edit of an H file, code, element
    ("unknown kind", (b"<FILENAME>HM", b"<FILENAME>XM"), "FLK-FILE-TYPE", "ZL_LIST/ZGLV/FILENAME"),
    ("unknown version", (b"<VERSION>5.0", b"<VERSION>9.9"), "FLK-VERSION", "ZL_LIST/ZGLV/VERSION"),
    ("kind of another name", (b"<FILENAME>HM", b"<FILENAME>CM"), "FLK-FILE-KIND", "ZL_LIST/ZGLV/FILENAME"),
    ("L name on a case file", (b"<FILENAME>HM", b"<FILENAME>LM"), "FLK-FILE-KIND", "ZL_LIST/ZGLV/FILENAME"),
]


@pytest.mark.parametrize("what,edit,code,element", BAD)
def test_bad_input_one_positioned_line(tmp_path, what, edit, code, element):
    p = _replace(h_file(tmp_path), *edit)
    r = read_registry([p])
    (e,) = r.protocol
    assert (e.code, e.path, e.file) == (code, element, p.name) and e.line and r.data is None


def test_pers_root_under_a_case_file_name(tmp_path):
    h = h_file(tmp_path)
    desc = load_formats().get("L", "3.2")
    lp = tmp_path / "LM000001T76_25031.XML"
    lp.write_bytes(build(desc, {"VERSION": "3.2", "FILENAME": "HM000001T76_25031", "FILENAME1": h.stem,
                                "ID_PAC": "176", "W": 1, "DR": "1980-01-01"}))
    (e,) = read_registry([h, lp]).protocol
    assert (e.code, e.file, e.path) == ("FLK-FILE-KIND", lp.name, "PERS_LIST/ZGLV/FILENAME")


def test_l_file_naming_no_file_of_the_submission(tmp_path):
    h = h_file(tmp_path)
    desc = load_formats().get("L", "3.2")
    lp = tmp_path / "LM000001T76_25031.XML"
    lp.write_bytes(build(desc, {"VERSION": "3.2", "FILENAME": "LM000001T76_25031", "FILENAME1": "HM000009T76_25031",
                                "ID_PAC": "176", "W": 1, "DR": "1980-01-01"}))
    (e,) = read_registry([h, lp]).protocol
    assert (e.code, e.file, e.path) == ("FLK-PAIR-NO-H", lp.name, "PERS_LIST/ZGLV/FILENAME1")
    assert "HM000009T76_25031" in e.message and e.line == 3


def test_cli_run_refuses_with_exit_1_and_stores_nothing(tmp_path):
    reg = tmp_path / "reg"
    reg.mkdir()
    c_file(reg)
    _replace(d_file(reg), b"<VERSION>5.0", b"<VERSION>3.2")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "api.cli.main", "run", str(FEDERAL), "--registry", str(reg),
                           "--out", str(out), "--no-store"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FLK-VERSION" in proc.stdout + proc.stderr
    assert not (out / "case_settlement.csv").exists()
    # --out holds the failure only (engine/oms/outdir.py): run.json says the run did not complete
    status = json.loads((out / "run.json").read_text(encoding="utf-8"))["status"]
    assert status != "done", status


def test_adding_a_version_is_data_only(tmp_path):
    fmt = tmp_path / "formats"
    shutil.copytree(FORMATS_DIR, fmt)
    text = (fmt / "H_5.1.yaml").read_text(encoding="utf-8")
    text = text.replace("version: 5.1", "version: 5.2", 1).replace("  - {from: 2025-07}", "  - {from: 2026-01}", 1)
    anchor = "        NPR_NUM: "
    assert anchor in text
    text = text.replace(anchor, "        NPR_KIND: T(3) 0..1\n" + anchor, 1)
    (fmt / "H_5.2.yaml").write_text(text, encoding="utf-8")
    p = _replace(_replace(_replace(h_file(tmp_path), b"<VERSION>5.0", b"<VERSION>5.2"),
                          b"<YEAR>2025</YEAR>", b"<YEAR>2026</YEAR>"),
                 b"<LPU>000001</LPU>\n<DATE_Z_1>", b"<NPR_KIND>abc</NPR_KIND>\n<LPU>000001</LPU>\n<DATE_Z_1>")
    r = read_registry([p], formats_dir=fmt)
    assert r.ok, r.protocol
    assert r.data["case"]["npr_kind"][0] == "abc" and r.files[0].version == "5.2"
    assert not read_registry([p]).ok  # the shipped descriptions do not know 5.2
    bad = _replace(p, b"<NPR_KIND>abc</NPR_KIND>", b"<NPR_KIND>abcd</NPR_KIND>")
    (e,) = read_registry([bad], formats_dir=fmt).protocol
    assert (e.code, e.path) == ("FLK-XSD-LENGTH", "ZL_LIST/ZAP/Z_SL/NPR_KIND")


def test_n_zap_and_idcase_unique_in_a_file(tmp_path):
    p = h_file(tmp_path)
    data = p.read_bytes()
    start, end = data.index(b"<ZAP>"), data.index(b"</ZAP>") + len(b"</ZAP>")
    zap = data[start:end]
    twice = data[:end] + b"\n" + zap.replace(b"<N_ZAP>1</N_ZAP>", b"<N_ZAP>2</N_ZAP>") + data[end:]
    p.write_bytes(twice)
    (e,) = read_registry([p]).protocol
    first = data[:start].count(b"\n") + 1
    assert (e.code, e.path, e.n_zap, e.idcase) == ("FLK-XSD-UNIQUE", "ZL_LIST/ZAP/Z_SL/IDCASE", "2", "10000001")
    assert f"со строки {first}" in e.message
    lines = twice.split(b"\n")
    second = lines.index(b"<N_ZAP>2</N_ZAP>")
    assert e.line == lines.index(b"<IDCASE>10000001</IDCASE>", second) + 1

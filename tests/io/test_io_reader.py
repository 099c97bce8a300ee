"""Reader and ФЛК stage 1 on the real samples and on corrupted copies of them."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from engine.oms.io import CODES, read_registry, write_protocol
from engine.oms.io.formats import load_formats
from engine.oms.io.mapping import plans

DATA = Path(__file__).parent / "data"
H_VALID = DATA / "H_VALID.XML"
D_VALID = DATA / "D_VALID_08_2021.XML"


def _corrupt(tmp_path: Path, name: str, old: bytes, new: bytes) -> Path:
    src = H_VALID.read_bytes()
    assert old in src, old
    out = tmp_path / name
    out.write_bytes(src.replace(old, new, 1))
    return out


def test_h_sample_3_1_imports():
    r = read_registry([H_VALID])
    assert r.ok and r.protocol == []
    d = r.data
    assert d.count("account") == 1 and d.count("case") == 1 and d.count("service") == 1
    assert d["account"]["key"][0] == "HM750096T75_21041"
    assert d["account"]["summav"][0] == "115.09"  # raw strings, not typed
    assert d["case"]["key"][0] == "HM750096T75_21041/263695"
    assert d["case"]["patient_ref"][0] == d["patient"]["key"][0] == "HM750096T75_21041/1"
    assert d["sl"]["key"][0] == "HM750096T75_21041/263695/263695"
    svc = d["service"]
    assert svc["key"][0] == "HM750096T75_21041/263695/263695/477246"
    assert svc["prvs"][0] == "17" and svc["code_md"][0] == "038-077-626 70"  # 3.1: direct children of USL
    assert d["sl"]["ds2"][0] is None and d["sl"]["ds2_all"][0] is None
    assert d["case"]["src_line"][0] == 30 and d["case"]["src_line"].dtype == np.int64
    lay, _ = plans(load_formats())
    assert all(set(d[e]) == set(lay.columns[e]) for e in ("case", "sl", "service"))
    assert d["patient"]["fam"][0] is None  # no L-file given
    assert r.files[0].sha256 and r.files[0].version == "3.1"


def test_d_sample_reads_case_and_patient_level():
    r = read_registry([D_VALID])
    assert r.ok, r.protocol
    d = r.data
    assert d["account"]["file_type"][0] == "D" and d["account"]["disp"][0] == "ОПВ"
    assert d["case"]["usl_ok"][0] is None and d["case"]["p_otk"][0] == "0"
    assert d.count("service") == 10
    assert d["service"]["code_md"][0] == "123-123-123 12"  # first MR_USL_N


def test_every_column_is_object_strings_or_none():
    d = read_registry([H_VALID, D_VALID]).data
    for entity, cols in d.tables.items():
        for name, arr in cols.items():
            if name == "src_line":
                continue
            assert arr.dtype == object, (entity, name)
            assert all(v is None or isinstance(v, str) for v in arr), (entity, name)


CORRUPTIONS = [
    # name, old, new, code, line, path, n_zap
    ("missing.XML", b"<DATE_1>2021-04-05</DATE_1>", b"", "FLK-XSD-MISSING", 49, "ZL_LIST/ZAP/Z_SL/SL/DATE_1", "1"),
    ("baddate.XML", b"<DATE_1>2021-04-05</DATE_1>", b"<DATE_1>2021-02-30</DATE_1>", "FLK-XSD-FORMAT", 48,
     "ZL_LIST/ZAP/Z_SL/SL/DATE_1", "1"),
    ("unknown.XML", b"<RSLT>", b"<FOO>1</FOO><RSLT>", "FLK-XSD-UNKNOWN", 38, "ZL_LIST/ZAP/Z_SL/FOO", "1"),
    ("enum.XML", b"<PR_NOV>0</PR_NOV>", b"<PR_NOV>7</PR_NOV>", "FLK-XSD-ENUM", 22, "ZL_LIST/ZAP/PR_NOV", "1"),
    ("mismatch.XML", b"<SUMV>115.09</SUMV>", b"<SUMV>115.09</SUMX>", "FLK-XML-SYNTAX", 77,
     "ZL_LIST/ZAP/Z_SL/SUMV", "1"),
]  # fmt: skip


@pytest.mark.parametrize("name,old,new,code,line,path,n_zap", CORRUPTIONS)
def test_corrupted_copy_names_record_and_element(tmp_path, name, old, new, code, line, path, n_zap):
    r = read_registry([_corrupt(tmp_path, name, old, new)])
    assert not r.ok and r.data is None
    assert [(e.code, e.line, e.path, e.n_zap) for e in r.protocol] == [(code, line, path, n_zap)]
    e = r.protocol[0]
    assert e.file == name and e.idcase == "263695"
    assert e.message and all(ord(c) < 128 or "\u0400" <= c <= "\u04ff" or c in "«»…—" for c in e.message)


def test_sl_id_named_only_inside_sl(tmp_path):
    inside = read_registry([_corrupt(tmp_path, "a.XML", b"<PODR>12</PODR>", b"<PODR>x</PODR>")]).protocol
    outside = read_registry([_corrupt(tmp_path, "b.XML", b"<IDSP>29</IDSP>", b"<IDSP>x</IDSP>")]).protocol
    assert inside[0].sl_id == "263695" and outside[0].sl_id is None


def test_truncated_file(tmp_path):
    p = tmp_path / "trunc.XML"
    p.write_bytes(H_VALID.read_bytes()[:1000])
    r = read_registry([p])
    assert not r.ok and r.data is None
    (e,) = r.protocol
    assert e.code == "FLK-XML-TRUNC" and e.line == 47 and e.n_zap == "1" and e.path.endswith("SL/NHISTORY")


def test_utf8_content_declared_cp1251(tmp_path):
    p = tmp_path / "utf8.XML"
    p.write_bytes(H_VALID.read_bytes().decode("cp1251").encode("utf-8"))
    (e,) = read_registry([p]).protocol
    assert (e.code, e.line) == ("FLK-ENC-UTF8", 18)  # the line of COMENTS «Кедр»


def test_undecodable_bytes(tmp_path):
    p = _corrupt(tmp_path, "bytes.XML", "Кедр".encode("cp1251"), b"\x98\x98")
    (e,) = read_registry([p]).protocol
    assert (e.code, e.line) == ("FLK-ENC-BYTES", 18)


BILLION_LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">'
        % (i, b"".join(b"&lol%s;" % (b"" if i == 1 else str(i - 1).encode()) for _ in range(10)))
        for i in range(1, 10)
    )
    + b"]>\n"
)


@pytest.mark.parametrize(
    "prolog,body",
    [
        (BILLION_LAUGHS, b"&lol9;"),
        (b'<!DOCTYPE z [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n', b"&x;"),
        (b'<!DOCTYPE ZL_LIST SYSTEM "http://example.invalid/x.dtd">\n', "Кедр".encode("cp1251")),
    ],
)
def test_doctype_and_entities_refused(tmp_path, prolog, body):
    src = (
        H_VALID.read_bytes()
        .replace(b"<ZL_LIST>", prolog + b"<ZL_LIST>")
        .replace("Кедр".encode("cp1251"), body)
    )
    p = tmp_path / "bomb.XML"
    p.write_bytes(src)
    r = read_registry([p])
    assert not r.ok and r.data is None
    assert [(e.code, e.line) for e in r.protocol] == [("FLK-XML-DTD", 2)]


def test_entity_reference_without_declaration(tmp_path):
    p = _corrupt(tmp_path, "ent.XML", "Кедр".encode("cp1251"), b"&ent;")
    (e,) = read_registry([p]).protocol
    assert (e.code, e.line, e.path) == ("FLK-XML-DTD", 18, "ZL_LIST/SCHET/COMENTS")


def test_empty_and_whitespace_files(tmp_path):
    (tmp_path / "e1.XML").write_bytes(b"")
    (tmp_path / "e2.XML").write_bytes(b"  \n ")
    r = read_registry([tmp_path / "e1.XML", tmp_path / "e2.XML"])
    assert [(e.file, e.code) for e in r.protocol] == [
        ("e1.XML", "FLK-FILE-EMPTY"),
        ("e2.XML", "FLK-FILE-EMPTY"),
    ]


def test_wrong_declared_encoding(tmp_path):
    p = _corrupt(tmp_path, "enc.XML", b'encoding="windows-1251"', b'encoding="utf-8"')
    (e,) = read_registry([p]).protocol
    assert e.code == "FLK-ENC-DECL"


def test_size_limit(tmp_path):
    from engine.oms.io import Limits

    r = read_registry([H_VALID], limits=Limits(max_bytes=1000))
    assert [e.code for e in r.protocol] == ["FLK-FILE-SIZE"]


def test_unsupported_version_and_type(tmp_path):
    v = _corrupt(tmp_path, "v.XML", b"<VERSION>3.1</VERSION>", b"<VERSION>9.9</VERSION>")
    t = _corrupt(tmp_path, "t.XML", b"<FILENAME>HM", b"<FILENAME>XM")
    r = read_registry([v, t])
    assert sorted(e.code for e in r.protocol) == ["FLK-FILE-TYPE", "FLK-VERSION"]
    assert read_registry([v], validate=False).ok


def test_personal_values_never_in_messages(tmp_path):
    secret = b"75999999999999999999999"
    p = _corrupt(
        tmp_path, "pd.XML", b"<NPOLIS>7500000000000000</NPOLIS>", b"<NPOLIS>" + secret + b"</NPOLIS>"
    )
    (e,) = read_registry([p]).protocol
    assert e.code == "FLK-XSD-LENGTH" and e.path.endswith("NPOLIS")
    assert secret.decode() not in json.dumps(e.to_dict())


def test_protocol_writers(tmp_path):
    p = _corrupt(tmp_path, "w.XML", b"<DATE_1>2021-04-05</DATE_1>", b"<DATE_1>x</DATE_1>")
    r = read_registry([p])
    for ext in ("html", "csv", "json"):
        out = tmp_path / f"protocol.{ext}"
        write_protocol(out, r.protocol, r.files)
        text = out.read_text(encoding="utf-8-sig")
        assert "DATE_1" in text and "FLK-XSD-FORMAT" in text
    assert "<th>Сообщение</th>" in (tmp_path / "protocol.html").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "protocol.json").read_text())["ok"] is False


def test_zip_input_and_zip_checks(tmp_path):
    good = tmp_path / "good.zip"
    with zipfile.ZipFile(good, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(H_VALID, "HM750096T75_21041.XML")
    r = read_registry([good])
    assert r.ok and r.files[0].name == "good.zip:HM750096T75_21041.XML"
    only_l = tmp_path / "l.zip"
    with zipfile.ZipFile(only_l, "w") as zf:
        zf.writestr("readme.txt", "x")
    assert [e.code for e in read_registry([only_l]).protocol] == ["FLK-ZIP-NO-H"]
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("HM1.XML", b"<" + b" " * (5 << 20))
    assert [e.code for e in read_registry([bomb]).protocol] == ["FLK-ZIP-BOMB"]
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    assert [e.code for e in read_registry([broken]).protocol] == ["FLK-ZIP-BAD"]


def test_codes_documented():
    doc = (Path(__file__).parents[2] / "docs" / "registries.md").read_text(encoding="utf-8")
    assert [c for c in CODES if c not in doc] == []


def test_patient_columns_cover_pers():
    patient = plans(load_formats())[0].columns["patient"]
    assert "fam" in patient and "snils" in patient and patient[-1] == "src_line"

"""NSI books from CSV and from the FFOMS XML packet into methodology tables (engine/oms/io/nsi.py)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from engine.oms.io.nsi import NsiError, normalize_date, read_nsi, select, table_yaml, write_table_csv

REF = Path(__file__).parent / "data" / "nsi"
ROOT = Path(__file__).resolve().parents[2]

PACKET = """<?xml version="1.0" encoding="{enc}"?>
<packet>
  <zglv><type>V009</type><version>2.1</version><date>26.12.2018</date></zglv>
  <zap><IDRMP>101</IDRMP><RMPNAME>Выписан</RMPNAME><DL_USLOV>1</DL_USLOV><DATEBEG>01.01.2011</DATEBEG><DATEEND></DATEEND></zap>
  <zap><IDRMP>107</IDRMP><RMPNAME>Прерванный случай</RMPNAME><DL_USLOV>1</DL_USLOV><DATEBEG>16.12.2011</DATEBEG><DATEEND>31.12.2030</DATEEND></zap>
  <!-- комментарий -->
  <zap><IDRMP>301</IDRMP><RMPNAME>Лечение завершено</RMPNAME><DL_USLOV>3</DL_USLOV><DATEBEG>20110101</DATEBEG></zap>
</packet>
"""


@pytest.mark.parametrize("enc", ["windows-1251", "utf-8"])
def test_xml_packet(tmp_path, enc):
    p = tmp_path / "V009.xml"
    p.write_bytes(PACKET.format(enc=enc).encode(enc))
    book = read_nsi(p)
    assert book.columns == ["IDRMP", "RMPNAME", "DL_USLOV", "DATEBEG", "DATEEND"]
    assert book.header == {"type": "V009", "version": "2.1", "date": "26.12.2018"}
    assert [r["RMPNAME"] for r in book.rows] == ["Выписан", "Прерванный случай", "Лечение завершено"]
    assert [(r["DATEBEG"], r["DATEEND"]) for r in book.rows] == [
        ("2011-01-01", ""), ("2011-12-16", "2030-12-31"), ("2011-01-01", "")]


def test_xml_refuses_doctype_and_entities(tmp_path):
    evil = ('<?xml version="1.0"?>\n<!DOCTYPE packet [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            "<packet><zap><A>&x;</A></zap></packet>")
    p = tmp_path / "evil.xml"
    p.write_text(evil, encoding="utf-8")
    with pytest.raises(NsiError, match="DOCTYPE"):
        read_nsi(p)
    bomb = '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><packet><zap><A>&a;</A></zap></packet>'
    p.write_text(bomb, encoding="utf-8")
    with pytest.raises(NsiError):
        read_nsi(p)


def test_xml_wrong_root_and_empty(tmp_path):
    p = tmp_path / "x.xml"
    p.write_text("<ZL_LIST><ZAP/></ZL_LIST>", encoding="utf-8")
    with pytest.raises(NsiError, match="packet"):
        read_nsi(p)
    p.write_text("<packet><zglv/></packet>", encoding="utf-8")
    with pytest.raises(NsiError, match="zap"):
        read_nsi(p)
    p.write_text("<packet><zap><A>1</A></zap>", encoding="utf-8")
    with pytest.raises(NsiError, match="не разобран"):
        read_nsi(p)


def test_xml_nested_and_repeated_elements(tmp_path):
    p = tmp_path / "n.xml"
    p.write_text("<packet><zap><ID>1</ID><K><A>x</A><B>y</B></K><R>1</R><R>2</R>"
                 "<datebeg>2019-01-01</datebeg></zap><zap><ID>2</ID><EXTRA>z</EXTRA></zap></packet>",
                 encoding="utf-8")
    book = read_nsi(p)
    assert book.columns == ["ID", "K_A", "K_B", "R", "EXTRA", "DATEBEG"]
    assert book.rows[0]["R"] == "1;2" and book.rows[1]["K_A"] == "" and book.rows[1]["EXTRA"] == "z"
    assert book.rows[0]["DATEBEG"] == "2019-01-01" and book.rows[1]["DATEBEG"] == ""


def test_csv_reference_books():
    f014 = read_nsi(REF / "F014_defects.csv")
    assert len(f014) == 248
    row = next(r for r in f014.rows if r["Kod"] == "222")
    assert row["Osn"] == "1.10.2." and row["DATEBEG"] == "2021-05-25" and row["K_NO"] == "1.00000"
    v002 = read_nsi(REF / "V002_profil.csv")
    assert v002.columns == ["IDPR", "PRNAME", "DATEBEG", "DATEEND"]
    assert any(r["IDPR"] == "136" and r["DATEEND"] == "2017-12-11" for r in v002.rows)


def test_csv_semicolon_cp1251(tmp_path):
    p = tmp_path / "b.csv"
    p.write_bytes("CODE;NAME;DATEBEG;DATEEND\n1;Первый;01.01.2020;\n2;Второй;20200101;31.12.2020\n".encode("cp1251"))
    book = read_nsi(p)
    assert [r["NAME"] for r in book.rows] == ["Первый", "Второй"]
    assert book.rows[1]["DATEEND"] == "2020-12-31"


def test_csv_errors(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text("A,A\n1,2\n", encoding="utf-8")
    with pytest.raises(NsiError, match="повторяющиеся"):
        read_nsi(p)
    p.write_text("A,B\n1,2,3\n", encoding="utf-8")
    with pytest.raises(NsiError, match="строка 2"):
        read_nsi(p)
    p.write_text("A,DATEBEG\n1,32.13.2020\n", encoding="utf-8")
    with pytest.raises(NsiError, match="запись 1, DATEBEG"):
        read_nsi(p)
    with pytest.raises(NsiError, match="не найден"):
        read_nsi(tmp_path / "nope.csv")


def test_normalize_date():
    assert normalize_date("25.05.2021") == "2021-05-25"
    assert normalize_date("20210525") == "2021-05-25"
    assert normalize_date("2021-05-25T00:00:00") == "2021-05-25"
    assert normalize_date(" ") == ""
    with pytest.raises(NsiError):
        normalize_date("2021/05/25")


def test_select_rename_filter_and_yaml(tmp_path):
    book = select(read_nsi(REF / "V009_rslt.csv"), ["IDRMP", "DL_USLOV"], {"IDRMP": "rslt", "DL_USLOV": "usl_ok"},
                  {"DL_USLOV": "1"})
    assert book.columns == ["rslt", "usl_ok", "DATEBEG", "DATEEND"]
    assert all(r["usl_ok"] == "1" for r in book.rows) and len(book) > 5
    out = write_table_csv(book, tmp_path / "tables" / "v009_ks.csv")
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0] == {"rslt": "101", "usl_ok": "1", "DATEBEG": "2011-01-01", "DATEEND": ""}
    y = table_yaml(book, "v009_ks", "tables/v009_ks.csv", ["rslt"])
    assert "key: [rslt]" in y and "columns: {rslt: int, usl_ok: int}" in y and "dated: true" in y
    with pytest.raises(NsiError, match="нет столбцов"):
        select(book, ["nope"])


def test_imported_table_loads_in_a_package(tmp_path):
    """A table written by the importer is accepted by the package loader as a dated table."""
    from engine.runtime.compiler import compile_package

    book = select(read_nsi(REF / "V009_rslt.csv"), ["IDRMP", "DL_USLOV"], {"IDRMP": "rslt", "DL_USLOV": "usl_ok"})
    write_table_csv(book, tmp_path / "v009.csv")
    (tmp_path / "schema.yaml").write_text(
        "entities:\n  case:\n    key: key\n    as_of: d\n    fields:\n      rslt: {type: int}\n      d: {type: date}\n",
        encoding="utf-8")
    (tmp_path / "tables.yaml").write_text(table_yaml(book, "v009", "v009.csv", ["rslt"]), encoding="utf-8")
    (tmp_path / "r.rules").write_text("for case:\n    u: int = default(v009[rslt].usl_ok, 0)\n", encoding="utf-8")
    (tmp_path / "methodology.yaml").write_text(
        "id: t\nversion: 0.0.1\ntitle: t\nvalid_from: 2011-01-01\nschema: [schema.yaml]\ntables: [tables.yaml]\n"
        "modules: [r.rules]\n", encoding="utf-8")
    m = compile_package(tmp_path)
    assert "v009" in m.tables and len(m.tables["v009"].rows) == len(book)


def test_cli_nsi_import(tmp_path, capsys):
    from api.cli.main import main

    src = tmp_path / "V009.xml"
    src.write_bytes(PACKET.format(enc="windows-1251").encode("windows-1251"))
    out = tmp_path / "tables" / "v009.csv"
    code = main(["nsi", "import", str(src), "--out", str(out), "--rename", "IDRMP=rslt", "--rename",
                 "RMPNAME=name", "--columns", "IDRMP,RMPNAME", "--key", "rslt"])
    assert code == 0
    text = capsys.readouterr().out
    assert "строк 3" in text and "key: [rslt]" in text and "reference: V009 2.1 26.12.2018" in text
    assert out.read_text(encoding="utf-8").splitlines()[0] == "rslt,name,DATEBEG,DATEEND"
    assert main(["nsi", "import", str(tmp_path / "missing.xml"), "--out", str(out)]) == 1
    assert main(["nsi", "import", str(src), "--out", str(out), "--rename", "bad"]) == 2


def test_mek_tables_match_importer():
    """The code books of the МЭК package are exactly what `metodika nsi import` produces."""
    mek = ROOT / "methodologies" / "federal" / "2025" / "mek" / "tables"
    for src, dst, ren in (("V002_profil.csv", "v002.csv", {"IDPR": "profil", "PRNAME": "name"}),
                          ("V009_rslt.csv", "v009.csv", {"IDRMP": "rslt", "RMPNAME": "name", "DL_USLOV": "usl_ok"})):
        book = select(read_nsi(REF / src), None, ren)
        with (mek / dst).open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert rows == book.rows

"""МЭК outputs: the protocol form (XLSX, HTML) and registries written back with SANK (XSD-valid)."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from lxml import etree

from engine.oms.pipeline import process
from engine.runtime.compiler import compile_package
from forms.mek_outputs import (
    MekAct,
    case_results,
    protocol_form,
    sank_schema,
    write_mek_outputs,
    write_outputs,
    write_sank_registries,
)

ROOT = Path(__file__).resolve().parents[2]
MONTH = ROOT / "examples" / "registries" / "2025-03"
ACT = MekAct(dt.date(2025, 4, 15))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from tests.engine.test_mek_ground_truth import mek_view

    m = compile_package(mek_view(tmp_path_factory.mktemp("view")))
    res = process(m, [MONTH], {"insured": MONTH / "ERZ_2025-03.csv"})
    assert res.status == "done"
    return res


def _zsl(tree, idcase: str):
    for z in tree.iter("Z_SL"):
        if z.findtext("IDCASE") == idcase:
            return z
    raise AssertionError(idcase)


def test_case_results_match_settlement(run):
    results = case_results(run)
    s = run.settlement
    assert len(results) == len(s.keys)
    assert sum(c.withheld for c in results) == int(s.withheld.sum())
    for c in results:
        assert sum(g.withheld for g in c.grounds) == c.withheld
        assert c.billed == c.withheld + c.accepted


def test_sank_files_valid_and_consistent(run, tmp_path):
    r = write_sank_registries(run, [MONTH], tmp_path, ACT)
    assert not r["invalid"], r["invalid"]
    assert not r["problems"], r["problems"]
    assert sorted(p.name for p in r["written"]) == sorted(
        p.name for p in MONTH.glob("HM*.XML"))
    schema = sank_schema()
    for p in r["written"]:
        assert p.read_bytes().startswith(b"<?xml version='1.0' encoding='WINDOWS-1251'?>")
        tree = etree.parse(str(p))
        assert schema.validate(tree), schema.error_log
        summap = Decimal(tree.findtext("SCHET/SUMMAP"))
        sank_mek = Decimal(tree.findtext("SCHET/SANK_MEK"))
        assert summap + sank_mek == Decimal(tree.findtext("SCHET/SUMMAV")) - (
            Decimal(tree.findtext("SCHET/SUMMAV")) - sum(Decimal(z.findtext("SUMV")) for z in tree.iter("Z_SL")))
        for z in tree.iter("Z_SL"):
            sumv, sump = Decimal(z.findtext("SUMV")), Decimal(z.findtext("SUMP"))
            sanks = z.findall("SANK")
            it = Decimal(z.findtext("SANK_IT") or "0")
            assert sum(Decimal(s.findtext("S_SUM")) for s in sanks) == it == sumv - sump
            oplata = z.findtext("OPLATA")
            assert oplata == ("1" if it == 0 else "2" if sump == 0 else "3")
            for s in sanks:
                assert s.findtext("S_TIP") == "1" and s.findtext("S_IST") == "1"
                assert s.findtext("DATE_ACT") == "2025-04-15"
                assert s.findtext("NUM_ACT").startswith("МЭК-")


def test_sank_codes_are_f014_kod(run, tmp_path):
    write_sank_registries(run, [MONTH], tmp_path, ACT)
    tree = etree.parse(str(tmp_path / "HM000001T76_25031.XML"))  # the account without the SUMMAV defect
    dup = _zsl(tree, "10000003")          # ground truth: duplicate → 1.10.2 = Kod 222
    assert [s.findtext("S_OSN") for s in dup.findall("SANK")] == ["222"]
    assert dup.findtext("OPLATA") == "2" and dup.findtext("SUMP") == "0.00"
    smo = _zsl(tree, "10000174")          # ENP not in the ЕРЗ → 1.5 = Kod 210
    assert [s.findtext("S_OSN") for s in smo.findall("SANK")] == ["210"]
    clean_id = next(c.idcase for c in case_results(run) if not c.grounds and c.account_file == "HM000001T76_25031")
    clean = _zsl(tree, clean_id)
    assert clean.findall("SANK") == [] and clean.findtext("SANK_IT") is None
    assert clean.findtext("OPLATA") == "1" and clean.findtext("SUMP") == clean.findtext("SUMV")


def test_sl_ground_carries_sl_id(run, tmp_path):
    write_sank_registries(run, [MONTH], tmp_path, ACT)
    tree = etree.parse(str(tmp_path / "HM000003T76_25031.XML"))
    z = _zsl(tree, "30000081")             # P-class diagnosis, found on SL
    sank = [s for s in z.findall("SANK") if s.findtext("S_OSN") == "207"]
    assert sank and sank[0].findtext("SL_ID") == z.findtext("SL/SL_ID")


def test_one_ground_carries_the_sum(run, tmp_path):
    write_sank_registries(run, [MONTH], tmp_path, ACT)
    tree = etree.parse(str(tmp_path / "HM000001T76_25031.XML"))
    z = _zsl(tree, "10000020")             # female profile for a man: several 1.4.4 checks, one ground
    sanks = z.findall("SANK")
    assert len(sanks) >= 1
    assert sum(Decimal(s.findtext("S_SUM")) > 0 for s in sanks) == 1


def test_zip_input(run, tmp_path):
    archive = tmp_path / "HM000001T76_25031.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(MONTH / "HM000001T76_25031.XML", "HM000001T76_25031.XML")
        z.write(MONTH / "LM000001T76_25031.XML", "LM000001T76_25031.XML")
    r = write_sank_registries(run, [archive], tmp_path / "out", ACT)
    assert [p.name for p in r["written"]] == ["HM000001T76_25031.XML"]


def test_invalid_result_is_not_written(run, tmp_path):
    bad = tmp_path / "in"
    bad.mkdir()
    text = (MONTH / "HM000003T76_25031.XML").read_bytes().replace(b"<YEAR>2025</YEAR>", b"<YEAR>20x5</YEAR>")
    (bad / "HM000003T76_25031.XML").write_bytes(text)
    r = write_sank_registries(run, [bad], tmp_path / "out", ACT)
    assert r["written"] == [] and "HM000003T76_25031" in r["invalid"]
    assert not (tmp_path / "out" / "HM000003T76_25031.XML").exists()


def test_protocol_form_rows_and_totals(run):
    form = protocol_form(run, ACT, dt.datetime(2025, 4, 15, 12, 0))
    labels = [r.label for r in form.rows]
    assert labels[0] == "Случаи с дефектами" and "Итоги по МО" in labels and "Итоги по СМО" in labels
    total = form.rows[-1]
    assert total.is_total
    s = run.settlement
    assert total.cells[6].value == int(s.billed.sum()) and total.cells[7].value == int(s.withheld.sum())
    assert total.cells[8].value == int(s.accepted.sum())
    defect_rows = [r for r in form.rows[1:labels.index("Итоги по МО")]]
    assert sum(r.cells[7].value for r in defect_rows) == int(s.withheld.sum())
    codes = {r.cells[4].value for r in defect_rows}
    assert {"1.10.2", "1.10.5", "1.10.6", "1.5", "1.4.4", "1.4.6", "1.4.2"} <= codes


def test_protocol_files(run, tmp_path):
    info = write_mek_outputs(run, tmp_path, [MONTH], ACT)
    assert info["protocol"] == ["mek_protocol.xlsx", "mek_protocol.html"]
    assert len(info["sank"]) == 3 and "sank_invalid" not in info
    html = (tmp_path / "mek_protocol.html").read_text(encoding="utf-8")
    assert "Протокол медико-экономического контроля" in html and "Итоги по СМО" in html and "20000003" in html
    wb = openpyxl.load_workbook(tmp_path / "mek_protocol.xlsx")
    text = [c.value for row in wb.active.iter_rows() for c in row if c.value is not None]
    assert any(isinstance(v, str) and "Итоги по МО" in v for v in text)
    assert any(v == "1.10.2" for v in text)


def test_pipeline_write_outputs_includes_mek(run, tmp_path):
    res = run
    saved = dict(res.inputs)
    res.inputs = {"registry": [str(MONTH)]}
    try:
        info = write_outputs(res, tmp_path)
    finally:
        res.inputs = saved
    assert info["mek"]["protocol"] and len(info["mek"]["sank"]) == 3
    assert (tmp_path / "sank" / "HM000001T76_25031.XML").exists()
    assert (tmp_path / "mek_protocol.xlsx").exists() and (tmp_path / "case_settlement.csv").exists()


def test_without_registry_files_only_protocol(run, tmp_path):
    info = write_mek_outputs(run, tmp_path, None, ACT)
    assert "sank" not in info and (tmp_path / "mek_protocol.html").exists()


def test_cli_run_writes_mek_outputs(tmp_path):
    from api.cli.main import main
    from tests.engine.test_mek_ground_truth import mek_view

    view = mek_view(tmp_path)
    out = tmp_path / "out"
    code = main(["run", str(view), "--no-store", "--registry", str(MONTH), "--insured",
                 str(MONTH / "ERZ_2025-03.csv"), "--out", str(out)])
    assert code == 0
    assert (out / "mek_protocol.xlsx").exists() and len(list((out / "sank").glob("*.XML"))) == 3
    shutil.rmtree(out)


# --- the streaming writer against the tree writer it replaced (tests/forms/sank_oracle.py) -------
def _same_as_oracle(res, registry: list[Path], tmp_path: Path, workers: int | None = None) -> dict:
    from tests.forms.sank_oracle import oracle_sank_registries

    new = write_sank_registries(res, registry, tmp_path / "new", ACT, workers=workers)
    old = oracle_sank_registries(res, registry, tmp_path / "old", ACT)
    assert [p.name for p in new["written"]] == [p.name for p in old["written"]]
    assert sorted(new["invalid"]) == sorted(old["invalid"])
    assert new["problems"] == old["problems"]
    for a, b in zip(new["written"], old["written"], strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    return new


@pytest.fixture(scope="module")
def federal():
    return compile_package(ROOT / "methodologies" / "federal" / "2025")


@pytest.fixture(scope="module")
def generated(tmp_path_factory, federal):
    """A generated month of every file kind (H, C, T, DP/DO with L) with defects, processed."""
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("generated")
    subprocess.run([sys.executable, "-m", "examples.generator", "--month", "2025-09", "--mo", "3", "--cases", "900",
                    "--seed", "11", "--kinds", "HCTD", "--defects", "0.2", "--out", str(folder)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    res = process(federal, [folder], {"insured": next(folder.glob("ERZ_*.csv"))})
    assert res.status == "done"
    return folder, res


def test_streaming_sank_same_bytes_shipped_march(run, tmp_path):
    r = _same_as_oracle(run, [MONTH], tmp_path)
    assert len(r["written"]) == 3


def test_streaming_sank_same_bytes_shipped_september(federal, tmp_path):
    month = ROOT / "examples" / "registries" / "2025-09"
    res = process(federal, [month], {"insured": month / "ERZ_2025-09.csv"})
    assert res.status == "done"
    r = _same_as_oracle(res, [month], tmp_path)
    assert len(r["written"]) == 3


def test_streaming_sank_same_bytes_generated_month_parallel(generated, tmp_path):
    folder, res = generated
    assert {p.name[:2] for p in folder.glob("*.XML")} >= {"HM", "CM", "TM", "DP", "DO", "LM"}
    r = _same_as_oracle(res, [folder], tmp_path, workers=2)   # two worker processes
    assert len(r["written"]) == 3
    assert sum(p.read_bytes().count(b"<SANK>") for p in r["written"]) > 0


def test_streaming_sank_file_named_otherwise_zip_and_comments(run, tmp_path):
    """A file whose name is not its FILENAME, a ZIP member, comments around the root and a ZAP
    whose case the run does not know: the same bytes and the same problems as the tree writer."""
    src = tmp_path / "src"
    src.mkdir()
    text = (MONTH / "HM000002T76_25031.XML").read_bytes()
    head, _, rest = text.partition(b"?>")
    (src / "H_renamed.xml").write_bytes(head + b"?>\n<!-- the fund's copy -->" + rest.rstrip() + b"<!-- end -->")
    unknown = (MONTH / "HM000003T76_25031.XML").read_bytes()
    (src / "H_unknown.xml").write_bytes(unknown.replace(b"<IDCASE>30000005</IDCASE>", b"<IDCASE>39999999</IDCASE>", 1))
    with zipfile.ZipFile(src / "HM000001T76_25031.zip", "w") as z:
        z.write(MONTH / "HM000001T76_25031.XML", "inner/HM000001T76_25031.XML")
    r = _same_as_oracle(run, [src], tmp_path)
    assert sorted(p.name for p in r["written"]) == ["HM000001T76_25031.XML", "HM000002T76_25031.XML"]
    assert list(r["invalid"]) == ["HM000003T76_25031"]   # a Z_SL without OPLATA is not SANK МП 3.2
    assert any("39999999" in p for p in r["problems"])


ANY_XML = etree.XMLSchema(etree.fromstring(
    b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="ZL_LIST"><xs:complexType>'
    b'<xs:sequence><xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>'
    b'</xs:complexType></xs:element></xs:schema>'))


def test_streaming_sank_schet_after_zap_and_duplicate_case(run, tmp_path, monkeypatch):
    """Values the tree writer took from the whole file (NSCHET for NUM_ACT, the totals) when the
    file does not follow the usual order: the file is written again with what it says. (Such a
    file is not SANK МП 3.2; the schema is relaxed here so that both writers write it.)"""
    from lxml import etree as et

    import forms.sank_stream
    import tests.forms.sank_oracle

    monkeypatch.setattr(forms.sank_stream, "sank_schema", lambda: ANY_XML)
    monkeypatch.setattr(forms.sank_stream._Checker, "UNIQUE", {})
    monkeypatch.setattr(tests.forms.sank_oracle, "sank_schema", lambda: ANY_XML)

    tree = et.parse(str(MONTH / "HM000003T76_25031.XML"))
    root = tree.getroot()
    schet, zaps = root.find("SCHET"), root.findall("ZAP")
    root.remove(schet)
    root.append(schet)                                   # SCHET after the ZAPs
    root.append(et.fromstring(et.tostring(zaps[0])))     # the first case twice
    src = tmp_path / "src"
    src.mkdir()
    tree.write(str(src / "HM000003T76_25031.XML"), encoding="windows-1251", xml_declaration=True)
    r = _same_as_oracle(run, [src], tmp_path)
    text = r["written"][0].read_bytes().decode("cp1251")
    assert "<NUM_ACT>МЭК-2503-000003</NUM_ACT>" in text and "<NUM_ACT>МЭК-</NUM_ACT>" not in text


def test_streaming_sank_batches_keep_file_wide_checks(run, tmp_path, monkeypatch):
    """Validated a batch of ZAPs at a time: a case repeated in another batch and an element out
    of order after a flushed batch still make the file invalid, as for the whole tree."""
    from lxml import etree as et

    import forms.sank_stream

    monkeypatch.setattr(forms.sank_stream._Checker, "BATCH", 3)
    tree = et.parse(str(MONTH / "HM000003T76_25031.XML"))
    root = tree.getroot()
    root.append(et.fromstring(et.tostring(root.findall("ZAP")[0])))   # first case again, batches later
    src = tmp_path / "dup"
    src.mkdir()
    tree.write(str(src / "HM000003T76_25031.XML"), encoding="windows-1251", xml_declaration=True)
    r = write_sank_registries(run, [src], tmp_path / "out1", ACT)
    assert list(r["invalid"]) == ["HM000003T76_25031"] and "Duplicate key-sequence" in r["invalid"][
        "HM000003T76_25031"][0]
    tree = et.parse(str(MONTH / "HM000003T76_25031.XML"))
    root = tree.getroot()
    zaps = root.findall("ZAP")
    extra = et.Element("COMENTS")
    zaps[5].addnext(extra)                                            # out of order after batch 1
    order = tmp_path / "order"
    order.mkdir()
    tree.write(str(order / "HM000003T76_25031.XML"), encoding="windows-1251", xml_declaration=True)
    r = write_sank_registries(run, [order], tmp_path / "out2", ACT)
    assert list(r["invalid"]) == ["HM000003T76_25031"]
    assert write_sank_registries(run, [MONTH], tmp_path / "out3", ACT)["invalid"] == {}   # batches of 3 pass

"""FLK_P protocol files for a broken registry: one per received file, windows-1251, read back line by line."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from api.cli.main import main
from engine.oms.io import read_registry
from engine.oms.io.flk_p import PR_FIELDS, element_and_base, protocols

MONTH = Path(__file__).resolve().parents[2] / "examples" / "registries" / "2025-03"
H, L = "HM000002T76_25031.XML", "LM000002T76_25031.XML"
SECRET_SNILS = "ЖЖЖ-999-999 99"


def _broken(folder: Path) -> Path:
    folder.mkdir()
    h = (MONTH / H).read_bytes().decode("cp1251")
    h = h.replace("<DATE_Z_1>", "<DATE_Z_1>2025-13-", 1)           # wrong date format
    i = h.index("<DS1>")
    h = h[:i] + h[h.index("</DS1>", i) + 6:]                         # mandatory DS1 missing
    pers = (MONTH / L).read_bytes().decode("cp1251")
    j = pers.index("<DR>")
    pers = pers[:j] + f"<SNILS>{SECRET_SNILS}</SNILS>" + pers[j:]     # personal element out of place
    (folder / H).write_bytes(h.encode("cp1251"))
    (folder / L).write_bytes(pers.encode("cp1251"))
    (folder / "HM000003T76_25031.XML").write_bytes((MONTH / "HM000003T76_25031.XML").read_bytes())
    (folder / "LM000003T76_25031.XML").write_bytes((MONTH / "LM000003T76_25031.XML").read_bytes())
    return folder


def test_broken_registry_protocol_files_read_back(tmp_path: Path) -> None:
    reg = _broken(tmp_path / "reg")
    out = tmp_path / "flk_p"
    assert main(["registry", "validate", str(reg), "--flk-p", str(out)]) == 1
    entries = read_registry([reg]).protocol
    assert entries, "the broken registry must have ФЛК errors"
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(f"V{n[:-4]}.XML" for n in (H, L, "HM000003T76_25031.XML", "LM000003T76_25031.XML"))
    total = 0
    for name in files:
        raw = (out / name).read_bytes()
        assert raw.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
        text = raw.decode("cp1251")
        assert SECRET_SNILS not in text
        root = etree.fromstring(raw)
        assert root.tag == "FLK_P" and [c.tag for c in root][:2] == ["FNAME", "FNAME_I"]
        assert root.findtext("FNAME") == name[:-4] and root.findtext("FNAME_I") == name[1:-4]
        mine = [e for e in entries if Path(e.file).stem.upper() == name[1:-4].upper()]
        prs = root.findall("PR")
        assert len(prs) == len(mine)
        total += len(prs)
        for pr, e in zip(prs, mine, strict=True):
            tags = [c.tag for c in pr]
            assert tags == [t for t in PR_FIELDS if t in tags], "elements in the FLK_P order"
            im_pol, bas_el = element_and_base(e)
            assert pr.findtext("OSHIB") == e.code and pr.findtext("COMMENT")
            assert (pr.findtext("IM_POL"), pr.findtext("BAS_EL")) == (im_pol, bas_el)
            assert pr.findtext("N_ZAP") == e.n_zap and pr.findtext("IDCASE") == e.idcase
            assert pr.findtext("SL_ID") == e.sl_id
    assert total == len(entries)
    assert root_of(out / f"V{H[:-4]}.XML").findtext("PR/IM_POL") == "DATE_Z_1"
    clean = root_of(out / "VHM000003T76_25031.XML")
    assert clean.findall("PR") == [], "a file without errors gets a protocol without PR"


def root_of(path: Path) -> etree._Element:
    return etree.fromstring(path.read_bytes())


@pytest.mark.parametrize(("path", "expected"), [
    ("ZL_LIST/ZAP/Z_SL/SL/DS1", ("DS1", "SL")),
    ("ZL_LIST/ZAP/Z_SL/SL/USL/CODE_USL", ("CODE_USL", "USL")),
    ("ZL_LIST/ZAP/Z_SL/SL/KSG_KPG/N_KSG", ("N_KSG", "SL")),
    ("ZL_LIST/SCHET/SUMMAV", ("SUMMAV", "SCHET")),
    ("PERS_LIST/PERS/SNILS", ("SNILS", "PERS")),
    ("ZL_LIST/ZAP", ("ZAP", "ZAP")),
])
def test_element_and_base(path: str, expected: tuple[str, str]) -> None:
    assert element_and_base({"path": path}) == expected


def test_personal_value_is_cut_from_comment_and_stored_dicts_are_accepted() -> None:
    entry = {"code": "FLK-XSD-PATTERN", "file": H, "n_zap": "7", "idcase": "1", "path": "PERS_LIST/PERS/SNILS",
             "message": f"Значение не соответствует шаблону: элемент SNILS (значение «{SECRET_SNILS}»)"}
    doc = protocols([H], [entry])[f"V{H[:-4]}.XML"]
    assert SECRET_SNILS.encode("cp1251") not in doc
    pr = etree.fromstring(doc).find("PR")
    assert pr.findtext("IM_POL") == "SNILS" and pr.findtext("BAS_EL") == "PERS" and pr.findtext("N_ZAP") == "7"
    assert protocols([H], [entry], prefix="F")[f"F{H[:-4]}.XML"]


def test_catalogue_defects_become_protocol_lines(tmp_path: Path) -> None:
    """Defects of q015_… checks (coord convention) are FLK_P lines with the catalogue ID as OSHIB."""
    from engine.oms.catalogue_protocol import catalogue_entries, catalogue_id
    from engine.oms.pipeline import process
    from engine.runtime.compiler import compile_package

    m = compile_package(MONTH.parents[2] / "methodologies" / "federal" / "2025")
    res = process(m, [MONTH])
    assert res.status == "done" and res.run is not None
    # the package's own catalogue checks find the injected defects of the month; two more defects
    # of other checks renamed to catalogue names must become protocol lines as well
    real = [catalogue_id(d.check) for d in res.run.defects.defects if catalogue_id(d.check)]
    sl_defect = next(d for d in res.run.defects.defects if d.entity == "sl" and not catalogue_id(d.check))
    case_defect = next(d for d in res.run.defects.defects if d.entity == "case" and not catalogue_id(d.check))
    sl_defect.check, case_defect.check = "q015_003f_00_0010", "q015_006f_00_0360"
    entries = catalogue_entries(res)
    assert sorted(e.code for e in entries) == sorted(real + ["003F.00.0010", "006F.00.0360"])
    assert catalogue_id("no_license") is None
    by_code = {e.code: e for e in entries}
    sl_row = res.run.data.entities["sl"].row_index(sl_defect.row_key)
    assert by_code["003F.00.0010"].sl_id == res.run.data.entities["sl"].cols["sl_id"].value_at(sl_row)
    assert by_code["003F.00.0010"].idcase and by_code["003F.00.0010"].n_zap
    assert by_code["003F.00.0010"].file and by_code["003F.00.0010"].file.startswith("HM")
    docs = protocols(sorted(p.name for p in MONTH.glob("*.XML")), entries)
    lines = [pr for doc in docs.values() for pr in etree.fromstring(doc).findall("PR")]
    assert sorted(pr.findtext("OSHIB") for pr in lines) == sorted(real + ["003F.00.0010", "006F.00.0360"])
    sl_line = next(pr for pr in lines if pr.findtext("OSHIB") == "003F.00.0010")
    assert sl_line.findtext("BAS_EL") == "SL" and sl_line.findtext("COMMENT") == sl_defect.message

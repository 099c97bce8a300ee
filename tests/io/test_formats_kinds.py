"""Every file kind in one dataset: C, T and D files built from the 5.x descriptions are read into
the entities of the federal schema, related to their parents, and run through pricing and МЭК;
one structural defect per kind gives exactly one positioned protocol line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.oms.io import read_registry
from engine.oms.io.formats import load_formats

sys.path.insert(0, str(Path(__file__).parent))
from xmlbuild import build  # noqa: E402

ROOT = Path(__file__).parents[2]
FEDERAL = ROOT / "methodologies" / "federal" / "2025"

#: one outpatient case of the shipped month (МО 000001, 2025-03), as every kind carries it
BASE = {
    "ZGLV/VERSION": "5.0", "ZGLV/DATA": "2025-04-05", "SD_Z": 1, "SCHET/CODE": 12503, "CODE_MO": "000001",
    "YEAR": 2025, "MONTH": 3, "NSCHET": "2503-000001", "DSCHET": "2025-04-05", "PLAT": "76", "SUMMAV": "365.50",
    "N_ZAP": 1, "PR_NOV": 0, "ID_PAC": "176", "VPOLIS": 3, "NPOLIS": "7600854544109100", "ENP": "7600854544109100",
    "SMO": "76007", "NOVOR": "0", "USL_OK": 3, "VIDPOM": 12, "FOR_POM": 3, "Z_SL/LPU": "000001",
    "DATE_Z_1": "2025-03-06", "DATE_Z_2": "2025-03-06", "RSLT": 301, "ISHOD": 303, "SL/LPU_1": "00000103",
    "SL/PODR": "103", "SL/PROFIL": 97, "SL/DET": 0, "P_CEL": "2.6", "NHISTORY": "176", "SL/DATE_1": "2025-03-06",
    "SL/DATE_2": "2025-03-06", "DS1": "C18.7", "C_ZAB": 2, "DS_ONK": 0, "SL/PRVS": 76, "VERS_SPEC": "V021",
    "IDDOKT": "123-554-678 56", "ED_COL": "1.00", "SUM_M": "365.50", "USL/IDSERV": "1", "USL/LPU": "000001",
    "USL/LPU_1": "00000103", "USL/PODR": "103", "USL/PROFIL": 97, "USL/DET": 0, "DATE_IN": "2025-03-06",
    "DATE_OUT": "2025-03-06", "USL/DS": "C18.7", "CODE_USL": "B01.047.001", "KOL_USL": "1.00",
    "USL/TARIF": "365.50", "SUMV_USL": "365.50", "USL/PRVS": 76, "USL/CODE_MD": "123-554-678 56",
    "MR_N": [1, 2], "MR_USL_N/PRVS": [76, 219], "MR_USL_N/CODE_MD": ["123-554-678 56", "123-677-776 85"],
    "IDSP": 29, "SUMV": "365.50",
}  # fmt: skip

ONCO = {
    "DS_ONK": 0, "DS1_T": 0, "STAD": 75, "ONK_T": 162, "ONK_N": 33, "ONK_M": 18, "DIAG_DATE": "2025-03-03",
    "DIAG_TIP": 1, "DIAG_CODE": 3, "DIAG_RSLT": 5, "REC_RSLT": 1, "PROT": 4, "D_PROT": "2025-03-01",
    "USL_TIP": 2, "LEK_TIP_L": 1, "LEK_TIP_V": 1, "LEK_PR/REGNUM": "008546", "LEK_PR/CODE_SH": "sh0024",
    "INJ/DATE_INJ": "2025-03-06", "S_INJ": "10.50", "KV_INJ": "2.000", "KIZ_INJ": "2.000", "SV_INJ": "21.00",
    "SIZ_INJ": "21.00", "RED_INJ": 0, "LEK_PR/DATE_INJ": "2025-03-06", "PR_CONS": 1, "DT_CONS": "2025-03-04",
    "NAPR_DATE": "2025-03-06", "NAPR_V": 3, "MET_ISSL": 1, "NAPR_USL": "A06.09.005", "WEI": "70.0", "HEI": 170,
    "BSA": "1.81",
}  # fmt: skip
ONCO_OPT = {"ONK_SL", "B_DIAG", "B_PROT", "ONK_USL", "LEK_PR", "INJ", "CONS", "NAPR", "ENP", "DIAG_RSLT",
            "REC_RSLT", "LEK_TIP_L", "LEK_TIP_V", "WEI", "HEI", "BSA", "STAD", "ONK_T", "ONK_N", "ONK_M",
            "DT_CONS", "MET_ISSL", "NAPR_USL"}  # fmt: skip

VMP = {
    "USL_OK": 1, "VIDPOM": 32, "RSLT": 101, "ISHOD": 101, "VID_HMP": "182", "METOD_HMP": 3, "SL/PROFIL": 65,
    "PROFIL_K": 52, "TAL_D": "2025-02-09", "TAL_NUM": "15.5186086", "TAL_P": "2025-03-01", "DS1": "H26.0",
    "USL/DS": "H26.0", "USL/PROFIL": 65, "SL/PRVS": 46, "USL/PRVS": 46, "IDSP": 32, "KD_Z": 1,
    "DATE_Z_1": "2025-03-05", "SL/DATE_1": "2025-03-05", "DATE_IN": "2025-03-05", "CODE_USL": "A16.26.093.002",
    "NPR_MO": "000002", "NPR_DATE": "2025-02-20",
}  # fmt: skip

DISP = {
    "DISP": "ДВ1", "VBR": 0, "P_OTK": 0, "RSLT_D": 1, "DS1": "Z00.0", "DS1_PR": 1, "PR_D_N": 3,
    "DS2_N/DS2": ["I10", "E11.9"], "DS2_PR": 1, "PR_DS2_N": [1, 2], "NAZ_N": [1, 2], "NAZ_R": [3, 4],
    "NAZ_IDDOKT": "123-554-678 56", "NAZ_V": 1, "NAZ_USL": "A06.09.005", "NAPR_DATE": "2025-03-06",
    "NAPR_MO": "000002", "NAZ_PMP": 97, "NAZ_PK": 5, "CODE_USL": "B04.047.002", "SL/TARIF": "365.50",
}  # fmt: skip


def _file(tmp: Path, kind: str, name: str, values: dict, optional=(), repeat=None, version="5.0") -> Path:
    desc = load_formats().get(kind, version)
    assert desc is not None
    p = tmp / f"{name}.XML"
    p.write_bytes(build(desc, BASE | {"ZGLV/VERSION": version, "ZGLV/FILENAME": name} | values, set(optional),
                        repeat))
    return p


def c_file(tmp: Path, name: str = "CM000001T76_25032") -> Path:
    return _file(tmp, "C", name, ONCO | {"IDCASE": 30000001, "SL_ID": "30000001"}, ONCO_OPT)


def t_file(tmp: Path, name: str = "TM000001T76_25033") -> Path:
    return _file(tmp, "T", name, ONCO | VMP | {"IDCASE": 40000001, "SL_ID": "40000001", "DS_ONK": 0},
                 {"KD_Z", "PROFIL_K", "ENP"})


def d_file(tmp: Path, name: str = "DPM000001T76_25034") -> Path:
    return _file(tmp, "D", name, DISP | {"IDCASE": 50000001, "SL_ID": "50000001"},
                 {"DISP", "RSLT_D", "DS1", "DS1_PR", "PR_D_N", "DS2_N", "DS2_PR", "NAZ", "NAZ_V", "NAZ_USL",
                  "NAPR_DATE", "NAPR_MO", "NAZ_PMP", "NAZ_PK", "MR_USL_N/PRVS", "MR_USL_N/CODE_MD", "ENP",
                  "SL/TARIF"},
                 {"DS2_N": 2, "NAZ": 2, "MR_USL_N": 2})


def h_file(tmp: Path, name: str = "HM000001T76_25031") -> Path:
    day = "2025-03-07"  # another day than the C case: the same case twice would be a duplicate (1.10.2)
    dates = {"DATE_Z_1": day, "DATE_Z_2": day, "SL/DATE_1": day, "SL/DATE_2": day, "DATE_IN": day, "DATE_OUT": day}
    return _file(tmp, "H", name, dates | {"IDCASE": 10000001, "SL_ID": "10000001", "DS1": "M54.5", "USL/DS": "M54.5"},
                 {"ENP", "MR_USL_N/PRVS", "MR_USL_N/CODE_MD"})


def l_file(tmp: Path, pair: Path) -> Path:
    """The personal-data file paired with ``pair`` (one PERS for ID_PAC 176)."""
    desc = load_formats().get("L", "3.2")
    assert desc is not None
    name = "L" + pair.stem[2:] if pair.stem.startswith("D") else "L" + pair.stem[1:]
    p = tmp / f"{name}.XML"
    p.write_bytes(build(desc, {"VERSION": "3.2", "DATA": "2025-04-05", "FILENAME": name, "FILENAME1": pair.stem,
                               "ID_PAC": "176", "W": 1, "DR": "1968-05-14"}))
    return p


@pytest.fixture
def month(tmp_path):
    files = [h_file(tmp_path), c_file(tmp_path), t_file(tmp_path), d_file(tmp_path)]
    return tmp_path, files + [l_file(tmp_path, f) for f in files]


def test_every_kind_reads_into_its_entities(month):
    _, files = month
    r = read_registry(files)
    assert r.ok, [(e.file, e.line, e.code, e.message) for e in r.protocol]
    d = r.data
    kinds = dict(zip(d["account"]["key"], zip(d["account"]["file_type"], d["account"]["file_subtype"], strict=True), strict=True))
    assert kinds == {"HM000001T76_25031": ("H", None), "CM000001T76_25032": ("C", None),
                     "TM000001T76_25033": ("T", None), "DPM000001T76_25034": ("D", "P")}
    assert d.count("case") == 4 and d.count("sl") == 4
    c_sl, t_sl = "CM000001T76_25032/30000001/30000001", "TM000001T76_25033/40000001/40000001"
    onk = d["onk_sl"]
    assert list(onk["sl_ref"]) == [c_sl] and list(onk["stad"]) == ["75"] and onk["date_2"][0] == "2025-03-06"
    assert list(d["b_diag"]["onk_sl_ref"]) == [c_sl + "/1"] and d["b_diag"]["date_2"][0] == "2025-03-06"
    assert list(d["b_prot"]["prot"]) == ["4"]
    assert list(d["onk_usl"]["onk_sl_ref"]) == [c_sl + "/1"]
    lek = d["lek_pr"]
    assert list(lek["onk_usl_ref"]) == [c_sl + "/1/1"] and list(lek["sl_ref"]) == [c_sl]
    assert list(d["inj"]["lek_pr_ref"]) == [c_sl + "/1/1/1"] and d["inj"]["sv_inj"][0] == "21.00"
    assert list(d["cons"]["sl_ref"]) == [c_sl] and list(d["napr"]["napr_v"]) == ["3"]
    sl = dict(zip(d["sl"]["key"], d["sl"]["vid_hmp"], strict=True))
    assert sl[t_sl] == "182"
    d_sl = "DPM000001T76_25034/50000001/50000001"
    assert list(d["ds2_n"]["ds2"]) == ["I10", "E11.9"] and set(d["ds2_n"]["sl_ref"]) == {d_sl}
    assert dict(zip(d["sl"]["key"], d["sl"]["ds2_all"], strict=True))[d_sl] == "I10;E11.9"  # DS2_N feeds sl.ds2 too
    assert list(d["naz"]["naz_r"]) == ["3", "4"]
    mr = d["mr_usl_n"]
    d_usl = d_sl + "/1"
    assert [(k, p) for k, p, s in zip(mr["key"], mr["prvs"], mr["service_ref"], strict=True) if s == d_usl] == [
        (d_usl + "/1", "76"), (d_usl + "/2", "219")]  # every performer, not only the first
    case = dict(zip(d["case"]["key"], d["case"]["usl_ok"], strict=True))
    assert case["DPM000001T76_25034/50000001"] is None and case["TM000001T76_25033/40000001"] == "1"


def test_every_kind_runs_through_pricing_and_mek(month):
    from engine.oms.pipeline import process
    from engine.runtime.compiler import compile_package

    tmp, files = month
    m = compile_package(FEDERAL)
    res = process(m, [tmp])
    assert res.status == "done", res.protocol or res.data_problems
    assert res.counts["onk_sl"] == 1 and res.counts["naz"] == 2 and res.counts["mr_usl_n"] == 3
    s = res.settlement
    billed = dict(zip(s.keys, s.billed, strict=True))
    assert billed["CM000001T76_25032/30000001"] == billed["HM000001T76_25031/10000001"] == 36550
    # the built records are structural samples (no FAM/IM, synthetic SMO codes), not catalogue-clean
    # ones: the Q015 checks are judged by the package's q015_* tests; here only the МЭК checks
    by_file: dict[str, set[str]] = {}
    for d in res.run.defects.defects:
        if not d.catalogue:
            by_file.setdefault(d.row_key[:2], set()).add(d.check)
    # the oncology case carries exactly the defects of the same case in an H file
    assert by_file.get("CM") == by_file.get("HM")
    # no check on RSLT, ISHOD, USL_OK, PROFIL or KOL_USL fires on a D case that has none of them;
    # it is priced by the complex tariff of its DISP (disp_tariff: ДВ1 2 318,40 ₽); its SUMV of 365,50 ₽
    # is below the tariff, which the federal default mek_below_tariff = billed pays without a defect
    assert "DP" not in by_file
    assert "TM" not in by_file  # the ВМП case is clean


STRUCTURAL = [
    # kind, builder, line to remove, code, path, n_zap/idcase/sl_id expected
    ("H", h_file, "<DATE_1>", "FLK-XSD-MISSING", "ZL_LIST/ZAP/Z_SL/SL/DATE_1", "10000001"),
    ("C", c_file, "<DS_ONK>", "FLK-XSD-MISSING", "ZL_LIST/ZAP/Z_SL/SL/DS_ONK", "30000001"),
    ("T", t_file, "<VID_HMP>", "FLK-XSD-MISSING", "ZL_LIST/ZAP/Z_SL/SL/VID_HMP", "40000001"),
    ("D", d_file, "<P_OTK>", "FLK-XSD-MISSING", "ZL_LIST/ZAP/Z_SL/P_OTK", "50000001"),
]


@pytest.mark.parametrize("kind,make,tag,code,path,idcase", STRUCTURAL)
def test_one_structural_defect_per_kind_one_protocol_line(tmp_path, kind, make, tag, code, path, idcase):
    p = make(tmp_path)
    lines = p.read_bytes().split(b"\n")
    at = next(i for i, line in enumerate(lines) if line.startswith(tag.encode()))
    p.write_bytes(b"\n".join(lines[:at] + lines[at + 1 :]))
    r = read_registry([p])
    assert not r.ok and r.data is None
    (e,) = r.protocol
    assert (e.code, e.path, e.n_zap, e.idcase, e.file) == (code, path, "1", idcase, p.name)
    assert e.line == at + 1  # the element that follows the missing one now sits on its line
    assert e.sl_id == (idcase if "/SL/" in path else None)


def test_l_file_structural_defect(tmp_path):
    h = h_file(tmp_path)
    desc = load_formats().get("L", "3.2")
    lp = tmp_path / "LM000001T76_25031.XML"
    data = build(desc, {"VERSION": "3.2", "FILENAME": "LM000001T76_25031", "FILENAME1": "HM000001T76_25031",
                        "ID_PAC": "176", "W": 3, "DR": "1980-01-01", "DATA": "2025-04-05"})
    lp.write_bytes(data)
    r = read_registry([h, lp])
    (e,) = r.protocol
    assert (e.code, e.file, e.path) == ("FLK-XSD-ENUM", lp.name, "PERS_LIST/PERS/W")
    assert e.line == data.split(b"\n").index(b"<W>3</W>") + 1
    assert "3" not in e.message  # W is personal: its value never appears


def test_service_errors_name_the_service(tmp_path):
    p = d_file(tmp_path)
    p.write_bytes(p.read_bytes().replace(b"<CODE_USL>B04.047.002</CODE_USL>", b"<CODE_USL></CODE_USL>", 1))
    (e,) = read_registry([p]).protocol
    assert (e.code, e.path, e.idserv, e.sl_id) == ("FLK-XSD-LENGTH", "ZL_LIST/ZAP/Z_SL/SL/USL/CODE_USL", "1",
                                                   "50000001")


def test_cli_run_every_kind_end_to_end(month, tmp_path):
    import json
    import subprocess

    reg, _ = month
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "api.cli.main", "run", str(FEDERAL), "--registry", str(reg),
                           "--out", str(out), "--no-store"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["status"] == "done"
    rows = (out / "case_settlement.csv").read_text(encoding="utf-8").splitlines()
    assert sorted(r.split(",")[0].split("/")[0] for r in rows[1:]) == [
        "CM000001T76_25032", "DPM000001T76_25034", "HM000001T76_25031", "TM000001T76_25033"]

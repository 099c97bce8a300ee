"""Generated 5.x months: every file kind, versions by period, the 3.x parts XSD-valid, the
Q015 conditional obligations held by every case, and the C/T/D ground truth exact."""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from examples.generator import Config, generate
from examples.generator.versions import version_for

sys.path.insert(0, str(Path(__file__).parent))
from xsd3 import errors_3x  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "examples" / "registries"
ONCO = tuple(f"C{i:02d}" for i in range(98)) + tuple(f"D0{i}" for i in range(10))


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen5")
    summary = generate(Config(2025, 9, 3, 1200, 11, out, defects=0.15, kinds="HCTD"))
    return out, summary


def _truth(out: Path) -> list[dict[str, str]]:
    with open(next(out.glob("ground_truth_*.csv")), encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _zaps(out: Path):
    for f in sorted(out.glob("[HCTD]*.XML")):
        root = etree.parse(str(f)).getroot()
        for z in root.iter("ZAP"):
            yield f.stem, root, z


def test_every_kind_per_mo_with_its_l_file(month):
    out, _ = month
    names = {f.stem for f in out.glob("*.XML")}
    for mo in ("000001", "000002", "000003"):
        for prefix, seq in (("H", 1), ("C", 2), ("T", 3), ("DP", 4), ("DO", 5)):
            name = f"{prefix}M{mo}T76_2509{seq}"
            assert name in names, name
            pers = etree.parse(str(out / f"LM{mo}T76_2509{seq}.XML")).getroot()
            assert pers.findtext("ZGLV/FILENAME1") == name


def test_version_in_force_per_kind_and_period(month):
    out, _ = month
    for f in out.glob("*.XML"):
        v = etree.parse(str(f)).getroot().findtext("ZGLV/VERSION")
        assert v == {"L": "3.2", "D": "5.0"}.get(f.name[0], "5.1"), f.name
    assert version_for("H", 2025, 3) == "5.0" and version_for("D", 2025, 9) == "5.0"
    assert version_for("H", 2024, 5) == "4.0" and version_for("T", 2024, 5) == "3.1"
    assert version_for("H", 2023, 1) == "3.2" and version_for("L", 2025, 9) == "3.2"


def test_unchanged_parts_valid_against_3x_xsd(month):
    out, _ = month
    bad = [e for f in sorted(out.glob("*.XML")) for e in errors_3x(f)]
    assert not bad, bad[:10]


def _q015_violations(stem: str, root, z) -> list[str]:
    """The conditional obligations of q015_checks.csv the generator must keep (clean or not)."""
    kind = stem[0]
    zsl = z.find("Z_SL")
    usl_ok = zsl.findtext("USL_OK")
    bad: list[str] = []
    idc = zsl.findtext("IDCASE")

    def need(cond: bool, rule: str) -> None:
        if not cond:
            bad.append(f"{stem}/{idc}: {rule}")

    need(Decimal(zsl.findtext("SUMV")) > 0, "003F.00.0070 SUMV > 0")
    for sl in zsl.iter("SL"):
        ds1 = sl.findtext("DS1") or ""
        onco = ds1.startswith(ONCO)
        has = lambda tag, sl=sl: sl.find(tag) is not None  # noqa: E731
        if kind == "H":
            need(not onco, "002F.00.0260 no oncology DS1 in H")
        if kind in "HCT" and usl_ok in ("1", "2"):
            need(has("PROFIL_K"), "003F.00.0640 PROFIL_K")
            need(zsl.find("KD_Z") is not None, "003F.00.0430 KD_Z")
            need(zsl.find("NPR_MO") is not None or zsl.findtext("FOR_POM") != "3", "003F.00.0400 NPR_MO")
        if kind in "HC" and usl_ok in ("1", "2"):
            need(has("P_PER") and has("KD"), "003F.00.0700/0740 P_PER, KD")
        if kind in "HC":
            need(has("P_CEL") == (usl_ok == "3"), "003F.00.0660/0670 P_CEL iff USL_OK 3")
            need(has("KSG_KPG") == (zsl.findtext("IDSP") == "33"), "003F.00.0800/0810 KSG_KPG iff IDSP 33")
        if kind in "HCT" and usl_ok == "3" and ds1 < "Z00.0":
            need(has("C_ZAB"), "003F.00.0761 C_ZAB")
        if kind in "CT":
            need(has("DS_ONK"), "DS_ONK required")
            need(not (sl.findtext("DS_ONK") == "1" or onco) or has("CONS"), "003F.00.0833 CONS")
            need(onco or not has("ONK_SL"), "003F.00.0902 no ONK_SL without oncology DS1")
            need(not onco or has("ONK_SL"), "003F.00.0872/0882 ONK_SL")
            need(not onco or has("C_ZAB"), "003F.00.0772 C_ZAB")
            need(not onco or Decimal(sl.findtext("TARIF") or "0") > 0, "003F.00.0932 TARIF")
            for c in sl.iter("CONS"):
                need(
                    (c.find("DT_CONS") is not None) == (c.findtext("PR_CONS") in ("1", "2", "3")),
                    "003F.00.1230/1240",
                )
        if kind == "C":
            need(sl.findtext("DS_ONK") == "1" or onco, "003F.00.0062 oncology in a C file")
        onk = sl.find("ONK_SL")
        if onk is not None:
            t = onk.findtext("DS1_T")
            tips = {u.findtext("USL_TIP") for u in onk.iter("ONK_USL")}
            need(t not in ("0", "1", "2", "3", "4") or onk.find("STAD") is not None, "003F.00.0980 STAD")
            if t == "0":
                need(all(onk.find(x) is not None for x in ("ONK_T", "ONK_N", "ONK_M")), "003F.00.0990 TNM")
            need(onk.find("MTSTZ") is None or t in ("1", "2"), "003F.00.1020 MTSTZ")
            radio = bool(tips & {"3", "4"})
            need(
                (onk.find("SOD") is not None) == radio == (onk.find("K_FR") is not None), "003F.00.1030–1060"
            )
            need(
                onk.find("BSA") is None or onk.find("WEI") is not None and onk.find("HEI") is not None,
                "1070/1080",
            )
            need(usl_ok not in ("1", "2") or t not in ("0", "1", "2") or bool(tips), "003F.00.1090 ONK_USL")
            for u in onk.iter("ONK_USL"):
                tip = u.findtext("USL_TIP")
                need((u.find("HIR_TIP") is not None) == (tip == "1"), "003F.00.1410/1420 HIR_TIP")
                need((u.find("LEK_TIP_L") is not None) == (tip == "2"), "003F.00.1430/1440 LEK_TIP_L")
                need((u.find("LUCH_TIP") is not None) == (tip in ("3", "4")), "003F.00.1470/1480 LUCH_TIP")
                need((u.find("LEK_PR") is not None) == (tip in ("2", "4")), "003F.00.1490/1500 LEK_PR")
                if tip in ("1", "3", "4"):
                    need(
                        all(x.find("VID_VME") is not None for x in sl.iter("USL")),
                        "003F.00.1512 VID_VME per USL",
                    )
            for b in onk.iter("B_DIAG"):
                need(
                    (b.find("DIAG_RSLT") is not None) == (b.findtext("REC_RSLT") == "1"), "003F.00.1250/1260"
                )
        if kind == "D":
            need(root.findtext("SCHET/DISP") is not None, "003F.00.2100 DISP")
            need(zsl.find("RSLT_D") is not None and has("DS1") and has("PR_D_N"), "003F.00.2381/2452/2571")
            if zsl.findtext("RSLT_D") in ("3", "4", "5", "31", "32", "37"):
                need(has("NAZ"), "003F.00.3052 NAZ")
            for n in sl.iter("NAZ"):
                r = n.findtext("NAZ_R")
                need((n.find("NAZ_V") is not None) == (r == "3"), "003F.00.1290/1300 NAZ_V")
                need(n.find("NAZ_PMP") is None and n.find("NAZ_PK") is None, "003F.00.1370–1400")
        if kind == "T":
            need(all(has(x) for x in ("VID_HMP", "METOD_HMP", "TAL_D", "TAL_NUM", "TAL_P")), "T voucher")
            vme = {x.findtext("VID_VME") for x in sl.iter("USL")}
            need(vme == {sl.findtext("METOD_HMP")}, "001F.00.0640 VID_VME = V019 method on every USL")
    return bad


def test_q015_conditional_obligations_hold(month):
    out, _ = month
    bad = [v for stem, root, z in _zaps(out) for v in _q015_violations(stem, root, z)]
    assert not bad, bad[:20]


def test_special_kinds_ground_truth_exact(month):
    """On C, T and D files every labelled defect is in the XML, and nothing else is."""
    out, _ = month
    with open(out / "ERZ_2025-09.csv", encoding="utf-8") as fh:
        erz = {r["enp"]: r["smo"] for r in csv.DictReader(fh)}
    derived: set[tuple[str, str, str]] = set()
    seen: dict[tuple, str] = {}
    start = date(2025, 9, 1).isoformat()
    rows = sorted(
        _zaps(out), key=lambda r: (r[0][1:], r[0])
    )  # per МО and sequence: the order the engine ranks
    for stem, _root, z in rows:
        zsl, pac = z.find("Z_SL"), z.find("PACIENT")
        idc, enp = zsl.findtext("IDCASE"), pac.findtext("ENP")
        sl = zsl.find("SL")
        if stem[0] == "H":
            key = (
                zsl.findtext("LPU"),
                enp,
                zsl.findtext("USL_OK"),
                sl.findtext("PROFIL"),
                zsl.findtext("DATE_Z_1"),
            )
            seen.setdefault(key, idc)
            continue
        add = lambda k, stem=stem, idc=idc: derived.add((stem, idc, k))  # noqa: E731
        if enp not in erz:
            add("unknown_enp")
        elif erz[enp] != pac.findtext("SMO"):
            add("smo_mismatch")
        if Decimal(zsl.findtext("SUMV")) != sum(Decimal(s.findtext("SUM_M")) for s in zsl.iter("SL")):
            add("case_sum_mismatch")
        if zsl.findtext("DATE_Z_2") < start:
            add("date_outside_period")
        if zsl.findtext("USL_OK") and zsl.findtext("RSLT")[0] != zsl.findtext("USL_OK"):
            add("rslt_usl_ok_mismatch")
        key = (
            zsl.findtext("LPU"),
            enp,
            zsl.findtext("USL_OK"),
            sl.findtext("PROFIL"),
            zsl.findtext("DATE_Z_1"),
        )
        if key in seen:
            add("duplicate_case")
        seen.setdefault(key, idc)
    truth = {(t["file"], t["idcase"], t["defect"]) for t in _truth(out) if t["file"][0] in "CTD"}
    checkable = {t for t in truth if t[2] != "tariff_mismatch"}
    assert derived == checkable
    kinds = defaultdict(set)
    for f, _, k in truth:
        kinds[f[0]].add(k)
    assert kinds["C"] and kinds["D"], kinds  # defects reach the special kinds


def test_shipped_2025_03_cases_reproduced():
    """The H-only 3.x path draws as before: the shipped month's ERZ, L files and ground truth
    come out byte-identical (the H files gain only PROFIL_K and P_PER)."""
    shipped = SHIPPED / "2025-03"
    version = etree.parse(str(next(shipped.glob("HM*.XML")))).getroot().findtext("ZGLV/VERSION")
    out = Path(pytest.importorskip("tempfile").mkdtemp())
    generate(Config(2025, 3, 3, 450, 3, out, defects=0.05, version=version))
    for f in ("ERZ_2025-03.csv", "ground_truth_2025-03.csv", "LM000001T76_25031.XML"):
        assert (out / f).read_bytes() == (shipped / f).read_bytes(), f
    for f in shipped.glob("HM*.XML"):
        new = [
            ln
            for ln in (out / f.name).read_text("cp1251").splitlines()
            if "<PROFIL_K>" not in ln and "<P_PER>" not in ln
        ]
        old = [
            ln for ln in f.read_text("cp1251").splitlines() if "<PROFIL_K>" not in ln and "<P_PER>" not in ln
        ]
        assert new == old, f.name


def test_deterministic(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate(Config(2025, 9, 2, 300, 4, a, defects=0.1, kinds="HCTD"))
    generate(Config(2025, 9, 2, 300, 4, b, defects=0.1, kinds="HCTD"))
    for f in a.iterdir():
        assert f.read_bytes() == (b / f.name).read_bytes(), f.name


@pytest.mark.parametrize("month_dir", ["2025-03", "2025-09"])
def test_shipped_months_pass_flk_in_the_version_in_force(month_dir):
    from engine.oms.io import read_registry

    d = SHIPPED / month_dir
    year, month = (int(x) for x in month_dir.split("-"))
    for f in d.glob("*.XML"):
        v = etree.parse(str(f)).getroot().findtext("ZGLV/VERSION")
        assert v == version_for(f.name[0], year, month), f.name
    r = read_registry(sorted(d.glob("*.XML")), require_pers=True)
    assert r.ok, r.protocol[:5]
    kinds = {f.name[:2] if f.name[0] == "D" else f.name[0] for f in d.glob("*.XML")}
    assert kinds == ({"H", "L"} if month_dir == "2025-03" else {"H", "C", "T", "DP", "DO", "L"})


def test_first_half_of_2025_is_written_in_5_0_and_passes_flk(tmp_path):
    from engine.oms.io import read_registry

    generate(Config(2025, 4, 2, 300, 8, tmp_path, defects=0.1, kinds="HCTD"))
    files = sorted(tmp_path.glob("*.XML"))
    versions = {f.name[0]: etree.parse(str(f)).getroot().findtext("ZGLV/VERSION") for f in files}
    assert versions == {"H": "5.0", "C": "5.0", "T": "5.0", "D": "5.0", "L": "3.2"}
    r = read_registry(files, require_pers=True)
    assert r.ok, r.protocol[:5]

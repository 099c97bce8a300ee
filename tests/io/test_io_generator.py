"""Generator output: XSD-valid, deterministic, round-trips through the reader, ground truth is exact."""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from api.cli.main import main as cli
from engine.oms.io import read_registry
from examples.generator import Config, generate

ROOT = Path(__file__).parents[2]
SCHEMAS = ROOT / "engine" / "oms" / "io" / "schemas"
#: ZGLV/VERSION of the generated months (None: the one in force for the period)
V3 = None  # the version in force (5.0 for 2025-03)


@pytest.fixture(scope="module")
def month(tmp_path_factory):
    out = tmp_path_factory.mktemp("gen")
    summary = generate(Config(2025, 3, 3, 900, 7, out, defects=0.3, version=V3))
    return out, summary


def _truth(out: Path) -> list[dict[str, str]]:
    with open(out / "ground_truth_2025-03.csv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_files_validate_against_ffoms_xsd(month):
    out, _ = month
    mp = etree.XMLSchema(etree.parse(str(SCHEMAS / "MP_3.2.xsd")))
    pers = etree.XMLSchema(etree.parse(str(SCHEMAS / "PERS_3.2.xsd")))
    files = sorted(out.glob("*.XML"))
    assert len(files) == 6
    for f in files:
        schema = pers if f.name.startswith("L") else mp
        assert schema.validate(etree.parse(str(f))), (f.name, schema.error_log)
        assert b'encoding="windows-1251"' in f.read_bytes()[:60]


def test_round_trip_counts(month):
    out, summary = month
    r = read_registry(sorted(out.glob("*.XML")), require_pers=True)
    assert r.ok, r.protocol[:5]
    d = r.data
    assert d.count("case") == summary.cases and d.count("service") == summary.services
    per_file = defaultdict(lambda: [0, 0])
    for ref in d["case"]["account_ref"]:
        per_file[ref][0] += 1
    for ref in d["service"]["case_ref"]:
        per_file[ref.split("/")[0]][1] += 1
    assert {k: tuple(v) for k, v in per_file.items()} == summary.per_file
    assert all(v is not None for v in d["patient"]["fam"])  # every ID_PAC found its PERS


def test_money_consistent_except_injected(month):
    out, _ = month
    d = read_registry(sorted(out.glob("*.XML"))).data
    truth = _truth(out)
    bad_cases = {r["idcase"] for r in truth if r["defect"] == "case_sum_mismatch"}
    bad_accounts = {r["file"] for r in truth if r["defect"] == "summav_mismatch"}
    assert len(bad_accounts) == 1
    sum_m = defaultdict(Decimal)
    for ref, v in zip(d["sl"]["case_ref"], d["sl"]["sum_m"], strict=True):
        sum_m[ref] += Decimal(v)
    by_account = defaultdict(Decimal)
    for key, idcase, acc, sumv in zip(
        *(d["case"][c] for c in ("key", "idcase", "account_ref", "sumv")), strict=True
    ):
        assert (Decimal(sumv) != sum_m[key]) == (idcase in bad_cases)
        by_account[acc] += Decimal(sumv)
    for key, summav in zip(d["account"]["key"], d["account"]["summav"], strict=True):
        assert (Decimal(summav) != by_account[key]) == (key in bad_accounts)


def _age(dr: str, day: str) -> int:
    b, t = date.fromisoformat(dr), date.fromisoformat(day)
    return t.year - b.year - ((t.month, t.day) < (b.month, b.day))


def test_ground_truth_is_exact(month):
    """Each predicate holds for exactly the cases the ground truth names (no accidental defects)."""
    out, _ = month
    d = read_registry(sorted(out.glob("*.XML")), require_pers=True).data
    with open(out / "ERZ_2025-03.csv", encoding="utf-8") as fh:
        erz = {r["enp"]: r for r in csv.DictReader(fh)}
    pat = {k: i for i, k in enumerate(d["patient"]["key"])}
    c, p = d["case"], d["patient"]
    sl = {ref: i for i, ref in enumerate(d["sl"]["case_ref"])}
    rows = []
    for i in range(d.count("case")):
        j, s = pat[c["patient_ref"][i]], sl[c["key"][i]]
        rows.append({
            "idcase": c["idcase"][i], "usl_ok": c["usl_ok"][i], "rslt": c["rslt"][i], "d1": c["date_z_1"][i],
            "d2": c["date_z_2"][i], "enp": p["enp"][j], "smo": p["smo"][j], "w": p["w"][j], "dr": p["dr"][j],
            "profil": d["sl"]["profil"][s], "ds1": d["sl"]["ds1"][s],
        })  # fmt: skip
    found: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r["enp"] not in erz:
            found["unknown_enp"].add(r["idcase"])
        elif erz[r["enp"]]["smo"] != r["smo"]:
            found["smo_mismatch"].add(r["idcase"])
        if r["d2"] < "2025-03-01":
            found["date_outside_period"].add(r["idcase"])
        if r["rslt"][0] != r["usl_ok"]:
            found["rslt_usl_ok_mismatch"].add(r["idcase"])
        if r["profil"] == "136" and r["w"] == "1":
            found["female_profile_male"].add(r["idcase"])
        if r["ds1"].startswith("P") and _age(r["dr"], r["d1"]) > 1:
            found["p_diagnosis_over_1"].add(r["idcase"])
    pairs: dict[str, set[frozenset[str]]] = defaultdict(set)
    by_enp = defaultdict(list)
    for r in rows:
        by_enp[r["enp"]].append(r)
    for cases in by_enp.values():
        for n, a in enumerate(cases):
            for b in cases[n + 1 :]:
                pair = frozenset((a["idcase"], b["idcase"]))
                if a["profil"] == b["profil"] and a["d1"] == b["d1"] and a["usl_ok"] == b["usl_ok"]:
                    pairs["duplicate_case"].add(pair)
                elif a["usl_ok"] == b["usl_ok"] == "1" and a["d1"] <= b["d2"] and b["d1"] <= a["d2"]:
                    pairs["overlapping_stays"].add(pair)
                elif {a["usl_ok"], b["usl_ok"]} == {"1", "3"}:
                    stay, visit = (a, b) if a["usl_ok"] == "1" else (b, a)
                    if stay["d1"] < visit["d1"] <= visit["d2"] < stay["d2"]:
                        pairs["visit_inside_stay"].add(pair)
    expected: dict[str, set[str]] = defaultdict(set)
    expected_pairs: dict[str, set[frozenset[str]]] = defaultdict(set)
    for t in _truth(out):
        if t["related_idcase"]:
            expected_pairs[t["defect"]].add(frozenset((t["idcase"], t["related_idcase"])))
        elif t["idcase"]:
            expected[t["defect"]].add(t["idcase"])
    assert len(expected) + len(expected_pairs) >= 10, sorted(expected) + sorted(expected_pairs)
    for kind in expected:
        if kind not in ("case_sum_mismatch", "tariff_mismatch"):  # money: checked in the tests below
            assert found[kind] == expected[kind], kind
    for kind in ("duplicate_case", "overlapping_stays", "visit_inside_stay"):
        assert pairs[kind] == expected_pairs[kind], kind


def test_deterministic_with_seed(tmp_path):
    def digest(out: Path) -> dict[str, str]:
        return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(out.iterdir())}

    a = tmp_path / "a"
    b = tmp_path / "b"
    generate(Config(2025, 3, 2, 120, 5, a, defects=0.1, zip=True, version=V3))
    generate(Config(2025, 3, 2, 120, 5, b, defects=0.1, zip=True, version=V3))
    assert digest(a) == digest(b)
    c = tmp_path / "c"
    generate(Config(2025, 3, 2, 120, 6, c, defects=0.1, zip=True, version=V3))
    assert digest(a) != digest(c)


def test_zip_output_round_trip(tmp_path):
    s = generate(Config(2025, 4, 2, 150, 3, tmp_path, zip=True, version=V3))
    zips = sorted(tmp_path.glob("*.zip"))
    assert [z.name for z in zips] == ["HM000001T76_25041.zip", "HM000002T76_25041.zip"]  # МО of mo_level.csv
    r = read_registry(zips, require_pers=True)
    assert r.ok and r.data.count("case") == s.cases and r.data.count("service") == s.services


def test_shipped_month_reads():
    month = ROOT / "examples" / "registries" / "2025-03"
    r = read_registry([month], require_pers=True)
    assert r.ok, r.protocol[:3]
    assert 300 <= r.data.count("case") <= 600 and r.data.count("account") == 3


def test_cli_validate_and_import(tmp_path, month, capsys):
    out, summary = month
    assert cli(["registry", "validate", str(out)]) == 0
    dest = tmp_path / "tables"
    assert cli(["registry", "import", str(out), "--out", str(dest), "--require-pers"]) == 0
    with open(dest / "case.csv", encoding="utf-8") as fh:
        assert sum(1 for _ in fh) == summary.cases + 1
    bad = tmp_path / "bad.XML"
    src = next(out.glob("HM*.XML")).read_bytes()
    bad.write_bytes(src.replace(b"<DATE_Z_1>", b"<DATE_Z_1>x", 1))
    proto = tmp_path / "p.json"
    assert cli(["registry", "validate", str(bad), "--protocol", str(proto)]) == 1
    assert "FLK-XSD-FORMAT" in proto.read_text(encoding="utf-8")
    assert "Пакет не принят" in capsys.readouterr().out


def test_pairing_and_pers_errors(tmp_path, month):
    out, _ = month
    h = out / "HM000001T76_25031.XML"
    lf = out / "LM000001T76_25031.XML"
    alone = read_registry([lf])
    assert [(e.code, e.file, e.line) for e in alone.protocol] == [("FLK-PAIR-NO-H", lf.name, 3)]
    assert alone.data is None
    assert [e.code for e in read_registry([h], require_pers=True).protocol] == ["FLK-PAIR-NO-L"]

    data = lf.read_bytes()
    start = data.index(b"<PERS>")
    end = data.index(b"</PERS>\n") + len(b"</PERS>\n")
    (tmp_path / lf.name).write_bytes(data[:start] + data[end:])
    (tmp_path / h.name).write_bytes(h.read_bytes())
    r = read_registry([tmp_path / h.name, tmp_path / lf.name])
    assert not r.ok and r.data is None and r.protocol
    for e in r.protocol:
        assert (e.code, e.file, e.path) == ("FLK-PERS-MISSING", h.name, "ZL_LIST/ZAP/PACIENT/ID_PAC")
        assert e.n_zap and e.line
        assert "ID_PAC" in e.message


# --- priced by the package; specialties; ages (examples/generator/package.py) -----------------

FEDERAL = ROOT / "methodologies" / "federal" / "2025"


@pytest.fixture(scope="module")
def priced(month):
    """The 900-case month (30 % defects) through the whole federal package: pricing + МЭК."""
    from engine.oms.pipeline import process
    from engine.runtime.compiler import compile_package

    out, _ = month
    res = process(compile_package(FEDERAL), [out], {"insured": out / "ERZ_2025-03.csv"})
    assert res.status == "done"
    by_case: dict[str, set[str]] = defaultdict(set)
    data = res.run.data
    case_keys = data.entities["case"].keys
    for d in res.run.defects.defects:
        ent = data.entities[d.entity]
        if d.entity in ("sl", "service"):
            by_case[str(case_keys[ent.rel["case"][ent.row_index(d.row_key)]])].add(d.check)
        else:
            by_case[d.row_key].add(d.check)
    return out, res, by_case


def test_tariffs_come_from_the_package(priced):
    """Clean cases carry exactly the package's tariff: no 1.7.1/1.7.2, no registry-arithmetic
    defects; the tariff checks fire on the injected «tariff_mismatch» cases and on no other."""
    out, res, by_case = priced
    truth = _truth(out)
    labelled = {f"{t['file']}/{t['idcase']}": t["defect"] for t in truth if t["idcase"]}
    money_checks = {"tariff_missing", "tariff_mismatch", "case_sum_arith", "service_sum_arith",
                    "ksg_tariff_arith", "ksg_coef_missing"}  # fmt: skip
    case_keys = [str(k) for k in res.run.data.entities["case"].keys]
    assert len(case_keys) == 900
    for key in case_keys:
        hit = by_case.get(key, set()) & money_checks
        kind = labelled.get(key)
        if kind is None:
            assert not by_case.get(key), (key, by_case.get(key))  # a clean case: no defect at all
        elif kind == "tariff_mismatch":
            assert hit == {"tariff_mismatch"}, (key, hit)  # above the agreement, own arithmetic right
        elif kind == "case_sum_mismatch":
            assert "case_sum_arith" in hit, (key, hit)
    assert any(k == "tariff_mismatch" for k in labelled.values())


def test_prvs_by_vidpom_and_age(month):
    """PRVS: from the FFOMS sets of rules 003K.00.0490/0500/0510 for the case's VIDPOM; the
    specialties rules 0830–0940 name (prvs_group.csv) only for patients of their age/sex."""
    out, _ = month
    d = read_registry(sorted(out.glob("*.XML")), require_pers=True).data
    sets: dict[str, set[str]] = defaultdict(set)
    with open(FEDERAL / "mek" / "tables" / "vidpom_prvs.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            sets[r["rule"]].add(r["prvs"])
    with open(FEDERAL / "mek" / "tables" / "prvs_group.csv", encoding="utf-8") as fh:
        group = {r["prvs"]: r["grp"] for r in csv.DictReader(fh)}
    sl = {ref: i for i, ref in enumerate(d["sl"]["case_ref"])}
    pat = {k: i for i, k in enumerate(d["patient"]["key"])}
    labelled = {r["idcase"] for r in _truth(out) if r["defect"] == "female_profile_male"}
    c, p = d["case"], d["patient"]
    seen = set()
    for i in range(d.count("case")):
        vidpom, prvs = c["vidpom"][i], d["sl"]["prvs"][sl[c["key"][i]]]
        seen.add((vidpom, prvs))
        if vidpom in {"11", "12", "13", "31", "32", "33"}:
            assert prvs not in sets["0490"], (vidpom, prvs)
        if vidpom in {"12", "13", "31"}:
            assert prvs not in sets["0500"], (vidpom, prvs)
        if vidpom in {"21", "22", "23"}:
            assert prvs in {"66", "283", "4", "49"}, (vidpom, prvs)
        j = pat[c["patient_ref"][i]]
        age, w = _age(p["dr"][j], c["date_z_1"][i]), p["w"][j]
        grp = group.get(prvs)
        assert not (grp == "child" and age >= 18) and not (grp == "neonat" and age >= 1), (prvs, age)
        assert not (grp == "adult" and age < 18) and not (grp == "therapy" and age < 15), (prvs, age)
        assert not (grp == "geriatr" and age < 65), (prvs, age)
        assert grp != "obgyn" or w == "2" or c["idcase"][i] in labelled, (prvs, w)
    assert {v for v, _ in seen} >= {"21", "31", "12", "13"}


def test_patient_born_insured_and_of_age_on_case_start(month):
    """Fixes found on a 20 000-case month: a paediatric profile for a patient who is 18 on
    DATE_Z_1, a newborn's stay that starts before birth or before the policy begins."""
    out, _ = month
    d = read_registry(sorted(out.glob("*.XML")), require_pers=True).data
    with open(out / "ERZ_2025-03.csv", encoding="utf-8") as fh:
        erz = {r["enp"]: r for r in csv.DictReader(fh)}
    shifted = {r["idcase"] for r in _truth(out) if r["defect"] == "date_outside_period"}
    sl = {ref: i for i, ref in enumerate(d["sl"]["case_ref"])}
    pat = {k: i for i, k in enumerate(d["patient"]["key"])}
    c, p = d["case"], d["patient"]
    for i in range(d.count("case")):
        j, s = pat[c["patient_ref"][i]], sl[c["key"][i]]
        d1, dr = c["date_z_1"][i], p["dr"][j]
        assert dr <= d1, (c["idcase"][i], dr, d1)
        age = _age(dr, d1)
        profil, det = d["sl"]["profil"][s], d["sl"]["det"][s]
        assert not (profil == "68" and age >= 18) and not (det == "1" and age >= 18), (profil, age)
        assert not (profil == "55" and age >= 1), (profil, age)
        if p["enp"][j] in erz and c["idcase"][i] not in shifted:
            assert erz[p["enp"][j]]["date_beg"] <= d1, (c["idcase"][i], d1)


def test_unknown_package_codes_are_not_generated(tmp_path):
    """МО beyond the package's level table get no КС/ДС (they would have no KSG tariff)."""
    s = generate(Config(2025, 3, 5, 400, 11, tmp_path, version=V3))
    d = read_registry(sorted(tmp_path.glob("*.XML"))).data
    lpus = set(d["case"]["lpu"])
    assert lpus <= {"000001", "000002", "000003", "760001", "760002"} and len(lpus) == 5
    for lpu, usl_ok in zip(d["case"]["lpu"], d["case"]["usl_ok"], strict=True):
        assert lpu.startswith("0000") or usl_ok in ("3", "4"), (lpu, usl_ok)
    assert s.cases == 400

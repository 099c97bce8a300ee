"""The FULL federal package (pricing + МЭК) on the shipped month against its ground truth.

Runs read + ФЛК → bind → tariffs → МЭК checks → settlement on the three H+L files of
examples/registries/2025-03 with the ЕРЗ — what ``metodika run methodologies/federal/2025 …``
does — then compares detections with ``ground_truth_2025-03.csv``: every injected defect must
be found by the check meant for it, with the F014 code the generator expects (full recall);
clean cases and accounts must have no defect at all (zero false positives). The generator
prices cases with this package (examples/generator/package.py), so the tariff checks 1.7.1 /
1.7.2 and the registry arithmetic 1.4.5 hold on clean cases.

Another generated month can be scored the same way:
``METODIKA_GROUND_TRUTH_MONTH=DIR pytest tests/engine/test_mek_ground_truth.py`` (DIR holds the
H/L files, ``ERZ_YYYY-MM.csv`` and ``ground_truth_YYYY-MM.csv`` of one month).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from engine.backends.numpy.checks import run_checks
from engine.backends.numpy.evaluator import Evaluator
from engine.oms.pipeline import process
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import bind
from engine.testing import build_input
from examples.generator.q015_defects import BY_ID as Q015_BY_ID
from examples.generator.q015_defects import KIND as Q015_KIND

ROOT = Path(__file__).resolve().parents[2]
PKG = ROOT / "methodologies" / "federal" / "2025"
MONTH = Path(os.environ.get("METODIKA_GROUND_TRUTH_MONTH") or ROOT / "examples" / "registries" / "2025-03")
TRUTH = next(MONTH.glob("ground_truth_*.csv"))
ERZ = next(MONTH.glob("ERZ_*.csv"))

#: defect kind of the generator -> checks that are "the right check" for it (the first is the main one)
RIGHT = {
    "duplicate_case": {"duplicate_case"},
    "visit_inside_stay": {"visit_in_stay"},
    "rslt_usl_ok_mismatch": {"rslt_usl_ok"},
    "female_profile_male": {"profil_sex", "prvs_obgyn_0840", "usl_prvs_obgyn_0900", "ds1_sex"},
    "p_diagnosis_over_1": {"p_class_ds1"},
    "smo_mismatch": {"smo_mismatch"},
    "unknown_enp": {"enp_not_in_erz"},
    "date_outside_period": {"date_outside_period"},
    "overlapping_stays": {"overlapping_stays"},
    "case_sum_mismatch": {"case_sum_arith"},
    "summav_mismatch": {"account_summav"},
    "tariff_mismatch": {"tariff_mismatch"},
}

MEK_VIEW = """id: federal-mek-view
version: 2025.1.0
title: МЭК-часть федерального пакета (для теста на эталонном месяце)
valid_from: 2011-01-01
schema: [schema.yaml, mek/schema.yaml]
parameters: [mek/parameters.yaml]
tables: [mek/tables.yaml]
modules: [mek/common.rules, mek/account.rules, mek/dates.rules, mek/outcome.rules, mek/kinds.rules, mek/demography.rules, mek/repeats.rules, mek/identification.rules, mek/license.rules, mek/limits.rules, mek/tariff.rules, mek/flk.rules, mek/conditions.rules, mek/dispensary.rules, mek/program.rules, mek/license_terms.rules, mek/staff.rules, mek/included.rules]
tests: []
"""


def mek_view(tmp: Path) -> Path:
    view = tmp / "federal-mek"
    view.mkdir()
    # copies, not symlinks: a package reads only files inside itself (engine/runtime/pkgfiles.py)
    shutil.copy(PKG / "schema.yaml", view / "schema.yaml")
    shutil.copytree(PKG / "mek", view / "mek")
    (view / "methodology.yaml").write_text(MEK_VIEW, encoding="utf-8")
    return view


@pytest.fixture(scope="module")
def month():
    m = compile_package(PKG)
    res = process(m, [MONTH], {"insured": ERZ})
    assert res.status == "done", res.protocol or res.data_problems
    return m, res


def _truth(path: Path = TRUTH) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _detections(res) -> dict[str, list]:
    """Case key (FILE/IDCASE) or account key -> defects; a defect of an entity inside a case (SL,
    service, performer, ONK_SL, NAZ, …) is carried up its relations to its case."""
    data = res.run.data
    out: dict[str, list] = defaultdict(list)
    for d in res.run.defects.defects:
        entity, row = d.entity, data.entities[d.entity].row_index(d.row_key)
        while entity not in ("case", "account", "patient"):
            rel = data.entities[entity].rel
            up = "case" if "case" in rel else next(iter(rel))  # sl → case, mr_usl_n → service → case, …
            entity, row = _target(up, entity), int(rel[up][row])
        out[str(data.entities[entity].keys[row])].append(d)
    return out


#: relation name -> the entity it points to, where they differ
_REL_TARGET = {"medorg": "medorg", "smo_org": "smo"}


def _target(rel: str, _entity: str) -> str:
    return _REL_TARGET.get(rel, rel)


def _key(t: dict) -> str:
    return f"{t['file']}/{t['idcase']}" if t["idcase"] else t["file"]


def _right(t: dict, d) -> bool:
    """Is ``d`` the check meant for the labelled defect ``t``? A catalogue defect: its Q015 ID."""
    if t["defect"] == Q015_KIND:
        return d.catalogue == t["catalogue"]
    return d.check in RIGHT[t["defect"]]


def score(res, truth: list[dict] | None = None) -> dict:
    """Recall per defect kind (a catalogue defect per Q015 ID), wrong F014 codes, catalogue IDs
    reported on a catalogue defect beyond the one injected, false positives (per file kind)."""
    truth = _truth() if truth is None else truth
    det = _detections(res)
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    catalogue: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])  # (file kind, ID)
    wrong_code: list[str] = []
    catalogue_extra: list[str] = []
    labelled: set[str] = set()
    by_file_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for t in truth:
        key = _key(t)
        labelled.add(key)
        found = [d for d in det.get(key, []) if _right(t, d)]
        kind = t["defect"] if t["defect"] != Q015_KIND else f"{Q015_KIND} {t['catalogue']}"
        per_kind[kind][1] += 1
        by_file_kind[t["file"][0]][1] += 1
        if t["defect"] == Q015_KIND:
            catalogue[(t["file"][0], t["catalogue"])][1] += 1
            allowed = {t["catalogue"], *Q015_BY_ID[t["catalogue"]].also}
            extra = {d.catalogue for d in det.get(key, []) if d.catalogue} - allowed
            if extra:
                catalogue_extra.append(f"{key} ({t['catalogue']}): {sorted(extra)}")
        if found:
            per_kind[kind][0] += 1
            by_file_kind[t["file"][0]][0] += 1
            if t["defect"] == Q015_KIND:
                catalogue[(t["file"][0], t["catalogue"])][0] += 1
            if not any(d.code == t["f014_osn"] for d in found):
                wrong_code.append(f"{key}: {[d.code for d in found]} ≠ {t['f014_osn']}")
    accounts = set(map(str, res.run.data.entities["account"].keys))
    fp: Counter = Counter()
    catalogue_fp: Counter = Counter()  # (file kind, Q015 ID) reported on a clean case
    clean_cases: Counter = Counter()  # per file kind (first letter of the file name)
    for key in map(str, res.run.data.entities["case"].keys):
        if key in labelled:
            continue
        clean_cases[key[0]] += 1
        for d in det.get(key, []):
            fp[(key[0], d.catalogue or d.check)] += 1
            if d.catalogue:
                catalogue_fp[(key[0], d.catalogue)] += 1
    account_fp = [d.check for k in accounts - labelled for d in det.get(k, [])]
    return {
        "per_kind": dict(per_kind),
        "catalogue": dict(catalogue),
        "catalogue_extra": catalogue_extra,
        "wrong_code": wrong_code,
        "fp": fp,
        "catalogue_fp": catalogue_fp,
        "clean_cases": sum(clean_cases.values()),
        "clean_by_file_kind": dict(clean_cases),
        "account_fp": account_fp,
        "by_file_kind": dict(by_file_kind),
    }


def test_recall_per_defect_kind(month):
    _, res = month
    s = score(res)
    lines = [f"{k}: {f}/{n}" for k, (f, n) in sorted(s["per_kind"].items())]
    print("\nrecall by kind: " + "; ".join(lines))
    missed = {k: (f, n) for k, (f, n) in s["per_kind"].items() if f < n}
    assert not missed, f"не найдены: {missed}"
    assert not s["wrong_code"], s["wrong_code"]


def test_no_false_positives_on_clean_cases(month):
    _, res = month
    s = score(res)
    print(f"\nclean cases: {s['clean_cases']}, false positives: {dict(s['fp'])}")
    assert not s["fp"], dict(s["fp"])
    assert not s["account_fp"], s["account_fp"]


def test_every_labelled_case_detected_by_some_check(month):
    _, res = month
    det = _detections(res)
    for t in _truth():
        assert det.get(_key(t)), f"{_key(t)} ({t['defect']}) без дефектов"


def test_settlement_totals_consistent(month):
    _, res = month
    s = res.settlement
    assert int(s.billed.sum()) == int(s.withheld.sum()) + int(s.accepted.sum())
    assert (s.withheld <= s.billed).all()


def test_dated_code_variant_before_and_after_231n():
    """The same duplicate: 5.7.2 (Kod 71) for a case of 01.05.2021, 1.10.2 (Kod 222) in 2025."""
    m = compile_package(mek_view(Path(_tmpdir())))
    codes = {}
    for day, year, month_ in (("2021-05-01", 2021, 5), ("2025-03-10", 2025, 3)):
        inp = {
            "account": [
                {
                    "key": "a",
                    "code": "1",
                    "code_mo": "760001",
                    "year": year,
                    "month": month_,
                    "nschet": "1",
                    "dschet": day,
                    "summav": "2000.00",
                    "version": "3.2",
                    "filename": "H",
                    "data": day,
                    "sd_z": 2,
                }
            ],
            "patient": [
                {
                    "key": "p",
                    "n_zap": 1,
                    "pr_nov": 0,
                    "id_pac": "1",
                    "vpolis": 3,
                    "enp": "7600000000000001",
                    "novor": "0",
                    "w": 1,
                    "dr": "1980-01-15",
                }
            ],
            "case": [
                {
                    "key": k,
                    "n_zap": i,
                    "idcase": k,
                    "usl_ok": 3,
                    "vidpom": 12,
                    "for_pom": 3,
                    "lpu": "760001",
                    "date_z_1": day,
                    "date_z_2": day,
                    "rslt": 301,
                    "ishod": 304,
                    "idsp": 29,
                    "sumv": "1000.00",
                }
                for i, k in ((1, "c1"), (2, "c2"))
            ],
            "sl": [
                {
                    "key": f"s{k}",
                    "case_ref": k,
                    "sl_id": k,
                    "profil": 97,
                    "det": 0,
                    "nhistory": "1",
                    "date_1": day,
                    "date_2": day,
                    "ds1": "J06.9",
                    "prvs": 76,
                    "vers_spec": "V021",
                    "iddokt": "1",
                    "ed_col": 1,
                    "sum_m": "1000.00",
                }
                for k in ("c1", "c2")
            ],
        }
        data = bind(m.entities, build_input(m, inp, {}, None))
        table = run_checks(Evaluator(m, data, None), ["duplicate_case"])
        assert [d.row_key for d in table.defects] == ["c2"]
        codes[year] = (table.defects[0].code, table.defects[0].share)
    assert codes[2021] == ("5.7.2", 1.0)
    assert codes[2025] == ("1.10.2", 1.0)
    from forms.mek_outputs import f014_kod

    kod = f014_kod(m)
    assert kod["5.7.2"] == 71 and kod["1.10.2"] == 222 and kod["1.4.4"] == 207 and kod["1.5"] == 210


def _tmpdir() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="mek-view-")


def test_full_package_compiles():
    m = compile_package(PKG)
    assert len([c for c in m.checks if c in {x for s in RIGHT.values() for x in s}]) >= 10
    assert len(m.checks) >= 40


def test_checks_have_references_and_f014_codes(month):
    m, _ = month
    assert len(m.checks) >= 40
    for name, info in m.checks.items():
        assert info.ref and "231н" in info.ref, name
    with (PKG / "mek" / "tables" / "f014_mek.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    f014 = Path(__file__).parents[1] / "io" / "data" / "nsi" / "F014_defects.csv"
    real = {r["Kod"]: r["Osn"].rstrip(".") for r in csv.DictReader(f014.open(encoding="utf-8"))}
    assert real
    for r in rows:
        if "ДОПУЩЕНИЕ" not in r["note"]:
            assert real.get(r["kod"]) == r["osn"], r
    assert np.all([dt.date.fromisoformat(r["DATEBEG"]) for r in rows])


# --- generated 5.1 months with H, C, T and D files ------------------------------------------------


def _generated(tmp: Path, n_cases: int, seed: int, catalogue: float = 0.1):
    """A generated 5.1 month: 8 % МЭК defects, and a catalogue (Q015) defect in ``catalogue`` of
    the clean cases."""
    from examples.generator import Config, generate

    generate(Config(2025, 9, 3, n_cases, seed, tmp, defects=0.08, kinds="HCTD", catalogue=catalogue))
    res = process(compile_package(PKG), [tmp], {"insured": tmp / "ERZ_2025-09.csv"})
    assert res.status == "done", (res.protocol or res.data_problems)[:5]
    return res, _truth(tmp / "ground_truth_2025-09.csv")


def _assert_exact(res, truth) -> dict:
    s = score(res, truth)
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # injected, detected, IDs
    for (fk, _), (f, n) in s["catalogue"].items():
        by_kind[fk][0] += n
        by_kind[fk][1] += f
        by_kind[fk][2] += 1
    print(f"\nby file kind (found/labelled): {s['by_file_kind']}; clean cases: {s['clean_by_file_kind']}")
    print("catalogue defects by file kind (injected/detected/IDs): "
          + ", ".join(f"{k} {a}/{b}/{c}" for k, (a, b, c) in sorted(by_kind.items()))
          + f"; IDs: {len({i for _, i in s['catalogue']})}; on clean cases: {sum(s['catalogue_fp'].values())}")
    missed = {k: (f, n) for k, (f, n) in s["per_kind"].items() if f < n}
    assert not missed, f"не найдены: {missed}"
    assert not s["wrong_code"], s["wrong_code"][:10]
    assert set(s["by_file_kind"]) >= {"H", "C", "D"}, s["by_file_kind"]
    assert not s["catalogue_fp"], dict(s["catalogue_fp"])
    assert not s["catalogue_extra"], s["catalogue_extra"][:10]
    assert not s["fp"], dict(s["fp"])
    assert not s["account_fp"], s["account_fp"]
    assert set(by_kind) == {"H", "C", "T", "D"}, dict(by_kind)  # catalogue defects on every file kind
    return s


def test_generated_51_month_every_kind(tmp_path):
    """A small 5.1 month of every file kind with МЭК and catalogue defects: full recall (each
    catalogue defect reported with its Q015 ID and F014 code), no false positive, per file kind."""
    s = _assert_exact(*_generated(tmp_path, 2000, 21))
    assert len({i for _, i in s["catalogue"]}) >= 15, sorted(s["catalogue"])


def test_catalogue_defect_is_in_the_written_xml(tmp_path):
    """The ground truth's catalogue rows name cases whose XML really carries the edit."""
    from lxml import etree

    from examples.generator import Config, generate

    generate(Config(2025, 9, 2, 400, 7, tmp_path, kinds="HCTD", catalogue=0.3))
    rows = [t for t in _truth(tmp_path / "ground_truth_2025-09.csv") if t["defect"] == Q015_KIND]
    assert rows and all(t["catalogue"] in Q015_BY_ID and t["f014_osn"] for t in rows)
    zsl = {}
    for f in tmp_path.glob("[HCTD]*.XML"):
        for z in etree.parse(str(f)).getroot().iter("Z_SL"):
            zsl[(f.stem, z.findtext("IDCASE"))] = z
    checks = {
        "001F.00.0170": lambda z: z.findtext("VIDPOM") == "5",
        "003F.00.0640": lambda z: z.find("SL/PROFIL_K") is None and z.findtext("USL_OK") in ("1", "2"),
        "003F.00.0660": lambda z: z.find("SL/P_CEL") is None and z.findtext("USL_OK") == "3",
        "003F.00.2571": lambda z: z.find("SL/PR_D_N") is None,
        "006F.00.0310": lambda z: z.findtext("NPR_DATE") > z.findtext("DATE_Z_1"),
    }
    for t in rows:
        z = zsl[(t["file"], t["idcase"])]
        if t["catalogue"] in checks:
            assert checks[t["catalogue"]](z), t


@pytest.mark.slow
def test_generated_51_month_20000_cases(tmp_path, request):
    """The «Must show» month: ≥ 20 000 cases of every kind, every injected defect found — every
    catalogue defect the generator knows among them, by its Q015 ID — and 0 FP.
    Runs with ``pytest -m slow``."""
    if "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("долгий тест: запускается с -m slow")
    res, truth = _generated(tmp_path, 20_000, 5)
    assert len(res.run.data.entities["case"].keys) >= 20_000
    s = _assert_exact(res, truth)
    assert {i for _, i in s["catalogue"]} == set(Q015_BY_ID)

"""Catalogue (Q015) defects of the generator: the codes written are really absent from the books,
a month without ``catalogue`` keeps its ground truth as before, a month with it labels each
edited case with one catalogue ID and leaves every other case as clean as before.
(Detection by the federal package: tests/engine/test_mek_ground_truth.py.)"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import pytest
from lxml import etree

from examples.generator import Config, generate
from examples.generator.q015_defects import BY_ID, DEFECTS, KIND

sys.path.insert(0, str(Path(__file__).parent))
from test_generator_5x import _q015_violations  # noqa: E402

PKG = Path(__file__).resolve().parents[2] / "methodologies" / "federal" / "2025"
#: catalogue ID -> (book of the package, code written instead of a valid one)
WRONG_CODES = {
    "001F.00.0170": ("mek/tables/v008.csv", "5"),
    "001F.00.0180": ("catalogue/tables/v014.csv", "4"),
    "001F.00.0270": ("mek/tables/v002.csv", "186"),
    "001F.00.0280": ("catalogue/tables/v020.csv", "86"),
    "001F.00.0290": ("catalogue/tables/v025.csv", "2.4"),
    "001F.00.0300": ("catalogue/tables/v027.csv", "4"),
    "001F.00.0310": ("catalogue/tables/v021.csv", "1134"),
    "001F.00.0663": ("catalogue/tables/v021.csv", "1134"),
    "001F.00.0661": ("catalogue/tables/v021.csv", "1134"),
    "001F.00.0410": ("catalogue/tables/n018.csv", "7"),
    "001F.00.0400": ("catalogue/tables/n019.csv", "5"),
    "001F.00.0520": ("catalogue/tables/n014.csv", "7"),
    "001F.00.0550": ("catalogue/tables/n017.csv", "4"),
    "001F.00.0530": ("catalogue/tables/n015.csv", "5"),
    "001F.00.0250": ("catalogue/tables/v018.csv", "09.00.001"),
    "001F.00.0240": ("catalogue/tables/v017.csv", "8"),
    "001F.00.0350": ("catalogue/tables/v029.csv", "5"),
}


def test_wrong_codes_are_not_in_force_in_the_books():
    """Absent from the book, or its row closed before the generated months (2025)."""
    for cid, (book, code) in WRONG_CODES.items():
        with (PKG / book).open(encoding="utf-8") as fh:
            rows = [r for r in csv.DictReader(fh) if next(iter(r.values())) == code]
        assert all(r["DATEEND"] and r["DATEEND"] < "2025-01-01" for r in rows), (cid, book, code)
        assert code in BY_ID[cid].what, cid  # the description names the code written


def test_defects_cover_every_file_kind_and_name_real_catalogue_ids():
    with (PKG / "catalogue" / "q015_ids.csv").open(encoding="utf-8") as fh:
        listed = {r["id"] for r in csv.DictReader(fh)}
    rules = "\n".join(p.read_text(encoding="utf-8") for p in (PKG / "catalogue").glob("*.rules"))
    implemented = set(re.findall(r'catalogue "([^"]+)"', rules))
    assert len(DEFECTS) == len(BY_ID) >= 15
    for d in DEFECTS:
        assert d.id in listed and d.id in implemented, d.id
        assert set(d.kinds) <= set("HCTD") and d.f014 in ("1.4.3", "1.4.4")
    for kind in "HCTD":
        assert len([d for d in DEFECTS if kind in d.kinds]) >= 4, kind


def _truth(out: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(out / "ground_truth_2025-09.csv", encoding="utf-8") as fh:
        rd = csv.DictReader(fh)
        return list(rd.fieldnames or []), list(rd)


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    plain, marked = tmp_path_factory.mktemp("plain"), tmp_path_factory.mktemp("q015")
    generate(Config(2025, 9, 2, 600, 13, plain, defects=0.1, kinds="HCTD"))
    generate(Config(2025, 9, 2, 600, 13, marked, defects=0.1, kinds="HCTD", catalogue=0.25))
    return plain, marked


def test_without_catalogue_the_ground_truth_has_no_catalogue_column(months):
    plain, _ = months
    head, rows = _truth(plain)
    assert head == ["file", "idcase", "defect", "related_idcase", "f014_osn"]
    assert rows and all(r["defect"] != KIND for r in rows)


def test_catalogue_rows_name_one_id_each_and_other_cases_stay_clean(months):
    _, marked = months
    head, rows = _truth(marked)
    assert head[-1] == "catalogue"
    q = [r for r in rows if r["defect"] == KIND]
    assert len({r["catalogue"] for r in q}) >= 15 and {r["file"][0] for r in q} == set("HCTD")
    for r in q:
        assert r["catalogue"] in BY_ID and r["f014_osn"] == BY_ID[r["catalogue"]].f014 and not r["related_idcase"]
    assert all(r["catalogue"] == "" for r in rows if r["defect"] != KIND)
    assert len({(r["file"], r["idcase"]) for r in rows}) == len(rows)  # one label per case
    edited = {(r["file"], r["idcase"]) for r in q}
    bad = []
    for f in sorted(marked.glob("[HCTD]*.XML")):
        root = etree.parse(str(f)).getroot()
        for z in root.iter("ZAP"):
            if (f.stem, z.findtext("Z_SL/IDCASE")) not in edited:
                bad += _q015_violations(f.stem, root, z)
    assert not bad, bad[:10]

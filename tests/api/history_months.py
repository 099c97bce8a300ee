"""Two generated months for the history tests: February, and March with February's cases billed again.

March = a generated month of the same МО plus two records made from a February обращение (IDSP 30):
``rebilled`` — the same case again (231н 1.10.1: позиция оплачена ранее), ``visit`` — one of its
visits billed separately as IDSP 29 (1.10.3: its cost is in the tariff of the обращение accepted in
February). SUMMAV and SD_Z are kept consistent so the account itself has no defect.
"""

from __future__ import annotations

import copy
import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from lxml import etree

from examples.generator.generate import Config, generate

ROOT = Path(__file__).resolve().parents[2]
FEDERAL = ROOT / "methodologies" / "federal" / "2025"
INCLUSION = ROOT / "examples" / "reference" / "tariff_inclusion.csv"


@dataclass
class Months:
    feb: Path
    mar: Path
    erz: Path
    rebilled: str    # IDCASE of the re-billed обращение in March
    visit: str       # IDCASE of the separately billed visit in March
    source: str      # IDCASE of the February обращение


def _write(tree: etree._ElementTree, path: Path) -> None:
    path.write_bytes(etree.tostring(tree, xml_declaration=True, encoding="windows-1251"))


def _set(el: etree._Element, tag: str, value: str) -> None:
    for x in el.iter(tag):
        x.text = value


def make_months(root: Path) -> Months:
    feb, mar = root / "feb", root / "mar"
    generate(Config(2025, 2, 1, 40, 7, feb))
    generate(Config(2025, 3, 1, 30, 8, mar))
    fh, fl = next(feb.glob("HM*.XML")), next(feb.glob("LM*.XML"))
    mh, ml = next(mar.glob("HM*.XML")), next(mar.glob("LM*.XML"))
    ftree, mtree = etree.parse(str(fh)), etree.parse(str(mh))
    src = next(z for z in ftree.iter("ZAP") if z.findtext("Z_SL/IDSP") == "30" and len(z.findall("Z_SL/SL/USL")) >= 2)
    id_pac = src.findtext("PACIENT/ID_PAC")
    mroot = mtree.getroot()
    n_zap = max(int(z.findtext("N_ZAP")) for z in mroot.iter("ZAP"))
    added = Decimal("0")
    ids = []
    for k, kind in enumerate(("rebilled", "visit"), start=1):
        z = copy.deepcopy(src)
        _set(z, "N_ZAP", str(n_zap + k))
        _set(z, "ID_PAC", "990001")
        case_id = f"99{k:06d}"
        _set(z, "IDCASE", case_id)
        _set(z, "SL_ID", case_id)
        for j, usl in enumerate(z.iter("USL"), start=1):
            usl.find("IDSERV").text = f"{case_id}{j}"
        if kind == "visit":
            sl = z.find("Z_SL/SL")
            usls = sl.findall("USL")
            keep = usls[1]
            for u in usls:
                if u is not keep:
                    sl.remove(u)
            day = keep.findtext("DATE_IN")
            for tag in ("DATE_Z_1", "DATE_Z_2", "DATE_1", "DATE_2"):
                _set(z, tag, day)
            _set(z, "IDSP", "29")
            _set(z, "ED_COL", "1.00")
            _set(z, "P_CEL", "1.0")
        added += Decimal(z.findtext("Z_SL/SUMV"))
        mroot.append(z)
        ids.append(case_id)
    schet = mroot.find("SCHET")
    schet.find("SUMMAV").text = str(Decimal(schet.findtext("SUMMAV")) + added)
    zglv = mroot.find("ZGLV")
    zglv.find("SD_Z").text = str(int(zglv.findtext("SD_Z")) + 2)
    _write(mtree, mh)
    pers = copy.deepcopy(next(p for p in etree.parse(str(fl)).iter("PERS") if p.findtext("ID_PAC") == id_pac))
    pers.find("ID_PAC").text = "990001"
    ltree = etree.parse(str(ml))
    ltree.getroot().append(pers)
    _write(ltree, ml)
    erz = root / "ERZ.csv"
    rows: dict[str, list[str]] = {}
    header: list[str] = []
    for p in (next(feb.glob("ERZ*.csv")), next(mar.glob("ERZ*.csv"))):
        with p.open(encoding="utf-8", newline="") as f:
            r = csv.reader(f)
            header = next(r)
            for row in r:
                rows.setdefault(row[0], row)
    with erz.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows.values())
    for p in (*mar.glob("*.csv"), *feb.glob("*.csv")):
        p.unlink()
    return Months(feb, mar, erz, ids[0], ids[1], src.findtext("Z_SL/IDCASE"))


def corrected(src: Path, dst: Path, pr_nov: str) -> Path:
    """A copy of the registry in ``src`` with every PR_NOV set, under a new pack number (…_25032)."""
    dst.mkdir(parents=True, exist_ok=True)
    for p in src.glob("*.XML"):
        tree = etree.parse(str(p))
        _set(tree.getroot(), "PR_NOV", pr_nov)
        for tag in ("FILENAME", "FILENAME1"):
            for x in tree.getroot().iter(tag):
                x.text = x.text[:-1] + "2"
        nschet = tree.getroot().find("SCHET/NSCHET")
        if nschet is not None:
            nschet.text = nschet.text + "-2"
        _write(tree, dst / (p.stem[:-1] + "2.XML"))
    return dst

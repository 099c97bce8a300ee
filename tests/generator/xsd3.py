"""Check a generated 5.x file against the 3.x XSD of its kind, for the parts that did not change.

The 5.x-only elements (PACIENT/SOC, ENP of C/T files, LEK_PR/INJ) are taken out, each INJ leaving its DATE_INJ
in the 3.x place, and ZGLV/VERSION is set to the XSD's version; what remains must be valid.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

XSD_DIR = Path("/work/shared/reference/ffoms-xsd")
LOCAL = Path(__file__).resolve().parents[2] / "engine" / "oms" / "io" / "schemas"
#: file kind -> (XSD file, VERSION it declares)
XSD = {"H": ("MP_3.2.xsd", "3.2"), "C": ("ZNO_3.1.xsd", "3.1"), "T": ("VMP_3.1.xsd", "3.1"),
       "D": ("DISP_3.1_2021-08.xsd", "3.1"), "L": ("PERS_3.2.xsd", "3.2")}  # fmt: skip
_cache: dict[str, etree.XMLSchema] = {}


def schema(kind: str) -> etree.XMLSchema:
    name = XSD[kind][0]
    if name not in _cache:
        path = LOCAL / name if (LOCAL / name).exists() else XSD_DIR / name
        _cache[name] = etree.XMLSchema(etree.parse(str(path)))
    return _cache[name]


def as_3x(path: Path) -> tuple[str, etree._ElementTree]:
    kind = path.name[0]
    doc = etree.parse(str(path))
    root = doc.getroot()
    new_5x = ["SOC"] + (["ENP"] if kind in ("C", "T") else [])  # ENP is in no 3.1 C/T XSD
    for tag in new_5x:
        for e in list(root.iter(tag)):
            e.getparent().remove(e)
    for inj in list(root.iter("INJ")):
        lek = inj.getparent()
        date = inj.findtext("DATE_INJ")
        lek.remove(inj)
        new = etree.SubElement(lek, "DATE_INJ")
        new.text = date
    root.find("ZGLV/VERSION").text = XSD[kind][1]
    return kind, doc


def errors_3x(path: Path) -> list[str]:
    kind, doc = as_3x(path)
    s = schema(kind)
    if s.validate(doc):
        return []
    return [f"{path.name}:{e.line}: {e.message}" for e in s.error_log][:10]

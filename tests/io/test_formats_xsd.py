"""The 3.x descriptions agree with the real XSDs: same verdict and same first error line on valid
files and on every single-element corruption of them (deleted, too long, not a number, not a date,
outside the enumeration, unknown element, out of order)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from lxml import etree

from engine.oms.io.formats import load_formats
from engine.oms.io.xsdgen import xsd_text

sys.path.insert(0, str(Path(__file__).parent))
from xmlbuild import build  # noqa: E402

XSD_DIR = Path(__file__).parent / "data" / "xsd"
SAMPLES = Path(__file__).parent / "data"

#: (kind, version) -> (real XSD, optional elements written into the built sample)
CASES = {
    ("H", "3.1"): ("MP_3.1.xsd", {"KSG_KPG", "SL_KOEF", "CRIT", "DS2", "ENP", "SANK", "IT_SL"}),
    ("H", "3.2"): ("MP_3.2.xsd", {"KSG_KPG", "SL_KOEF", "CRIT", "DS2", "ENP", "LEK_PR", "LEK_DOSE", "MED_DEV",
                                  "WEI", "IT_SL"}),
    ("C", "3.1"): ("ZNO_3.1.xsd", {"ONK_SL", "B_DIAG", "B_PROT", "ONK_USL", "LEK_PR", "CONS", "NAPR", "KSG_KPG"}),
    ("T", "3.1"): ("VMP_3.1.xsd", {"ONK_SL", "B_DIAG", "ONK_USL", "LEK_PR", "CONS", "NAPR"}),
    ("D", "3.1"): ("DISP_3.1_2021-08.xsd", {"DS2_N", "NAZ", "RSLT_D", "DISP"}),
    ("L", "3.2"): ("PERS_3.2.xsd", {"FAM", "IM", "DOST", "SNILS"}),
}  # fmt: skip

_LINE = re.compile(rb"^<([A-Z_0-9]+)>([^<]*)</\1>$")


def _verdict(schema: etree.XMLSchema, data: bytes) -> tuple[bool, int | None]:
    doc = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    ok = schema.validate(doc)
    return ok, (None if ok else min(e.line for e in schema.error_log))


def _schemas(kind: str, version: str) -> tuple[etree.XMLSchema, etree.XMLSchema, bytes]:
    desc = load_formats().get(kind, version)
    assert desc is not None
    xsd_name, optional = CASES[(kind, version)]
    real = etree.XMLSchema(etree.parse(str(XSD_DIR / xsd_name)))
    ours = etree.XMLSchema(etree.fromstring(xsd_text(desc).encode()))
    values = {"VERSION": version, "YEAR": 2021, "MONTH": 4}
    return real, ours, build(desc, values, optional)


def _mutations(sample: bytes):
    lines = sample.split(b"\n")
    for i, line in enumerate(lines):
        m = _LINE.match(line)
        if not m:
            continue
        tag, value = m.group(1), m.group(2)

        def put(new: bytes, i=i) -> bytes:
            return b"\n".join(lines[:i] + [new] + lines[i + 1 :])

        yield f"{tag.decode()} deleted", put(b"")
        yield f"{tag.decode()} too long", put(b"<%s>%s</%s>" % (tag, value + b"9" * 1001, tag))
        yield f"{tag.decode()} not a number", put(b"<%s>x</%s>" % (tag, tag))
        yield f"{tag.decode()} not a date", put(b"<%s>2021-02-30</%s>" % (tag, tag))
        yield f"{tag.decode()} 7", put(b"<%s>7</%s>" % (tag, tag))
        yield f"{tag.decode()} empty", put(b"<%s></%s>" % (tag, tag))
        yield f"unknown before {tag.decode()}", put(b"<FOO>1</FOO>" + line)
        if i + 1 < len(lines) and _LINE.match(lines[i + 1]):
            swapped = lines[:i] + [lines[i + 1], line] + lines[i + 2 :]
            yield f"{tag.decode()} swapped with next", b"\n".join(swapped)


@pytest.mark.parametrize("kind,version", sorted(CASES))
def test_description_agrees_with_xsd(kind, version):
    real, ours, sample = _schemas(kind, version)
    assert _verdict(real, sample) == (True, None), real.error_log
    assert _verdict(ours, sample) == (True, None), ours.error_log
    checked = 0
    for what, data in _mutations(sample):
        assert _verdict(ours, data) == _verdict(real, data), what
        checked += 1
    assert checked > 80


@pytest.mark.parametrize("sample,kind,version", [("H_VALID.XML", "H", "3.1"), ("D_VALID_08_2021.XML", "D", "3.1")])
def test_reference_samples_valid_by_both(sample, kind, version):
    real, ours, _ = _schemas(kind, version)
    data = (SAMPLES / sample).read_bytes()
    assert _verdict(real, data) == _verdict(ours, data) == (True, None)
    broken = data.replace(b"<DATE_Z_2>", b"<DATE_Z_3>1</DATE_Z_3><DATE_Z_2>", 1)
    assert _verdict(real, broken) == _verdict(ours, broken) and not _verdict(ours, broken)[0]

"""One H-file with SANK, written streaming: the source is read with ``iterparse`` and each ZAP is
rewritten and written out with lxml's incremental writer (``etree.xmlfile``) before the next is
read, so memory holds one ZAP, not the file. Runs in a worker process (stdlib + lxml only).

The output is byte for byte what serializing the whole rewritten tree gives (the writer before
this one, kept as the oracle in tests/forms/sank_oracle.py): the same declaration, whitespace
kept as in the source, inserted elements followed by a newline. Values the tree writer took from
the whole document (ZGLV/FILENAME, SCHET/NSCHET, the account totals SUMMAP and SANK_MEK, which
precede the ZAPs) come from the run's results; when the file turns out to disagree (a case of
another file, a SCHET after its ZAPs), the file is written again with the values it has.

What is written is validated against «САНКЦИИ / МП 3.2» in memory a batch of ZAPs at a time
(the file-wide unique keys across batches), and the file is renamed into place only if valid.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import uuid
import zipfile
from copy import deepcopy
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO

from lxml import etree

SANK_XSD = Path(__file__).resolve().parents[1] / "engine" / "oms" / "io" / "schemas" / "SANK_MP_3.2.xsd"
_NS_UUID = uuid.UUID("6f1c3d1e-8b0e-4c55-9a53-0f5a0d6c0001")
_PARSE = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
ENCODING = "windows-1251"
_TOP = ("ZGLV", "SCHET", "ZAP")   # the record-level elements of an H-file

#: (code F014 Osn, withheld kopecks, SL_ID of the SL it was found on, message)
GroundSank = tuple[str, int, tuple[str, ...], str]
#: (accepted kopecks, withheld kopecks, grounds)
CaseSank = tuple[int, int, tuple[GroundSank, ...]]


@dataclass(frozen=True)
class MekAct:
    """Requisites of the МЭК act that go into SANK."""

    date: dt.date = field(default_factory=dt.date.today)
    number_prefix: str = "МЭК"
    s_tip: int = 1   # F006: 1 — МЭК
    s_ist: int = 1   # источник санкции: 1 — ТФОМС (МЭК выполняет фонд)

    def number(self, nschet: str) -> str:
        return f"{self.number_prefix}-{nschet}"[:30]


def _open(path: Path, member: str | None) -> IO[bytes]:
    if member is None:
        return path.open("rb")
    archive = zipfile.ZipFile(path)
    stream = archive.open(member)
    archive.close()   # the open member keeps the archive's file until it is closed itself
    return stream


#: a registry H-file: (file, None) or (ZIP archive, member name)
Source = tuple[Path, str | None]


def source_name(src: Source) -> str:
    return Path(src[1] or src[0].name).name


def source_size(src: Source) -> int:
    if src[1] is None:
        return src[0].stat().st_size
    with zipfile.ZipFile(src[0]) as z:
        return z.getinfo(src[1]).file_size


@dataclass
class Job:
    source: Source
    filename: str                     # ZGLV/FILENAME the cases belong to (the results' account file)
    cases: dict[str, CaseSank]        # IDCASE -> what to write
    act: MekAct
    kod: dict[str, int]               # F014 Osn -> Kod
    out_dir: Path
    nschet: str | None = None         # known SCHET/NSCHET (second pass)
    totals: tuple[int, int] | None = None   # (SUMMAP, SANK_MEK) in kopecks, when known


@dataclass
class Outcome:
    name: str
    filename: str                     # as read from the file's ZGLV/FILENAME
    status: str                       # written | invalid | other_file
    target: Path | None = None
    problems: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    peak_mb: float = 0.0              # the writing process's peak RSS (VmHWM; 0 where unknown)


@dataclass
class _Seen:
    filename: str | None = None
    nschet: str | None = None
    zap_before_schet: bool = False    # a ZAP came before SCHET (its NUM_ACT lacked NSCHET)
    accepted: int = 0
    withheld: int = 0
    errors: list[str] = field(default_factory=list)   # SANK МП 3.2 errors of what was written


class _Checker:
    """SANK МП 3.2 over the written elements, a batch of ZAPs at a time, in memory.

    The skeleton holds every other child of the root (copies: ZGLV, SCHET …) in document order,
    the ZAPs of the current batch and the last ZAP of the batch before (so an element out of
    order after a flushed batch is still out of order). The file-wide unique constraints of the
    schema (N_ZAP, Z_SL/IDCASE) are checked across batches here."""

    BATCH = 2000
    UNIQUE = {"N_ZAP": "N_ZAP", "IDCASE": "Z_SL/IDCASE"}   # the schema's file-wide xs:unique

    def __init__(self, root) -> None:
        self.skel = etree.Element(root.tag, dict(root.attrib), nsmap=root.nsmap or None)
        self.errors: list[str] = []
        self.keys: dict[str, set[str]] = {name: set() for name in self.UNIQUE}
        self.batch = 0

    def add(self, el) -> None:
        if self.errors:
            return
        if el.tag != "ZAP":
            self.skel.append(deepcopy(el))
            return
        for name, path in self.UNIQUE.items():
            value = el.findtext(path)
            if value is None:
                continue
            if value.strip() in self.keys[name]:
                self.errors.append(f"строка {el.sourceline}: Element '{'ZAP' if name == 'N_ZAP' else 'Z_SL'}': "
                                   f"Duplicate key-sequence ['{value.strip()}'] in unique identity-constraint "
                                   f"'{name}'.")
                return
            self.keys[name].add(value.strip())
        self.skel.append(el)
        self.batch += 1
        if self.batch >= self.BATCH:
            self.check()
            zaps = [c for c in self.skel if c.tag == "ZAP"]
            for c in zaps[:-1]:
                self.skel.remove(c)
            self.batch = 0

    def check(self) -> None:
        if self.errors:
            return
        schema = sank_schema()
        if not schema.validate(self.skel):
            self.errors = [f"строка {e.line}: {e.message}" for e in list(schema.error_log)[:20]]


def money(kop: int) -> str:
    return f"{Decimal(kop) / 100:.2f}"


def declaration() -> bytes:
    """The XML declaration exactly as lxml's tree writer puts it before the root (``tostring`` differs)."""
    buf = io.BytesIO()
    etree.ElementTree(etree.Element("x")).write(buf, encoding=ENCODING, xml_declaration=True)
    doc = buf.getvalue()
    return doc[:doc.index(b"<x")]


_SCHEMA: etree.XMLSchema | None = None


def sank_schema() -> etree.XMLSchema:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = etree.XMLSchema(etree.parse(str(SANK_XSD)))
    return _SCHEMA


def _child(tag: str, text: str, parent=None):
    el = etree.Element(tag) if parent is None else etree.SubElement(parent, tag)
    el.text, el.tail = text, "\n"
    return el


def _sank(job: Job, filename: str, idcase: str, nschet: str, c: CaseSank, g: GroundSank, osn: int):
    act = job.act
    code, withheld, sl_ids, message = g
    sank = _child("SANK", "\n")
    _child("S_CODE", str(uuid.uuid5(_NS_UUID, f"{filename}/{idcase}/{code}/{act.date}")), sank)
    _child("S_SUM", money(withheld), sank)
    _child("S_TIP", str(act.s_tip), sank)
    for s in sl_ids:
        _child("SL_ID", s, sank)
    _child("S_OSN", str(osn), sank)
    _child("DATE_ACT", act.date.isoformat(), sank)
    _child("NUM_ACT", act.number(nschet), sank)
    if withheld or not c[1]:
        com = message
    else:
        applied = next((x[0] for x in c[2] if x[1]), "другому основанию")
        com = f"основание учтено, сумма удержана по {applied}"
    if com:
        _child("S_COM", com.replace("₽", "руб.")[:250], sank)
    _child("S_IST", str(act.s_ist), sank)
    return sank


def _rewrite_zap(job: Job, zap, filename: str, nschet: str, seen: _Seen, problems: list[str]) -> None:
    z = zap.find("Z_SL")
    if z is None:
        return
    idcase = (z.findtext("IDCASE") or "").strip()
    for el in [el for el in z if el.tag in ("OPLATA", "SUMP", "SANK", "SANK_IT")]:
        z.remove(el)
    c = job.cases.get(idcase)
    if c is None:
        problems.append(f"{filename}: случай IDCASE {idcase} не найден в результатах расчёта")
        return
    accepted, withheld, grounds = c
    new = [_child("OPLATA", str(1 if withheld == 0 else (2 if accepted == 0 else 3))),
           _child("SUMP", money(accepted))]
    for g in grounds:
        osn = job.kod.get(g[0])
        if osn is None:
            problems.append(f"{filename}: IDCASE {idcase}: код «{g[0]}» не найден в F014 — SANK не записан")
            continue
        new.append(_sank(job, filename, idcase, nschet, c, g, osn))
    if grounds:
        new.append(_child("SANK_IT", money(withheld)))
    pos = list(z).index(z.find("SUMV")) + 1
    z[pos:pos] = new
    seen.accepted += accepted
    seen.withheld += withheld


def _rewrite_schet(schet, totals: tuple[int, int]) -> None:
    for el in [el for el in schet if el.tag in ("SUMMAP", "SANK_MEK")]:
        schet.remove(el)
    for tag, value, after in (("SUMMAP", totals[0], ("SUMMAV", "COMENTS")),
                              ("SANK_MEK", totals[1], ("SUMMAV", "COMENTS", "SUMMAP"))):
        pos = max((i + 1 for i, c in enumerate(schet) if c.tag in after), default=0)
        schet.insert(pos, _child(tag, money(value)))


def _pass(job: Job, out: IO[bytes], problems: list[str]) -> _Seen:
    """Stream source → out once; what the file said (its FILENAME, NSCHET, totals) is returned."""
    seen = _Seen()
    totals = job.totals or (0, 0)
    out.write(declaration())

    def emit(xf, el) -> None:
        if el.tag == "ZGLV" and seen.filename is None:
            seen.filename = (el.findtext("FILENAME") or "").strip()
        elif el.tag == "SCHET" and seen.nschet is None:
            seen.nschet = (el.findtext("NSCHET") or "").strip()
            _rewrite_schet(el, totals)
        elif el.tag == "ZAP":
            if seen.nschet is None:
                seen.zap_before_schet = True
            nschet = job.nschet if job.nschet is not None else (seen.nschet or "")
            _rewrite_zap(job, el, seen.filename or job.filename, nschet, seen, problems)
        xf.write(el)

    def flush(child) -> None:
        """Write a finished child of the root (rewritten if it is the pending record) and drop it."""
        if child is pending:
            emit(xf, child)
        else:
            xf.write(child)
        root.remove(child)
        checker.add(child)

    with _open(*job.source) as fh, etree.xmlfile(out, encoding=ENCODING) as xf:
        # events only for the record-level elements (filtered in C); every other child of the
        # root is written in document order when the next record-level element has ended
        ctx = etree.iterparse(fh, events=("end",), tag=_TOP, **_PARSE)
        root, pending, opened, checker = None, None, None, None
        for _, el in ctx:
            parent = el.getparent()
            if parent is None or parent.getparent() is not None:
                continue                      # the root itself, or a nested element of that name
            if opened is None:
                root = parent
                for sib in reversed(list(root.itersiblings(preceding=True))):
                    xf.write(sib)
                opened = xf.element(root.tag, dict(root.attrib), root.nsmap or None)
                opened.__enter__()
                checker = _Checker(root)
                if root.text:
                    xf.write(root.text)
            while root[0] is not el:          # complete, their tails too: el has ended after them
                flush(root[0])
            pending = el
        root = ctx.root
        if root is None:
            raise etree.XMLSyntaxError("нет корневого элемента", None, 0, 0)
        if opened is None:
            xf.write(root)
            checker = _Checker(root)
            for child in list(root):
                checker.add(child)
        else:
            for child in list(root):
                flush(child)
            opened.__exit__(None, None, None)
        checker.check()
        seen.errors = checker.errors
    for sib in root.itersiblings():   # after the root: the incremental writer refuses them
        out.write(etree.tostring(sib, encoding=ENCODING, xml_declaration=False))
    return seen


def peak_rss_mb() -> float:
    """VmHWM of this process (Linux): unlike ru_maxrss it does not keep the parent's RSS a
    spawned worker had for a moment between fork and exec."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def write_file(job: Job) -> Outcome:
    """Write ``job.source`` with SANK into ``job.out_dir`` (valid files only, renamed into place)."""
    out = _write_file(job)
    out.peak_mb = peak_rss_mb()
    return out


def _write_file(job: Job) -> Outcome:
    name = source_name(job.source)
    job.out_dir.mkdir(parents=True, exist_ok=True)
    tmp = job.out_dir / f".{name}.{os.getpid()}.part"
    try:
        used = job.totals or (sum(c[0] for c in job.cases.values()), sum(c[1] for c in job.cases.values()))
        job.totals = used
        problems: list[str] = []
        with tmp.open("wb") as out:
            seen = _pass(job, out, problems)
        filename = seen.filename or ""
        if filename != job.filename:
            return Outcome(name, filename, "other_file")
        if (seen.accepted, seen.withheld) != used or (seen.zap_before_schet and job.nschet is None):
            job.totals, job.nschet = (seen.accepted, seen.withheld), seen.nschet or ""
            problems = []
            with tmp.open("wb") as out:
                seen = _pass(job, out, problems)
        errors = seen.errors
        if errors:
            return Outcome(name, filename, "invalid", problems=problems, errors=errors)
        target = job.out_dir / f"{filename or Path(name).stem}.XML"
        os.replace(tmp, target)
        return Outcome(name, filename, "written", target, problems)
    finally:
        tmp.unlink(missing_ok=True)

"""The SANK writer as it was before streaming (whole tree in memory): the oracle the streaming
writer (forms/sank_stream.py) is compared with, byte for byte. Test code only."""

from __future__ import annotations

import io
import uuid
import zipfile
from decimal import Decimal
from pathlib import Path

from lxml import etree

from forms.mek_outputs import CaseResult, MekAct, case_results, f014_kod, sank_schema
from forms.mek_outputs import _sources as mek_sources

_NS_UUID = uuid.UUID("6f1c3d1e-8b0e-4c55-9a53-0f5a0d6c0001")


def _sources(paths: list[Path]) -> list[tuple[str, bytes]]:
    """(name, bytes) of the H-files the writer reads (the selection is not what is compared)."""
    out = []
    for path, member in mek_sources(paths):
        if member is None:
            out.append((path.name, path.read_bytes()))
        else:
            with zipfile.ZipFile(path) as z:
                out.append((Path(member).name, z.read(member)))
    return out


_PARSER = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=True)


def _money(kop: int) -> str:
    return f"{Decimal(kop) / 100:.2f}"


def _set_after(parent, new_tag: str, text: str, after: tuple[str, ...]) -> None:
    """Set or insert `new_tag` right after the last present element named in `after`."""
    el = parent.find(new_tag)
    if el is None:
        el = etree.Element(new_tag)
        pos = 0
        for i, c in enumerate(parent):
            if c.tag in after:
                pos = i + 1
        parent.insert(pos, el)
        el.tail = "\n"
    el.text = text


def sank_document(source: bytes, by_case: dict[str, CaseResult], act: MekAct, kod: dict[str, int],
                  problems: list[str]) -> tuple[str, etree._ElementTree]:
    root = etree.fromstring(source, etree.XMLParser(**_PARSER))
    filename = (root.findtext("ZGLV/FILENAME") or "").strip()
    schet = root.find("SCHET")
    nschet = (schet.findtext("NSCHET") or "").strip() if schet is not None else ""
    total_p, total_s = 0, 0
    for zap in root.iter("ZAP"):
        z = zap.find("Z_SL")
        if z is None:
            continue
        idcase = (z.findtext("IDCASE") or "").strip()
        c = by_case.get(f"{filename}/{idcase}")
        for tag in ("OPLATA", "SUMP", "SANK", "SANK_IT"):
            for old in z.findall(tag):
                z.remove(old)
        if c is None:
            problems.append(f"{filename}: случай IDCASE {idcase} не найден в результатах расчёта")
            continue
        oplata = 1 if c.withheld == 0 else (2 if c.accepted == 0 else 3)
        pos = list(z).index(z.find("SUMV")) + 1
        items = [("OPLATA", str(oplata)), ("SUMP", _money(c.accepted))]
        for tag, text in items:
            el = etree.Element(tag)
            el.text, el.tail = text, "\n"
            z.insert(pos, el)
            pos += 1
        for g in c.grounds:
            k = kod.get(g.code)
            if k is None:
                problems.append(f"{filename}: IDCASE {idcase}: код «{g.code}» не найден в F014 — SANK не записан")
                continue
            sank = etree.Element("SANK")
            sank.text, sank.tail = "\n", "\n"
            fields = [("S_CODE", str(uuid.uuid5(_NS_UUID, f"{filename}/{idcase}/{g.code}/{act.date}"))),
                      ("S_SUM", _money(g.withheld)), ("S_TIP", str(act.s_tip))]
            fields += [("SL_ID", s) for s in g.sl_ids]
            fields += [("S_OSN", str(k)), ("DATE_ACT", act.date.isoformat()), ("NUM_ACT", act.number(nschet))]
            com = g.message if g.withheld or not c.withheld else f"основание учтено, сумма удержана по {_applied(c)}"
            if com:
                fields.append(("S_COM", com.replace("₽", "руб.")[:250]))
            fields.append(("S_IST", str(act.s_ist)))
            for tag, text in fields:
                el = etree.SubElement(sank, tag)
                el.text, el.tail = text, "\n"
            z.insert(pos, sank)
            pos += 1
        if c.grounds:
            el = etree.Element("SANK_IT")
            el.text, el.tail = _money(c.withheld), "\n"
            z.insert(pos, el)
        total_p += c.accepted
        total_s += c.withheld
    if schet is not None:
        for tag in ("SUMMAP", "SANK_MEK"):
            for old in schet.findall(tag):
                schet.remove(old)
        _set_after(schet, "SUMMAP", _money(total_p), ("SUMMAV", "COMENTS"))
        _set_after(schet, "SANK_MEK", _money(total_s), ("SUMMAV", "COMENTS", "SUMMAP"))
    return filename, etree.ElementTree(root)


def _applied(c: CaseResult) -> str:
    for g in c.grounds:
        if g.withheld:
            return g.code
    return "другому основанию"


def oracle_sank_registries(res, registry: list[Path], out_dir: Path, act: MekAct | None = None) -> dict:
    """Write every H-file of `registry` with SANK into `out_dir`; only XSD-valid files are written."""
    act = act or MekAct()
    by_case = {c.key: c for c in case_results(res)}
    kod = f014_kod(res.run.methodology)
    problems: list[str] = []
    written: list[Path] = []
    invalid: dict[str, list[str]] = {}
    schema = sank_schema()
    out_dir = Path(out_dir)
    for name, raw in _sources(registry):
        filename, tree = sank_document(raw, by_case, act, kod, problems)
        if not schema.validate(tree):
            invalid[filename or name] = [f"строка {e.line}: {e.message}" for e in list(schema.error_log)[:20]]
            continue
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / f"{filename or Path(name).stem}.XML"
        buf = io.BytesIO()
        tree.write(buf, encoding="windows-1251", xml_declaration=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(buf.getvalue())
        tmp.replace(target)
        written.append(target)
    return {"written": written, "invalid": invalid, "problems": problems}

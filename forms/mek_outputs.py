"""Outputs of МЭК: the protocol for people and the registry with sanctions for machines.

* ``mek_protocol.xlsx`` / ``mek_protocol.html`` — a :mod:`forms.model` form: one row per case
  and ground (счёт, N_ZAP / IDCASE, МО, СМО, код F014, наименование, выставлено, не принято,
  штраф), then totals by МО and by СМО;
* ``sank/<FILENAME>.XML`` — each H-file of the registry written back with the results of
  control: ``Z_SL/OPLATA``, ``SUMP``, one ``SANK`` per ground (S_CODE, S_SUM, S_TIP = 1 (F006: МЭК),
  SL_ID for grounds found on an SL, S_OSN = F014 Kod, DATE_ACT, NUM_ACT, S_COM, S_IST), ``SANK_IT``;
  ``SCHET/SUMMAP`` and ``SANK_MEK``. Every file is validated against «САНКЦИИ / МП 3.2»
  (``engine/io/schemas/SANK_MP_3.2.xsd``) and written only if it is valid.

One ground per position (231н): the withholding of a case is the largest of its grounds
(:mod:`engine.settlement`); that ground's SANK carries the withheld sum, the others carry
0.00 and say so in S_COM, so Σ S_SUM = SANK_IT = SUMV − SUMP.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
from lxml import etree

from dsl.columns import code_strings
from engine.settlement import CASE, _case_rows, summarize
from forms.model import (
    Cell,
    Column,
    Footer,
    FormMeta,
    RenderedForm,
    Row,
    Signature,
    Stub,
    TitleBlock,
    ValueKind,
)

SANK_XSD = Path(__file__).resolve().parents[1] / "engine" / "io" / "schemas" / "SANK_MP_3.2.xsd"
F014_TABLE = "f014"
_NS_UUID = uuid.UUID("6f1c3d1e-8b0e-4c55-9a53-0f5a0d6c0001")


class MekOutputError(Exception):
    """A result that cannot be written (the message is in Russian)."""


@dataclass(frozen=True)
class MekAct:
    """Requisites of the МЭК act that go into SANK."""

    date: dt.date = field(default_factory=dt.date.today)
    number_prefix: str = "МЭК"
    s_tip: int = 1   # F006: 1 — МЭК
    s_ist: int = 1   # источник санкции: 1 — ТФОМС (МЭК выполняет фонд)

    def number(self, nschet: str) -> str:
        return f"{self.number_prefix}-{nschet}"[:30]


@dataclass
class Ground:
    code: str
    title: str
    withheld: int           # kopecks actually withheld on this ground (0 unless applied)
    fine: int
    sl_ids: list[str] = field(default_factory=list)
    message: str = ""
    catalogue: list[str] = field(default_factory=list)   # Q015 IDs of the checks that found it


@dataclass
class CaseResult:
    key: str
    account_file: str
    nschet: str
    n_zap: int
    idcase: str
    mo: str
    smo: str
    billed: int
    withheld: int
    accepted: int
    fine: int
    grounds: list[Ground]


# --- collecting -------------------------------------------------------------------------------
def case_results(res) -> list[CaseResult]:
    """Every case of the run with its grounds (cases without defects have an empty list)."""
    m, data, s = res.run.methodology, res.run.data, res.settlement
    cases = data.entities[CASE]
    acc_rel = cases.rel.get("account")
    accounts = data.entities.get("account")
    acc_file = code_strings(accounts.cols["filename"]) if accounts is not None and accounts.n else np.array([])
    acc_num = code_strings(accounts.cols["nschet"]) if accounts is not None and accounts.n else np.array([])
    idcase = code_strings(cases.cols["idcase"])
    n_zap = np.asarray(cases.cols["n_zap"].data)
    sl = data.entities.get("sl")
    sl_id = code_strings(sl.cols["sl_id"]) if sl is not None and sl.n else np.array([])
    per_case: dict[int, dict[str, Ground]] = {}
    index = {e: {str(k): i for i, k in enumerate(d.keys)} for e, d in data.entities.items()}
    for d in res.run.defects.defects:
        row = index[d.entity].get(d.row_key)
        if row is None:
            continue
        rows, _ = _case_rows(m, data, d.entity, row)
        for r in rows:
            r = int(r)
            g = per_case.setdefault(r, {}).get(d.code)
            if g is None:
                g = per_case[r][d.code] = Ground(d.code, d.title, 0, 0, message=d.message)
            g.fine = max(g.fine, d.fine)
            if d.catalogue and d.catalogue not in g.catalogue:
                g.catalogue.append(d.catalogue)
            if d.entity == "sl" and len(sl_id) > row and sl_id[row] not in g.sl_ids:
                g.sl_ids.append(str(sl_id[row]))
    out = []
    for i in range(cases.n):
        grounds = list(per_case.get(i, {}).values())
        for g in grounds:
            if g.code == s.applied[i]:
                g.withheld = int(s.withheld[i])
        if grounds and s.applied[i] is None and int(s.withheld[i]) > 0:
            grounds[0].withheld = int(s.withheld[i])
        a = int(acc_rel[i]) if acc_rel is not None and acc_rel[i] >= 0 else -1
        out.append(CaseResult(
            str(cases.keys[i]), str(acc_file[a]) if a >= 0 else "", str(acc_num[a]) if a >= 0 else "",
            int(n_zap[i]), str(idcase[i]), str(s.mo[i]), str(s.smo[i] or "—"), int(s.billed[i]),
            int(s.withheld[i]), int(s.accepted[i]), int(s.fine[i]), grounds))
    return out


def f014_kod(m) -> dict[str, int]:
    """F014 ground code (Osn, e.g. "1.10.2" or "5.7.2") → numeric Kod, from the package's f014 table."""
    table = m.tables.get(F014_TABLE)
    out: dict[str, int] = {}
    if table is None:
        return out
    for r in table.rows:
        osn, kod = r.get("osn"), r.get("kod")
        if osn is not None and kod is not None:
            out[str(osn)] = int(kod)
    return out


# --- the protocol (people) --------------------------------------------------------------------
COLUMNS = (
    Column("account", "Счёт (файл)", ValueKind.TEXT, width_mm=34),
    Column("idcase", "N_ZAP / IDCASE", ValueKind.TEXT, width_mm=24),
    Column("mo", "МО", ValueKind.TEXT, width_mm=16),
    Column("smo", "СМО", ValueKind.TEXT, width_mm=14),
    Column("code", "Код дефекта (F014)", ValueKind.TEXT, width_mm=16),
    Column("title", "Основание", ValueKind.TEXT, width_mm=70),
    Column("billed", "Выставлено", ValueKind.MONEY, width_mm=24),
    Column("withheld", "Не принято", ValueKind.MONEY, width_mm=24),
    Column("accepted", "Принято", ValueKind.MONEY, width_mm=24),
    Column("fine", "Штраф", ValueKind.MONEY, width_mm=20),
)


def protocol_form(res, act: MekAct | None = None, generated_at: dt.datetime | None = None) -> RenderedForm:
    act = act or MekAct()
    results = case_results(res)
    rows: list[Row] = [Row("Случаи с дефектами", is_section=True)]
    n = 0
    for c in results:
        if not c.grounds:
            continue
        for j, g in enumerate(c.grounds):
            n += 1
            title = f"{g.title} (Q015 {', '.join(g.catalogue)})" if g.catalogue else g.title
            text = title if not g.message else f"{title}. {g.message}"
            rows.append(Row(str(n), [
                Cell(c.account_file or c.nschet), Cell(f"{c.n_zap} / {c.idcase}"), Cell(c.mo), Cell(c.smo),
                Cell(g.code), Cell(text[:1000]),
                Cell(c.billed) if j == 0 else Cell.dash(), Cell(g.withheld),
                Cell(c.accepted) if j == 0 else Cell.dash(), Cell(g.fine)]))
    s = res.settlement
    for by, title in (("mo", "Итоги по МО"), ("smo", "Итоги по СМО")):
        rows.append(Row(title, is_section=True))
        for r in summarize(s, by):
            label = f"{'МО' if by == 'mo' else 'СМО'} {r[by]}"
            rows.append(Row(label, [
                Cell(f"случаев {r['cases']}"), Cell(f"с дефектами {r['cases_with_defects']}"),
                Cell(r[by] if by == "mo" else None), Cell(r[by] if by == "smo" else None), Cell(None),
                Cell(None), Cell(r["billed"]), Cell(r["withheld"]), Cell(r["accepted"]), Cell(r["fine"])], level=1))
    rows.append(Row("Всего", [Cell(f"случаев {len(results)}"),
                              Cell(f"с дефектами {sum(1 for c in results if c.grounds)}"),
                              Cell(None), Cell(None), Cell(None),
                              Cell(None), Cell(int(s.billed.sum())), Cell(int(s.withheld.sum())),
                              Cell(int(s.accepted.sum())), Cell(int(s.fine.sum()))],
                    is_total=True))
    m = res.run.methodology
    periods = sorted({f"{c.account_file}" for c in results if c.account_file})
    return RenderedForm(
        title=TitleBlock("Протокол медико-экономического контроля", code="МЭК",
                         period=f"акт от {act.date.strftime('%d.%m.%Y')}",
                         organisation=", ".join(periods)[:300] or None,
                         lines=("Единица измерения: руб.",
                                "Основания — F014 (Приказ Минздрава России от 19.03.2021 № 231н)")),
        columns=COLUMNS, rows=rows,
        meta=FormMeta("mek_protocol", "1", m.ref, generated_at or dt.datetime.now()),
        stub=Stub(label_title="№ п/п", code_title=None, label_width_mm=12),
        footer=Footer(signatures=(Signature("Специалист по МЭК"), Signature("Руководитель")), stamp=False),
        orientation="landscape", column_numbering="sequential")


def write_protocol(res, out: Path, act: MekAct | None = None, formats: tuple[str, ...] = ("xlsx", "html"),
                   generated_at: dt.datetime | None = None) -> list[Path]:
    from forms.render import render

    form = protocol_form(res, act, generated_at)
    return [render(form, fmt, Path(out) / f"mek_protocol.{fmt}") for fmt in formats]


# --- the registry with SANK (machines) --------------------------------------------------------
def _sources(paths: list[Path]) -> list[tuple[str, bytes]]:
    """(name, bytes) of H-files among the registry inputs (files, directories, ZIP archives)."""
    out: list[tuple[str, bytes]] = []
    files: list[Path] = []
    for p in map(Path, paths):
        files.extend(sorted(x for x in p.iterdir() if x.is_file()) if p.is_dir() else [p])
    for f in files:
        if f.suffix.lower() == ".zip":
            with zipfile.ZipFile(f) as z:
                for info in z.infolist():
                    name = Path(info.filename).name
                    if name.upper().startswith("H") and name.lower().endswith(".xml"):
                        out.append((name, z.read(info)))
        elif f.name.upper().startswith("H") and f.suffix.lower() == ".xml":
            out.append((f.name, f.read_bytes()))
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


_SCHEMA: etree.XMLSchema | None = None


def sank_schema() -> etree.XMLSchema:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = etree.XMLSchema(etree.parse(str(SANK_XSD)))
    return _SCHEMA


def write_sank_registries(res, registry: list[Path], out_dir: Path, act: MekAct | None = None) -> dict:
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


def write_mek_outputs(res, out: Path, registry: list[Path] | None = None, act: MekAct | None = None) -> dict:
    """Protocol (XLSX, HTML) and, when the registry files are known, the registries with SANK."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    act = act or MekAct()
    info: dict = {"protocol": [p.name for p in write_protocol(res, out, act)]}
    if registry:
        r = write_sank_registries(res, registry, out / "sank", act)
        info["sank"] = [f"sank/{p.name}" for p in r["written"]]
        if r["invalid"]:
            info["sank_invalid"] = r["invalid"]
        if r["problems"]:
            info["sank_problems"] = r["problems"][:50]
    return info


def write_outputs(res, out: Path, registry: list[Path] | None = None) -> dict:
    """A processed month's results (engine.pipeline: CSV, run.json) with its МЭК documents."""
    from engine.pipeline import write_outputs as write_results

    return write_results(res, Path(out), registry, documents=write_mek_outputs)

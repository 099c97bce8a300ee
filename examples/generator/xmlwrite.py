"""Streaming writers of H-files (ZL_LIST, format 3.2) and their L-files (PERS_LIST), windows-1251.

Records go to a body file as they are made; the header, which needs SD_Z and SUMMAV,
is written at the end and the body appended, so memory does not grow with the month.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from .cases import Case
from .catalog import REGION
from .population import Population

ENCODING = "windows-1251"
_DATES: dict[int, str] = {}


def d(ordinal: int) -> str:
    s = _DATES.get(ordinal)
    if s is None:
        s = _DATES[ordinal] = date.fromordinal(ordinal).isoformat()
    return s


def el(tag: str, value: object) -> str:
    return f"<{tag}>{value}</{tag}>\n"


class _Body:
    def __init__(self, final: Path) -> None:
        self.final = final
        self.part = final.with_suffix(".body")
        self.fh = open(self.part, "w", encoding=ENCODING, newline="\n")

    def finish(self, head: str, tail: str) -> None:
        self.fh.close()
        with open(self.final, "w", encoding=ENCODING, newline="\n") as out:
            out.write(f'<?xml version="1.0" encoding="{ENCODING}"?>\n' + head)
            out.flush()
            with open(self.part, "rb") as body:
                shutil.copyfileobj(body, out.buffer)
            out.write(tail)
        os.remove(self.part)


class RegistryWriter:
    """One МО's H-file and L-file for one month."""

    def __init__(
        self, out: Path, mo_index: int, mo_code: str, year: int, month: int, pop: Population
    ) -> None:
        self.mo_index, self.mo_code, self.year, self.month, self.pop = mo_index, mo_code, year, month, pop
        stem = f"M{mo_code}T{REGION}_{year % 100:02d}{month:02d}1"
        self.h_name, self.l_name = "H" + stem, "L" + stem
        self.h = _Body(out / f"{self.h_name}.XML")
        self.l = _Body(out / f"{self.l_name}.XML")
        self.dept = {u: f"{mo_code}{u:02d}" for u in (1, 2, 3, 4)}
        self.n_zap = 0
        self.n_services = 0
        self.summav = Decimal("0.00")
        self.persons: set[int] = set()
        nxt = date(year + month // 12, month % 12 + 1, 5)
        self.file_date = nxt.isoformat()

    def add(self, case: Case, mo_codes: list[str]) -> None:
        self.n_zap += 1
        pop = self.pop
        p = case.person
        if p not in self.persons:
            self.persons.add(p)
            self.l.fh.write(self._pers(p))
        s = case.scenario
        smo = case.smo or pop.smo_code(p)
        dept = self.dept[case.usl_ok]
        out = [
            "<ZAP>\n", el("N_ZAP", self.n_zap), el("PR_NOV", 0),
            "<PACIENT>\n", el("ID_PAC", p + 1), el("VPOLIS", 3), el("ENP", pop.enp(p)), el("SMO", smo),
            el("NOVOR", 0), "</PACIENT>\n",
            "<Z_SL>\n", el("IDCASE", case.idcase), el("USL_OK", case.usl_ok), el("VIDPOM", case.vidpom),
            el("FOR_POM", case.for_pom),
        ]  # fmt: skip
        if case.npr_mo is not None and case.npr_date is not None:
            out += [el("NPR_MO", mo_codes[case.npr_mo]), el("NPR_DATE", d(case.npr_date))]
        out += [el("LPU", self.mo_code), el("DATE_Z_1", d(case.d1)), el("DATE_Z_2", d(case.d2))]
        if case.kd is not None:
            out.append(el("KD_Z", case.kd))
        out += [el("RSLT", case.rslt), el("ISHOD", case.ishod)]
        # one SL per case
        out += ["<SL>\n", el("SL_ID", case.idcase), el("LPU_1", dept), el("PODR", dept), el("PROFIL", s.profil),
                el("DET", s.det)]  # fmt: skip
        if case.p_cel:
            out.append(el("P_CEL", case.p_cel))
        nhistory = f"{self.year}-{case.idcase}" if case.usl_ok in (1, 2) else str(p + 1)
        out += [el("NHISTORY", nhistory), el("DATE_1", d(case.d1)), el("DATE_2", d(case.d2))]
        if case.kd is not None:
            out.append(el("KD", case.kd))
        out.append(el("DS1", case.ds1))
        if case.ds2:
            out.append(el("DS2", case.ds2))
        if case.c_zab:
            out.append(el("C_ZAB", case.c_zab))
        pr = case.price
        assert pr is not None, "case written before it was priced"
        if case.idsp == "33":
            out += ["<KSG_KPG>\n", el("N_KSG", s.ksg), el("VER_KSG", self.year), el("KSG_PG", 0),
                    el("KOEF_Z", pr.koef_z), el("KOEF_UP", pr.koef_up), el("BZTSZ", pr.bztsz), el("KOEF_D", pr.koef_d),
                    el("KOEF_U", pr.koef_u), el("SL_K", 1 if case.kslp else 0)]  # fmt: skip
            if case.kslp:
                out.append(el("IT_SL", pr.it_sl))
                for idsl, z in zip(case.kslp, pr.z_sl, strict=True):
                    out += ["<SL_KOEF>\n", el("IDSL", idsl), el("Z_SL", z), "</SL_KOEF>\n"]
            out.append("</KSG_KPG>\n")
        out += [el("PRVS", case.prvs), el("VERS_SPEC", "V021"), el("IDDOKT", case.doctor)]
        if case.ed_col is not None:
            out.append(el("ED_COL", f"{case.ed_col}.00"))
        if pr.tarif is not None:
            out.append(el("TARIF", pr.tarif))
        out.append(el("SUM_M", case.sum_m))
        for u in case.services:
            self.n_services += 1
            out += [
                "<USL>\n", el("IDSERV", self.n_services), el("LPU", self.mo_code), el("LPU_1", dept),
                el("PODR", dept), el("PROFIL", s.profil), el("DET", s.det), el("DATE_IN", d(u.d_in)),
                el("DATE_OUT", d(u.d_out)), el("DS", case.ds1), el("CODE_USL", u.code), el("KOL_USL", f"{u.kol}.00"),
                el("TARIF", u.tarif), el("SUMV_USL", u.sumv),
                "<MR_USL_N>\n", el("MR_N", 1), el("PRVS", case.prvs), el("CODE_MD", case.doctor), "</MR_USL_N>\n",
                "</USL>\n",
            ]  # fmt: skip
        out += ["</SL>\n", el("IDSP", case.idsp), el("SUMV", case.written_sumv), "</Z_SL>\n</ZAP>\n"]
        self.summav += case.written_sumv
        self.h.fh.write("".join(out))

    def _pers(self, p: int) -> str:
        pop = self.pop
        fam, im, ot = pop.fio(p)
        doctype, docser, docnum, docdate = pop.document(p)
        return "".join([
            "<PERS>\n", el("ID_PAC", p + 1), el("FAM", escape(fam)), el("IM", escape(im)), el("OT", escape(ot)),
            el("W", int(pop.sex[p])), el("DR", pop.dob_str(p)), el("DOCTYPE", doctype), el("DOCSER", docser),
            el("DOCNUM", docnum), el("DOCDATE", docdate), el("SNILS", pop.snils(p)), "</PERS>\n",
        ])  # fmt: skip

    def close(self, summav_delta: Decimal = Decimal("0.00")) -> tuple[Path, Path]:
        yy, mm = self.year, self.month
        h_head = (
            "<ZL_LIST>\n<ZGLV>\n" + el("VERSION", "3.2") + el("DATA", self.file_date) + el("FILENAME", self.h_name)
            + el("SD_Z", self.n_zap) + "</ZGLV>\n<SCHET>\n" + el("CODE", f"{self.mo_index + 1}{yy % 100:02d}{mm:02d}")
            + el("CODE_MO", self.mo_code) + el("YEAR", yy) + el("MONTH", mm)
            + el("NSCHET", f"{yy % 100:02d}{mm:02d}-{self.mo_code}") + el("DSCHET", self.file_date)
            + el("PLAT", REGION) + el("SUMMAV", self.summav + summav_delta) + "</SCHET>\n"
        )  # fmt: skip
        self.h.finish(h_head, "</ZL_LIST>\n")
        l_head = (
            "<PERS_LIST>\n<ZGLV>\n" + el("VERSION", "3.2") + el("DATA", self.file_date) + el("FILENAME", self.l_name)
            + el("FILENAME1", self.h_name) + "</ZGLV>\n"
        )  # fmt: skip
        self.l.finish(l_head, "</PERS_LIST>\n")
        return self.h.final, self.l.final

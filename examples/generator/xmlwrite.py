"""Streaming writers of registry files (ZL_LIST: H, C, T, D*) and their L-files (PERS_LIST), windows-1251.

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

from . import xmlblocks as xb
from .cases import Case
from .catalog import REGION
from .population import Population
from .q015_defects import apply as apply_q015
from .special import Disp, Onko, Vmp

d, el = xb.d, xb.el

ENCODING = "windows-1251"


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
    """One МО's registry file of one kind (H, C, T or D + letter) and its L-file for one month.

    ``seq`` is the file's sequence digit in the month (H 1, C 2, T 3, D files 4…), so the
    names of the L-files of one МО differ; ``version`` is ZGLV/VERSION of the registry file.
    """

    def __init__(self, out: Path, mo_index: int, mo_code: str, year: int, month: int, pop: Population,
                 kind: str = "H", version: str = "3.2", seq: int = 1, disp: str | None = None) -> None:  # fmt: skip
        self.mo_index, self.mo_code, self.year, self.month, self.pop = mo_index, mo_code, year, month, pop
        self.kind, self.version, self.disp = kind, version, disp
        self.v5 = not version.startswith("3.")
        stem = f"M{mo_code}T{REGION}_{year % 100:02d}{month:02d}{seq}"
        self.h_name, self.l_name = kind + stem, "L" + stem
        self.h = _Body(out / f"{self.h_name}.XML")
        self.l = _Body(out / f"{self.l_name}.XML")
        self.dept = {u: f"{mo_code}{u:02d}" for u in (1, 2, 3, 4)}
        self.n_zap = 0
        self.n_services = 0
        self.summav = Decimal("0.00")
        self.persons: set[int] = set()
        nxt = date(year + month // 12, month % 12 + 1, 5)
        self.file_date = nxt.isoformat()
        tag = f"{year % 100:02d}{month:02d}"
        # H keeps the account numbers of the 3.2 months; the other files of the МО get their own
        self.code = f"{mo_index + 1}{tag}" + ("" if kind == "H" else str(seq))
        self.nschet = f"{tag}-{mo_code}" + ("" if kind == "H" else f"-{kind}")

    def add(self, case: Case, mo_codes: list[str]) -> None:
        self.n_zap += 1
        p = case.person
        if p not in self.persons:
            self.persons.add(p)
            self.l.fh.write(self._pers(p))
        out = ["<ZAP>\n", el("N_ZAP", self.n_zap), el("PR_NOV", 0), *self._pacient(case)]
        if self.kind[0] == "D":
            out += self._disp_case(case, mo_codes)
        else:
            out += self._case(case, mo_codes)
        out += [el("IDSP", case.idsp), el("SUMV", case.written_sumv), "</Z_SL>\n</ZAP>\n"]
        if "q015" in case.extra:
            apply_q015(case.extra["q015"], out)
        self.summav += case.written_sumv
        self.h.fh.write("".join(out))

    def _pacient(self, case: Case) -> list[str]:
        pop, p = self.pop, case.person
        smo = case.smo or pop.smo_code(p)
        enp = pop.enp(p)
        if self.kind in ("C", "T"):  # NPOLIS is 1..1 in the C/T trees; ENP follows ST_OKATO there
            out = [el("ID_PAC", p + 1), el("VPOLIS", 3), el("NPOLIS", enp), el("ENP", enp), el("SMO", smo)]
        else:
            out = [el("ID_PAC", p + 1), el("VPOLIS", 3), el("ENP", enp), el("SMO", smo)]
        out.append(el("NOVOR", 0))
        if self.v5 and self.kind != "H":
            # assumption: no social category (002F.00.0145 codes). SOC is 0..1; H files go without
            # it, so the fund's registry with sanctions (SANK МП 3.2, engine/mek_outputs.py) stays valid
            out.append(el("SOC", "000"))
        return ["<PACIENT>\n", *out, "</PACIENT>\n"]

    def _case(self, case: Case, mo_codes: list[str]) -> list[str]:
        s = case.scenario
        kind = self.kind
        block = case.block
        onko = block.onko if isinstance(block, Vmp) else block if isinstance(block, Onko) else None
        dept = self.dept[case.usl_ok]
        out = ["<Z_SL>\n", el("IDCASE", case.idcase), el("USL_OK", case.usl_ok), el("VIDPOM", case.vidpom),
               el("FOR_POM", case.for_pom)]  # fmt: skip
        if case.npr_mo is not None and case.npr_date is not None:
            out += [el("NPR_MO", mo_codes[case.npr_mo]), el("NPR_DATE", d(case.npr_date))]
        out += [el("LPU", self.mo_code), el("DATE_Z_1", d(case.d1)), el("DATE_Z_2", d(case.d2))]
        if case.kd is not None:
            out.append(el("KD_Z", case.kd))
        out += [el("RSLT", case.rslt), el("ISHOD", case.ishod), "<SL>\n", el("SL_ID", case.idcase)]
        if isinstance(block, Vmp):
            out += xb.vmp_head(block)
        out += [el("LPU_1", dept), el("PODR", dept), el("PROFIL", s.profil)]
        stay = case.usl_ok in (1, 2)
        if stay:
            out.append(
                el("PROFIL_K", block.method.profil_k if isinstance(block, Vmp) else self._profil_k(case))
            )
        out.append(el("DET", s.det))
        if isinstance(block, Vmp):
            out += xb.vmp_voucher(block)
        if case.p_cel:
            out.append(el("P_CEL", case.p_cel))
        nhistory = f"{self.year}-{case.idcase}" if stay else str(case.person + 1)
        out.append(el("NHISTORY", nhistory))
        if stay and kind != "T":
            out.append(el("P_PER", xb.p_per(case)))
        out += [el("DATE_1", d(case.d1)), el("DATE_2", d(case.d2))]
        if case.kd is not None and kind != "T":
            out.append(el("KD", case.kd))
        out.append(el("DS1", case.ds1))
        if case.ds2:
            out.append(el("DS2", case.ds2))
        if case.c_zab:
            out.append(el("C_ZAB", case.c_zab))
        if kind in ("C", "T"):
            out.append(el("DS_ONK", onko.ds_onk if onko is not None else 0))
        if onko is not None:
            out += xb.onko_blocks(onko)
        pr = case.price
        assert pr is not None, "case written before it was priced"
        if case.idsp == "33":
            out += ["<KSG_KPG>\n", el("N_KSG", s.ksg), el("VER_KSG", self.year), el("KSG_PG", 0),
                    el("KOEF_Z", pr.koef_z), el("KOEF_UP", pr.koef_up), el("BZTSZ", pr.bztsz), el("KOEF_D", pr.koef_d),
                    el("KOEF_U", pr.koef_u)]  # fmt: skip
            out += [el("CRIT", c) for c in (onko.crit if onko is not None else ())]
            out.append(el("SL_K", 1 if case.kslp else 0))
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
        # USL/VID_VME (V001 code of the service) on every service of an SL treated by surgery or
        # irradiation (003F.00.1512/1522 read it per USL); in T files it is the V019 method (001F.00.0640)
        treated = onko is not None and any(ou.usl_tip in (1, 3, 4) for ou in onko.usl)
        for u in case.services:
            self.n_services += 1
            out += ["<USL>\n", el("IDSERV", self.n_services), el("LPU", self.mo_code), el("LPU_1", dept),
                    el("PODR", dept), el("PROFIL", s.profil)]  # fmt: skip
            if isinstance(block, Vmp):
                out.append(el("VID_VME", block.method.metod_hmp))
            elif treated:
                out.append(el("VID_VME", u.code))
            out += [el("DET", s.det), el("DATE_IN", d(u.d_in)), el("DATE_OUT", d(u.d_out)), el("DS", case.ds1),
                    el("CODE_USL", u.code), el("KOL_USL", f"{u.kol}.00"), el("TARIF", u.tarif),
                    el("SUMV_USL", u.sumv)]  # fmt: skip
            if kind in ("C", "T"):
                out += [el("PRVS", case.prvs), el("CODE_MD", case.doctor)]
            else:
                out += ["<MR_USL_N>\n", el("MR_N", 1), el("PRVS", case.prvs), el("CODE_MD", case.doctor),
                        "</MR_USL_N>\n"]  # fmt: skip
            out.append("</USL>\n")
        out.append("</SL>\n")
        return out

    def _profil_k(self, case: Case) -> str:
        return xb.profil_k(case)

    def _disp_case(self, case: Case, mo_codes: list[str]) -> list[str]:
        dsp = case.block
        assert isinstance(dsp, Disp)
        out = ["<Z_SL>\n", el("IDCASE", case.idcase), el("VIDPOM", case.vidpom), el("LPU", self.mo_code),
               el("VBR", 0), el("DATE_Z_1", d(case.d1)), el("DATE_Z_2", d(case.d2)), el("P_OTK", 0),
               el("RSLT_D", dsp.rslt_d)]  # fmt: skip
        out += xb.disp_sl(case, dsp, self.mo_code, self.dept[3], self.n_services + 1)
        self.n_services += len(case.services)
        return out

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
            "<ZL_LIST>\n<ZGLV>\n" + el("VERSION", self.version) + el("DATA", self.file_date) + el("FILENAME", self.h_name)
            + el("SD_Z", self.n_zap) + "</ZGLV>\n<SCHET>\n" + el("CODE", self.code)
            + el("CODE_MO", self.mo_code) + el("YEAR", yy) + el("MONTH", mm)
            + el("NSCHET", self.nschet) + el("DSCHET", self.file_date)
            + el("SUMMAV", self.summav + summav_delta)
            + (el("DISP", self.disp) if self.disp else "") + "</SCHET>\n"
        )  # fmt: skip
        self.h.finish(h_head, "</ZL_LIST>\n")
        l_head = (
            "<PERS_LIST>\n<ZGLV>\n" + el("VERSION", "3.2") + el("DATA", self.file_date) + el("FILENAME", self.l_name)
            + el("FILENAME1", self.h_name) + "</ZGLV>\n"
        )  # fmt: skip
        self.l.finish(l_head, "</PERS_LIST>\n")
        return self.h.final, self.l.final

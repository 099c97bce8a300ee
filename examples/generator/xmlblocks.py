"""Element blocks of one ZAP per file kind, in the order of the 5.x trees
(/work/shared/reference/registry-formats/registry_format_versions.md §5.1–5.4).

H is written as the 3.2 XSD orders it (5.x adds SOC); C and T keep the 3.1 USL with PRVS and
CODE_MD (whether their 5.x USL gained MR_USL_N is not established); D has no USL_OK, FOR_POM,
RSLT, ISHOD, PROFIL or DET, and its performers are in USL/MR_USL_N.
"""

from __future__ import annotations

from datetime import date

from .cases import Case
from .special import Disp, Onko, Vmp

_DATES: dict[int, str] = {}

#: V002 profile -> V020 bed profile of the H stays (PROFIL_K is mandatory for USL_OK 1/2,
#: 003F.00.0640): терапия 71, кардиология 26, неврология 34, акушерство 1/2, офтальмология 52,
#: инфекционные 24, педиатрия 55, травматология 74, неонатология 39, дерматовенерология 17, онкология 42
PROFIL_K = {"97": "71", "29": "26", "53": "34", "136": "2", "65": "52", "28": "24", "68": "55", "100": "74",
            "55": "39", "16": "17", "60": "42"}  # fmt: skip
#: delivery KSG -> V020 1 «для беременных и рожениц»
PROFIL_K_KSG = {"st02.003": "1", "st02.004": "1"}


def d(ordinal: int) -> str:
    s = _DATES.get(ordinal)
    if s is None:
        s = _DATES[ordinal] = date.fromordinal(ordinal).isoformat()
    return s


def el(tag: str, value: object) -> str:
    return f"<{tag}>{value}</{tag}>\n"


def p_per(case: Case) -> str:
    """P_PER (mandatory for USL_OK 1/2, 003F.00.0700): 2 — brought by ambulance for emergency
    stays, 1 — came by referral otherwise (assumption; 4 — transfer inside the МО — is not used,
    it would require VB_P)."""
    return "2" if case.for_pom == "1" else "1"


def profil_k(case: Case) -> str:
    s = case.scenario
    return PROFIL_K_KSG.get(s.ksg or "", PROFIL_K.get(s.profil, "71"))


def onko_blocks(o: Onko) -> list[str]:
    """NAPR, CONS and ONK_SL of an SL (C and T files)."""
    out: list[str] = []
    for nd, nv, nmo in o.napr:
        out += ["<NAPR>\n", el("NAPR_DATE", d(nd)), el("NAPR_MO", nmo), el("NAPR_V", nv), "</NAPR>\n"]
    for pr, dt in o.cons:
        out += (
            ["<CONS>\n", el("PR_CONS", pr)]
            + ([el("DT_CONS", d(dt))] if dt is not None else [])
            + ["</CONS>\n"]
        )
    if o.ds1_t is None:
        return out
    out += ["<ONK_SL>\n", el("DS1_T", o.ds1_t)]
    if o.stage is not None:
        stad, t, n, m = o.stage
        out.append(el("STAD", stad))
        if o.ds1_t == 0:
            out += [el("ONK_T", t), el("ONK_N", n), el("ONK_M", m)]
    if o.mtstz:
        out.append(el("MTSTZ", 1))
    if o.sod is not None:
        out += [el("SOD", f"{o.sod:.2f}"), el("K_FR", o.k_fr)]
    if o.bsa is not None:
        out += [el("WEI", f"{o.wei:.1f}"), el("HEI", o.hei), el("BSA", f"{o.bsa:.2f}")]
    for dd, tip, code, rslt in o.b_diag:
        out += ["<B_DIAG>\n", el("DIAG_DATE", d(dd)), el("DIAG_TIP", tip), el("DIAG_CODE", code),
                el("DIAG_RSLT", rslt), el("REC_RSLT", 1), "</B_DIAG>\n"]  # fmt: skip
    for u in o.usl:
        out += ["<ONK_USL>\n", el("USL_TIP", u.usl_tip)]
        if u.hir_tip is not None:
            out.append(el("HIR_TIP", u.hir_tip))
        if u.lek_tip_l is not None:
            out += [el("LEK_TIP_L", u.lek_tip_l), el("LEK_TIP_V", u.lek_tip_v)]
        for lp in u.lek_pr:
            out += ["<LEK_PR>\n", el("REGNUM", lp.regnum), el("CODE_SH", lp.code_sh)]
            for i in lp.inj:
                out += ["<INJ>\n", el("DATE_INJ", d(i.day)), el("KV_INJ", f"{i.kv:.3f}"),
                        el("KIZ_INJ", f"{i.kv:.3f}"), el("RED_INJ", 0), "</INJ>\n"]  # fmt: skip
            out.append("</LEK_PR>\n")
        if u.luch_tip is not None:
            out.append(el("LUCH_TIP", u.luch_tip))
        out.append("</ONK_USL>\n")
    out.append("</ONK_SL>\n")
    return out


def vmp_head(v: Vmp) -> list[str]:
    return [el("VID_HMP", v.method.vid_hmp), el("METOD_HMP", v.method.metod_hmp)]


def vmp_voucher(v: Vmp) -> list[str]:
    return [el("TAL_D", d(v.tal_d)), el("TAL_NUM", v.tal_num), el("TAL_P", d(v.tal_p))]


def disp_sl(case: Case, dsp: Disp, mo_code: str, dept: str, first_serv: int) -> list[str]:
    """The SL of a D case with its services (each with its MR_USL_N performer)."""
    pr = case.price
    assert pr is not None
    out = ["<SL>\n", el("SL_ID", case.idcase), el("LPU_1", dept), el("NHISTORY", f"D{case.idcase}"),
           el("DATE_1", d(case.d1)), el("DATE_2", d(case.d2)), el("DS1", case.ds1)]  # fmt: skip
    if dsp.ds1_pr:
        out.append(el("DS1_PR", 1))
    out += [el("DS_ONK", 0), el("PR_D_N", dsp.pr_d_n)]
    for ds2, first, obs in dsp.ds2_n:
        out += (
            ["<DS2_N>\n", el("DS2", ds2)]
            + ([el("DS2_PR", 1)] if first else [])
            + [el("PR_DS2_N", obs), "</DS2_N>\n"]
        )
    for n, r, v in dsp.naz:
        out += ["<NAZ>\n", el("NAZ_N", n), el("NAZ_R", r), el("NAZ_IDDOKT", case.doctor)]
        if v is not None:
            out.append(el("NAZ_V", v))
        out.append("</NAZ>\n")
    out += [el("ED_COL", f"{case.ed_col}.00"), el("TARIF", pr.tarif), el("SUM_M", case.sum_m)]
    for j, u in enumerate(case.services):
        out += ["<USL>\n", el("IDSERV", first_serv + j), el("LPU", mo_code), el("LPU_1", dept),
                el("DATE_IN", d(u.d_in)), el("DATE_OUT", d(u.d_out)), el("P_OTK", 0), el("CODE_USL", u.code),
                el("TARIF", u.tarif), el("SUMV_USL", u.sumv)]  # fmt: skip
        for n, (prvs, md) in enumerate(dsp.performers[j], 1):
            out += ["<MR_USL_N>\n", el("MR_N", n), el("PRVS", prvs), el("CODE_MD", md), "</MR_USL_N>\n"]
        out.append("</USL>\n")
    out.append("</SL>\n")
    return out

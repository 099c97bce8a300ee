"""Column sets of the raw registry tables (lower-case XML tag names, all strings).

D-file (диспансеризация) fields that have no H counterpart (disp, vbr, p_otk, rslt_d,
ds1_pr, pr_d_n) are columns too, empty for H-files, so every file of a submission
yields the same columns.
"""

from __future__ import annotations

ACCOUNT: tuple[str, ...] = (
    "key", "file_type", "version", "filename", "data", "sd_z",
    "code", "code_mo", "year", "month", "nschet", "dschet", "plat", "summav", "summap",
    "sank_mek", "sank_mee", "sank_ekmp", "coments", "disp", "source_file", "src_line",
)  # fmt: skip

PACIENT: tuple[str, ...] = (
    "id_pac", "vpolis", "spolis", "npolis", "enp", "st_okato", "smo", "smo_ogrn", "smo_ok",
    "smo_nam", "inv", "mse", "novor", "vnov_d",
)  # fmt: skip

PERS: tuple[str, ...] = (
    "fam", "im", "ot", "w", "dr", "dost", "tel", "fam_p", "im_p", "ot_p", "w_p", "dr_p",
    "mr", "doctype", "docser", "docnum", "docdate", "docorg", "snils", "okatog", "okatop",
)  # fmt: skip

PATIENT: tuple[str, ...] = ("key", "account_ref", "n_zap", "pr_nov") + PACIENT + PERS + ("src_line",)

CASE: tuple[str, ...] = (
    "key", "account_ref", "patient_ref", "n_zap", "idcase", "usl_ok", "vidpom", "for_pom",
    "npr_mo", "npr_date", "lpu", "vbr", "date_z_1", "date_z_2", "kd_z", "vnov_m", "vnov_m_all",
    "rslt", "ishod", "rslt_d", "p_otk", "os_sluch", "os_sluch_all", "vb_p", "idsp", "sumv",
    "oplata", "sump", "sank_it", "src_line",
)  # fmt: skip

KSG_KPG: tuple[str, ...] = (
    "n_ksg", "ver_ksg", "ksg_pg", "n_kpg", "koef_z", "koef_up", "bztsz", "koef_d", "koef_u",
    "crit", "crit_all", "sl_k", "it_sl", "sl_koef",
)  # fmt: skip

SL: tuple[str, ...] = (
    ("key", "case_ref", "sl_id", "lpu_1", "podr", "profil", "profil_k", "det", "p_cel", "nhistory",
     "p_per", "date_1", "date_2", "kd", "wei", "ds0", "ds1", "ds1_pr", "ds2", "ds2_all", "ds3",
     "ds3_all", "c_zab", "dn", "pr_d_n", "code_mes1", "code_mes1_all", "code_mes2")
    + KSG_KPG
    + ("reab", "prvs", "vers_spec", "iddokt", "ed_col", "tarif", "sum_m", "src_line")
)  # fmt: skip

SERVICE: tuple[str, ...] = (
    "key", "sl_ref", "case_ref", "idserv", "lpu", "lpu_1", "podr", "profil", "vid_vme", "det",
    "date_in", "date_out", "p_otk", "ds", "code_usl", "kol_usl", "tarif", "sumv_usl", "prvs",
    "code_md", "npl", "comentu", "src_line",
)  # fmt: skip

#: one row per SL/KSG_KPG/SL_KOEF (applied КСЛП), dated by the parent SL's DATE_2
KSLP_ITEM: tuple[str, ...] = ("key", "sl_ref", "idsl", "z_sl", "date_2", "src_line")

ENTITIES: dict[str, tuple[str, ...]] = {
    "account": ACCOUNT,
    "patient": PATIENT,
    "case": CASE,
    "sl": SL,
    "service": SERVICE,
    "kslp_item": KSLP_ITEM,
}

#: simple elements that may repeat; the column holds the first, `<name>_all` all joined by ";"
MULTI: frozenset[str] = frozenset({"ds2", "ds3", "crit", "vnov_m", "os_sluch", "code_mes1"})

#: fields whose values never appear in protocol or log messages
PERSONAL: frozenset[str] = frozenset(
    {
        "FAM", "IM", "OT", "FAM_P", "IM_P", "OT_P", "W", "W_P", "DR", "DR_P", "MR", "TEL",
        "DOST", "DOST_P", "DOCTYPE", "DOCSER", "DOCNUM", "DOCDATE", "DOCORG", "SNILS",
        "OKATOG", "OKATOP", "COMENTP", "ID_PAC", "SPOLIS", "NPOLIS", "ENP", "IDDOKT", "CODE_MD",
        "NHISTORY",
    }
)  # fmt: skip

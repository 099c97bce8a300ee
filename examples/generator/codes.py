"""Codes of the C, T and D cases, each from the reference book it belongs to.

Books are those of ``/work/shared/reference/nsi-books`` (their vintages are in its README):
N0xx oncology books 2018–2019, V018/V019 up to 2022, V016/V017, V020, V021, V024 up to 2022,
N006 copied for the four sites below (C16, C18, C20, C34: N006 has no
rows for C50 or C61, so breast and prostate are not generated) into ``data/onco_stages.csv`` (STAD/ONK_T/ONK_N/ONK_M are
N006 row IDs of N002/N003/N004/N005) and N009 × N008 into ``data/onco_histology.csv``.
Where a value is not in any book (money, doses of the assumed schemes, proportions) the
constant says ``assumption``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal

from .catalog import DATA


@dataclass(frozen=True, slots=True)
class OncoScenario:
    """One kind of oncology case (C file)."""

    name: str
    usl_ok: int
    idsp: str
    profil: str  # V002
    profil_k: str | None  # V020
    prvs: tuple[str, ...]  # V021
    ksg: str | None  # V023 code as the package's ksg table has it
    diagnoses: tuple[str, ...]  # ICD-10, their 3-character heading is an N006/N009 site
    sex: int
    age_min: int
    days: tuple[int, int]
    usl_tip: int | None  # N013; None = no ONK_SL (suspicion of cancer, DS_ONK = 1)
    vid_vme: tuple[str, ...] = ()  # V001 services the KSG grouper lists for this KSG (2026 sheets)
    code_sh: str | None = None  # V024 scheme (2022+ code, open-ended) with its N020 drugs
    drugs: tuple[tuple[str, Decimal, bool], ...] = ()  # (REGNUM N020, dose per m² [mg], daily?)
    code_usl: str = "B01.027.001"  # the case's visit service (V001 B01.027.001/.002: приём врача-онколога первичный/повторный)
    weight: float = 1.0


#: assumption: the mix of C-file cases (surgery, drug therapy, radiotherapy, suspicion) and the
#: schemes chosen for each site; KSG levels are those of the package's 2019-based KSG table
ONCO: tuple[OncoScenario, ...] = (
    OncoScenario(
        "surgery_colon",
        1,
        "33",
        "60",
        "44",
        ("41", "90"),
        "st19.004",
        ("C18.2", "C18.7", "C20"),
        0,
        40,
        (6, 12),
        1,
        ("A16.18.002", "A16.18.013", "A16.19.030"),
        weight=3,
    ),  # fmt: skip
    OncoScenario(
        "surgery_stomach",
        1,
        "33",
        "60",
        "44",
        ("41", "90"),
        "st19.018",
        ("C16.0", "C16.2", "C16.3"),
        0,
        40,
        (8, 14),
        1,
        ("A16.16.006", "A16.16.037", "A16.16.051"),
        weight=2,
    ),  # fmt: skip
    OncoScenario(
        "surgery_lung",
        1,
        "33",
        "60",
        "43",
        ("41",),
        "st19.023",
        ("C34.1", "C34.3"),
        0,
        40,
        (8, 14),
        1,
        ("A16.09.008", "A16.09.009", "A16.09.013"),
        weight=1,
    ),  # fmt: skip
    # CAPOX (V024 sh0653: капецитабин 2000 мг/м² в 1–14-й дни + оксалиплатин 100–130 мг/м² в 1-й день)
    OncoScenario(
        "drug_colon",
        2,
        "33",
        "60",
        "42",
        ("41",),
        "ds19.019",
        ("C18.2", "C18.7", "C20"),
        0,
        30,
        (1, 3),
        2,
        code_sh="sh0653",
        drugs=(("001598", Decimal("130"), False), ("001111", Decimal("1000"), True)),
        weight=4,
    ),  # fmt: skip
    # V024 sh0685: капецитабин 2000 мг/м² в 1–14-й дни + цисплатин 75–80 мг/м² в 1-й день
    OncoScenario(
        "drug_stomach",
        2,
        "33",
        "60",
        "42",
        ("41",),
        "ds19.020",
        ("C16.0", "C16.2", "C16.3"),
        0,
        30,
        (1, 3),
        2,
        code_sh="sh0685",
        drugs=(("002355", Decimal("75"), False), ("001111", Decimal("1000"), True)),
        weight=2,
    ),  # fmt: skip
    OncoScenario(
        "radio_rectum",
        2,
        "33",
        "60",
        "64",
        ("58",),
        "ds19.003",
        ("C20",),
        0,
        40,
        (7, 12),
        3,
        ("A07.30.009",),
        weight=2,
    ),  # fmt: skip
    OncoScenario(
        "radio_lung",
        2,
        "33",
        "60",
        "64",
        ("58",),
        "ds19.002",
        ("C34.1", "C34.3"),
        0,
        40,
        (7, 12),
        3,
        ("A07.30.009",),
        weight=1,
    ),  # fmt: skip
    # suspicion of cancer: CT of the chest (priced by the package's service tariff), referral to an oncologist
    OncoScenario(
        "suspicion_lung",
        3,
        "28",
        "97",
        None,
        ("76",),
        None,
        ("R91",),
        0,
        40,
        (1, 1),
        None,
        code_usl="A06.09.005",
        weight=3,
    ),  # fmt: skip
)

#: N018 DS1_T for the treated cases: 0 primary treatment, 1 relapse, 2 progression — assumption: 70/15/15 %
DS1_T = ((0, 0.70), (1, 0.15), (2, 0.15))
#: N019 PR_CONS: 1 tactics of examination, 2 tactics of treatment, 3 changed tactics
PR_CONS_TREATED = (2, 3)
#: N015 / N016 lines and cycles of drug therapy
LEK_TIP_L = (1, 2, 3)
LEK_TIP_V = (1, 2, 2, 4)
#: N017 LUCH_TIP 1 — primary tumour / its bed
LUCH_TIP = 1
#: N014 HIR_TIP 1 — primary tumour with regional lymph nodes
HIR_TIP = 1
#: V028 NAPR_V 1 — referral to an oncologist (suspicion cases)
NAPR_ONCOLOGIST = 1


@dataclass(frozen=True, slots=True)
class VmpMethod:
    """A ВМП method (V019, 2022 vintage — the latest in the reference) and its kind (V018)."""

    vid_hmp: str  # V018 IDHVID
    metod_hmp: str  # V019 IDHM
    group: int  # V019 HGR
    profil: str
    profil_k: str
    prvs: str
    diagnoses: tuple[str, ...]  # from the method's V019 DIAG list
    code_usl: str  # the operation (V001)
    days: tuple[int, int]
    cost: Decimal  # assumption: normative cost of the group (ПГГ figures are not in the reference)
    onco: bool = False
    weight: float = 1.0


VMP: tuple[VmpMethod, ...] = (
    VmpMethod(
        "471",
        "2601",
        43,
        "81",
        "66",
        "65",
        ("I20.0", "I20.8", "I25.1"),
        "A16.12.028.003",
        (3, 6),
        Decimal("196870.00"),
        weight=4,
    ),  # fmt: skip
    VmpMethod(
        "184",
        "1072",
        48,
        "81",
        "66",
        "65",
        ("I20.0", "I25.1"),
        "A16.12.004.001",
        (10, 16),
        Decimal("438560.00"),
        weight=1,
    ),  # fmt: skip
    VmpMethod(
        "182",
        "3",
        29,
        "65",
        "52",
        "46",
        ("H40.1", "H26.0", "H26.2"),
        "A16.26.093.002",
        (2, 4),
        Decimal("92140.00"),
        weight=2,
    ),  # fmt: skip
    VmpMethod(
        "32",
        "186",
        20,
        "60",
        "43",
        "41",
        ("C34.1", "C34.3"),
        "A16.09.009",
        (8, 14),
        Decimal("281510.00"),
        onco=True,
        weight=1,
    ),  # fmt: skip
)
#: V020: 66 кардиохирургические, 52 офтальмологические, 43 онкологические торакальные; V021: 65
#: сердечно-сосудистая хирургия, 46 офтальмология, 41 онкология; CODE_USL: V001 codes as the KSG
#: grouper's services index names them (A16.12.028.003 стентирование коронарной артерии, A16.12.004.001
#: коронарное шунтирование в условиях ИК, A16.26.093.002 факоэмульсификация с имплантацией ИОЛ,
#: A16.09.009.010 видеоторакоскопическая резекция лёгких)


@dataclass(frozen=True, slots=True)
class DispKind:
    """A kind of dispanserization / check-up (V016) written as its own D file."""

    disp: str  # V016 IDDT (SCHET/DISP)
    letter: str  # the letter after D in the file name
    age_min: int
    #: V001 services of the examination, each with the V021 specialties of its performers
    #: (USL/MR_USL_N); the first carries the tariff
    services: tuple[tuple[str, tuple[str, ...]], ...]
    cost: Decimal  # assumption: the complex tariff of the examination (not in the reference)
    weight: float


#: performers: 76 терапия + 219 сестринское дело (the therapist's visit: two MR_USL_N, as the real
#: sample has), 215 лабораторная диагностика, 226 функциональная диагностика, 60 рентгенология
_THERAPIST = ("B04.047.002", ("76", "219"))
_LAB = (("A09.05.023", ("215",)), ("A09.05.026", ("215",)))
_ECG, _FLG = ("A05.10.006", ("226",)), ("A06.09.006", ("60",))
#: assumption: file letters (the reference does not list them; DO is the real sample's), the
#: services of each examination and their tariffs
DISP: tuple[DispKind, ...] = (
    DispKind("ДВ1", "P", 18, (_THERAPIST, *_LAB, _ECG, _FLG), Decimal("2318.40"), 3),
    DispKind("ОПВ", "O", 18, (_THERAPIST, *_LAB, _FLG), Decimal("1806.57"), 2),
)
#: V017 RSLT_D for adults (I, II, IIIа, IIIб health groups) — assumption: 35/35/20/10 %
RSLT_D = (("1", 0.35), ("2", 0.35), ("31", 0.20), ("32", 0.10))
#: RSLT_D that require an NAZ prescription (003F.00.3052)
RSLT_D_NAZ = {"3", "4", "5", "31", "32", "37"}
#: D-file diagnoses: healthy (Z00.0) or a finding for groups II–III (ICD-10)
DISP_DS = {"1": ("Z00.0",), "2": ("Z00.0", "E66.0", "R73.0"), "31": ("I10", "E11.9"), "32": ("I10", "J44.9")}
#: concomitant diagnoses of D cases (SL/DS2_N; PR_DS2_N 2 — taken under observation)
DISP_DS2 = ("E66.0", "E78.0", "I10")
#: NAZ_R 1 — referral to a doctor of the attached МО; NAZ_R 3 — examination (NAZ_V V029 method)
NAZ_PLAIN = ((1, None), (3, 2))


def load_stages() -> dict[str, list[tuple[str, str, str, str, str]]]:
    """Site -> (STAD, ONK_T, ONK_N, ONK_M, stage name) rows of N006, without stage 0."""
    out: dict[str, list[tuple[str, str, str, str, str]]] = {}
    with open(DATA / "onco_stages.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["stage"] != "0":
                out.setdefault(r["ds"], []).append(
                    (r["stad"], r["onk_t"], r["onk_n"], r["onk_m"], r["stage"])
                )
    return out


def load_histology() -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    """Site -> (DIAG_CODE N007, possible DIAG_RSLT N008) of its histology (N009)."""
    out: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
    with open(DATA / "onco_histology.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["ds"], []).append((r["diag_code"], tuple(r["diag_rslt"].split())))
    return out

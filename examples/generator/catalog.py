"""Reference data the generator draws from: clinical scenarios, СМО, names, outcomes.

Scenarios (data/scenarios.csv) name codes; whether a code is priced is decided by the
methodology package the month is generated for (examples/generator/package.py): a scenario
whose KSG, visit tariff or service tariff the package does not know on the month is not used.
PROFIL codes are real V002 codes; KSG codes are V023 codes. PRVS codes: V021 is not in the
reference data — see docs/registries.md («PRVS codes») for which codes are used and why.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).parent / "data"

REGION = "76"
#: Yaroslavl region СМО of the F002 register (nsi-books/F002_smo.csv, packet 03.12.2023):
#: 76001 РЕСО-МЕД, 76003 СОГАЗ-МЕД, 76006 ИНГОССТРАХ-М (the shares are an assumption)
SMO_CODES = ("76001", "76003", "76006")
SMO_SHARE = (0.55, 0.30, 0.15)


@dataclass(frozen=True, slots=True)
class Scenario:
    usl_ok: int
    idsp: str  # "33" KSG, "29/30" visit or обращение (by dates), "28" service, "24" СМП call
    profil: str
    det: str
    prvs: tuple[str, ...]  # candidate PRVS codes; one allowed for the case's VIDPOM is chosen
    code: str  # service code: B01.* visit codes (priced per SL) or A* service codes (IDSP 28)
    ksg: str | None
    diagnoses: tuple[str, ...]
    sex: int  # 0 any, 1 male, 2 female
    age_min: int  # full years at DATE_Z_1
    age_max: int
    days_min: int
    days_max: int
    weight: float


def load_scenarios() -> list[Scenario]:
    out = []
    with open(DATA / "scenarios.csv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out.append(
                Scenario(
                    usl_ok=int(r["usl_ok"]),
                    idsp=r["idsp"],
                    profil=r["profil"],
                    det=r["det"],
                    prvs=tuple(r["prvs"].split()),
                    code=r["code"],
                    ksg=r["ksg"] or None,
                    diagnoses=tuple(r["ds"].split()),
                    sex=int(r["sex"]),
                    age_min=int(r["age_min"]),
                    age_max=int(r["age_max"]),
                    days_min=int(r["days_min"]),
                    days_max=int(r["days_max"]),
                    weight=float(r["weight"]),
                )
            )
    return out


#: share of cases by condition (USL_OK): КС, ДС, амбулаторно, СМП
USL_OK_SHARE = {1: 0.12, 2: 0.06, 3: 0.72, 4: 0.10}

#: RSLT -> possible ISHOD, with weights; first digit of both = USL_OK (V009 / V012)
OUTCOMES: dict[int, list[tuple[str, tuple[str, ...], float]]] = {
    1: [("101", ("101", "102"), 0.82), ("102", ("102", "103"), 0.06), ("104", ("102", "103"), 0.04),
        ("105", ("104",), 0.02), ("107", ("103", "102"), 0.06)],
    2: [("201", ("201", "202"), 0.86), ("202", ("202", "203"), 0.04), ("203", ("203", "204"), 0.05),
        ("207", ("203",), 0.05)],
    3: [("301", ("301", "303"), 0.45), ("314", ("304", "303"), 0.25), ("304", ("303", "304"), 0.18),
        ("305", ("304",), 0.06), ("308", ("304",), 0.06)],
    4: [("401", ("401",), 0.62), ("403", ("402",), 0.30), ("402", ("401",), 0.07), ("405", ("403",), 0.01)],
}  # fmt: skip

#: the same RSLT groups, to pick a wrong one for the RSLT/USL_OK defect
RSLT_BY_USL_OK = {k: [r for r, _, _ in v] for k, v in OUTCOMES.items()}

#: VIDPOM / FOR_POM / IDSP by condition (V008 / V014 / V010)
VIDPOM = {1: ("31",), 2: ("31", "13"), 3: ("12", "13"), 4: ("2", "21")}
FOR_POM = {1: ("1", "3"), 2: ("3",), 3: ("3", "2"), 4: ("1", "2")}

P_DIAGNOSES = ("P07.3", "P59.9", "P22.1", "P39.1")

MALE_SURNAMES = ("Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
                 "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
                 "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин")  # fmt: skip
MALE_NAMES = ("Александр", "Сергей", "Дмитрий", "Андрей", "Алексей", "Максим", "Евгений", "Иван",
              "Михаил", "Артём", "Николай", "Владимир", "Павел", "Роман", "Олег", "Юрий")  # fmt: skip
FEMALE_NAMES = ("Елена", "Ольга", "Наталья", "Татьяна", "Анна", "Мария", "Ирина", "Светлана",
                "Екатерина", "Юлия", "Анастасия", "Людмила", "Галина", "Дарья", "Ксения", "Вера")  # fmt: skip
PATRONYMIC_ROOTS = ("Александров", "Сергеев", "Дмитриев", "Андреев", "Алексеев", "Иванов", "Михайлов",
                    "Николаев", "Владимиров", "Павлов", "Петров", "Викторов")  # fmt: skip


def female_surname(male: str) -> str:
    return male[:-1] + "а" if male.endswith("й") else male + "а"

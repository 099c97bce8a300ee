"""Normal (defect-free) cases: scenario, person, dates, outcome, services, money.

A timeline per person keeps normal cases from colliding by chance (overlapping stays,
a visit inside a stay, the same profile on the same day), so every such collision in
the output is one the defect injector put there and wrote into the ground truth.
"""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from .catalog import BASE_RATE, FOR_POM, LEVEL_COEF, OUTCOMES, USL_OK_SHARE, VIDPOM, Scenario
from .population import Population

KOPECK = Decimal("0.01")
ONE = Decimal("1")


def money(x: Decimal) -> Decimal:
    return x.quantize(KOPECK, rounding=ROUND_HALF_UP)


@dataclass(slots=True)
class Service:
    code: str
    d_in: int
    d_out: int
    kol: int
    tarif: Decimal
    sumv: Decimal


@dataclass(slots=True)
class Case:
    person: int
    mo: int
    scenario: Scenario
    usl_ok: int
    vidpom: str
    for_pom: str
    d1: int
    d2: int
    rslt: str
    ishod: str
    idsp: str
    ds1: str
    ds2: str | None
    c_zab: str | None
    p_cel: str | None
    doctor: str
    kd: int | None
    ed_col: int | None
    koef_u: Decimal | None
    services: list[Service]
    sum_m: Decimal
    npr_mo: int | None = None
    npr_date: int | None = None
    sumv: Decimal | None = None  # written SUMV when it deliberately differs from sum_m
    smo: str | None = None  # written SMO when it deliberately differs from the ЕРЗ
    idcase: int = 0

    @property
    def written_sumv(self) -> Decimal:
        return self.sum_m if self.sumv is None else self.sumv


class PlacementError(RuntimeError):
    """No collision-free dates/person found for the requested case."""


class CaseFactory:
    def __init__(self, scenarios: list[Scenario], pop: Population, n_mo: int, year: int, month: int,
                 rng: random.Random) -> None:  # fmt: skip
        self.pop, self.n_mo, self.rng = pop, n_mo, rng
        self.month_start = date(year, month, 1).toordinal()
        self.month_end = date(year, month, calendar.monthrange(year, month)[1]).toordinal()
        self.by_usl: dict[int, list[Scenario]] = {}
        for s in scenarios:
            self.by_usl.setdefault(s.usl_ok, []).append(s)
        self.cand: dict[Scenario, np.ndarray] = {
            s: pop.candidates(s.sex, s.age_min, s.age_max) for s in scenarios
        }
        self.timeline: dict[int, list[tuple[int, int, int, str]]] = {}

    # --- choices --------------------------------------------------------------------
    def pick_scenario(self, usl_ok: int | None = None, **where: object) -> Scenario:
        if usl_ok is None:
            usl_ok = self.rng.choices(list(USL_OK_SHARE), weights=list(USL_OK_SHARE.values()))[0]
        pool = [s for s in self.by_usl[usl_ok] if all(getattr(s, k) == v for k, v in where.items())]
        return self.rng.choices(pool, weights=[s.weight for s in pool])[0]

    def pick_person(self, scenario: Scenario) -> int:
        cand = self.cand[scenario]
        return int(cand[self.rng.randrange(len(cand))])

    def doctor(self, mo: int, profil: str) -> str:
        from .population import snils

        k = self.rng.randrange(4)
        return snils((mo + 1) * 123_456_791 + int(profil) * 1_009 + k * 7)

    # --- timeline ---------------------------------------------------------------------
    def conflicts(
        self, person: int, usl_ok: int, d1: int, d2: int, profil: str, ignore: Case | None = None
    ) -> bool:
        skip = (ignore.usl_ok, ignore.d1, ignore.d2, ignore.scenario.profil) if ignore is not None else None
        for u, a, b, p in self.timeline.get(person, ()):
            if (u, a, b, p) == skip:
                continue
            overlap = a <= d2 and d1 <= b
            if overlap and (u in (1, 2) and usl_ok in (1, 2, 3) or u == 3 and usl_ok in (1, 2)):
                return True
            if p == profil and a == d1:
                return True
        return False

    def register(self, case: Case) -> None:
        self.timeline.setdefault(case.person, []).append(
            (case.usl_ok, case.d1, case.d2, case.scenario.profil)
        )

    # --- building -----------------------------------------------------------------------
    def make(self, mo: int, scenario: Scenario | None = None, person: int | None = None,
             dates: tuple[int, int] | None = None, check: bool = True) -> Case:  # fmt: skip
        """A case; with ``check`` it is re-drawn until it collides with nothing."""
        for _ in range(50):
            s = scenario or self.pick_scenario()
            p = self.pick_person(s) if person is None else person
            d1, d2 = dates or self._dates(s)
            if check and self.conflicts(p, s.usl_ok, d1, d2, s.profil):
                continue
            case = self._build(mo, s, p, d1, d2)  # may narrow the dates (urgent visit: one day)
            if (
                not check
                or (case.d1, case.d2) == (d1, d2)
                or not self.conflicts(p, s.usl_ok, case.d1, case.d2, s.profil)
            ):
                return case
        raise PlacementError("could not place a case without collisions")

    def _dates(self, s: Scenario) -> tuple[int, int]:
        d2 = self.rng.randint(self.month_start, self.month_end)
        if s.usl_ok in (1, 2):
            days = self.rng.randint(s.days_min, s.days_max)
            return d2 - (days if s.usl_ok == 1 else days - 1), d2
        if s.usl_ok == 3 and self.rng.random() < 0.4:  # обращение: several visits
            return max(d2 - self.rng.randint(3, 14), self.month_start), d2
        return d2, d2

    def _build(self, mo: int, s: Scenario, person: int, d1: int, d2: int) -> Case:
        rng = self.rng
        rslt, ishods, _ = rng.choices(OUTCOMES[s.usl_ok], weights=[w for *_, w in OUTCOMES[s.usl_ok]])[0]
        ds1 = rng.choice(s.diagnoses)
        ds2 = rng.choice(("I10", "E11.9", "E66.0")) if s.usl_ok in (1, 2) and rng.random() < 0.15 else None
        if ds2 == ds1:
            ds2 = None
        doctor = self.doctor(mo, s.profil)
        case = Case(
            person=person, mo=mo, scenario=s, usl_ok=s.usl_ok, vidpom=rng.choice(VIDPOM[s.usl_ok]),
            for_pom=rng.choice(FOR_POM[s.usl_ok]), d1=d1, d2=d2, rslt=rslt, ishod=rng.choice(ishods),
            idsp="33", ds1=ds1, ds2=ds2, c_zab=rng.choice(("1", "1", "2", "3")) if s.usl_ok != 4 else None,
            p_cel=None, doctor=doctor, kd=None, ed_col=None, koef_u=None, services=[], sum_m=Decimal(0),
        )  # fmt: skip
        if s.usl_ok in (1, 2):
            self._inpatient(case)
        elif s.usl_ok == 3:
            self._outpatient(case)
        else:
            case.idsp = "24"
            case.services = [Service(s.visit_code + ".001", d1, d2, 1, s.tarif, s.tarif)]  # type: ignore[arg-type]
            case.sum_m = s.tarif  # type: ignore[assignment]
        if case.for_pom == "3" and s.usl_ok in (1, 2):
            case.npr_mo = rng.randrange(self.n_mo)
            case.npr_date = d1 - rng.randint(1, 20)
        return case

    def _inpatient(self, case: Case) -> None:
        s = case.scenario
        case.kd = max(case.d2 - case.d1, 1) if s.usl_ok == 1 else case.d2 - case.d1 + 1
        case.koef_u = LEVEL_COEF[case.mo % len(LEVEL_COEF)]
        assert s.koef_z is not None
        case.sum_m = money(BASE_RATE[s.usl_ok] * s.koef_z * ONE * case.koef_u * ONE)
        zero = Decimal("0.00")
        case.services = [Service(s.visit_code + ".001", case.d1, case.d1, 1, zero, zero)]
        if case.kd > 1:
            case.services.append(
                Service(s.visit_code + ".002", case.d1 + 1, case.d2, case.kd - 1, zero, zero)
            )

    def _outpatient(self, case: Case) -> None:
        s = case.scenario
        assert s.tarif is not None
        repeat = money(s.tarif * Decimal("0.80"))
        if case.for_pom == "2":  # неотложная помощь: одно посещение
            case.d1 = case.d2
            case.idsp, case.p_cel = "29", "1.1"
            days = [case.d1]
        elif case.d1 == case.d2:
            case.idsp, case.p_cel = "29", self.rng.choice(("1.0", "1.0", "1.0", "2.6"))
            days = [case.d1]
        else:
            case.idsp, case.p_cel = "30", "3.0"
            inner = sorted(
                self.rng.sample(
                    range(case.d1 + 1, case.d2), min(self.rng.randint(0, 2), case.d2 - case.d1 - 1)
                )
            )
            days = [case.d1, *inner, case.d2]
        case.services = [
            Service(s.visit_code + (".001" if i == 0 else ".002"), d, d, 1, s.tarif if i == 0 else repeat,
                    s.tarif if i == 0 else repeat)
            for i, d in enumerate(days)
        ]  # fmt: skip
        case.ed_col = len(days)
        case.sum_m = sum((u.sumv for u in case.services), Decimal("0.00"))

    def copy(self, case: Case) -> Case:
        return replace(case, services=[replace(u) for u in case.services])

"""Defect injection with a ground truth: which case carries which deliberate error.

Each kind names the МЭК/ФЛК family it should trigger (F014 Osn under 231н, DOMAIN §2.2)
so the rule authors can score their checks against ``ground_truth.csv``.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from .cases import Case, CaseFactory, PlacementError
from .catalog import P_DIAGNOSES, RSLT_BY_USL_OK, SMO_CODES, Scenario

#: kind -> (F014 Osn hint, short description)
KINDS: dict[str, tuple[str, str]] = {
    "duplicate_case": ("1.10.2", "повтор случая в реестре: тот же пациент, профиль, DATE_Z_1"),
    "date_outside_period": ("1.4.6", "DATE_Z_2 вне отчётного периода"),
    "case_sum_mismatch": ("1.4.5", "SUMV не равна сумме SUM_M"),
    "rslt_usl_ok_mismatch": ("1.4.4", "RSLT не соответствует USL_OK"),
    "p_diagnosis_over_1": ("1.4.4", "диагноз класса P у пациента старше 1 года"),
    "female_profile_male": ("1.4.4", "профиль 136 (акушерство и гинекология) у мужчины"),
    "overlapping_stays": ("1.10.6", "пересечение сроков стационарного лечения"),
    "visit_inside_stay": ("1.10.5", "амбулаторное посещение в период стационара"),
    "unknown_enp": ("1.5", "ЕНП отсутствует в ЕРЗ"),
    "smo_mismatch": ("1.5", "СМО в реестре не совпадает с ЕРЗ"),
    "tariff_mismatch": ("1.7.2", "тариф выше тарифного соглашения (арифметика реестра сходится)"),
}
ACCOUNT_KIND = ("summav_mismatch", "1.4.2", "SUMMAV не равна сумме SUMV счёта")


@dataclass(frozen=True, slots=True)
class Truth:
    kind: str
    related: int | None = None  # IDCASE of the case it collides with


class DefectInjector:
    def __init__(
        self, factory: CaseFactory, rng: random.Random, kinds: tuple[str, ...] | None = None
    ) -> None:
        self.f, self.rng = factory, rng
        self.kinds = list(kinds or KINDS)
        self.recent: dict[int, deque[Case]] = {}
        self.stays: deque[Case] = deque(maxlen=2000)  # recent КС cases of any МО

    def remember(self, case: Case) -> None:
        self.recent.setdefault(case.mo, deque(maxlen=500)).append(case)
        if case.usl_ok == 1 and case.d2 - case.d1 >= 2:
            self.stays.append(case)

    def _take(self, src: Case) -> None:
        """A source of one injected collision is not reused, so every collision is labelled once."""
        for pool in (self.recent.get(src.mo, ()), self.stays):
            if src in pool:
                pool.remove(src)

    def make(self, mo: int) -> tuple[Case, Truth] | None:
        for _ in range(5):  # some kinds need a suitable source case; try another kind then
            kind = self.rng.choice(self.kinds)
            try:
                made = getattr(self, "_" + kind)(mo)
            except PlacementError:
                made = None
            if made is not None:
                return made
        return None  # the slot gets a normal case

    # --- kinds ------------------------------------------------------------------------------
    def _duplicate_case(self, mo: int) -> tuple[Case, Truth] | None:
        pool = self.recent.get(mo)
        if not pool:
            return None
        src = self.rng.choice(pool)
        self._take(src)
        return self.f.copy(src), Truth("duplicate_case", src.idcase)

    def _date_outside_period(self, mo: int) -> tuple[Case, Truth] | None:
        case = self.f.make(mo)
        shift = case.d2 - self.f.month_start + self.rng.randint(1, 20)
        case.d1, case.d2 = case.d1 - shift, case.d2 - shift
        if case.npr_date is not None:
            case.npr_date -= shift
        for u in case.services:
            u.d_in, u.d_out = u.d_in - shift, u.d_out - shift
        if case.block is not None:
            case.block.shift(shift)  # type: ignore[attr-defined]
        if not self.f.fits(case.scenario, case.person, case.d1) or self.f.conflicts(
            case.person, case.usl_ok, case.d1, case.d2, case.scenario.profil
        ):
            return None
        return case, Truth("date_outside_period")

    def _case_sum_mismatch(self, mo: int) -> tuple[Case, Truth]:
        case = self.f.make(mo)
        case.sum_delta = Decimal(
            self.rng.choice(("100.00", "0.01", "-0.50", "1000.00"))
        )  # applied once priced
        return case, Truth("case_sum_mismatch")

    def _tariff_mismatch(self, mo: int) -> tuple[Case, Truth]:
        case = self.f.make(mo)
        case.overprice = Decimal(self.rng.choice(("1.05", "1.10", "1.20")))  # applied once priced
        return case, Truth("tariff_mismatch")

    def _rslt_usl_ok_mismatch(self, mo: int) -> tuple[Case, Truth]:
        case = self.f.make(mo)
        other = self.rng.choice([u for u in RSLT_BY_USL_OK if u != case.usl_ok])
        case.rslt = self.rng.choice(RSLT_BY_USL_OK[other])
        return case, Truth("rslt_usl_ok_mismatch")

    def _p_diagnosis_over_1(self, mo: int) -> tuple[Case, Truth] | None:
        case = self.f.make(mo, scenario=self.f.pick_scenario(mo, 3, profil="97"))
        if self.f.pop.age_at(case.person, case.d1) <= 1:
            return None
        case.ds1 = self.rng.choice(P_DIAGNOSES)
        return case, Truth("p_diagnosis_over_1")

    def _female_profile_male(self, mo: int) -> tuple[Case, Truth] | None:
        scen = self.f.pick_scenario(mo, self.rng.choice((1, 3)), profil="136")
        male = self.f.pop.candidates(1, scen.age_min, scen.age_max)
        if not len(male):
            return None
        p = int(male[self.rng.randrange(len(male))])
        return self.f.make(mo, scenario=scen, person=p, as_sex=2), Truth("female_profile_male")

    def _overlapping_stays(self, mo: int) -> tuple[Case, Truth] | None:
        if not self.stays:
            return None
        src = self.rng.choice(self.stays)
        lo, hi = max(src.d1 + 1, self.f.month_start), src.d2 - 1
        if lo > hi:
            return None
        d1 = self.rng.randint(lo, hi)
        d2 = min(d1 + self.rng.randint(3, 10), self.f.month_end)
        scen = self._fitting(mo, 1, src.person, d1)
        if scen is None or self.f.conflicts(src.person, 1, d1, d2, scen.profil, ignore=src):
            return None
        self._take(src)
        return self.f.make(mo, scen, src.person, (d1, d2), check=False), Truth(
            "overlapping_stays", src.idcase
        )

    def _visit_inside_stay(self, mo: int) -> tuple[Case, Truth] | None:
        if not self.stays:
            return None
        src = self.rng.choice(self.stays)
        lo = max(src.d1 + 1, self.f.month_start)
        if lo > src.d2 - 1:
            return None
        day = self.rng.randint(lo, src.d2 - 1)
        scen = self._fitting(mo, 3, src.person, day)
        if scen is None or self.f.conflicts(src.person, 3, day, day, scen.profil, ignore=src):
            return None
        # 1.10.5 (231н) does not count emergency or urgent care (FOR_POM 1, 2) given by another МО
        for _ in range(8):
            case = self.f.make(mo, scen, src.person, (day, day), check=False)
            if case.for_pom == "3" or case.mo == src.mo:
                break
        else:
            return None
        self._take(src)
        return case, Truth("visit_inside_stay", src.idcase)

    def _unknown_enp(self, mo: int) -> tuple[Case, Truth] | None:
        case = self.f.make(mo)
        stranger = self.f.pop.add_unknown(case.person)
        if stranger is None:
            return None
        case.person = stranger
        return case, Truth("unknown_enp")

    def _smo_mismatch(self, mo: int) -> tuple[Case, Truth]:
        case = self.f.make(mo)
        own = self.f.pop.smo_code(case.person)
        case.smo = self.rng.choice([c for c in SMO_CODES if c != own])
        return case, Truth("smo_mismatch")

    def _fitting(self, mo: int, usl_ok: int, person: int, day: int) -> Scenario | None:
        """A scenario of this condition priced in this МО that the person's sex and age on ``day`` allow."""
        pop = self.f.pop
        fits = [
            s
            for s in self.f.pool[mo].get(usl_ok, ())
            if s.sex in (0, int(pop.sex[person])) and self.f.fits(s, person, day)
        ]
        return self.rng.choice(fits) if fits else None

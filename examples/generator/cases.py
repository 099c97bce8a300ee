"""Normal (defect-free) cases: scenario, person, dates, outcome, services; money by the package.

A timeline per person keeps normal cases from colliding by chance (overlapping stays,
a visit inside a stay, the same profile on the same day), so every such collision in
the output is one the defect injector put there and wrote into the ground truth.

Cases are made without money; ``generate`` prices them in batches with the methodology
package (examples/generator/package.py) and ``apply_price`` writes the result into the case.
"""

from __future__ import annotations

import calendar
import random
from copy import deepcopy
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

import numpy as np

from .catalog import FOR_POM, OUTCOMES, USL_OK_SHARE, VIDPOM, Scenario
from .package import Package, SlPrice, coef, money
from .population import Population

ZERO = Decimal("0.00")


@dataclass(slots=True)
class Service:
    code: str
    d_in: int
    d_out: int
    kol: int
    tarif: Decimal = ZERO
    sumv: Decimal = ZERO


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
    prvs: str
    kd: int | None
    ed_col: int | None
    services: list[Service]
    kslp: tuple[str, ...] = ()
    sum_m: Decimal = ZERO
    price: SlPrice | None = None
    npr_mo: int | None = None
    npr_date: int | None = None
    sum_delta: Decimal | None = None  # injected: SUMV = ΣSUM_M + delta (case_sum_mismatch)
    overprice: Decimal | None = None  # injected: the МО's tariff × this factor (tariff_mismatch)
    sumv: Decimal | None = None  # written SUMV when it deliberately differs from sum_m
    smo: str | None = None  # written SMO when it deliberately differs from the ЕРЗ
    idcase: int = 0
    extra: dict = field(default_factory=dict)
    kind: str = "H"  # file kind: H, C, T or D
    block: object | None = None  # the C/T/D payload (examples/generator/special.py)

    @property
    def written_sumv(self) -> Decimal:
        return self.sum_m if self.sumv is None else self.sumv


def apply_price(case: Case, p: SlPrice) -> None:
    """Write the package's tariff into the case; injected money defects are applied on top."""
    if case.overprice is not None:
        p = _overpriced(case, p, case.overprice)
    case.price = p
    case.sum_m = p.sum_m
    for u, (tarif, sumv) in zip(case.services, p.services, strict=True):
        u.tarif, u.sumv = tarif, sumv
    case.sumv = None if case.sum_delta is None else case.sum_m + case.sum_delta
    if case.sumv is not None and case.sumv < 0:
        case.sumv = case.sum_m + Decimal("0.50")


def _overpriced(case: Case, p: SlPrice, factor: Decimal) -> SlPrice:
    """The МО priced the case above the agreement, its own arithmetic consistent (→ only 1.7.2)."""
    q = replace(p, services=list(p.services))
    if case.idsp == "33":
        q.koef_up = coef(float(Decimal(p.koef_up) * factor))
        full_old, q.tarif = Package.ksg_tarif(p), Package.ksg_tarif(q)
        q.sum_m = p.sum_m + (q.tarif - full_old)
    elif case.idsp == "30":
        q.sum_m = money(p.sum_m * factor)
    else:  # a priced service per unit: visit (29), medical service (28), СМП call (24)
        q.services = [(money(t * factor), money(t * factor) * Decimal(u.kol)) if t else (t, s)
                      for (t, s), u in zip(p.services, case.services, strict=True)]  # fmt: skip
        q.sum_m = sum((s for _, s in q.services), ZERO)
    return q


class PlacementError(RuntimeError):
    """No collision-free dates/person found for the requested case."""


class CaseFactory:
    def __init__(self, scenarios: list[Scenario], pop: Population, pkg: Package, mo_codes: list[str],
                 year: int, month: int, rng: random.Random) -> None:  # fmt: skip
        self.pop, self.pkg, self.mo_codes, self.rng = pop, pkg, mo_codes, rng
        self.n_mo = len(mo_codes)
        self.month_start = date(year, month, 1).toordinal()
        self.month_end = date(year, month, calendar.monthrange(year, month)[1]).toordinal()
        self.kslp_ok = pkg.kslp_mode == "add"
        #: scenario -> VIDPOM options, each with the PRVS candidates the rules 0490/0500/0510 allow
        self.kinds: dict[Scenario, list[tuple[str, tuple[str, ...]]]] = {}
        for s in scenarios:
            fit = [p for p in s.prvs if self._prvs_fits_scenario(p, s)]
            opts = [(v, tuple(p for p in fit if pkg.prvs_allowed(v, p))) for v in VIDPOM[s.usl_ok]]
            opts = [(v, ps) for v, ps in opts if ps]
            if opts:
                self.kinds[s] = opts
        self.pool = self._priced_pools(list(self.kinds))
        self.by_usl: dict[int, list[Scenario]] = {}
        for s in {s for per_mo in self.pool for ss in per_mo.values() for s in ss}:
            self.by_usl.setdefault(s.usl_ok, []).append(s)
        for ss in self.by_usl.values():
            ss.sort(key=lambda s: (s.idsp, s.profil, s.ksg or "", s.code))
        self.cand: dict[Scenario, np.ndarray] = {
            s: pop.candidates(s.sex, s.age_min, s.age_max) for ss in self.by_usl.values() for s in ss
        }
        self.timeline: dict[int, list[tuple[int, int, int, str]]] = {}

    def _prvs_fits_scenario(self, prvs: str, s: Scenario) -> bool:
        lo, hi, sex = self.pkg.age_limits(prvs)
        return lo <= s.age_min and s.age_max <= hi and (sex == 0 or s.sex == sex)

    def _priced_pools(self, scenarios: list[Scenario]) -> list[dict[int, list[Scenario]]]:
        """Per МО: the scenarios the package prices there (no «tariff missing» on probe cases)."""
        saved, self.rng = self.rng, random.Random(0)
        mid = self.month_start + 14
        probes: list[tuple[int, Scenario]] = []
        bad_build: set[tuple[int, Scenario]] = set()
        cases: list[Case] = []
        for mo in range(self.n_mo):
            for s in scenarios:
                variants = [(mid - s.days_max, mid)] if s.usl_ok in (1, 2) else [(mid, mid)]
                for d1, d2 in variants:
                    c = self._build(mo, s, 0, d1, d2, age=s.age_min, sex=s.sex or 1)
                    if c is None:
                        bad_build.add((mo, s))
                        continue
                    probes.append((mo, s))
                    cases.append(c)
                    if s.idsp == "29/30":  # the same visit scenario as an обращение
                        probes.append((mo, s))
                        cases.append(replace(c, idsp="30" if c.idsp == "29" else "29", ed_col=1))
        self.rng = saved
        bad = {
            probe for probe, p in zip(probes, self.pkg.price(cases, self.mo_codes), strict=True) if p.missing
        }
        bad |= bad_build
        pools: list[dict[int, list[Scenario]]] = []
        for mo in range(self.n_mo):
            pool: dict[int, list[Scenario]] = {}
            for s in scenarios:
                if (mo, s) not in bad:
                    pool.setdefault(s.usl_ok, []).append(s)
            if not pool:
                raise ValueError(
                    f"пакет {self.pkg.path} не тарифицирует ни один сценарий в МО {self.mo_codes[mo]}"
                )
            pools.append(pool)
        return pools

    # --- choices --------------------------------------------------------------------
    def pick_scenario(self, mo: int, usl_ok: int | None = None, **where: object) -> Scenario:
        pool = self.pool[mo]
        if usl_ok is None:
            conds = [u for u in USL_OK_SHARE if u in pool]
            usl_ok = self.rng.choices(conds, weights=[USL_OK_SHARE[u] for u in conds])[0]
        cands = [s for s in pool.get(usl_ok, ()) if all(getattr(s, k) == v for k, v in where.items())]
        if not cands:
            raise PlacementError(f"no scenario {usl_ok} {where} in this МО")
        return self.rng.choices(cands, weights=[s.weight for s in cands])[0]

    def pick_person(self, scenario: Scenario) -> int:
        cand = self.cand[scenario]
        return int(cand[self.rng.randrange(len(cand))])

    def fits(self, s: Scenario, person: int, d1: int) -> bool:
        """Born and insured by DATE_Z_1, of the scenario's age on DATE_Z_1 (the rules' age)."""
        pop = self.pop
        if d1 < pop.dob[person] or d1 < pop.policy_beg[person]:
            return False
        return s.age_min <= pop.age_at(person, d1) <= s.age_max

    def doctor(self, mo: int, profil: str, rng: random.Random | None = None) -> str:
        """СНИЛС of one of four doctors of this profile in the МО."""
        from .population import snils

        k = (rng or self.rng).randrange(4)
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
             dates: tuple[int, int] | None = None, check: bool = True, as_sex: int | None = None) -> Case:  # fmt: skip
        """A case; with ``check`` it is re-drawn until it collides with nothing. The person is
        always born, insured and of the scenario's age on DATE_Z_1."""
        for _ in range(50):
            s = scenario or self.pick_scenario(mo)
            p = self.pick_person(s) if person is None else person
            d1, d2 = dates or self._dates(s)
            if not self.fits(s, p, d1) or check and self.conflicts(p, s.usl_ok, d1, d2, s.profil):
                continue
            case = self._build(mo, s, p, d1, d2, sex=as_sex)  # may narrow the dates (urgent visit: one day)
            if case is None or (case.d1 != d1 and not self.fits(s, p, case.d1)):
                continue
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
        if s.idsp == "29/30" and self.rng.random() < 0.4:  # обращение: several visits
            return max(d2 - self.rng.randint(3, 14), self.month_start), d2
        return d2, d2

    def _build(self, mo: int, s: Scenario, person: int, d1: int, d2: int, age: int | None = None,
               sex: int | None = None) -> Case | None:  # fmt: skip
        rng = self.rng
        pop = self.pop
        rslt, ishods, _ = rng.choices(OUTCOMES[s.usl_ok], weights=[w for *_, w in OUTCOMES[s.usl_ok]])[0]
        ds1 = rng.choice(s.diagnoses)
        ds2 = rng.choice(("I10", "E11.9", "E66.0")) if s.usl_ok in (1, 2) and rng.random() < 0.15 else None
        if ds2 == ds1:
            ds2 = None
        vidpom, prvs_opts = rng.choice(self.kinds[s])
        if age is None:
            age = pop.age_at(person, d1)
        if sex is None:
            sex = int(pop.sex[person])
        prvs_fit = [p for p in prvs_opts if self._prvs_fits(p, age, sex)]
        if not prvs_fit:
            return None
        doctor = self.doctor(mo, s.profil)
        case = Case(
            person=person, mo=mo, scenario=s, usl_ok=s.usl_ok, vidpom=vidpom,
            for_pom=rng.choice(FOR_POM[s.usl_ok]), d1=d1, d2=d2, rslt=rslt, ishod=rng.choice(ishods),
            idsp="33", ds1=ds1, ds2=ds2, c_zab=rng.choice(("1", "1", "2", "3")) if s.usl_ok != 4 else None,
            p_cel=None, doctor=doctor, prvs=rng.choice(prvs_fit), kd=None, ed_col=None, services=[],
        )  # fmt: skip
        if s.usl_ok in (1, 2):
            self._inpatient(case, age)
        elif s.usl_ok == 3:
            self._outpatient(case)
        else:
            case.idsp = s.idsp
            case.services = [Service(s.code + ".001", d1, d2, 1)]
        if case.for_pom == "3" and s.usl_ok in (1, 2):
            case.npr_mo = rng.randrange(self.n_mo)
            case.npr_date = d1 - rng.randint(1, 20)
        return case

    def _prvs_fits(self, prvs: str, age: int, sex: int) -> bool:
        lo, hi, need_sex = self.pkg.age_limits(prvs)
        return lo <= age <= hi and (need_sex == 0 or need_sex == sex)

    def _inpatient(self, case: Case, age: int) -> None:
        s = case.scenario
        case.idsp = s.idsp
        case.kd = max(case.d2 - case.d1, 1) if s.usl_ok == 1 else case.d2 - case.d1 + 1
        if self.kslp_ok and s.usl_ok == 1:
            if age >= 75 and "3" in self.pkg.kslp_codes and self.rng.random() < 0.3:
                case.kslp = ("3",)  # старше 75 лет при консультации врача-гериатра
            elif age < 4 and "1" in self.pkg.kslp_codes and self.rng.random() < 0.5:
                case.kslp = ("1",)  # спальное место и питание законному представителю
        case.services = [Service(s.code + ".001", case.d1, case.d1, 1)]
        if case.kd > 1:
            case.services.append(Service(s.code + ".002", case.d1 + 1, case.d2, case.kd - 1))

    def _outpatient(self, case: Case) -> None:
        s = case.scenario
        if s.idsp == "28":  # диагностическая услуга по тарифу услуги
            case.d1 = case.d2
            case.idsp, case.p_cel = "28", "1.0"
            case.services = [Service(s.code, case.d1, case.d1, 1)]
            return
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
            Service(s.code + (".001" if i == 0 else ".002"), d, d, 1) for i, d in enumerate(days)
        ]
        case.ed_col = len(days)

    def copy(self, case: Case) -> Case:
        return replace(case, services=[replace(u) for u in case.services], block=deepcopy(case.block))

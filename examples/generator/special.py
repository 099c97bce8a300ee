"""Cases of the C (oncology), T (ВМП) and D (dispanserization) files.

They share the population and the per-person timeline of the H cases (``CaseFactory``), so a
C stay never overlaps an H stay by chance, and draw from their own random stream, so adding
them leaves the H cases of a month unchanged. C cases are priced by the methodology package
like H cases (KSG, service tariff); T and D cases carry the assumed tariffs of ``codes.py``
(the package prices neither ВМП nor dispanserization).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from . import codes
from .cases import Case, CaseFactory, PlacementError, Service
from .catalog import FOR_POM, Scenario
from .package import SlPrice

ZERO = Decimal("0.00")


@dataclass(slots=True)
class Inj:
    day: int
    kv: Decimal  # KV_INJ = KIZ_INJ: the dose given, mg


@dataclass(slots=True)
class LekPr:
    regnum: str
    code_sh: str
    inj: list[Inj]


@dataclass(slots=True)
class OnkUsl:
    usl_tip: int
    hir_tip: int | None = None
    lek_tip_l: int | None = None
    lek_tip_v: int | None = None
    luch_tip: int | None = None
    lek_pr: list[LekPr] = field(default_factory=list)


@dataclass(slots=True)
class Onko:
    """SL blocks of a C case (and of an oncology T case)."""

    ds_onk: int
    cons: list[tuple[int, int | None]]  # (PR_CONS, DT_CONS)
    napr: list[tuple[int, int, str]] = field(default_factory=list)  # (NAPR_DATE, NAPR_V, NAPR_MO)
    ds1_t: int | None = None  # None: no ONK_SL
    stage: tuple[str, str, str, str] | None = None  # STAD, ONK_T, ONK_N, ONK_M (N006 IDs)
    mtstz: bool = False
    sod: Decimal | None = None
    k_fr: int | None = None
    wei: Decimal | None = None
    hei: int | None = None
    bsa: Decimal | None = None
    b_diag: list[tuple[int, int, str, str]] = field(default_factory=list)  # (date, TIP, CODE, RSLT)
    usl: list[OnkUsl] = field(default_factory=list)
    vid_vme: str | None = None  # USL/VID_VME of the operation or irradiation service
    crit: tuple[str, ...] = ()  # KSG_KPG/CRIT

    def shift(self, delta: int) -> None:
        self.cons = [(p, None if d is None else d - delta) for p, d in self.cons]
        self.napr = [(d - delta, v, mo) for d, v, mo in self.napr]
        self.b_diag = [(d - delta, t, c, r) for d, t, c, r in self.b_diag]
        for u in self.usl:
            for lp in u.lek_pr:
                for i in lp.inj:
                    i.day -= delta


@dataclass(slots=True)
class Vmp:
    method: codes.VmpMethod
    tal_d: int  # TAL_D: date of the ВМП voucher
    tal_p: int  # TAL_P: planned date of hospitalisation
    tal_num: str
    onko: Onko | None = None

    def shift(self, delta: int) -> None:
        self.tal_d -= delta
        self.tal_p -= delta
        if self.onko is not None:
            self.onko.shift(delta)


@dataclass(slots=True)
class Disp:
    kind: codes.DispKind
    rslt_d: str
    ds1_pr: bool
    pr_d_n: int  # 1 under observation, 2 taken under observation, 3 not subject to it
    naz: list[tuple[int, int, int | None]] = field(default_factory=list)  # (NAZ_N, NAZ_R, NAZ_V)
    ds2_n: list[tuple[str, bool, int]] = field(default_factory=list)  # (DS2, DS2_PR, PR_DS2_N)
    performers: list[list[tuple[str, str]]] = field(default_factory=list)  # per service: (PRVS, CODE_MD)…

    def shift(self, delta: int) -> None:
        pass


def _money(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class SpecialFactory:
    """Makes C, T or D cases of one kind; ``make``/``copy``/``fits`` as ``CaseFactory`` has them."""

    def __init__(self, base: CaseFactory, kind: str, rng: random.Random) -> None:
        self.base, self.kind, self.rng = base, kind, rng
        self.pop, self.pkg, self.mo_codes = base.pop, base.pkg, base.mo_codes
        self.month_start, self.month_end, self.n_mo = base.month_start, base.month_end, base.n_mo
        self.stages, self.histology = codes.load_stages(), codes.load_histology()
        self.scen: dict[object, Scenario] = {}
        self.disp_done: set[int] = set()  # one check-up per person and month
        #: the package's complex tariffs of dispanserization (disp_tariff), else those of codes.py
        self.disp_cost = {
            str(r["disp"]): _money(Decimal(r["tariff"]) / 100) for r in self.pkg.rows_in_force("disp_tariff")
        }
        if kind == "C":
            for o in codes.ONCO:
                self.scen[o] = Scenario(o.usl_ok, o.idsp, o.profil, "0", o.prvs, o.code_usl.rsplit(".", 1)[0],
                                        o.ksg, o.diagnoses, o.sex, o.age_min, 99, *o.days, o.weight)  # fmt: skip
        elif kind == "T":
            for v in codes.VMP:
                self.scen[v] = Scenario(1, "32", v.profil, "0", (v.prvs,), "B01", None, v.diagnoses, 0, 18, 99,
                                        *v.days, v.weight)  # fmt: skip
        else:
            for k in codes.DISP:
                self.scen[k] = Scenario(3, "29", "disp", "0", ("76",), "B04", None, ("Z00.0",), 0, k.age_min, 99,
                                        1, 1, k.weight)  # fmt: skip
        self.cand = {s: self.pop.candidates(s.sex, s.age_min, s.age_max) for s in self.scen.values()}
        self.pool = self._priced() if kind == "C" else list(self.scen)

    # --- what the package prices (C cases are priced by it) ------------------------------
    def _priced(self) -> list[object]:
        mid = self.month_start + 14
        probe = [self._case(mo, o, 0, mid - o.days[1], mid) for mo in range(self.n_mo) for o in codes.ONCO]
        ok = [not p.missing for p in self.pkg.price(probe, self.mo_codes)]
        keep = [
            o
            for i, o in enumerate(codes.ONCO)
            if all(ok[mo * len(codes.ONCO) + i] for mo in range(self.n_mo))
        ]
        if not keep:
            raise ValueError(f"пакет {self.pkg.path} не тарифицирует ни одного онкологического случая")
        return keep

    def fits(self, s: Scenario, person: int, d1: int) -> bool:
        return self.base.fits(s, person, d1)

    def conflicts(
        self, person: int, usl_ok: int, d1: int, d2: int, profil: str, ignore: Case | None = None
    ) -> bool:
        return self.base.conflicts(person, usl_ok, d1, d2, profil, ignore)

    def copy(self, case: Case) -> Case:
        return self.base.copy(case)

    def pick_scenario(self, mo: int, usl_ok: int | None = None, **where: object) -> Scenario:
        raise PlacementError("no H scenarios here")

    # --- making cases ----------------------------------------------------------------------
    def make(self, mo: int) -> Case:
        rng = self.rng
        for _ in range(50):
            spec = rng.choices(self.pool, weights=[x.weight for x in self.pool])[0]
            s = self.scen[spec]
            cand = self.cand[s]
            if not len(cand):
                break
            person = int(cand[rng.randrange(len(cand))])
            if self.kind == "D" and person in self.disp_done:
                continue
            d2 = rng.randint(self.month_start, self.month_end)
            days = rng.randint(s.days_min, s.days_max)
            d1 = d2 - (days if s.usl_ok == 1 else days - 1)
            if not self.fits(s, person, d1) or self.conflicts(person, s.usl_ok, d1, d2, s.profil):
                continue
            case = self._case(mo, spec, person, d1, d2)
            if self.kind == "D":
                self.disp_done.add(person)
            return case
        raise PlacementError(f"could not place a {self.kind} case")

    def _case(self, mo: int, spec: object, person: int, d1: int, d2: int) -> Case:
        s = self.scen[spec]
        rng = self.rng
        usl_ok = s.usl_ok
        vidpom = {"C": {1: "31", 2: "31", 3: "13"}, "T": {1: "32"}, "D": {3: "12"}}[self.kind][usl_ok]
        prvs = rng.choice(s.prvs)
        case = Case(person=person, mo=mo, scenario=s, usl_ok=usl_ok, vidpom=vidpom,
                    for_pom="3" if usl_ok in (1, 2) or self.kind == "D" else rng.choice(FOR_POM[3][:1]),
                    d1=d1, d2=d2, rslt="", ishod="", idsp=s.idsp, ds1=rng.choice(s.diagnoses), ds2=None,
                    c_zab=None, p_cel=None, doctor=self.base.doctor(mo, s.profil if s.profil != "disp" else "97", rng),
                    prvs=prvs, kd=None, ed_col=None, services=[])  # fmt: skip
        case.kind = self.kind
        if self.kind == "C":
            self._onco(case, spec)
        elif self.kind == "T":
            self._vmp(case, spec)
        else:
            self._disp(case, spec)
        return case

    def _stay(self, case: Case, code: str) -> None:
        """KD, outcome and the visit services of a stay (as H stays have them)."""
        rng = self.rng
        case.kd = max(case.d2 - case.d1, 1) if case.usl_ok == 1 else case.d2 - case.d1 + 1
        case.rslt, case.ishod = ("101", "101") if case.usl_ok == 1 else ("201", rng.choice(("201", "202")))
        case.npr_mo = rng.randrange(self.n_mo)
        case.npr_date = case.d1 - rng.randint(1, 20)
        case.services = [Service(code + ".001", case.d1, case.d1, 1)]
        if case.kd > 1:
            case.services.append(Service(code + ".002", case.d1 + 1, case.d2, case.kd - 1))

    def _onco(self, case: Case, o: codes.OncoScenario) -> None:
        rng = self.rng
        site = case.ds1[:3]
        if o.usl_tip is None:  # suspicion: diagnostics and a referral to an oncologist
            case.d1 = case.d2
            case.rslt, case.ishod, case.c_zab, case.p_cel = "314", "304", "1", "1.0"
            case.services = [Service(o.code_usl, case.d1, case.d1, 1)]
            case.block = Onko(
                ds_onk=1,
                cons=[(0, None)],
                napr=[(case.d2, codes.NAPR_ONCOLOGIST, self.mo_codes[rng.randrange(self.n_mo)])],
            )
            return
        self._stay(case, o.code_usl.rsplit(".", 1)[0])
        case.c_zab = "2" if rng.random() < 0.5 else "3"  # assumption: half newly diagnosed
        ds1_t = rng.choices([c for c, _ in codes.DS1_T], weights=[w for _, w in codes.DS1_T])[0]
        stages = self.stages[site]
        names = sorted({r[4] for r in stages})
        pick = rng.choice(names)
        row = rng.choice([r for r in stages if r[4] == pick])
        hei = rng.randint(155, 185) if case.scenario.sex != 2 else rng.randint(150, 175)
        wei = Decimal(rng.randint(480, 950)) / 10
        bsa = _money(Decimal(math.sqrt(float(wei) * hei / 3600)))
        diag_code, results = rng.choice(self.histology[site])
        onko = Onko(ds_onk=0, cons=[(rng.choice(codes.PR_CONS_TREATED), case.d1 - rng.randint(1, 10))],
                    ds1_t=ds1_t, stage=row[:4], mtstz=ds1_t in (1, 2) and row[4].startswith("IV"),
                    b_diag=[(case.d1 - rng.randint(10, 40), 1, diag_code, rng.choice(results))])  # fmt: skip
        if o.usl_tip == 1:
            onko.usl = [OnkUsl(1, hir_tip=codes.HIR_TIP)]
            onko.vid_vme = rng.choice(o.vid_vme)
            case.services.append(Service(onko.vid_vme, case.d1 + 1, case.d1 + 1, 1))
        elif o.usl_tip == 2:
            onko.wei, onko.hei, onko.bsa = wei, hei, bsa
            days = list(range(case.d1, case.d2 + 1))
            lek = [LekPr(reg, o.code_sh or "", [Inj(d, _money(dose * bsa)) for d in (days if daily else days[:1])])
                   for reg, dose, daily in o.drugs]  # fmt: skip
            onko.usl = [OnkUsl(2, lek_tip_l=rng.choice(codes.LEK_TIP_L), lek_tip_v=rng.choice(codes.LEK_TIP_V),
                               lek_pr=lek)]  # fmt: skip
            onko.crit = (o.code_sh,) if o.code_sh else ()
        else:
            onko.usl = [OnkUsl(3, luch_tip=codes.LUCH_TIP)]
            onko.k_fr = sum(1 for d in range(case.d1, case.d2 + 1) if (d % 7) not in (6, 0))  # working days
            onko.sod = Decimal(onko.k_fr) * Decimal(rng.choice(("2.50", "3.00")))  # assumption: hypofractions
            onko.vid_vme = o.vid_vme[0]
            case.services.append(Service(onko.vid_vme, case.d1, case.d2, onko.k_fr))
        case.block = onko

    def _vmp(self, case: Case, v: codes.VmpMethod) -> None:
        rng = self.rng
        self._stay(case, "B01.015" if v.profil == "81" else "B01.029" if v.profil == "65" else "B01.027")
        case.services.append(Service(v.code_usl, case.d1 + 1, case.d1 + 1, 1))
        case.c_zab = "3"
        tal_d = case.d1 - rng.randint(20, 60)
        onko = None
        if v.onco:
            site = case.ds1[:3]
            row = rng.choice([r for r in self.stages[site] if r[4].startswith(("I", "II"))])
            diag_code, results = rng.choice(self.histology[site])
            onko = Onko(ds_onk=0, cons=[(2, tal_d - rng.randint(1, 10))], ds1_t=0, stage=row[:4],
                        b_diag=[(tal_d - rng.randint(10, 30), 1, diag_code, rng.choice(results))],
                        usl=[OnkUsl(1, hir_tip=codes.HIR_TIP)])  # fmt: skip
        case.block = Vmp(v, tal_d, case.d1 - rng.randint(0, 5), f"{rng.randint(10, 99)}.{rng.randint(10**6, 10**7 - 1)}",
                         onko)  # fmt: skip
        case.sum_m = v.cost

    def _disp(self, case: Case, k: codes.DispKind) -> None:
        rng = self.rng
        case.d1 = case.d2 - rng.randint(0, 3)
        rslt_d = rng.choices([c for c, _ in codes.RSLT_D], weights=[w for _, w in codes.RSLT_D])[0]
        case.ds1 = rng.choice(codes.DISP_DS[rslt_d])
        healthy = case.ds1.startswith("Z")
        disp = Disp(k, rslt_d, ds1_pr=not healthy and rng.random() < 0.5, pr_d_n=3 if healthy else 2)
        if rslt_d in codes.RSLT_D_NAZ:
            disp.naz = [
                (i + 1, r, v) for i, (r, v) in enumerate(rng.sample(codes.NAZ_PLAIN, rng.randint(1, 2)))
            ]
        if rslt_d in ("31", "32") and rng.random() < 0.5:  # assumption: half have a concomitant finding
            ds2 = rng.choice([x for x in codes.DISP_DS2 if x != case.ds1])
            disp.ds2_n = [(ds2, rng.random() < 0.5, 2)]
        days = [
            case.d1 + (j * (case.d2 - case.d1)) // max(len(k.services) - 1, 1) for j in range(len(k.services))
        ]
        case.services = [Service(code, days[j], days[j], 1) for j, (code, _) in enumerate(k.services)]
        disp.performers = [
            [(p, case.doctor if p == case.prvs else self.base.doctor(case.mo, p, rng)) for p in prvs]
            for _, prvs in k.services
        ]
        case.ed_col = 1
        case.block = disp
        case.sum_m = self.disp_cost.get(k.disp, k.cost)


def fixed_price(case: Case) -> SlPrice:
    """The assumed tariff of a T or D case: all of it on its first priced service."""
    cost = case.sum_m
    if case.kind == "T":
        services = [(ZERO, ZERO)] * (len(case.services) - 1) + [(cost, cost)]  # the operation
    else:
        services = [(cost, cost)] + [(ZERO, ZERO)] * (len(case.services) - 1)
    return SlPrice(tarif=cost, sum_m=cost, services=services)

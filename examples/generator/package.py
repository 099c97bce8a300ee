"""The methodology package a month is generated for: the codes it knows and its tariffs.

The generator prices cases the way an МО prices them — by the tariff agreement — and the
tariff agreement here is the package: cases are bound into the package's entities exactly
as ``engine.oms.io.read_registry`` would return them (raw strings per column), the package's
tariff block is evaluated (``sl.ksg_cost``, ``sl.visit_cost``, ``service.service_cost``,
``case.tariff_cost`` … — tariffs/results.rules of the federal package), and the results
are written into TARIF, SUM_M, SUMV_USL, SUMV and the KSG_KPG coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dsl.columns import EPOCH
from dsl.diagnostics import Diagnostics, Span
from dsl.parser import parse_expression
from dsl.typecheck import check_expression
from engine.backends.numpy.evaluator import Evaluator, materialize
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import bind
from engine.runtime.model import Methodology

if TYPE_CHECKING:
    from .cases import Case

DEFAULT_PACKAGE = Path(__file__).resolve().parents[2] / "methodologies" / "federal" / "2025"
KOPECK = Decimal("0.01")

#: VIDPOM sets of the FFOMS rules 003K.00.0490 / 0500 (PRVS must not be in the rule's set)
#: and 0510 (PRVS must be in it) — as in mek/kinds.rules of the federal package
RULE_VIDPOM = {"0490": {"11", "12", "13", "31", "32", "33"}, "0500": {"12", "13", "31"},
               "0510": {"21", "22", "23"}}  # fmt: skip
#: specialty groups of the rules 003K.00.0830–0940 (mek/tables/prvs_group.csv) → allowed ages/sex
GROUP_PARAMS = {"child": "mek_child_age", "neonat": "mek_neonat_max_age", "adult": "mek_child_age",
                "therapy": "mek_therapy_min_age", "geriatr": "mek_geriatrics_min_age"}  # fmt: skip

#: fields the generator reads from the package (tariffs/results.rules and the rules it uses)
NEEDED = (("sl", "ksg_cost"), ("sl", "kz"), ("sl", "ks"), ("sl", "kus"), ("sl", "base_rate"),
          ("sl", "kslp_sum"), ("sl", "visit_rate"), ("sl", "visit_cost"), ("sl", "interrupt_share"),
          ("service", "service_rate"), ("service", "service_cost"), ("case", "tariff_cost"),
          ("case", "tariff_missing"), ("case", "tariff_priced"), ("kslp_item", "kslp_value"))  # fmt: skip


def money(x: Decimal) -> Decimal:
    return x.quantize(KOPECK, rounding=ROUND_HALF_UP)


def coef(x: float) -> str:
    """A coefficient as the МО writes it (KOEF_*: up to 5 decimals, at least 2)."""
    s = f"{x:.5f}".rstrip("0")
    whole, _, frac = s.partition(".")
    return f"{whole}.{frac:0<2}"


@lru_cache(maxsize=4)
def _compiled(path: str) -> Methodology:
    return compile_package(Path(path))


@dataclass
class SlPrice:
    koef_z: str = ""
    koef_up: str = ""
    bztsz: Decimal = Decimal("0.00")
    koef_d: str = ""
    koef_u: str = ""
    it_sl: str | None = None  # IT_SL when KSLP applied (SL_K = 1)
    z_sl: list[str] = field(default_factory=list)  # Z_SL of each KSLP, in order
    tarif: Decimal | None = None  # SL TARIF (KSG: product of the coefficients, no interruption)
    sum_m: Decimal = Decimal("0.00")
    visit_rate: Decimal = Decimal("0.00")
    services: list[tuple[Decimal, Decimal]] = field(default_factory=list)  # (TARIF, SUMV_USL)
    missing: bool = False
    interrupted: bool = False


class Package:
    """What a compiled package knows on a month, and its pricing of generated cases."""

    def __init__(self, path: Path, month_start: date) -> None:
        self.path = Path(path)
        self.m = _compiled(str(self.path.resolve()))
        lacking = [f"{e}.{n}" for e, n in NEEDED if (e, n) not in self.m.defs]
        if lacking:
            raise ValueError(f"в пакете {self.path} нет тарифного блока (нет {', '.join(lacking)})")
        self.day = (month_start - EPOCH).days
        self.mo_levels = self._rows("mo_level", "lpu", "level")
        levels = {(str(r["usl_ok"]), str(r["level"])) for r in self._table_rows("level_coef")}
        #: МО codes with a level for both КС and ДС, in code order
        self.mo_codes = sorted(c for c, lvl in self.mo_levels.items() if {("1", lvl), ("2", lvl)} <= levels)
        self.kslp_codes = set(self._rows("kslp", "code", "code"))
        self.rule_prvs: dict[str, set[str]] = {}
        for r in self._table_rows("vidpom_prvs"):
            self.rule_prvs.setdefault(str(r["rule"]), set()).add(str(r["prvs"]))
        self.prvs_group = self._rows("prvs_group", "prvs", "grp")
        self.kslp_mode = self._param("kslp_mode", "add")
        self._exprs: dict[tuple[str, str], object] = {}

    # --- reading the package -------------------------------------------------------------
    def _table_rows(self, name: str) -> list[dict]:
        t = self.m.tables.get(name)
        if t is None:
            return []
        return [r for r, a, b in zip(t.rows, t.starts, t.ends, strict=True) if a <= self.day < b]

    def rows_in_force(self, name: str) -> list[dict]:
        """Rows of a package table in force on the month's first day (none if no such table)."""
        return self._table_rows(name)

    def _rows(self, name: str, key: str, value: str) -> dict[str, str]:
        return {str(r[key]): str(r[value]) for r in self._table_rows(name)}

    def _param(self, name: str, default: object) -> object:
        p = self.m.params.get(name)
        if p is None:
            return default
        for period in p.periods:
            if period.start <= self.day < period.end:
                return period.value
        return default

    def age_limits(self, prvs: str) -> tuple[int, int, int]:
        """(min age, max age, sex or 0) the specialty rules 0830–0940 allow for this PRVS."""
        grp = self.prvs_group.get(prvs)
        child = int(self._param("mek_child_age", 18))
        if grp == "child":
            return 0, child - 1, 0
        if grp == "neonat":
            return 0, int(self._param("mek_neonat_max_age", 1)) - 1, 0
        if grp == "adult":
            return child, 200, 0
        if grp == "therapy":
            return int(self._param("mek_therapy_min_age", 15)), 200, 0
        if grp == "geriatr":
            return int(self._param("mek_geriatrics_min_age", 65)), 200, 0
        if grp == "obgyn":
            return 0, 200, 2
        return 0, 200, 0

    def prvs_allowed(self, vidpom: str, prvs: str) -> bool:
        """PRVS passes the FFOMS rules 003K.00.0490/0500/0510 for this VIDPOM."""
        for rule in ("0490", "0500"):
            if vidpom in RULE_VIDPOM[rule] and prvs in self.rule_prvs.get(rule, ()):
                return False
        return not (vidpom in RULE_VIDPOM["0510"] and "0510" in self.rule_prvs
                    and prvs not in self.rule_prvs["0510"])  # fmt: skip

    # --- pricing --------------------------------------------------------------------------
    def _expr(self, entity: str, text: str):
        key = (entity, text)
        if key not in self._exprs:
            diags = Diagnostics()
            node = parse_expression(text, Span("<generator>", 1, 1, 1, len(text) + 1))
            x = check_expression(self.m.symbols, diags, node, entity)
            diags.raise_if_errors()
            self._exprs[key] = x
        return self._exprs[key]

    def price(self, cases: list[Case], mo_codes: list[str]) -> list[SlPrice]:
        """Tariff of each case (one SL each) by the package, on the case's own dates."""
        if not cases:
            return []
        raw = self._raw(cases, mo_codes)
        data = bind(self.m.entities, raw)
        ev = Evaluator(self.m, data)

        def col(entity: str, name: str) -> list:
            return ev.column(entity, name).to_python()

        def expr(entity: str, text: str) -> list:
            frame = ev.root_frame(entity)
            return materialize(ev.eval(self._expr(entity, text), [frame]), frame.n).to_python()

        kop = lambda v: Decimal(v or 0) / 100  # noqa: E731 — money columns are kopecks
        ksg_cost, kz, ks, kus = col("sl", "ksg_cost"), col("sl", "kz"), col("sl", "ks"), col("sl", "kus")
        bz, kslp_sum, share = col("sl", "base_rate"), col("sl", "kslp_sum"), col("sl", "interrupt_share")
        vrate, vcost = col("sl", "visit_rate"), col("sl", "visit_cost")
        kd = expr("sl", "koef_diff")
        missing, total = col("case", "tariff_missing"), col("case", "tariff_cost")
        srate, scost = col("service", "service_rate"), col("service", "service_cost")
        kv = col("kslp_item", "kslp_value")
        out: list[SlPrice] = []
        u = k = 0
        for i, c in enumerate(cases):
            p = SlPrice(missing=bool(missing[i]))
            n_usl = len(c.services)
            if c.idsp == "33":
                p.koef_z, p.koef_up, p.koef_d, p.koef_u = coef(kz[i]), coef(ks[i]), coef(kd[i]), coef(kus[i])
                p.bztsz = kop(bz[i])
                p.z_sl = [coef(v) for v in kv[k : k + len(c.kslp)]]
                if c.kslp:
                    p.it_sl = coef(kslp_sum[i])
                p.sum_m = kop(ksg_cost[i])
                p.interrupted = share[i] < 1
                p.tarif = p.sum_m if not p.interrupted else self.ksg_tarif(p)
                p.services = [(Decimal("0.00"), Decimal("0.00"))] * n_usl
            elif c.idsp in ("29", "30"):
                p.visit_rate = kop(vrate[i])
                p.sum_m = kop(vcost[i])
                first = (p.visit_rate, p.visit_rate) if c.idsp == "29" else (Decimal("0.00"), Decimal("0.00"))
                p.services = [first] + [(Decimal("0.00"), Decimal("0.00"))] * (n_usl - 1)
            elif c.idsp == "28":
                p.services = [(kop(srate[u + j]), kop(scost[u + j])) for j in range(n_usl)]
                p.sum_m = kop(total[i])
            else:  # СМП call and anything priced per case
                p.sum_m = kop(total[i])
                p.services = [(p.sum_m, p.sum_m)] + [(Decimal("0.00"), Decimal("0.00"))] * (n_usl - 1)
            u += n_usl
            k += len(c.kslp)
            out.append(p)
        return out

    @staticmethod
    def ksg_tarif(p: SlPrice) -> Decimal:
        """TARIF of a KSG SL: BZTSZ × KOEF_Z × KOEF_UP × KOEF_D × KOEF_U (+ BZTSZ × KOEF_D × IT_SL)."""
        full = p.bztsz * Decimal(p.koef_z) * Decimal(p.koef_up) * Decimal(p.koef_d) * Decimal(p.koef_u)
        if p.it_sl is not None:
            full += p.bztsz * Decimal(p.koef_d) * Decimal(p.it_sl)
        return money(full)

    def _raw(self, cases: list[Case], mo_codes: list[str]) -> dict[str, dict[str, np.ndarray]]:
        """Raw tables as the registry reader returns them (strings; None = element absent)."""
        d = lambda o: date.fromordinal(o).isoformat()  # noqa: E731
        rows: dict[str, list[dict]] = {"account": [], "patient": [], "case": [], "sl": [], "service": [],
                                       "kslp_item": []}  # fmt: skip
        for code in sorted({mo_codes[c.mo] for c in cases}):
            rows["account"].append({"key": code, "code_mo": code, "dschet": d(cases[0].d2)})
        rows["patient"].append({"key": "p", "account_ref": rows["account"][0]["key"]})
        for i, c in enumerate(cases):
            ck = f"c{i}"
            rows["case"].append({
                "key": ck, "idcase": str(i), "usl_ok": str(c.usl_ok), "vidpom": c.vidpom, "for_pom": c.for_pom,
                "lpu": mo_codes[c.mo], "date_z_1": d(c.d1), "date_z_2": d(c.d2), "rslt": c.rslt, "ishod": c.ishod,
                "idsp": c.idsp, "kd_z": None if c.kd is None else str(c.kd), "sumv": "0.00",
                "account_ref": mo_codes[c.mo], "patient_ref": "p",
            })  # fmt: skip
            sk = f"{ck}/1"
            rows["sl"].append({
                "key": sk, "case_ref": ck, "sl_id": "1", "profil": c.scenario.profil, "det": c.scenario.det,
                "date_1": d(c.d1), "date_2": d(c.d2), "kd": None if c.kd is None else str(c.kd), "ds1": c.ds1,
                "n_ksg": c.scenario.ksg if c.idsp == "33" else None, "prvs": c.prvs,
                "ed_col": None if c.ed_col is None else f"{c.ed_col}.00", "sum_m": "0.00",
                "sl_k": ("1" if c.kslp else "0") if c.idsp == "33" else None,
                "sl_koef": ";".join(c.kslp) or None,
            })  # fmt: skip
            for j, idsl in enumerate(c.kslp):
                rows["kslp_item"].append({"key": f"{sk}/{j}", "sl_ref": sk, "idsl": idsl, "date_2": d(c.d2)})
            for j, s in enumerate(c.services):
                rows["service"].append({
                    "key": f"{sk}/{j}", "sl_ref": sk, "case_ref": ck, "idserv": str(j), "lpu": mo_codes[c.mo],
                    "profil": c.scenario.profil, "det": c.scenario.det, "date_in": d(s.d_in),
                    "date_out": d(s.d_out), "ds": c.ds1, "code_usl": s.code, "kol_usl": f"{s.kol}.00",
                    "sumv_usl": "0.00",
                })  # fmt: skip
        day = d(cases[0].d2)
        raw: dict[str, dict[str, np.ndarray]] = {}
        for name, ent in self.m.entities.items():
            table = rows.get(name, [])
            cols = {}
            rel_cols = {r.via for r in ent.relations.values()}
            for fname in [*ent.fields, *rel_cols]:
                fdef = ent.fields.get(fname)
                neutral = None if fdef is None or fdef.type.optional else _neutral(fdef.type.kind, day)
                cols[fname] = np.array([r.get(fname, neutral) for r in table], dtype=object)
            if ent.key not in cols:
                cols[ent.key] = np.array([r.get(ent.key) for r in table], dtype=object)
            raw[name] = cols
        return raw


def _neutral(kind: str, day: str) -> str:
    return {"int": "0", "number": "0", "money": "0", "bool": "0", "date": day}.get(kind, "-")

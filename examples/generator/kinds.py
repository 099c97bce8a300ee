"""C, T and D files of a month: cases of one kind for every МО, priced, defects injected, written."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .cases import Case, CaseFactory, PlacementError, apply_price
from .codes import DISP
from .defects import KINDS, DefectInjector
from .package import Package
from .q015_defects import KIND as Q015_KIND
from .q015_defects import Picker
from .special import SpecialFactory, fixed_price
from .xmlwrite import RegistryWriter

if TYPE_CHECKING:
    from .generate import Config

BATCH = 5000
#: defect kinds that apply to each special file kind (those the federal МЭК finds on it)
SPECIAL_DEFECTS = {
    "C": ("duplicate_case", "date_outside_period", "case_sum_mismatch", "unknown_enp", "smo_mismatch",
          "tariff_mismatch", "rslt_usl_ok_mismatch"),
    "T": ("duplicate_case", "date_outside_period", "case_sum_mismatch", "unknown_enp", "smo_mismatch",
          "rslt_usl_ok_mismatch"),
    "D": ("duplicate_case", "date_outside_period", "case_sum_mismatch", "unknown_enp", "smo_mismatch",
          "tariff_mismatch"),
}  # fmt: skip


def write_special(cfg: Config, kind: str, version: str, rng: random.Random, factory: CaseFactory, pkg: Package,
                  mo_codes: list[str], count: int, mo_weights: list[float], next_id: list[int],
                  truth: list[list[object]]) -> list[RegistryWriter]:  # fmt: skip
    """Writers (still open) of the ``kind`` files of every МО; ground-truth rows appended to ``truth``."""
    sf = SpecialFactory(factory, kind, rng)
    inj = DefectInjector(sf, rng, kinds=SPECIAL_DEFECTS[kind])
    q015 = Picker(cfg.catalogue, cfg.seed * 1000 + 97 + "CTD".index(kind) + 1)  # catalogue defects: own stream
    by_file: dict[tuple[int, str], RegistryWriter] = {}
    letters = [k.letter for k in DISP]

    def writer(case: Case) -> RegistryWriter:
        sub = case.block.kind.letter if kind == "D" else ""  # type: ignore[union-attr]
        key = (case.mo, sub)
        if key not in by_file:
            seq = 2 if kind == "C" else 3 if kind == "T" else 4 + letters.index(sub)
            disp = case.block.kind.disp if kind == "D" else None  # type: ignore[union-attr]
            by_file[key] = RegistryWriter(cfg.out, case.mo, mo_codes[case.mo], cfg.year, cfg.month, factory.pop,
                                          kind + sub, version, seq, disp)  # fmt: skip
        return by_file[key]

    batch: list[tuple[Case, object]] = []

    def flush() -> None:
        priced = [c for c, _ in batch] if kind == "C" else []
        prices = iter(pkg.price(priced, mo_codes)) if priced else iter(())
        for c, t in batch:
            apply_price(c, next(prices) if kind == "C" else fixed_price(c))
            w = writer(c)
            w.add(c, mo_codes)
            if t is not None:
                truth.append([w.h_name, c.idcase, t.kind, t.related or "", KINDS[t.kind][0]])
            elif "q015" in c.extra:
                q = c.extra["q015"]
                truth.append([w.h_name, c.idcase, Q015_KIND, "", q.f014, q.id])
        batch.clear()

    for _ in range(count):
        mo = rng.choices(range(cfg.n_mo), weights=mo_weights)[0]
        made = inj.make(mo) if cfg.defects and rng.random() < cfg.defects else None
        t = None
        if made is None:
            try:
                case = sf.make(mo)
            except PlacementError:
                continue
            if q015.pick(case) is None:
                inj.remember(case)  # a case with a catalogue defect is no collision's source
        else:
            case, t = made
            case.mo = mo
        next_id[mo] += 1
        case.idcase = next_id[mo]
        factory.register(case)
        batch.append((case, t))
        if len(batch) >= BATCH:
            flush()
    flush()
    return [by_file[k] for k in sorted(by_file)]

"""Generate one month of registries: H+L files per МО, the ЕРЗ CSV and the defect ground truth.

Cases are priced by the methodology package (``Config.package``) in batches of ``BATCH``
before they are written, so the XML stays streamed.
"""

from __future__ import annotations

import csv
import random
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from .cases import Case, CaseFactory, apply_price
from .catalog import REGION, load_scenarios
from .defects import ACCOUNT_KIND, KINDS, DefectInjector
from .package import DEFAULT_PACKAGE, Package
from .population import Population
from .xmlwrite import RegistryWriter


@dataclass
class Config:
    year: int
    month: int
    n_mo: int
    n_cases: int
    seed: int
    out: Path
    defects: float = 0.0
    zip: bool = False
    package: Path = DEFAULT_PACKAGE


BATCH = 5000


@dataclass
class Summary:
    files: list[Path] = field(default_factory=list)
    cases: int = 0
    services: int = 0
    defects: int = 0
    persons: int = 0
    seconds: float = 0.0
    per_file: dict[str, tuple[int, int]] = field(default_factory=dict)  # H FILENAME -> (cases, services)


def generate(cfg: Config) -> Summary:
    started = time.perf_counter()
    cfg.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(cfg.seed)
    month_start = date(cfg.year, cfg.month, 1)
    pop = Population(
        max(200, cfg.n_cases * 2 // 5), month_start, cfg.seed, reserve=int(cfg.n_cases * cfg.defects) + 10
    )
    pkg = Package(cfg.package, month_start)
    mo_codes = _mo_codes(pkg, cfg.n_mo)
    factory = CaseFactory(load_scenarios(), pop, pkg, mo_codes, cfg.year, cfg.month, rng)
    injector = DefectInjector(factory, rng)
    writers = [RegistryWriter(cfg.out, i, code, cfg.year, cfg.month, pop) for i, code in enumerate(mo_codes)]
    mo_weights = [1 / (i + 1) ** 0.5 for i in range(cfg.n_mo)]
    next_id = [(i + 1) * 10_000_000 for i in range(cfg.n_mo)]
    truth: list[list[object]] = []
    batch: list[Case] = []

    def flush() -> None:
        for case, price in zip(batch, pkg.price(batch, mo_codes), strict=True):
            apply_price(case, price)
            writers[case.mo].add(case, mo_codes)
        batch.clear()

    for _ in range(cfg.n_cases):
        mo = rng.choices(range(cfg.n_mo), weights=mo_weights)[0]
        made = injector.make(mo) if cfg.defects and rng.random() < cfg.defects else None
        if made is None:
            case = factory.make(mo)
            injector.remember(case)
        else:
            case, t = made
            case.mo = mo
        next_id[mo] += 1
        case.idcase = next_id[mo]
        factory.register(case)
        batch.append(case)
        if len(batch) >= BATCH:
            flush()
        if made is not None:
            kind = made[1]
            truth.append(
                [writers[mo].h_name, case.idcase, kind.kind, kind.related or "", KINDS[kind.kind][0]]
            )

    flush()
    summary = Summary(cases=cfg.n_cases, defects=len(truth), persons=pop.n_insured)
    bad_account = rng.randrange(cfg.n_mo) if cfg.defects else None
    for i, w in enumerate(writers):
        delta = Decimal(rng.choice(("1000.00", "0.01", "250.50"))) if i == bad_account else Decimal("0.00")
        h, l_file = w.close(delta)
        summary.services += w.n_services
        summary.per_file[w.h_name] = (w.n_zap, w.n_services)
        if i == bad_account:
            truth.append([w.h_name, "", ACCOUNT_KIND[0], "", ACCOUNT_KIND[1]])
            summary.defects += 1
        summary.files += _maybe_zip(cfg, w.h_name, h, l_file)
    tag = f"{cfg.year}-{cfg.month:02d}"
    erz = cfg.out / f"ERZ_{tag}.csv"
    pop.write_erz(erz)
    gt = cfg.out / f"ground_truth_{tag}.csv"
    with open(gt, "w", encoding="utf-8", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["file", "idcase", "defect", "related_idcase", "f014_osn"])
        wr.writerows(truth)
    summary.files += [erz, gt]
    summary.seconds = time.perf_counter() - started
    return summary


def _mo_codes(pkg: Package, n_mo: int) -> list[str]:
    """МО codes: first those the package's level tables know (they get every condition), then
    codes of the region the package has no level for (they get only what needs no level)."""
    known = pkg.mo_codes[:n_mo]
    extra, i = [], 0
    while len(known) + len(extra) < n_mo:
        i += 1
        code = f"{REGION}{i:04d}"
        if code not in pkg.mo_levels:
            extra.append(code)
    return known + extra


def _maybe_zip(cfg: Config, name: str, h: Path, l_file: Path) -> list[Path]:
    if not cfg.zip:
        return [h, l_file]
    archive = cfg.out / f"{name}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in (h, l_file):
            info = zipfile.ZipInfo(
                f.name, date_time=(cfg.year, cfg.month, 1, 0, 0, 0)
            )  # fixed: same seed, same bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(f, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            f.unlink()
    return [archive]

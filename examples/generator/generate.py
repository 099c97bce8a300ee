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
from .kinds import write_special
from .package import DEFAULT_PACKAGE, Package
from .population import Population
from .q015_defects import KIND as Q015_KIND
from .q015_defects import Picker
from .versions import version_for
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
    #: file kinds to write: "H" alone keeps a month as the 3.x generator made it; "HCTD" adds
    #: oncology, ВМП and dispanserization files with the shares of ``KIND_SHARE``
    kinds: str = "H"
    version: str | None = None  # ZGLV/VERSION of the registry files; None = the one in force
    #: share of the clean cases that get one defect of the FFOMS control catalogue (Q015,
    #: examples/generator/q015_defects.py); 0 keeps a month as it was made before them
    catalogue: float = 0.0


BATCH = 5000
#: assumption: share of a month's cases by file kind — general care, oncology, ВМП,
#: dispanserization/check-ups (a region's month is mostly general care; ВМП is rare)
KIND_SHARE = {"H": 0.80, "C": 0.06, "T": 0.02, "D": 0.12}


@dataclass
class Summary:
    files: list[Path] = field(default_factory=list)
    cases: int = 0
    services: int = 0
    defects: int = 0
    persons: int = 0
    seconds: float = 0.0
    per_file: dict[str, tuple[int, int]] = field(default_factory=dict)  # FILENAME -> (cases, services)
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # file kind -> (cases, defects)


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
    formats = pkg.rows_in_force("format_version")
    h_version = cfg.version or version_for("H", cfg.year, cfg.month, formats)
    writers = [RegistryWriter(cfg.out, i, code, cfg.year, cfg.month, pop, version=h_version)
               for i, code in enumerate(mo_codes)]  # fmt: skip
    counts = _kind_counts(cfg)
    mo_weights = [1 / (i + 1) ** 0.5 for i in range(cfg.n_mo)]
    next_id = [(i + 1) * 10_000_000 for i in range(cfg.n_mo)]
    truth: list[list[object]] = []
    batch: list[Case] = []
    q015 = Picker(cfg.catalogue, cfg.seed * 1000 + 97)  # own stream: without --catalogue nothing is drawn

    def flush() -> None:
        for case, price in zip(batch, pkg.price(batch, mo_codes), strict=True):
            apply_price(case, price)
            writers[case.mo].add(case, mo_codes)
        batch.clear()

    for _ in range(counts["H"]):
        mo = rng.choices(range(cfg.n_mo), weights=mo_weights)[0]
        made = injector.make(mo) if cfg.defects and rng.random() < cfg.defects else None
        q = None
        if made is None:
            case = factory.make(mo)
            q = q015.pick(case)
            if q is None:
                injector.remember(case)  # a case with a catalogue defect is no collision's source
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
        elif q is not None:
            truth.append([writers[mo].h_name, case.idcase, Q015_KIND, "", q.f014, q.id])

    flush()
    bad_account = rng.randrange(cfg.n_mo) if cfg.defects else None
    specials = []
    for kind_i, kind in enumerate("CTD"):
        if kind in counts:
            rng_k = random.Random(cfg.seed * 1000 + kind_i + 1)  # own stream: the H cases stay as they are
            version = cfg.version or version_for(kind, cfg.year, cfg.month, formats)
            specials += write_special(cfg, kind, version, rng_k, factory, pkg, mo_codes, counts[kind], mo_weights,
                                      next_id, truth)  # fmt: skip
    n_special = sum(w.n_zap for w in specials)
    summary = Summary(cases=counts["H"] + n_special, defects=len(truth), persons=pop.n_insured)
    for i, w in enumerate(writers):
        delta = Decimal(rng.choice(("1000.00", "0.01", "250.50"))) if i == bad_account else Decimal("0.00")
        h, l_file = w.close(delta)
        summary.services += w.n_services
        summary.per_file[w.h_name] = (w.n_zap, w.n_services)
        if i == bad_account:
            truth.append([w.h_name, "", ACCOUNT_KIND[0], "", ACCOUNT_KIND[1]])
            summary.defects += 1
        summary.files += _maybe_zip(cfg, w.h_name, h, l_file)
    for w in specials:
        if not w.n_zap:  # a file with no ZAP is not valid: none is written
            w.h.fh.close(), w.l.fh.close()
            w.h.part.unlink(), w.l.part.unlink()
            continue
        h, l_file = w.close()
        summary.services += w.n_services
        summary.per_file[w.h_name] = (w.n_zap, w.n_services)
        summary.files += _maybe_zip(cfg, w.h_name, h, l_file)
    tag = f"{cfg.year}-{cfg.month:02d}"
    erz = cfg.out / f"ERZ_{tag}.csv"
    pop.write_erz(erz)
    gt = cfg.out / f"ground_truth_{tag}.csv"
    with open(gt, "w", encoding="utf-8", newline="") as fh:
        wr = csv.writer(fh)
        # the catalogue column (the Q015 ID a q015 row must be reported with) only when asked for:
        # a month made without --catalogue keeps the ground truth it had
        head = ["file", "idcase", "defect", "related_idcase", "f014_osn"] + (["catalogue"] if cfg.catalogue else [])
        wr.writerow(head)
        wr.writerows(row + [""] * (len(head) - len(row)) for row in truth)
    summary.files += [erz, gt]
    for name, (n, _) in summary.per_file.items():
        k = name[:2] if name[0] == "D" else name[0]
        c, dd = summary.by_kind.get(k, (0, 0))
        summary.by_kind[k] = (c + n, dd)
    for row in truth:
        k = str(row[0])[:2] if str(row[0])[0] == "D" else str(row[0])[0]
        c, dd = summary.by_kind[k]
        summary.by_kind[k] = (c, dd + 1)
    summary.seconds = time.perf_counter() - started
    return summary


def _kind_counts(cfg: Config) -> dict[str, int]:
    kinds = [k for k in "HCTD" if k in cfg.kinds]
    if "H" not in kinds:
        raise ValueError("--kinds должен включать H")
    total = sum(KIND_SHARE[k] for k in kinds)
    counts = {k: int(cfg.n_cases * KIND_SHARE[k] / total) for k in kinds if k != "H"}
    counts["H"] = cfg.n_cases - sum(counts.values())
    return counts


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

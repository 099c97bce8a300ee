"""A generated month of every file kind, end to end, with per-stage seconds and peak memory.

Usage:
  python -m benchmarks.e2e.bench_e2e --cases 50000
  python -m benchmarks.e2e.bench_e2e --cases 200000 --keep /tmp/e2e    # reuse the generated month

Generates the month with the shipped generator (examples/generator, kinds HCTD + L), then runs
in-process what `metodika run … --no-store` runs: read + ФЛК, bind, pricing + МЭК, settlement,
and the outputs (values/defects CSVs, settlement CSVs, protocols, SANK registries), timing each
output writer apart. The floor for reading is lxml's full parse (`etree.parse`) of the same files.
Peak RSS is ru_maxrss of this process and of its reader worker processes.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parents[2]


def generate(cases: int, out: Path, month: str, seed: int) -> float:
    if out.is_dir() and any(out.iterdir()):
        return 0.0
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "examples.generator", "--month", month, "--mo", str(max(2, cases // 5000)),
                    "--cases", str(cases), "--seed", str(seed), "--kinds", "HCTD", "--out", str(out)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def lxml_floor(files: list[Path]) -> float:
    from lxml import etree

    t = time.perf_counter()
    for f in files:
        etree.parse(str(f))
    return time.perf_counter() - t


class Timed:
    """Wraps a module attribute so each call adds its seconds under `label`."""

    def __init__(self, spent: dict[str, float], module, name: str, label: str) -> None:
        self.spent, self.module, self.name, self.label = spent, module, name, label
        self.inner = getattr(module, name)
        setattr(module, name, self)

    def __call__(self, *a, **kw):
        t = time.perf_counter()
        try:
            return self.inner(*a, **kw)
        finally:
            self.spent[self.label] = self.spent.get(self.label, 0.0) + time.perf_counter() - t


def peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def run(files: list[Path], package: Path, out: Path, insured: Path | None) -> dict[str, float]:
    import engine.pipeline as pipeline
    import forms.mek_outputs as mek
    from engine.compiler import compile_package
    from engine.io import read_registry

    spent: dict[str, float] = {}
    t = time.perf_counter()
    m = compile_package(package)
    spent["compile"] = time.perf_counter() - t
    t = time.perf_counter()
    reg = read_registry(files, versions=pipeline.format_versions(m))
    spent["read + ФЛК"] = time.perf_counter() - t
    if not reg.ok:
        raise SystemExit(f"ФЛК отклонил месяц: {len(reg.protocol)} ошибок, первая: {reg.protocol[0]}")
    stages = [Timed(spent, pipeline, "bind", "bind"), Timed(spent, pipeline, "run", "pricing + МЭК"),
              Timed(spent, pipeline, "settle", "settlement")]
    res = pipeline.process_tables(m, dict(reg.data.tables), {"insured": insured} if insured else None)
    del reg
    for w in stages:
        setattr(w.module, w.name, w.inner)
    writers = [Timed(spent, pipeline, "write_run", "out: values + defects CSV/JSON"),
               Timed(spent, mek, "write_protocol", "out: МЭК protocol (xlsx, html)"),
               Timed(spent, mek, "write_sank_registries", "out: SANK registries")]
    t = time.perf_counter()
    mek.write_outputs(res, out, files)
    total = time.perf_counter() - t
    for w in writers:
        setattr(w.module, w.name, w.inner)
    spent["out: settlement + summaries CSV, rest"] = total - sum(spent.get(w.label, 0.0) for w in writers)
    spent["outputs total"] = total
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=50000)
    ap.add_argument("--month", default="2025-09")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--package", default=str(ROOT / "methodologies" / "federal" / "2025"))
    ap.add_argument("--keep", help="folder for generated months (reused when present)")
    a = ap.parse_args()
    base = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="e2e-"))
    month_dir = base / f"{a.month}-{a.cases}-{a.seed}"
    gen_s = generate(a.cases, month_dir, a.month, a.seed)
    files = sorted(p for p in month_dir.iterdir() if p.suffix.upper() == ".XML")
    insured = next(month_dir.glob("ERZ_*.csv"), None)
    size = sum(p.stat().st_size for p in files)
    floor = lxml_floor(files)
    with tempfile.TemporaryDirectory(prefix="e2e-out-") as out:
        spent = run(files, Path(a.package), Path(out), insured)
    own, kids = peak_mb()
    print(f"{a.cases} cases, {len(files)} files, {size / 2**20:.0f} MiB; generated in {gen_s:.1f} s")
    print(f"{'stage':<42}{'seconds':>9}")
    for k, v in spent.items():
        print(f"{k:<42}{v:>9.2f}")
    e2e = sum(v for k, v in spent.items() if k in ("read + ФЛК", "bind", "pricing + МЭК", "settlement",
                                                   "outputs total"))
    print(f"{'end to end (without compile)':<42}{e2e:>9.2f}   {a.cases / e2e:,.0f} cases/s")
    print(f"{'lxml etree.parse of every file (1 core)':<42}{floor:>9.2f}")
    print(f"reading rate / lxml floor: {floor / spent['read + ФЛК']:.2f}")
    print(f"peak RSS: main {own:,.0f} MB, reader workers {kids:,.0f} MB")


if __name__ == "__main__":
    main()

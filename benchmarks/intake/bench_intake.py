"""Intake alone: read + ФЛК and bind of a generated month, row reader against columnar reader.

Usage:
  python -m benchmarks.intake.bench_intake --cases 50000
  python -m benchmarks.intake.bench_intake --cases 200000 --keep /tmp/e2e   # reuses bench_e2e's months

Each reader runs in its own process (``METODIKA_READER=rows`` / ``columnar``), so each peak RSS
(ru_maxrss of the process and of its reader workers) is intake's alone: the federal package is
compiled, the month read and bound, nothing evaluated. The floor is lxml's ``etree.parse`` of the
same files on one core, measured in the same run; the ratio divides it by the reading seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.e2e.bench_e2e import generate, lxml_floor

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "methodologies" / "federal" / "2025"


def one(month_dir: Path) -> dict[str, float]:
    """Read and bind in this process (the reader chosen by METODIKA_READER)."""
    import engine.oms.pipeline as pipeline
    from engine.oms.io import read_registry
    from engine.oms.io.arrowdata import ArrowColumns
    from engine.runtime.compiler import compile_package
    from engine.runtime.dataset import bind

    m = compile_package(PACKAGE)
    files = sorted(p for p in month_dir.iterdir() if p.suffix.upper() == ".XML")
    insured = next(month_dir.glob("ERZ_*.csv"), None)
    before = _rss_now()
    t = time.perf_counter()
    reg = read_registry(files, versions=pipeline.format_versions(m))
    read_s = time.perf_counter() - t
    if not reg.ok:
        raise SystemExit(f"ФЛК отклонил месяц: {reg.protocol[0]}")
    after_read = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    held = _rss_now()
    arrow = sum(t.table.nbytes for t in reg.data.tables.values() if isinstance(t, ArrowColumns)) / 2**20
    raw = dict(reg.data.tables)
    if insured:
        raw.update(pipeline.read_extra({"insured": insured}))
    t = time.perf_counter()
    data = bind(m.entities, raw)
    bind_s = time.perf_counter() - t
    return {"read": read_s, "bind": bind_s, "cases": data.n("case"), "rss_before": before, "rss_held": held,
            "arrow_mb": arrow,
            "rss_read": after_read, "rss_main": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_workers": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def _rss_now() -> float:
    """Resident MB now (not the peak): what the process holds."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=50000)
    ap.add_argument("--month", default="2025-09")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", help="folder for generated months (reused when present)")
    ap.add_argument("--readers", default="rows,columnar")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(Path(a.one))))
        return
    base = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="intake-"))
    month_dir = base / f"{a.month}-{a.cases}-{a.seed}"
    generate(a.cases, month_dir, a.month, a.seed)
    files = sorted(p for p in month_dir.iterdir() if p.suffix.upper() == ".XML")
    size = sum(p.stat().st_size for p in files)
    floor = lxml_floor(files)
    print(f"{a.cases} cases, {len(files)} files, {size / 2**20:.0f} MiB; lxml etree.parse (1 core) {floor:.2f} s")
    print(f"{'reader':<10}{'read + ФЛК s':>14}{'ratio':>7}{'cases/s':>10}{'bind s':>8}"
          f"{'RSS after read':>16}{'RSS main':>10}{'workers':>9}")
    held = []
    for reader in a.readers.split(","):
        env = dict(os.environ, METODIKA_READER=reader)
        out = subprocess.run([sys.executable, "-m", "benchmarks.intake.bench_intake", "--one", str(month_dir)],
                             cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"{reader:<10}{r['read']:>14.2f}{floor / r['read']:>7.2f}{a.cases / r['read']:>10,.0f}"
              f"{r['bind']:>8.2f}{r['rss_read']:>13,.0f} MB{r['rss_main']:>7,.0f} MB{r['rss_workers']:>6,.0f} MB")
        held.append(f"{reader}: {r['rss_held'] - r['rss_before']:,.0f} MB held after reading over the "
                    f"{r['rss_before']:,.0f} MB before it ({(r['rss_held'] - r['rss_before']) * 1024 / a.cases:.2f} "
                    f"KB/case); Arrow buffers {r['arrow_mb']:,.0f} MB")
    print("\n".join(held))


if __name__ == "__main__":
    main()

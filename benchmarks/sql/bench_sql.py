"""The federal package on PostgreSQL vs the numpy backend: the same bound month, both in one run.

Usage:
  python -m benchmarks.sql.bench_sql --cases 2000
  python -m benchmarks.sql.bench_sql --shipped          # the shipped month (500 cases)

Generates a month with the shipped generator (kinds HCTD, as benchmarks/e2e), reads and binds it
once, then runs engine.backends.numpy.runner.run (every output definition and every check) on numpy and on
PostgreSQL (METODIKA_SQL_URL, default the local server), checks both give the same defects, and
prints seconds per backend and their ratio; the SQL side is split into loading, definitions,
checks, and the definitions slower than one second are listed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks.e2e.bench_e2e import generate

ROOT = Path(__file__).parents[2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--shipped", action="store_true", help="the shipped month examples/registries/2025-09")
    ap.add_argument("--package", default=str(ROOT / "methodologies" / "federal" / "2025"))
    ap.add_argument("--keep", help="folder for the generated month (reused when present)")
    args = ap.parse_args()

    from engine.backends import use_backend
    from engine.backends.numpy.runner import run
    from engine.backends.sql.differential import _defect_rows
    from engine.oms.io import read_registry
    from engine.oms.pipeline import format_versions, read_extra
    from engine.runtime.compiler import compile_package
    from engine.runtime.dataset import bind

    m = compile_package(args.package)
    extra = {}
    if args.shipped:
        month = ROOT / "examples/registries/2025-09"
        extra["insured"] = month / "ERZ_2025-09.csv"
    else:
        month = Path(args.keep or tempfile.mkdtemp(prefix="bench_sql_"))
        generate(args.cases, month, "2025-09", 1)
    reg = read_registry([month], versions=format_versions(m))
    raw = dict(reg.data.tables)
    raw.update(read_extra(extra))
    data = bind(m.entities, raw)
    t = time.perf_counter()
    a = run(m, data)
    t_np = time.perf_counter() - t
    t = time.perf_counter()
    with use_backend("postgres"):
        b = run(m, data)
    t_pg = time.perf_counter() - t
    same = _defect_rows(a.defects) == _defect_rows(b.defects)
    print(f"cases {data.n('case')}, services {data.n('service')}: numpy {t_np:.2f} s, PostgreSQL {t_pg:.2f} s "
          f"(load {b.timings['sql_load_s']:.2f}, definitions {b.timings['values_s']:.2f}, "
          f"checks {b.timings['checks_s']:.2f}); ratio {t_pg / t_np:.1f}×; defects equal: {same} ({len(a.defects)})")


if __name__ == "__main__":
    main()

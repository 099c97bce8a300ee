"""Compiling a methodology package: from source, and through the cache of compiled packages.

Usage: python -m benchmarks.engine.bench_compile [--package methodologies/federal/2025] [--repeat 5]

Prints medians of wall and CPU seconds (CPU is what contention on a shared machine distorts
least): a full compile, a cache hit (key over every file of the chain + loading the entry), and
the key alone. The cache directory is a fresh temporary one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path


def measure(fn, repeat: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--package", default="methodologies/federal/2025")
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["METODIKA_CACHE_DIR"] = tmp
        os.environ.pop("METODIKA_CACHE", None)
        from engine.runtime.compile_cache import cache_key, compile_cached
        from engine.runtime.compiler import compile_package

        pkg = Path(a.package)
        full = measure(lambda: compile_package(pkg), a.repeat)
        compile_cached(pkg)
        hit = measure(lambda: compile_cached(pkg), a.repeat)
        key = measure(lambda: cache_key(pkg), a.repeat)
        size = sum(p.stat().st_size for p in Path(tmp).glob("*.pickle"))
    print(f"package {a.package}, median of {a.repeat}; cache entry {size / 1e6:.1f} MB\n")
    print("| step | wall, s | CPU, s |\n|---|---|---|")
    for name, (w, c) in (("compile from source", full), ("cache hit (key + load)", hit), ("cache key alone", key)):
        print(f"| {name} | {w:.3f} | {c:.3f} |")


if __name__ == "__main__":
    main()

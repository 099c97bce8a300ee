"""Cost of catalogue binding: N checks with `catalogue`/`kinds`/`valid` vs the same checks unbound.

    python3 -m benchmarks.engine.bench_catalogue_scope --cases 20000 --checks 300 --repeat 3

A synthetic month (examples.generator) is read once; two packages extending the federal one
hold the same N checks on case, sl, service and patient — bound to Q015 IDs with kinds and a
validity, or not. The figure is the best of `repeat` runs of the checks alone.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONDITIONS = {"case": "sumv < 0", "sl": "sum_m < 0", "service": "default(kol_usl, 1) < 0", "patient": "w == 9"}


def _package(where: Path, n: int, bound: bool) -> Path:
    where.mkdir(parents=True)
    rules = []
    for i in range(n):
        ent = list(CONDITIONS)[i % len(CONDITIONS)]
        ident = f"{i + 1:04d}"
        name = f"q015_003f_00_{ident}" if bound else f"probe_{ident}"
        binding = f'    catalogue "003F.00.{ident}"\n    kinds H, C\n    valid from 2025-01-01\n' if bound else ""
        rules.append(f'check {name} on {ent}:\n{binding}    code "1.4.3"\n    title "проба"\n'
                     f"    when {CONDITIONS[ent]}\n")
    (where / "probe.rules").write_text("\n".join(rules), encoding="utf-8")
    (where / "methodology.yaml").write_text(
        f"id: probe\nversion: 0.0.1\ntitle: probe\nextends: {ROOT / 'methodologies' / 'federal' / '2025'}\n"
        "modules: [probe.rules]\n", encoding="utf-8")
    return where


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=20000)
    ap.add_argument("--checks", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from engine.backends.numpy.checks import run_checks
    from engine.backends.numpy.evaluator import Evaluator
    from engine.oms.io import read_registry
    from engine.oms.pipeline import read_extra
    from engine.runtime.compiler import compile_package
    from engine.runtime.dataset import bind
    from examples.generator.generate import Config, generate

    with tempfile.TemporaryDirectory() as tmp:
        month = Path(tmp) / "month"
        generate(Config(2025, 3, 5, args.cases, 3, month, 0.0, False, ROOT / "methodologies" / "federal" / "2025"))
        for h in month.glob("H*.XML"):   # H files of 2025 declare 5.0, as the shipped month does
            h.write_bytes(h.read_bytes().replace(b"<VERSION>3.2</VERSION>", b"<VERSION>5.0</VERSION>", 1))
        reg = read_registry(sorted(month.glob("*.XML")))
        if not reg.ok:
            raise SystemExit(f"ФЛК не пройден: {reg.protocol[:3]}")
        raw = dict(reg.data.tables)
        raw.update(read_extra({"insured": next(month.glob("ERZ_*.csv"))}))
        for label, bound in (("unbound", False), ("bound", True)):
            m = compile_package(_package(Path(tmp) / label, args.checks, bound))
            data = bind(m.entities, raw)
            names = [n for n in m.checks if n.startswith(("probe_", "q015_"))]
            best = float("inf")
            for _ in range(args.repeat):
                ev = Evaluator(m, data)
                t0 = time.perf_counter()
                run_checks(ev, names)
                best = min(best, time.perf_counter() - t0)
            rows = {e: data.entities[e].n for e in CONDITIONS}
            print(f"{label}: {len(names)} checks over {rows}: {best:.3f} s")


if __name__ == "__main__":
    main()

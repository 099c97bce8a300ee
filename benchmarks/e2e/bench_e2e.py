"""A generated month of every file kind, end to end, with per-stage seconds and peak memory.

Usage:
  python -m benchmarks.e2e.bench_e2e --cases 50000
  python -m benchmarks.e2e.bench_e2e --cases 200000 --keep /tmp/e2e    # reuse the generated month
  python -m benchmarks.e2e.bench_e2e --cases 200000 --db postgres      # store in PostgreSQL

Generates the month with the shipped generator (examples/generator, kinds HCTD + L), then runs
in-process what `metodika run` runs: read + ФЛК, bind, pricing + МЭК, settlement, the outputs
(values/defects CSVs, settlement CSVs, protocols, SANK registries), timing each output writer
apart, and the database store: the registry's columnar file, the rows of results, defects and
accepted-case history, and writing them (SQLite file by default; `--db postgres` uses a fresh
schema `outputs_bench_<pid>` on METODIKA_BENCH_PG_URL, default the test server, dropped after).
The floor for reading is lxml's full parse (`etree.parse`) of the same files. Peak RSS is
ru_maxrss of this process and of its worker processes (reader, SANK writers).
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


PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class Store:
    """A migrated database with a published methodology, a registry and a running run."""

    def __init__(self, kind: str, folder: Path) -> None:
        import os

        from sqlalchemy import create_engine, text

        from api.db.migrate import upgrade
        from api.db.session import make_engine, make_sessionmaker

        self.kind, self.schema, self.admin = kind, None, None
        if kind == "sqlite":
            self.engine = make_engine(f"sqlite:///{(folder / 'bench.sqlite').as_posix()}")
        else:
            url = os.environ.get("METODIKA_BENCH_PG_URL") or PG_URL
            self.schema = f"outputs_bench_{os.getpid()}"
            self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            self.engine = make_engine(url, search_path=self.schema)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)

    def start(self, m, period: str, files: list[Path], npz: str) -> tuple[int, int]:
        from api.db.models import Registry, Run, utcnow
        from api.store.methodologies import publish
        from engine.backends.numpy.runner import ENGINE_VERSION

        with self.sessions() as session, session.begin():
            mv, _ = publish(session, m, actor="bench", user_id=None)
            reg = Registry(filenames=[f.name for f in files], input_sha256={"columnar.npz": npz}, period=period,
                           status="imported", progress=1.0)
            session.add(reg)
            session.flush()
            run = Run(methodology_version_id=mv.id, registry_id=reg.id, period=period, input_hashes={},
                      engine_version=ENGINE_VERSION, status="running", started_at=utcnow(), progress=0.1)
            session.add(run)
            session.flush()
            return reg.id, run.id

    def close(self) -> None:
        from sqlalchemy import text

        self.engine.dispose()
        if self.admin is not None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            self.admin.dispose()


def store(spent: dict[str, float], res, m, db: Store, period: str, files: list[Path], npz: str) -> None:
    from api.store.bulk import result_records
    from api.store.execute import defect_rows, row_scope
    from api.store.history import accepted_rows
    from api.store.methodologies import display_root
    from api.store.runs import store_outcome

    reg_id, run_id = db.start(m, period, files, npz)
    t = time.perf_counter()
    scope = row_scope(m, res.run.data, res.settlement)
    defects = defect_rows(m, res, scope, display_root(m))
    history = accepted_rows(res, period)
    spent["store: rows (scope, defects, history)"] = time.perf_counter() - t
    t = time.perf_counter()
    store_outcome(db.sessions, run_id, result_records(res, scope), defects, {}, t, res.counts, "bench",
                  history=(reg_id, history))
    spent[f"store: result rows + database write ({db.kind})"] = time.perf_counter() - t
    spent["store total"] = sum(v for k, v in spent.items() if k.startswith("store:"))


def run(files: list[Path], package: Path, out: Path, insured: Path | None, db: Store | None,
        period: str) -> dict[str, float]:
    import engine.oms.pipeline as pipeline
    import forms.mek_outputs as mek
    from engine.oms.io import read_registry
    from engine.runtime.compiler import compile_package

    spent: dict[str, float] = {}
    t = time.perf_counter()
    m = compile_package(package)
    spent["compile"] = time.perf_counter() - t
    t = time.perf_counter()
    reg = read_registry(files, versions=pipeline.format_versions(m))
    spent["read + ФЛК"] = time.perf_counter() - t
    if not reg.ok:
        raise SystemExit(f"ФЛК отклонил месяц: {len(reg.protocol)} ошибок, первая: {reg.protocol[0]}")
    npz = ""
    if db is not None:
        from api.store.columnar import save_tables

        t = time.perf_counter()
        npz = save_tables(out / "registry.npz", dict(reg.data.tables))
        spent["store: registry columnar file"] = time.perf_counter() - t
    stages = [Timed(spent, pipeline, "bind", "bind"), Timed(spent, pipeline, "run", "pricing + МЭК"),
              Timed(spent, pipeline, "settle", "settlement")]
    res = pipeline.process_tables(m, dict(reg.data.tables), {"insured": insured} if insured else None)
    del reg
    if res.status != "done":
        problems = [str(p) for p in (res.data_problems or [])[:5]]
        raise SystemExit(f"месяц не обработан ({res.status}): {problems}")
    for w in stages:
        setattr(w.module, w.name, w.inner)
    writers = [Timed(spent, pipeline, "write_run", "out: values + defects CSV/JSON"),
               Timed(spent, mek, "write_protocol", "out: МЭК protocol (xlsx, html)"),
               Timed(spent, mek, "write_sank_registries", "out: SANK registries")]
    spent["_sank_worker_peak_mb"] = 0.0
    sank_peak: list[float] = []
    inner_sank = mek.write_sank_registries

    def sank(*args, **kw):
        r = inner_sank(*args, **kw)
        sank_peak.append(r.get("worker_peak_mb", 0.0))
        return r

    mek.write_sank_registries = sank
    t = time.perf_counter()
    mek.write_outputs(res, out, files)
    mek.write_sank_registries = inner_sank
    total = time.perf_counter() - t
    for w in writers:
        setattr(w.module, w.name, w.inner)
    spent["out: settlement + summaries CSV, rest"] = total - sum(spent.get(w.label, 0.0) for w in writers)
    spent["outputs total"] = total
    spent["_sank_worker_peak_mb"] = max(sank_peak, default=0.0)
    if db is not None:
        store(spent, res, m, db, period, files, npz)
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=50000)
    ap.add_argument("--month", default="2025-09")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--package", default=str(ROOT / "methodologies" / "federal" / "2025"))
    ap.add_argument("--keep", help="folder for generated months (reused when present)")
    ap.add_argument("--db", choices=("sqlite", "postgres", "none"), default="sqlite",
                    help="where the run is stored (none: like `metodika run --no-store`)")
    a = ap.parse_args()
    base = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="e2e-"))
    month_dir = base / f"{a.month}-{a.cases}-{a.seed}"
    gen_s = generate(a.cases, month_dir, a.month, a.seed)
    files = sorted(p for p in month_dir.iterdir() if p.suffix.upper() == ".XML")
    insured = next(month_dir.glob("ERZ_*.csv"), None)
    size = sum(p.stat().st_size for p in files)
    floor = lxml_floor(files)
    with tempfile.TemporaryDirectory(prefix="e2e-out-") as out:
        db = None if a.db == "none" else Store(a.db, Path(out))
        try:
            spent = run(files, Path(a.package), Path(out), insured, db, a.month)
        finally:
            if db is not None:
                db.close()
    own, kids = peak_mb()
    print(f"{a.cases} cases, {len(files)} files, {size / 2**20:.0f} MiB; generated in {gen_s:.1f} s")
    print(f"{'stage':<42}{'seconds':>9}")
    sank_peak = spent.pop("_sank_worker_peak_mb", 0.0)
    for k, v in spent.items():
        print(f"{k:<42}{v:>9.2f}")
    e2e = sum(v for k, v in spent.items() if k in ("read + ФЛК", "bind", "pricing + МЭК", "settlement",
                                                   "outputs total", "store total"))
    print(f"{'end to end (without compile)':<42}{e2e:>9.2f}   {a.cases / e2e:,.0f} cases/s")
    print(f"{'lxml etree.parse of every file (1 core)':<42}{floor:>9.2f}")
    print(f"reading rate / lxml floor: {floor / spent['read + ФЛК']:.2f}")
    print(f"peak RSS: main {own:,.0f} MB; reader workers (ru_maxrss of children) {kids:,.0f} MB; "
          f"SANK writer workers (VmHWM) {sank_peak:,.0f} MB")
    print("  (a spawned worker's ru_maxrss keeps the parent's RSS of the moment between fork and exec)")


if __name__ == "__main__":
    main()

"""A stored dataset of N cases for the recalculation benchmark.

A realistic month is generated with examples.generator (care conditions, KSG from V023,
ages, МО, СМО), read with the registry reader, bound by the federal schema, then tiled
until it has N cases (keys suffixed per copy, relations shifted), and saved as .npz.

Usage: python -m benchmarks.recalc.make_dataset --cases 1000000 --out benchmarks/data/recalc_1m.npz
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from dsl.columns import Col
from engine.oms.io import read_registry
from engine.oms.storage import save_dataset
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import Dataset, EntityData, bind

ROOT = Path(__file__).parents[2]


def tile(data: Dataset, copies: int, targets: dict[tuple[str, str], str]) -> Dataset:
    """N copies of a dataset: keys suffixed with the copy number, relation indexes shifted."""
    out = {}
    for name, ent in data.entities.items():
        n = ent.n
        cols = {}
        for cname, col in ent.cols.items():
            d = np.tile(np.asarray(col.data), copies)
            miss = np.tile(col.missing, copies) if col.missing is not None else None
            cols[cname] = Col(col.type, d, miss, col.cats)
        suffix = np.repeat(np.arange(copies), n).astype(str)
        keys = np.char.add(np.char.add(np.tile(ent.keys.astype(str), copies), "#"), suffix).astype(object)
        from dsl.columns import encode_strings

        cols["key"] = encode_strings(keys, cols["key"].type)
        rel = {}
        for r, idx in ent.rel.items():
            target_n = data.entities[targets[(name, r)]].n
            offs = np.repeat(np.arange(copies), n) * target_n
            rel[r] = np.where(np.tile(idx, copies) >= 0, np.tile(idx, copies) + offs, -1)
        e2 = EntityData(name, n * copies, cols, keys, np.tile(ent.as_of, copies) if ent.as_of is not None else None)
        e2.rel = rel
        out[name] = e2
    return Dataset(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--base-cases", type=int, default=20_000)
    ap.add_argument("--package", default=str(ROOT / "methodologies" / "federal" / "2025"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "data" / "recalc_1m.npz"))
    a = ap.parse_args()
    m = compile_package(Path(a.package))
    targets = {(name, r.name): r.entity for name, ent in m.entities.items() for r in ent.relations.values()}
    t = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "examples.generator", "--month", "2025-03", "--mo", "5",
                        "--cases", str(a.base_cases), "--seed", "1", "--defects", "0", "--out", tmp],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        reg = read_registry([Path(tmp)])
        assert reg.ok, reg.protocol[:3]
        raw = dict(reg.data.tables)
        erz = next(Path(tmp).glob("ERZ_*.csv"), None)
        if erz is not None and "insured" in m.entities:
            from engine.oms.pipeline import read_extra

            raw.update(read_extra({"insured": erz}))
        data = bind(m.entities, raw)
    copies = max(1, a.cases // data.entities["case"].n)
    big = tile(data, copies, targets)
    save_dataset(Path(a.out), big)
    print(f"{a.out}: case {big.entities['case'].n}, sl {big.entities['sl'].n}, service {big.entities['service'].n} "
          f"({time.perf_counter() - t:.1f} s)")


if __name__ == "__main__":
    main()

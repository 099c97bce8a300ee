"""Helpers shared by CLI commands: compile with printed diagnostics, load data."""

from __future__ import annotations

import sys
from pathlib import Path

from dsl.diagnostics import DiagnosticError, SourceCache


def compile_or_report(pkg: str):
    """Compile a package; on errors print them (Russian, positioned) and return None."""
    from engine.runtime.compile_cache import compile_cached

    try:
        return compile_cached(Path(pkg))
    except DiagnosticError as e:
        print(e.render(SourceCache()), file=sys.stderr)
        n = len(e.diagnostics)
        print(f"\nошибок: {n}", file=sys.stderr)
        return None


def load_data(m, data_dir: str | None):
    """Bind a CSV directory (one <entity>.csv per entity) to the methodology's schema."""
    from engine.runtime.dataset import DataError, bind, read_csv_dir

    try:
        raw = read_csv_dir(Path(data_dir)) if data_dir else {}
        return bind(m.entities, raw)
    except DataError as e:
        print(str(e), file=sys.stderr)
        return None


def parse_day(text: str | None) -> int | None:
    if not text:
        return None
    import datetime as dt

    from dsl.columns import EPOCH

    return (dt.date.fromisoformat(text) - EPOCH).days


def load_inputs(m, args):
    """Bind data given as --data (a stored .npz or a CSV directory) or --registry (+ --insured)."""
    from engine.oms.io import read_registry
    from engine.oms.pipeline import read_extra
    from engine.oms.storage import compatible, load_dataset
    from engine.runtime.dataset import DataError, bind, read_csv_dir

    data_arg = getattr(args, "data", None)
    if data_arg and data_arg.endswith(".npz"):
        data = load_dataset(Path(data_arg))
        problems = compatible(data, m.entities)
        if problems:
            raise SystemExit("набор данных не подходит к схеме:\n  " + "\n  ".join(problems))
        return data
    if data_arg:
        raw = read_csv_dir(Path(data_arg))
    else:
        reg = read_registry([Path(p) for p in args.registry])
        if not reg.ok:
            from engine.oms.io.protocol import format_table

            raise SystemExit("реестр не прошёл ФЛК:\n" + format_table(reg.protocol[:30]))
        raw = dict(reg.data.tables)
    if getattr(args, "insured", None):
        raw.update(read_extra({"insured": Path(args.insured)}))
    try:
        return bind(m.entities, raw)
    except DataError as e:
        raise SystemExit(str(e)) from None



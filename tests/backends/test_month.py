"""The shipped month (5.1, H+C+T+D+L, 500 cases) through the federal package on numpy and on
PostgreSQL: every definition, the defects table and the settlement are the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.backends import use_backend
from engine.backends.sql.differential import _defect_rows, same_col

ROOT = Path(__file__).resolve().parents[2]
MONTH = ROOT / "examples/registries/2025-09"


@pytest.mark.postgres
@pytest.mark.slow
def test_shipped_month_same_on_postgres(pg):
    from engine.backends.numpy.runner import run
    from engine.oms.io import read_registry
    from engine.oms.pipeline import format_versions, read_extra
    from engine.oms.settlement import settle
    from engine.runtime.compiler import compile_package
    from engine.runtime.dataset import bind

    m = compile_package(ROOT / "methodologies/federal/2025")
    reg = read_registry([MONTH], versions=format_versions(m))
    raw = dict(reg.data.tables)
    raw.update(read_extra({"insured": MONTH / "ERZ_2025-09.csv"}))
    data = bind(m.entities, raw)
    a = run(m, data)
    with use_backend("postgres", pg.url):
        b = run(m, data)
    assert "sql_load_s" in b.timings and "sql_load_s" not in a.timings      # really two backends
    diffs = [f"{e}.{n}: {d}" for e, cols in a.values.items() for n, c in cols.items()
             if (d := same_col(c, b.values[e][n]))]
    assert not diffs, diffs[:5]
    assert sum(len(c) for c in a.values.values()) > 200
    assert _defect_rows(a.defects) == _defect_rows(b.defects) and len(a.defects) > 50
    sa, sb = settle(m, data, a.defects), settle(m, data, b.defects)
    for f in ("keys", "billed", "withheld", "accepted", "fine", "mo", "smo"):
        assert (getattr(sa, f) == getattr(sb, f)).all(), f
    assert sa.codes == sb.codes and sa.applied == sb.applied
    assert int(sa.withheld.sum()) > 0

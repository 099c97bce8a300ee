"""One truth for the totals by ground: the settlement, the МЭК act (in memory and from a run directory)
and summary_ground.csv agree on every shipped month and a generated one — each case counted once,
under the ground applied, and Σ by ground = the run's withheld total. The web page and the API:
tests/web/test_web_totals_by_ground.py."""

from __future__ import annotations

import csv
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from engine.compiler import compile_package
from engine.dataset import bind
from engine.io import read_registry
from engine.pipeline import process, read_extra, write_outputs
from engine.settlement import by_ground
from forms.build import build_form
from forms.dataset import run_data_from_dir, run_data_from_result
from forms.definition import load_form, resolve_form_path

ROOT = Path(__file__).resolve().parents[2]
FEDERAL = ROOT / "methodologies" / "federal" / "2025"
SHIPPED = sorted(p for p in (ROOT / "examples" / "registries").iterdir() if p.is_dir())


@cache
def _generated(tmp_root: str) -> Path:
    from examples.generator.generate import Config, generate

    out = Path(tmp_root) / "generated-2025-05"
    generate(Config(2025, 5, 2, 300, 7, out, 0.3, False, FEDERAL))
    for h in out.glob("H*.XML"):   # as the shipped month: H files of 2025 declare 5.0 (same 3.2 content)
        h.write_bytes(h.read_bytes().replace(b"<VERSION>3.2</VERSION>", b"<VERSION>5.0</VERSION>", 1))
    return out


def _erz(month: Path) -> Path:
    return next(month.glob("ERZ_*.csv"))


def _xml(month: Path) -> list[Path]:
    return sorted(p for p in month.iterdir() if p.suffix.upper() == ".XML")


@pytest.fixture(scope="module")
def federal():
    return compile_package(FEDERAL)


@pytest.fixture(scope="module", params=[*(p.name for p in SHIPPED), "generated"])
def month(request, tmp_path_factory) -> Path:
    if request.param == "generated":
        return _generated(str(tmp_path_factory.getbasetemp()))
    return ROOT / "examples" / "registries" / request.param


def _act_lines(rd, m) -> tuple[dict[str, tuple[int, int]], int]:
    """МЭК act: {ground: (cases, withheld kopecks)} from lines 02.N, and line 02's withheld."""
    form = load_form(resolve_form_path("mek_act"))
    res = build_form(form, run=rd, methodology=m, params={"period": "тест"})
    cols = [c.code for c in form.columns]
    out, total = {}, None
    for row in res.form.rows:
        if row.is_section or row.code is None or not row.code.startswith("02"):
            continue
        vals = dict(zip(cols, (c.value for c in row.cells), strict=False))
        kop = int(vals["withheld"])   # money cells hold kopecks
        if row.code == "02":
            total = kop
        elif row.code.startswith("02.") and vals["cases"]:
            out[row.label.split(" — ")[0]] = (int(vals["cases"]), kop)
    return out, total


def test_act_summary_file_and_settlement_agree(federal, month, tmp_path):
    res = process(federal, _xml(month), {"insured": _erz(month)})
    assert res.status == "done"
    s = res.settlement
    grounds = {g.code: (g.cases, g.withheld) for g in by_ground(s)}
    assert grounds, "в месяце должны быть дефекты с неоплатой"
    # each case once: Σ by ground = the run's withheld total and the number of cases with a withholding
    assert sum(w for _, w in grounds.values()) == int(s.withheld.sum())
    assert sum(n for n, _ in grounds.values()) == int((s.withheld > 0).sum())
    act, total = _act_lines(run_data_from_result(res), federal)
    assert act == grounds and total == int(s.withheld.sum())
    out = tmp_path / "run"
    write_outputs(res, out)
    with (out / "summary_ground.csv").open(encoding="utf-8") as fh:
        written = {r["code"]: (int(r["cases"]), int(Decimal(r["withheld"]) * 100)) for r in csv.DictReader(fh)}
    assert written == grounds
    raw = dict(read_registry(_xml(month)).data.tables)
    raw.update(read_extra({"insured": _erz(month)}))
    act_dir, _ = _act_lines(run_data_from_dir(out, federal, bind(federal.entities, raw)), federal)
    assert act_dir == grounds

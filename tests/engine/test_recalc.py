"""Mass recalculation: deltas per row and group, reasons, stored datasets."""

from __future__ import annotations

import json

import numpy as np

from api.cli.main import main
from engine.oms.recalc import recalc
from engine.oms.storage import load_dataset, save_dataset
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import bind
from tests.engine.conftest import make_package, synthetic_raw


def _versions(tmp_path):
    a_dir = make_package(tmp_path / "a")
    b_dir = tmp_path / "b"
    b_dir.mkdir()
    (b_dir / "methodology.yaml").write_text(
        f"id: t\nversion: 2.0.0\ntitle: тест B\nextends: {a_dir}\nparameters: p.yaml\nmodules: [r.rules]\n",
        encoding="utf-8")
    (b_dir / "p.yaml").write_text("base_rate:\n  type: money\n  label: Базовая ставка, КС\n  override: true\n"
                                  "  reference: Доп. соглашение № 3\n  values:\n    2025-01-01: 29000.00\n",
                                  encoding="utf-8")
    (b_dir / "r.rules").write_text("for case:\n    @label \"Коэффициент уровня\"\n"
                                   "    override kus: number = default(level[lpu].kus, 1.1)\n", encoding="utf-8")
    return compile_package(a_dir), compile_package(b_dir)


def test_recalc_deltas_groups_and_reasons(tmp_path):
    ma, mb = _versions(tmp_path)
    raw = synthetic_raw(400, seed=4)
    raw["case"]["n_ksg"][0], raw["case"]["lpu"][0], raw["case"]["date_z_2"][0] = "st21.001", "999999", "2025-03-10"
    data = bind(ma.entities, raw)
    res = recalc(ma, mb, data, "case", "cost", "lpu", explain_top=400)
    a, b = np.asarray(res.a.data), np.asarray(res.b.data)
    assert np.array_equal(res.delta, b - a)
    assert sum(g["delta"] for g in res.groups) == int(res.delta.sum())
    assert sum(g["rows"] for g in res.groups) == 400
    reasons = "\n".join(res.reasons["c0"])
    # 28147.26 × 0.49 × 1 = 13792.16 → 29000.00 × 0.49 × 1.1 = 15631.00
    assert "case [c0].cost: 13792.16 → 15631.00" in reasons
    assert "параметр base_rate «Базовая ставка, КС»: 28147.26" in reasons and "Доп. соглашение № 3" in reasons
    assert "правило case.kus: «default(level[lpu].kus, 1)» (t@1.0.0) → «default(level[lpu].kus, 1.1)» (t@2.0.0)" in reasons


def test_stored_dataset_round_trip_gives_identical_results(tmp_path, package):
    data = bind(package.entities, synthetic_raw(300, seed=2))
    save_dataset(tmp_path / "d.npz", data)
    back = load_dataset(tmp_path / "d.npz")
    r1 = recalc(package, package, data, "case", "cost", "lpu", 0)
    r2 = recalc(package, package, back, "case", "cost", "lpu", 0)
    assert np.array_equal(np.asarray(r1.a.data), np.asarray(r2.a.data))
    assert not r2.delta.any()


def test_cli_recalc_from_stored_dataset(tmp_path, capsys):
    ma, mb = _versions(tmp_path)
    save_dataset(tmp_path / "d.npz", bind(ma.entities, synthetic_raw(200, seed=8)))
    out = tmp_path / "out"
    code = main(["recalc", "--from", str(ma.package.path), "--to", str(mb.package.path), "--data",
                 str(tmp_path / "d.npz"), "--value", "case.cost", "--out", str(out), "--explain", "3"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["from"] == "t@1.0.0" and summary["to"] == "t@2.0.0" and summary["changed"] > 0
    assert (out / "by_group.csv").read_text(encoding="utf-8").startswith("group,rows,changed")
    assert "правило case.kus" in (out / "reasons.txt").read_text(encoding="utf-8")


def test_diff_lists_a_changed_formula():
    from engine.runtime.diff import diff, render

    a, b = compile_package("methodologies/federal/2025"), compile_package("methodologies/kaluga/2025")
    text = render(a, b, diff(a, b))
    assert "~ формула ksg_base «БС × КЗ, округлённое до копеек (Калужская обл.)»" in text
    assert "стало (kaluga@2025.1.0): round(to_number(bs) * kz, 2)" in text

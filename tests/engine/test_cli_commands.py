"""The commands the README and docs show, run end to end on the shipped data."""

from __future__ import annotations

import json

from api.cli.main import main

MONTH = "examples/registries/2025-03"
ERZ = f"{MONTH}/ERZ_2025-03.csv"


def test_run_without_insured_register_and_without_database(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "methodologies/federal/2025", "--registry", MONTH, "--out", str(out), "--no-store"]) == 0
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert info["status"] == "done" and info["rows"]["case"] == 450


def test_dataset_save_then_recalc_and_explain_from_it(tmp_path, capsys):
    npz = tmp_path / "month.npz"
    assert main(["dataset", "save", "methodologies/federal/2025", "--registry", MONTH, "--insured", ERZ,
                 "--out", str(npz)]) == 0
    out = tmp_path / "recalc"
    assert main(["recalc", "--from", "methodologies/federal/2025", "--to", "methodologies/yaroslavl/2025",
                 "--data", str(npz), "--out", str(out), "--explain", "2"]) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["rows"] == 450 and summary["changed"] > 0
    capsys.readouterr()
    key = "HM000001T76_25031/10000001"
    assert main(["explain", "methodologies/federal/2025", "--data", str(npz), "--entity", "case", "--row", key,
                 "--value", "tariff_cost"]) == 0
    assert "case.tariff_cost" in capsys.readouterr().out


def test_calc_on_the_kaluga_example(tmp_path):
    out = tmp_path / "calc"
    assert main(["calc", "methodologies/kaluga/2025", "--data", "methodologies/kaluga/2025/examples/st02.001",
                 "--out", str(out)]) == 0
    assert "32902.83" in (out / "sl.csv").read_text(encoding="utf-8")

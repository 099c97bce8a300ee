from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.runtime.compiler import compile_package

FIXTURE = Path(__file__).parents[1] / "dsl" / "fixture"
RULES = """
for case:
    @label "Коэффициент затратоёмкости"
    @ref "V023"
    kz: number = default(ksg[default(n_ksg, "")].koef_z, 0)
    @label "Коэффициент уровня"
    kus: number = default(level[lpu].kus, 1)
    @label "Стоимость"
    @ref "МР, п. 3.1"
    cost: money = round_money(base_rate * kz * kus)
    services: money = sum(service.sumv_usl)
    dups: int = count(case by patient_ref, date_z_1, profil)
    age: int = age_at(patient.dr, date_z_1)
    short: bool = kd <= max_days

check duplicate on case:
    code "1.10.2"
    title "Дублирование случаев"
    when dups > 1
    withhold share 1.0 of sumv
    message "случай повторяется {dups} раз"
"""


def make_package(tmp: Path, rules: str = RULES, extra_manifest: str = "") -> Path:
    pkg = tmp / "pkg"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "methodology.yaml").write_text(
        f"id: t\nversion: 1.0.0\ntitle: тест\nextends: {FIXTURE}\nmodules: [rules.rules]\n{extra_manifest}",
        encoding="utf-8")
    (pkg / "rules.rules").write_text(rules, encoding="utf-8")
    return pkg


def synthetic_raw(n: int, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 360, n)
    d1 = (np.datetime64("2025-01-01") + days).astype(str)
    d2 = (np.datetime64("2025-01-01") + days + rng.integers(0, 10, n)).astype(str)
    n_pat = max(n // 3, 1)
    obj = lambda a: np.array(a, dtype=object)  # noqa: E731
    case = {
        "key": obj([f"c{i}" for i in range(n)]),
        "account_ref": obj(["A"] * n),
        "patient_ref": obj([f"p{i}" for i in rng.integers(0, n_pat, n)]),
        "date_z_1": obj(d1), "date_z_2": obj(d2),
        "usl_ok": obj(rng.choice(["1", "2", "3"], n)), "profil": obj(rng.choice(["97", "136", "29"], n)),
        "lpu": obj(rng.choice(["760001", "760002", "760003", "999999"], n)),
        "ds1": obj(rng.choice(["I10", "O80", "H25.1"], n)), "ds2": obj([None] * n),
        "n_ksg": obj(rng.choice(["st02.003", "st21.001", "ds02.001", None, "zz"], n)),
        "rslt": obj(["101"] * n), "sumv": obj([f"{v / 100:.2f}" for v in rng.integers(0, 5_000_000, n)]),
        "kd": obj(rng.integers(1, 15, n).astype(str)),
    }
    n_srv = n * 2
    service = {
        "key": obj([f"s{i}" for i in range(n_srv)]), "case_ref": obj([f"c{i}" for i in rng.integers(0, n, n_srv)]),
        "date_in": obj(["2025-02-01"] * n_srv), "code_usl": obj(["A01"] * n_srv), "kol_usl": obj(["1"] * n_srv),
        "sumv_usl": obj([f"{v / 100:.2f}" for v in rng.integers(0, 100_000, n_srv)]),
    }
    patient = {"key": obj([f"p{i}" for i in range(n_pat)]), "enp": obj([f"{7600000000000000 + i}" for i in range(n_pat)]),
               "w": obj(rng.choice(["1", "2"], n_pat)), "dr": obj(["1980-05-17"] * n_pat)}
    account = {"key": obj(["A"]), "dschet": obj(["2025-12-31"]), "code_mo": obj(["760001"]), "summav": obj(["0"])}
    return {"case": case, "service": service, "patient": patient, "account": account}


@pytest.fixture
def package(tmp_path):
    return compile_package(make_package(tmp_path))

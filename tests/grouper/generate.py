"""Generated КС/ДС months for the grouper: each case is built from a random grouper rule so
that the rule matches it (DS1/DS2/DS3, service, criteria, age, sex, duration), with a random
extra service that usually changes nothing. Vectorized, so a million cases take seconds.

`month(n, seed)` returns raw tables for engine.runtime.dataset.bind (all entities of the schema,
required fields filled) and the per-SL rule row each case was built from.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

TABLES = Path(__file__).resolve().parents[2] / "methodologies/federal/2026/grouper/tables"
SKIP_KSG = {"st29.007", "st36.025", "st36.026", "ds36.012", "ds36.013"}   # polytrauma, RSV: YAML tests
AGE_DAYS = {"1": 10, "2": 60, "3": 200, "4": 460, "5": 3650, "6": 16000, "7": 6940, "": 16000}
DUR_DAYS = {"1": 2, "2": 7, "3": 15, "4": 25, "5": 30}
START = dt.date(2026, 3, 2)


def rules() -> dict[str, np.ndarray]:
    cols: dict[str, list] = {}
    for kind, usl in (("ks", 1), ("ds", 2)):
        for r in csv.DictReader((TABLES / f"ksg_grouper_2026_{kind}.csv").open(encoding="utf-8")):
            if r["ksg"] in SKIP_KSG or r["ksg"].startswith(("st36.05", "st37", "ds37")) and r["other_criterion"]:
                continue
            r["usl_ok"] = usl
            for k, v in r.items():
                cols.setdefault(k, []).append(v)
    return {k: np.array(v, dtype=object) for k, v in cols.items()}


def _icd_value(v: np.ndarray, fallback: str) -> np.ndarray:
    """A diagnosis matching a grouper cell: the code itself, a code of the class or of the range start."""
    out = v.copy()
    cls = np.array([len(x) == 2 for x in v])
    rng = np.array([len(x) == 7 for x in v])
    out[cls] = np.array([x[0] + "50.9" for x in v[cls]], dtype=object)
    out[rng] = np.array([x[:3] + ".1" for x in v[rng]], dtype=object)
    out[v == ""] = fallback
    return out


def month(n: int, seed: int = 1, kinds: tuple[int, ...] = (1, 2)) -> tuple[dict, np.ndarray, dict]:
    rng = np.random.default_rng(seed)
    R = rules()
    pool = np.nonzero(np.isin(R["usl_ok"], kinds))[0]
    pick = pool[rng.integers(0, len(pool), n)]
    g = {k: v[pick] for k, v in R.items()}
    usl = g["usl_ok"].astype(np.int64)
    ds1 = _icd_value(g["mkb10"], "J18.9")
    ds2 = _icd_value(g["mkb10_2"], "")
    ds3 = _icd_value(g["mkb10_3"], "")
    age_days = np.array([AGE_DAYS[a] for a in g["age"]], dtype=np.int64)
    fixed = np.array([int(x) if x else 0 for x in g["sex"]], dtype=np.int64)
    w = np.where(fixed == 0, rng.integers(1, 3, n), fixed)
    dur = np.array([DUR_DAYS.get(d, 0) for d in g["duration"]], dtype=np.int64)
    dur = np.where(dur == 0, rng.integers(4, 10, n), dur)
    d1 = np.datetime64(START) + rng.integers(0, 20, n).astype("timedelta64[D]")
    span = np.where(usl == 1, dur, dur - 1)
    d2 = d1 + span.astype("timedelta64[D]")
    dr = d1 - age_days.astype("timedelta64[D]")
    ids = np.array([f"{i:07d}" for i in range(n)], dtype=object)
    extra = np.array(["A09.05.010", "B01.047.001", "A05.10.006", "A06.09.007"], dtype=object)[rng.integers(0, 4, n)]
    svc = g["service_code"]
    has_svc = svc != ""
    s_sl = np.concatenate([ids[has_svc], ids])
    s_code = np.concatenate([svc[has_svc], extra])
    crit_src = [g["other_criterion"], g["fraction_range"]]
    c_sl = np.concatenate([ids[c != ""] for c in crit_src])
    c_code = np.concatenate([c[c != ""] for c in crit_src])
    c_idx = np.concatenate([np.nonzero(c != "")[0] for c in crit_src])
    zero = np.zeros(n, dtype=np.int64)
    raw = {
        "account": {"key": np.array(["a1"], dtype=object), "file_type": ["H"], "version": ["5.1"], "filename": ["HM"], "data": ["2026-04-05"],
                    "sd_z": np.array([n]), "code": ["1"], "code_mo": ["000002"], "year": np.array([2026]),
                    "month": np.array([3]), "nschet": ["1"], "dschet": ["2026-04-05"], "summav": ["0"]},
        "patient": {"key": ids, "account_ref": np.full(n, "a1", dtype=object), "n_zap": zero + 1, "pr_nov": zero,
                    "id_pac": ids, "vpolis": zero + 3, "novor": np.full(n, "0", dtype=object), "w": w, "dr": dr},
        "case": {"key": ids, "account_ref": np.full(n, "a1", dtype=object), "patient_ref": ids, "n_zap": zero + 1,
                 "idcase": ids, "usl_ok": usl, "vidpom": zero + 31, "for_pom": zero + 3,
                 "lpu": np.full(n, "000002", dtype=object), "date_z_1": d1, "date_z_2": d2,
                 "rslt": np.where(usl == 1, 101, 201), "ishod": np.where(usl == 1, 101, 201), "idsp": zero + 33,
                 "sumv": np.zeros(n, dtype=np.int64)},
        "sl": {"key": ids, "case_ref": ids, "sl_id": ids, "profil": zero + 97, "det": zero, "nhistory": ids,
               "date_1": d1, "date_2": d2, "kd": np.where(usl == 2, dur, dur), "ds1": ds1,
               "ds2": np.where(ds2 == "", None, ds2), "ds3": np.where(ds3 == "", None, ds3),
               "prvs": zero + 76, "vers_spec": np.full(n, "V021", dtype=object), "iddokt": ids,
               "sum_m": np.zeros(n, dtype=np.int64)},
        "service": {"key": np.array([f"u{i}" for i in range(len(s_sl))], dtype=object), "sl_ref": s_sl, "case_ref": s_sl,
                    "idserv": np.array([str(i) for i in range(len(s_sl))], dtype=object),
                    "lpu": np.full(len(s_sl), "000002", dtype=object), "profil": np.zeros(len(s_sl), np.int64) + 97,
                    "det": np.zeros(len(s_sl), np.int64), "date_in": np.full(len(s_sl), np.datetime64(START)),
                    "date_out": np.full(len(s_sl), np.datetime64(START)), "ds": np.full(len(s_sl), "A00", dtype=object),
                    "code_usl": s_code, "kol_usl": np.ones(len(s_sl)), "sumv_usl": np.zeros(len(s_sl), np.int64)},
        "ksg_crit": {"key": np.array([f"k{i}" for i in range(len(c_sl))], dtype=object), "sl_ref": c_sl,
                     "crit": c_code, "date_2": d2[c_idx]},
    }
    facts = {"ds1": ds1, "ds2": ds2, "ds3": ds3, "w": w, "dr": dr, "d1": d1, "d2": d2, "usl": usl, "dur": dur,
             "services": (s_sl, s_code), "crits": (c_sl, c_code)}
    return raw, g["n"].astype(np.int64), facts

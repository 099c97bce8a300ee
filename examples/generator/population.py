"""Synthetic insured population and its ЕРЗ (register of insured persons) CSV."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from .catalog import (
    FEMALE_NAMES,
    MALE_NAMES,
    MALE_SURNAMES,
    PATRONYMIC_ROOTS,
    REGION,
    SMO_CODES,
    SMO_SHARE,
    female_surname,
)

AGE_BANDS = ((0, 0, 0.01), (1, 17, 0.18), (18, 44, 0.35), (45, 64, 0.27), (65, 95, 0.19))


def snils(n: int) -> str:
    digits = f"{n % 10**9:09d}"
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits))
    check = total % 101 % 100
    return f"{digits[:3]}-{digits[3:6]}-{digits[6:]} {check:02d}"


class Population:
    """Persons 0..n_insured-1 are in the ЕРЗ; persons added by ``add_unknown`` are not."""

    def __init__(self, n: int, month_start: date, seed: int, reserve: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.month_start = month_start
        self.n_insured = n
        self.n_unknown = 0
        n += reserve  # slots for persons absent from the ЕРЗ, filled by add_unknown
        band = rng.choice(len(AGE_BANDS), size=n, p=[b[2] for b in AGE_BANDS])
        lo = np.array([b[0] for b in AGE_BANDS])[band]
        hi = np.array([b[1] for b in AGE_BANDS])[band]
        age = rng.integers(lo, hi + 1)
        # days since the last birthday; newborns are 10..300 days old, so they stay under 1 all month
        extra = np.where(age == 0, rng.integers(10, 300, size=n), rng.integers(0, 365, size=n))
        base = month_start.toordinal()
        self.dob = (base - (age * 365.25).astype(np.int64) - extra).astype(np.int64)
        self.sex = rng.integers(1, 3, size=n).astype(np.int8)
        self.smo = rng.choice(len(SMO_CODES), size=n, p=SMO_SHARE).astype(np.int8)
        self.names = rng.integers(0, 1 << 30, size=n, dtype=np.int64)
        self.policy_beg = np.maximum(base - rng.integers(30, 5000, size=n), self.dob + 5)
        self.enp_offset = int(rng.integers(0, 10**13))
        self.home_mo = rng.integers(0, 1 << 30, size=n, dtype=np.int64)

    # --- growing the population by persons absent from the ЕРЗ ---------------------
    def add_unknown(self, like: int) -> int | None:
        """A person shaped like ``like`` (same sex, birth date, СМО) but not in the ЕРЗ."""
        idx = self.n_insured + self.n_unknown
        if idx >= len(self.sex):
            return None
        self.n_unknown += 1
        for arr in (self.dob, self.sex, self.smo):
            arr[idx] = arr[like]
        return idx

    def enp(self, i: int) -> str:
        return f"{REGION}{(self.enp_offset + i * 7919) % 10**14:014d}"

    def age_at(self, i: int, day: int) -> int:
        b, d = date.fromordinal(int(self.dob[i])), date.fromordinal(day)
        return d.year - b.year - ((d.month, d.day) < (b.month, b.day))

    def dob_str(self, i: int) -> str:
        return date.fromordinal(int(self.dob[i])).isoformat()

    def smo_code(self, i: int) -> str:
        return SMO_CODES[int(self.smo[i])]

    def fio(self, i: int) -> tuple[str, str, str]:
        h = int(self.names[i])
        surname = MALE_SURNAMES[h % len(MALE_SURNAMES)]
        root = PATRONYMIC_ROOTS[(h >> 8) % len(PATRONYMIC_ROOTS)]
        if self.sex[i] == 1:
            return surname, MALE_NAMES[(h >> 16) % len(MALE_NAMES)], root + "ич"
        return female_surname(surname), FEMALE_NAMES[(h >> 16) % len(FEMALE_NAMES)], root + "на"

    def document(self, i: int) -> tuple[str, str, str, str]:
        """DOCTYPE, DOCSER, DOCNUM, DOCDATE: passport from 14, birth certificate before."""
        h = int(self.names[i])
        dob = date.fromordinal(int(self.dob[i]))
        if self.age_at(i, self.month_start.toordinal()) >= 14:
            issued = dob + timedelta(days=int(14 * 365.25) + h % 60)
            return "14", f"{78 + h % 5:02d} {h % 100:02d}", f"{h % 1000000:06d}", issued.isoformat()
        return "3", "I-ГР", f"{(h >> 4) % 1000000:06d}", (dob + timedelta(days=7)).isoformat()

    def snils(self, i: int) -> str:
        return snils(int(self.names[i]) * 31 + i)

    def candidates(self, sex: int, age_min: int, age_max: int) -> np.ndarray:
        """Indices of insured persons of this sex (0 = any) and age at the month start."""
        ref = date(self.month_start.year, self.month_start.month, self.month_start.day).toordinal()
        age_years = (ref - self.dob[: self.n_insured]) / 365.25
        mask = (age_years >= age_min) & (age_years < age_max + 1)
        if age_min == 0 and age_max == 0:
            mask &= (ref - self.dob[: self.n_insured]) < 320
        if sex:
            mask &= self.sex[: self.n_insured] == sex
        return np.flatnonzero(mask)

    def write_erz(self, path: Path) -> int:
        """ЕРЗ CSV of the insured persons (the unknown ones are left out on purpose)."""
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["enp", "npolis", "smo", "date_beg", "date_end", "dr", "w"])
            for i in range(self.n_insured):
                enp = self.enp(i)
                beg = date.fromordinal(int(self.policy_beg[i])).isoformat()
                w.writerow([enp, enp, self.smo_code(i), beg, "", self.dob_str(i), int(self.sex[i])])
        return self.n_insured

"""Which rows a catalogue-bound check applies to: the file kind and reporting period of their account.

A check with `kinds` runs on rows whose account's file kind is listed; `L` (the personal-data
file that accompanies every H/C/T/D file) puts the check on every account. A check with
`valid from … [to …]` runs on rows whose account's reporting month (year, month) lies within
the months of the validity. A row whose account, kind or period is unknown is out of scope.
"""

from __future__ import annotations

import numpy as np

from dsl.checker import ACCOUNT, FILE_KINDS, CheckIR
from dsl.columns import Col, code_strings
from engine.runtime.dataset import Dataset


def account_rows(data: Dataset, entity: str, path: tuple[tuple[str, str], ...]) -> np.ndarray:
    """Index of each row's account (−1 where the chain breaks)."""
    idx = np.arange(data.entities[entity].n, dtype=np.int64)
    current = entity
    for rel, target in path:
        step = np.asarray(data.entities[current].rel[rel], dtype=np.int64)
        idx = np.where(idx >= 0, step[np.clip(idx, 0, None)], -1) if len(step) else np.full(len(idx), -1)
        current = target
    return idx


def file_kinds(account: Col | None, filename: Col | None, n: int) -> np.ndarray:
    """Account file kind: `file_type` where it is a kind letter, else the file name's first letter (D… → D)."""
    kinds = code_strings(account) if account is not None else np.full(n, None, dtype=object)
    kinds = np.array([k if k in FILE_KINDS else None for k in kinds], dtype=object)
    if filename is not None:
        names = code_strings(filename)
        guess = np.array([str(x)[:1].upper() if x and str(x)[:1].upper() in FILE_KINDS else None
                          for x in names], dtype=object)
        kinds = np.where(kinds == None, guess, kinds)  # noqa: E711  (elementwise on object arrays)
    return kinds


def _int(col: Col | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    if col is None:
        return np.zeros(n, np.int64), np.ones(n, bool)
    miss = col.missing if col.missing is not None else np.zeros(n, bool)
    return np.asarray(col.data, dtype=np.int64), miss


def account_scope(c: CheckIR, data: Dataset) -> np.ndarray | None:
    """Mask over accounts of the check's scope, or None when the check is not limited."""
    if c.kinds is None and c.valid_from is None:
        return None
    acc = data.entities[ACCOUNT]
    ok = np.ones(acc.n, dtype=bool)
    if c.kinds is not None and "L" not in c.kinds:
        kinds = file_kinds(acc.cols.get("file_type"), acc.cols.get("filename"), acc.n)
        ok &= np.isin(kinds.astype(str), np.array(c.kinds, dtype=str)) & (kinds != None)  # noqa: E711
    if c.valid_from is not None:
        year, ymiss = _int(acc.cols.get("year"), acc.n)
        month, mmiss = _int(acc.cols.get("month"), acc.n)
        period = year * 12 + month - 1
        ok &= ~ymiss & ~mmiss & (period >= c.valid_from.year * 12 + c.valid_from.month - 1)
        if c.valid_to is not None:
            ok &= period <= c.valid_to.year * 12 + c.valid_to.month - 1
    return ok


def row_scope(c: CheckIR, data: Dataset, entity: str, cache: dict | None = None) -> np.ndarray | None:
    """Mask over the check's entity rows: True where the check applies (`cache` shares masks between
    checks of one run with the same binding and entity)."""
    if c.kinds is None and c.valid_from is None:
        return None
    key = (entity, c.account_path, c.kinds, c.valid_from, c.valid_to)
    if cache is not None and key in cache:
        return cache[key]
    ok = account_scope(c, data)
    idx = account_rows(data, entity, c.account_path)
    mask = np.where(idx >= 0, ok[np.clip(idx, 0, None)] if len(ok) else False, False)
    if cache is not None:
        cache[key] = mask
    return mask


def describe(c: CheckIR) -> str | None:
    """The catalogue binding in words: «Q015 003F.00.0010; файлы H, C; с 2025-02 по 2025-03»."""
    parts = []
    if c.catalogue:
        parts.append(f"Q015 {c.catalogue}")
    if c.kinds is not None:
        parts.append("файлы " + ", ".join(c.kinds))
    if c.valid_from is not None:
        period = f"с {c.valid_from:%Y-%m}"
        if c.valid_to is not None:
            period += f" по {c.valid_to:%Y-%m}"
        parts.append(period)
    return "; ".join(parts) or None


def out_of_scope(c: CheckIR, data: Dataset, entity: str, row: int) -> str | None:
    """Why the check does not apply to this row (None when it does)."""
    mask = row_scope(c, data, entity)
    if mask is None or mask[row]:
        return None
    acc_row = int(account_rows(data, entity, c.account_path)[row])
    if acc_row < 0:
        return "строка не связана со счётом: вид файла и отчётный период неизвестны"
    acc = data.entities[ACCOUNT]
    kind = file_kinds(acc.cols.get("file_type"), acc.cols.get("filename"), acc.n)[acc_row]
    year = acc.cols["year"].value_at(acc_row) if "year" in acc.cols else None
    month = acc.cols["month"].value_at(acc_row) if "month" in acc.cols else None
    period = f"{year}-{month:02d}" if year is not None and month is not None else "неизвестен"
    return f"счёт: вид файла {kind or 'неизвестен'}, отчётный период {period} — вне области проверки ({describe(c)})"

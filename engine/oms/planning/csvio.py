"""Small CSV helpers (UTF-8, header row) with positioned errors."""

from __future__ import annotations

import csv
from pathlib import Path


class PlanningInputError(ValueError):
    """Bad planning input: the message names the file, line and column (Russian)."""


def read_rows(path: Path, required: tuple[str, ...] = ()) -> list[dict[str, str]]:
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in required if c not in header]
        if missing:
            raise PlanningInputError(f"{path}: нет столбцов {', '.join(missing)}")
        reader.fieldnames = header
        return [{k: (v or "").strip() for k, v in row.items() if k is not None} for row in reader]


def write_rows(path: Path, header: list[str], rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for r in rows:
            w.writerow(r)
    tmp.replace(path)
    return path


def as_int(value: str, where: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise PlanningInputError(f"{where}: «{value}» — не целое число") from None


def kopecks(value: str, where: str) -> int:
    from decimal import Decimal, InvalidOperation

    try:
        d = Decimal(value.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise PlanningInputError(f"{where}: «{value}» — не денежная сумма") from None
    k = d * 100
    if k != k.to_integral_value():
        raise PlanningInputError(f"{where}: «{value}» — больше двух знаков после запятой")
    return int(k)


def money_text(k: int) -> str:
    sign = "-" if k < 0 else ""
    k = abs(int(k))
    return f"{sign}{k // 100}.{k % 100:02d}"

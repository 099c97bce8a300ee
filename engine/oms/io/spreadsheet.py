"""Neutralising spreadsheet formula injection in the CSV and XLSX files meant for Excel.

A cell whose text comes from user input (a file name, a registry value, a login) and starts with
``=``, ``+``, ``-``, ``@``, TAB or CR is read by Excel and LibreOffice as a formula
(``=HYPERLINK("http://x","y")``, DDE payloads). OWASP's rule: prefix such text with ``'``, which
the spreadsheet shows as text. Plain numbers (``-12``, ``+3.50``, ``-1 234,56``) are left alone:
they are values, not formulas. XLSX cells are typed, so there the text is kept verbatim but stored
as a string with Excel's own quote-prefix flag (what typing ``'`` in Excel does).

Every CSV/XLSX writer meant for Excel calls :func:`safe_cell`/:func:`safe_row` or, for a whole
workbook, :func:`neutralize_workbook` (engine/oms/io/protocol.py, forms/render/csv.py,
forms/render/xlsx.py, api/web/registries.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d[\d\u00a0\u202f ]*(?:[.,]\d+)?")


def is_dangerous(text: str) -> bool:
    return text[:1] in TRIGGERS and not _PLAIN_NUMBER.fullmatch(text)


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and is_dangerous(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def neutralize_workbook(workbook: Any) -> int:
    """Store every formula-like text cell of an openpyxl workbook as plain text; returns how many."""
    count = 0
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str) and is_dangerous(value):
                    cell.value = value
                    cell.data_type = "s"  # openpyxl typed "=…" as a formula
                    cell.quotePrefix = True
                    count += 1
    return count

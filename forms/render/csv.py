"""CSV: one line per data row — row code, label, then each column's exact value.

Numbers are machine-readable (dot decimal separator, no thousands separators; money with two
decimals), so the file loads into a spreadsheet or a database as it is. UTF-8 with BOM, so
Excel opens the Cyrillic labels correctly.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

from engine.oms.io.spreadsheet import safe_row
from forms.model import RenderedForm
from forms.render.layout import exact_number


def _value(cell, column) -> str:
    exact = exact_number(cell, column)
    if exact is not None:
        return str(exact)
    return "" if cell.value is None else str(cell.value)


def write_csv(form: RenderedForm, path: str | os.PathLike[str]) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(safe_row(["code", "label", *(c.code for c in form.columns)]))
            w.writerow(safe_row(["", "", *(c.label for c in form.columns)]))
            for row in form.rows:
                if row.is_section:
                    continue
                w.writerow(safe_row([row.code or "", row.label, *(_value(cell, col) for cell, col in
                                                                   zip(row.cells, form.columns, strict=False))]))
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target

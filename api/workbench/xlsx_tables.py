"""A methodology table as an XLSX sheet and back (economists keep tariff tables in Excel).

Export writes one sheet named after the table: a header row with the CSV's column names (the
dates of a dated table as ДАТАНАЧ/ДАТАКОН), one row per CSV row with typed cells (codes and texts
as text, numbers and money as numbers, dates as dates), and a sheet «описание» with the columns'
types. Import reads the sheet back, validates every cell (sheet and cell in every message: type,
empty key, date, end before start, duplicate key or overlapping periods, missing or unknown
column) and only then replaces the CSV atomically; a cell whose value did not change keeps its
original text, so the file changes exactly where the sheet was edited.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dsl.columns import EPOCH
from dsl.types import Type, parse_type_name
from engine.runtime.params import FAR_FUTURE
from engine.runtime.values import ValueError_, convert, parse_date

DATE_COLUMNS = {"DATEBEG": "ДАТАНАЧ", "DATEEND": "ДАТАКОН"}
FROM_SHEET = {v: k for k, v in DATE_COLUMNS.items()}
TEXT = parse_type_name("text")
MAX_ERRORS = 50


class XlsxError(Exception):
    """The workbook cannot be imported; `problems` are Russian messages with sheet and cell."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class ImportResult:
    file: Path
    rows: int
    changed_cells: int


def table_file(m, name: str):
    """(TableDef, CSV path) of a table of the compiled methodology."""
    t = m.tables.get(name)
    if t is None:
        raise XlsxError([f"в методологии {m.ref} нет таблицы «{name}» (есть: {', '.join(sorted(m.tables))})"])
    return t, Path(t.file)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    text = path.read_text(encoding="utf-8-sig")
    rows = [r for r in csv.reader(io.StringIO(text)) if any(x.strip() for x in r)]
    if not rows:
        return [], []
    return [h.strip() for h in rows[0]], rows[1:]


def _types(t, header: list[str]) -> dict[str, Type]:
    return {h: t.columns.get(h, TEXT) for h in header if h not in DATE_COLUMNS}


def export_table(m, name: str, out: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    t, path = table_file(m, name)
    header, records = _read_csv(path)
    types = _types(t, header)
    wb = Workbook()
    ws = wb.active
    ws.title = name[:31]
    ws.append([DATE_COLUMNS.get(h, h) for h in header])
    for c in ws[1]:
        c.font = Font(bold=True)
    for rec in records:
        ws.append([_cell_value(h, v, types) for h, v in zip(header, rec, strict=False)])
        for j, h in enumerate(header, start=1):
            cell = ws.cell(ws.max_row, j)
            kind = "date" if h in DATE_COLUMNS else types[h].kind
            cell.number_format = {"code": "@", "text": "@", "date": "DD.MM.YYYY", "money": "0.00"}.get(kind, "General")
    for j, h in enumerate(header, start=1):
        ws.column_dimensions[ws.cell(1, j).column_letter].width = max(10, min(60, len(h) + 4))
    ws.freeze_panes = "A2"
    info = wb.create_sheet("описание")
    info.append(["таблица", name, t.label or ""])
    info.append(["основание", t.reference or ""])
    info.append(["ключ", ", ".join(t.keys)])
    info.append([])
    info.append(["столбец", "тип"])
    for h in header:
        info.append([DATE_COLUMNS.get(h, h), "дата (ДД.ММ.ГГГГ)" if h in DATE_COLUMNS else str(types[h])])
    return save_workbook(wb, out)


def save_workbook(wb, out: Path) -> Path:
    """Write through a temporary file in the same directory: the XLSX appears whole or not at all."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, suffix=".xlsx.tmp")
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


def _cell_value(h: str, raw: str, types: dict[str, Type]):
    raw = raw.strip()
    if raw == "":
        return None
    if h in DATE_COLUMNS:
        return parse_date(raw)
    kind = types[h].kind
    if kind == "int":
        return int(Decimal(raw))
    if kind in ("number", "money"):
        d = Decimal(raw.replace(",", "."))
        return int(d) if d == d.to_integral_value() and kind == "number" and "." not in raw else float(d)
    return raw


def import_table(m, name: str, xlsx: Path) -> ImportResult:
    """Validate the sheet and replace the table's CSV; raises XlsxError and changes nothing."""
    from openpyxl import load_workbook

    t, path = table_file(m, name)
    if t.package != m.package.ref:
        raise XlsxError([f"таблица «{name}» определена в пакете {t.package}, а не в {m.ref}: чтобы изменить её "
                         f"в этом пакете, объявите её здесь с override: true (tables.yaml) и скопируйте CSV"])
    try:
        wb = load_workbook(xlsx, data_only=True, read_only=False)
    except Exception as e:  # noqa: BLE001 - any unreadable workbook is the user's file problem
        raise XlsxError([f"{xlsx}: не читается как XLSX ({type(e).__name__})"]) from None
    sheet = name[:31]
    if sheet not in wb.sheetnames:
        raise XlsxError([f"{xlsx}: нет листа «{sheet}» (листы: {', '.join(wb.sheetnames)})"])
    ws = wb[sheet]
    header, records = _read_csv(path)
    types = _types(t, header)
    sheet_cols, problems = _sheet_header(ws, header, t, sheet)
    if problems:
        raise XlsxError(problems)
    original = _original_by_key(t, header, records, types)
    out_rows, changed, periods = [], 0, {}
    for r in range(2, ws.max_row + 1):
        values = {h: ws.cell(r, j).value for h, j in sheet_cols.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values.values()):
            continue
        rec, typed, errs = _row(values, header, types, t, sheet, r, sheet_cols)
        problems += errs
        if errs:
            continue
        key = tuple(typed[k] for k in t.keys)
        start, end = _period(typed) if t.dated else (-(2**30), FAR_FUTURE)
        for other_r, (s2, e2) in periods.get(key, []):
            if start < e2 and s2 < end:
                what = "периоды действия пересекаются" if t.dated else "ключ повторяется"
                problems.append(f"лист «{sheet}», строка {r}: для ключа ({', '.join(map(str, key))}) {what} "
                                f"со строкой {other_r}")
        periods.setdefault(key, []).append((r, (start, end)))
        old = original.get(key + ((start,) if t.dated else ()))
        for i, h in enumerate(header):
            if old is not None and old[1].get(h) == typed.get(h):
                rec[i] = old[0][i]
            else:
                changed += 1
        out_rows.append(rec)
        if len(problems) >= MAX_ERRORS:
            break
    if problems:
        raise XlsxError(problems[:MAX_ERRORS])
    _write_csv(path, header, out_rows)
    return ImportResult(path, len(out_rows), changed)


def _sheet_header(ws, header: list[str], t, sheet: str) -> tuple[dict[str, int], list[str]]:
    from openpyxl.utils import get_column_letter

    cols, problems = {}, []
    for j in range(1, ws.max_column + 1):
        v = ws.cell(1, j).value
        if v is None:
            continue
        name = FROM_SHEET.get(str(v).strip(), str(v).strip())
        if name not in header:
            problems.append(f"лист «{sheet}», ячейка {get_column_letter(j)}1: неизвестный столбец «{v}» "
                            f"(в таблице: {', '.join(DATE_COLUMNS.get(h, h) for h in header)})")
        elif name in cols:
            problems.append(f"лист «{sheet}», ячейка {get_column_letter(j)}1: столбец «{v}» повторяется")
        else:
            cols[name] = j
    for h in header:
        if h not in cols:
            problems.append(f"лист «{sheet}», строка 1: нет столбца «{DATE_COLUMNS.get(h, h)}»")
    return cols, problems


def _original_by_key(t, header, records, types) -> dict[tuple, tuple[list[str], dict]]:
    out = {}
    for rec in records:
        try:
            typed = {h: convert(v, types[h]) if h not in DATE_COLUMNS else (parse_date(v) if v.strip() else None)
                     for h, v in zip(header, rec, strict=True)}
        except (ValueError_, ValueError):
            continue
        key = tuple(typed.get(k) for k in t.keys)
        if t.dated:
            key += (_period(typed)[0],)
        out[key] = (list(rec), typed)
    return out


def _period(typed: dict) -> tuple[int, int]:
    b, e = typed.get("DATEBEG"), typed.get("DATEEND")
    return ((b - EPOCH).days if b else -(2**30)), ((e - EPOCH).days + 1 if e else FAR_FUTURE)


def _row(values: dict, header, types, t, sheet: str, r: int, sheet_cols: dict[str, int]):
    from openpyxl.utils import get_column_letter

    rec, typed, errs = [], {}, []
    for h in header:
        v = values.get(h)
        where = f"лист «{sheet}», ячейка {get_column_letter(sheet_cols[h])}{r}"
        try:
            if h in DATE_COLUMNS:
                d = _date(v)
                typed[h] = d
                rec.append(d.strftime("%d.%m.%Y") if d else "")
                continue
            text = _text(v, types[h])
            typed[h] = convert(text, types[h])
            rec.append(text)
        except ValueError_ as e:
            errs.append(f"{where} («{DATE_COLUMNS.get(h, h)}»): {e}")
            rec.append("")
            continue
        if typed[h] is None and h in t.keys:
            errs.append(f"{where} («{h}»): пустой ключ")
    if t.dated and not errs:
        s, e = _period(typed)
        if e <= s:
            errs.append(f"лист «{sheet}», строка {r}: ДАТАКОН раньше ДАТАНАЧ")
    return rec, typed, errs


def _date(v) -> dt.date | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, (dt.datetime, dt.date)):
        return parse_date(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        raise ValueError_(f"«{v}» — не дата (ожидается ДД.ММ.ГГГГ)")
    return parse_date(v)


def _text(v, typ: Type) -> str:
    """The CSV text of a sheet value; numbers keep their decimal digits, integral floats lose «.0»."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (dt.datetime, dt.date)):
        if typ.kind in ("code", "text"):
            return parse_date(v).strftime("%d.%m.%Y")
        raise ValueError_(f"«{v}» — дата, а столбец типа {typ}")
    if isinstance(v, float):
        d = Decimal(repr(v))
        if typ.kind in ("code", "text", "int") and d == d.to_integral_value():
            return str(int(d))
        return format(d.normalize(), "f") if typ.kind != "money" else _money_text(d)
    if isinstance(v, int):
        return str(v)
    s = str(v).strip()
    if typ.kind in ("number", "money"):
        try:
            Decimal(s.replace(",", ".").replace(" ", "").replace("\u00a0", ""))
        except InvalidOperation:
            raise ValueError_(f"«{s}» — не число") from None
    return s


def _money_text(d: Decimal) -> str:
    if d * 100 != (d * 100).to_integral_value():
        raise ValueError_(f"«{d}»: у суммы больше двух знаков после запятой — округлите в источнике")
    return f"{d:.2f}"


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

"""Parameters with their periods as an XLSX sheet and back.

Export: sheet «параметры», one row per period (параметр, ДАТАНАЧ, значение, тип, единица,
наименование, пакет); a period that ends a parameter's force has the value «не действует».
Import validates every cell (sheet and cell in each message) and edits the parameters' YAML in
place — only the changed value texts, added period lines and removed period lines, so comments
and layout stay — after writing every file to a temporary one; a parameter inherited from a base
package cannot be changed here (it needs an `override` in this package first).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from api.workbench.xlsx_tables import XlsxError, save_workbook
from dsl.columns import EPOCH
from engine.runtime.values import ValueError_, convert, parse_date

SHEET = "параметры"
HEADER = ["параметр", "ДАТАНАЧ", "значение", "тип", "единица", "наименование", "пакет"]
NOT_IN_FORCE = "не действует"
LETTERS = "ABCDEFG"


@dataclass
class ParamImport:
    files: list[Path]
    changed: list[str]          # «base_rate_ks с 2023-01-01: 25973.00 → 26000.00»


def export_params(m, out: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(HEADER)
    for c in ws[1]:
        c.font = Font(bold=True)
    for p in sorted(m.params.values(), key=lambda p: p.name):
        for per in p.periods:
            start = None if per.start <= -(2**30) else EPOCH + dt.timedelta(days=per.start)
            ws.append([p.name, start, _sheet_value(per.value, p.type), str(p.type), p.unit or "", p.label or "",
                       p.package])
            ws.cell(ws.max_row, 2).number_format = "DD.MM.YYYY"
            if p.type.kind == "money":
                ws.cell(ws.max_row, 3).number_format = "0.00"
            elif p.type.kind in ("code", "text"):
                ws.cell(ws.max_row, 3).number_format = "@"
    for col, width in zip("ABCDEFG", (28, 12, 16, 10, 12, 60, 20), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    return save_workbook(wb, out)


def _sheet_value(v, typ):
    if v is None:
        return NOT_IN_FORCE
    k = typ.kind
    if k == "money":
        return float(Decimal(int(v)) / 100)
    if k == "date":
        return EPOCH + dt.timedelta(days=int(v))
    if k == "bool":
        return "да" if v else "нет"
    return v


def import_params(m, xlsx: Path) -> ParamImport:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(xlsx, data_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable workbook is the user's file problem
        raise XlsxError([f"{xlsx}: не читается как XLSX ({type(e).__name__})"]) from None
    if SHEET not in wb.sheetnames:
        raise XlsxError([f"{xlsx}: нет листа «{SHEET}» (листы: {', '.join(wb.sheetnames)})"])
    ws = wb[SHEET]
    head = [str(ws.cell(1, j).value or "").strip() for j in range(1, 4)]
    if head != HEADER[:3]:
        raise XlsxError([f"лист «{SHEET}», строка 1: первые столбцы должны быть «{'», «'.join(HEADER[:3])}», "
                         f"записано «{'», «'.join(head)}»"])
    problems: list[str] = []
    wanted: dict[str, dict[int, tuple[object, int]]] = {}
    for r in range(2, ws.max_row + 1):
        name, start, value = (ws.cell(r, j).value for j in (1, 2, 3))
        if name is None and start is None and value is None:
            continue
        name = str(name or "").strip()
        p = m.params.get(name)
        if p is None:
            problems.append(f"лист «{SHEET}», ячейка A{r}: нет параметра «{name}»")
            continue
        try:
            day = -(2**30) if start is None else (parse_date(start) - EPOCH).days
        except ValueError_ as e:
            problems.append(f"лист «{SHEET}», ячейка B{r} («ДАТАНАЧ»): {e}")
            continue
        try:
            typed = None if isinstance(value, str) and value.strip() == NOT_IN_FORCE else _typed(value, p.type)
        except ValueError_ as e:
            problems.append(f"лист «{SHEET}», ячейка C{r} («значение», {p.type}): {e}")
            continue
        if typed is None and value is None:
            problems.append(f"лист «{SHEET}», ячейка C{r}: пустое значение (для окончания действия "
                            f"напишите «{NOT_IN_FORCE}»)")
            continue
        seen = wanted.setdefault(name, {})
        if day in seen:
            problems.append(f"лист «{SHEET}», строка {r}: у параметра «{name}» дата повторяется (строка {seen[day][1]})")
            continue
        seen[day] = (typed, r)
    if problems:
        raise XlsxError(problems[:50])
    edits: dict[Path, list[tuple]] = {}
    changed: list[str] = []
    for name, rows in wanted.items():
        p = m.params[name]
        old = {per.start: per for per in p.periods}
        new = {d: v for d, (v, _) in rows.items()}
        if {d: per.value for d, per in old.items()} == new:
            continue
        if p.package != m.package.ref:
            r = min(r for _, r in rows.values())
            problems.append(f"лист «{SHEET}», строка {r}: параметр «{name}» определён в пакете {p.package}; "
                            f"чтобы изменить его здесь, объявите его в этом пакете с override: true")
            continue
        _plan(p, old, new, edits, changed)
    if problems:
        raise XlsxError(problems)
    files = _apply(edits)
    return ParamImport(files, changed)


def _typed(v, typ):
    if isinstance(v, float):
        v = format(Decimal(repr(v)).normalize(), "f")
    if isinstance(v, (dt.datetime, dt.date)) and typ.kind != "date":
        raise ValueError_(f"«{v}» — дата, а параметр типа {typ}")
    return convert(v, typ)


def _yaml_text(v, typ) -> str:
    if v is None:
        return "null"
    k = typ.kind
    if k == "money":
        sign = "-" if v < 0 else ""
        return f"{sign}{abs(int(v)) // 100}.{abs(int(v)) % 100:02d}"
    if k == "number":
        return format(Decimal(repr(float(v))).normalize(), "f")
    if k == "int":
        return str(int(v))
    if k == "bool":
        return "true" if v else "false"
    if k == "date":
        return (EPOCH + dt.timedelta(days=int(v))).isoformat()
    return json.dumps(str(v), ensure_ascii=False)


def _plan(p, old: dict, new: dict, edits: dict, changed: list[str]) -> None:
    from engine.runtime.params import key_text

    spans = [per.span for per in p.periods]
    path = Path(spans[0].file)
    plan = edits.setdefault(path, [])
    for day in sorted(set(old) | set(new)):
        when = "всегда" if day <= -(2**30) else f"с {key_text(day)}"
        per = old.get(day)
        if per is not None and day in new:
            if per.value != new[day]:
                plan.append(("replace", per.span, _yaml_text(new[day], p.type)))
                changed.append(f"{p.name} {when}: {_yaml_text(per.value, p.type)} → {_yaml_text(new[day], p.type)}")
        elif per is not None:
            plan.append(("delete", per.span, None))
            changed.append(f"{p.name} {when}: период удалён")
        else:
            last = max(spans, key=lambda s: s.line)
            plan.append(("insert", last, f"{key_text(day)}: {_yaml_text(new[day], p.type)}"))
            changed.append(f"{p.name} {when}: новый период {_yaml_text(new[day], p.type)}")


def _apply(edits: dict[Path, list[tuple]]) -> list[Path]:
    """Edit each file bottom-up (positions stay valid), write all to temporaries, then replace."""
    staged = []
    try:
        for path, plan in edits.items():
            lines = path.read_text(encoding="utf-8").split("\n")
            for op, span, text in sorted(plan, key=lambda x: (x[1].line, x[1].column), reverse=True):
                i = span.line - 1
                if op == "replace":
                    line = lines[i]
                    start = span.column - 1
                    end = span.end_column - 1 if span.end_line == span.line else len(line)
                    lines[i] = line[:start] + text + line[end:]
                elif op == "delete":
                    del lines[i]
                else:
                    line = lines[i]
                    indent = line[: len(line) - len(line.lstrip())]
                    lines.insert(i + 1, indent + text)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write("\n".join(lines))
            staged.append((tmp, path))
        for tmp, path in staged:
            os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return [p for _, p in staged]

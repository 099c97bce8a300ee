"""Allocation and plan-fact tables as CSV and XLSX (forms.model + forms.render; heatmap colours)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from engine.oms.planning.csvio import money_text, write_rows
from engine.oms.planning.plan import Plan

CARE_ORDER = ["ks", "ds", "profosm", "disp", "dn", "pos_other", "obr", "neotl", "smp"]


def _meta(form_id: str, methodology: str):
    from forms.model import FormMeta

    return FormMeta(form_id, "1.0", methodology, dt.datetime.now().replace(microsecond=0))


def _kinds(values) -> list[str]:
    present = set(values)
    return [c for c in CARE_ORDER if c in present] + sorted(present - set(CARE_ORDER))


def allocation_form(plan: Plan, names: dict[str, str], labels: dict[str, str]):
    """МО rows × (вид помощи: объём, сумма) columns, year; total row."""
    from forms.model import Cell, Column, HeaderCell, RenderedForm, Row, TitleBlock, ValueKind

    kinds = _kinds(plan.care_kind.tolist())
    rows = {(r["mo"], r["care_kind"]): r for r in plan.cut(("mo", "care_kind"), "year")}
    cols, top, sub = [], [], []
    for ck in kinds:
        cols += [Column(f"{ck}_v", "ед.", ValueKind.INT, width_mm=18), Column(f"{ck}_a", "руб.", ValueKind.MONEY, width_mm=26)]
        top.append(HeaderCell(labels.get(ck, ck), colspan=2))
        sub += [HeaderCell("объём, ед."), HeaderCell("сумма, руб.")]
    out = []
    for mo in sorted(set(plan.mo.tolist())):
        cells = []
        for ck in kinds:
            r = rows.get((mo, ck))
            cells += [Cell(r["volume"] if r else None), Cell(r["amount"] if r else None)]
        out.append(Row(f"{mo} {names.get(mo, '')}".strip(), cells))
    tot = {r["care_kind"]: r for r in plan.cut(("care_kind",), "year")}
    out.append(Row("Итого", [Cell(v) for ck in kinds for v in (tot[ck]["volume"], tot[ck]["amount"])], is_total=True))
    return RenderedForm(TitleBlock("Распределение объёмов медицинской помощи и финансового обеспечения между МО",
                                   period=f"на {plan.year} год"),
                        cols, out, _meta("planning_allocation", plan.meta.get("methodology", "")),
                        header=[top, sub], orientation="landscape", column_numbering="none")


def planfact_form(rows: list[dict], year: int, names: dict[str, str], labels: dict[str, str], methodology: str):
    """Heatmap data: МО rows × (вид помощи × квартал) columns of volume execution %."""
    from forms.model import Cell, Column, HeaderCell, RenderedForm, Row, TitleBlock, ValueKind

    agg: dict[tuple[str, str, int], list[int]] = {}
    for r in rows:
        if r["ksg"]:
            continue
        a = agg.setdefault((r["mo"], r["care_kind"], r["quarter"]), [0, 0])
        a[0] += r["plan_volume"] or 0
        a[1] += r["fact_volume"] or 0
    kinds = _kinds([k[1] for k in agg])
    cols, top, sub = [], [], []
    for ck in kinds:
        top.append(HeaderCell(labels.get(ck, ck), colspan=4))
        for q in range(1, 5):
            cols.append(Column(f"{ck}_q{q}", f"{q} кв.", ValueKind.NUMBER, decimals=1, width_mm=14))
            sub.append(HeaderCell(f"{q} кв., %"))
    out = []
    for mo in sorted({k[0] for k in agg}):
        cells = []
        for ck in kinds:
            for q in range(1, 5):
                p, f = agg.get((mo, ck, q), (0, 0))
                cells.append(Cell((Decimal(f) * 100 / Decimal(p)).quantize(Decimal("0.1")) if p else None))
        out.append(Row(f"{mo} {names.get(mo, '')}".strip(), cells))
    return RenderedForm(TitleBlock("Исполнение объёмов медицинской помощи (план-факт), % от плана",
                                   period=f"{year} год, по кварталам"),
                        cols, out, _meta("planning_planfact", methodology), header=[top, sub],
                        orientation="landscape", column_numbering="none")


def write_xlsx_heatmap(form, path: Path, first_data_col: int) -> Path:
    """XLSX through forms' workbook builder plus a 3-colour scale over the data cells."""
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.utils import get_column_letter

    from forms.render.output import write_atomically
    from forms.render.xlsx import build_workbook

    wb = build_workbook(form)
    ws = wb.active
    first_row = last_row = None
    for row in ws.iter_rows(min_col=1, max_col=1):
        c = row[0]
        if isinstance(c.value, str) and c.value.split(" ")[0] in {r.label.split(" ")[0] for r in form.rows}:
            first_row = first_row or c.row
            last_row = c.row
    if first_row:
        rng = (f"{get_column_letter(first_data_col)}{first_row}:"
               f"{get_column_letter(first_data_col + len(form.columns) - 1)}{last_row}")
        ws.conditional_formatting.add(rng, ColorScaleRule(start_type="num", start_value=50, start_color="F8696B",
                                                          mid_type="num", mid_value=100, mid_color="63BE7B",
                                                          end_type="num", end_value=130, end_color="FFEB84"))
    import io

    buf = io.BytesIO()
    wb.save(buf)
    return write_atomically(path, buf.getvalue())


def write_allocation(out: Path, plan: Plan, cells: list[dict], names: dict[str, str], labels: dict[str, str]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = [plan.write(out / "plan_month.csv")]
    for period in ("quarter", "year"):
        files.append(write_rows(out / f"plan_{period}.csv", ["mo", "care_kind", "profile", period, "volume", "amount"],
                                ([r["mo"], r["care_kind"], r["profile"], int(r[period]) if period == "quarter" else plan.year,
                                  r["volume"], money_text(r["amount"])]
                                 for r in plan.cut(("mo", "care_kind", "profile"), period))))
    files.append(write_rows(out / "limits.csv", ["mo", "care_kind", "period_start", "period_end", "quantity", "amount"],
                            plan.limits_rows()))
    head = list(cells[0]) if cells else ["mo"]
    files.append(write_rows(out / "cells.csv", head,
                            ([money_text(v) if k in ("amount", "months_amount") and v is not None else
                              ("" if v is None else v) for k, v in c.items()] for c in cells)))
    from forms.render import render

    form = allocation_form(plan, names, labels)
    files.append(render(form, "xlsx", out / "allocation.xlsx"))
    files.append(render(form, "html", out / "allocation.html"))
    return files


def write_planfact(out: Path, rows: list[dict], year: int, names: dict[str, str], labels: dict[str, str],
                   methodology: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)

    def fmt(k, v):
        if v is None:
            return ""
        return money_text(v) if k in ("plan_amount", "fact_amount") else v

    files = [write_rows(out / "planfact.csv", list(rows[0]) if rows else ["mo"],
                        ([fmt(k, v) for k, v in r.items()] for r in rows))]
    form = planfact_form(rows, year, names, labels, methodology)
    files.append(write_xlsx_heatmap(form, out / "planfact.xlsx", 2 + (1 if form.has_code_column else 0)))
    from forms.render import render

    files.append(render(form, "html", out / "planfact.html"))
    return files

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
from form_samples import ksg_tariffs, long_register, mek_act

from forms.model import RenderedForm, ValueKind
from forms.render.xlsx import write_xlsx


def _sheet(form: RenderedForm, tmp_path: Path) -> openpyxl.worksheet.worksheet.Worksheet:
    path = write_xlsx(form, tmp_path / f"{form.meta.form_id}.xlsx")
    return openpyxl.load_workbook(path).active


def _find_row(ws, label: str) -> int:  # type: ignore[no-untyped-def]
    for (cell,) in ws.iter_rows(min_col=1, max_col=1):
        if cell.value == label:
            return cell.row
    raise AssertionError(f"row {label!r} not found")


def test_mek_act_header_merges_formats_and_exact_values(tmp_path: Path) -> None:
    form = mek_act()
    ws = _sheet(form, tmp_path)
    top = _find_row(ws, "Наименование показателя")
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {f"A{top}:A{top + 1}", f"B{top}:B{top + 1}", f"C{top}:D{top}", f"E{top}:F{top}",
            f"G{top}:H{top}"} <= merged
    assert [ws.cell(top, c).value for c in (3, 5, 7)] == ["Представлено к оплате", "Принято к оплате",
                                                          "Не принято к оплате"]
    assert [ws.cell(top + 2, c).value for c in range(1, 9)] == ["А", "Б", "1", "2", "3", "4", "5", "6"]
    assert ws.freeze_panes == f"C{top + 3}"
    assert ws.print_title_rows == f"${top}:${top + 2}"
    first = top + 3
    for offset, row in enumerate(form.rows):
        excel_row = first + offset
        if row.is_section:
            assert ws.cell(excel_row, 1).value == row.label
            assert f"A{excel_row}:H{excel_row}" in merged
            continue
        assert ws.cell(excel_row, 1).value == row.label
        assert ws.cell(excel_row, 2).value == row.code
        for i, (cell, column) in enumerate(zip(row.cells, form.columns, strict=True)):
            got = ws.cell(excel_row, 3 + i)
            kind = cell.effective_kind(column)
            if kind is ValueKind.MONEY:
                assert Decimal(str(got.value)) == Decimal(cell.value) / 100, (row.code, column.code)
                assert got.number_format == "#,##0.00"
            elif kind is ValueKind.INT:
                assert got.value == cell.value and got.number_format == "#,##0"
            elif kind is ValueKind.DASH:
                assert got.value == "–"
    total = _find_row(ws, "Итого")
    assert ws.cell(total, 4).font.b and not ws.cell(first, 4).font.b
    assert ws.cell(_find_row(ws, "в том числе посещения с профилактической целью"), 1).alignment.indent == 2
    # wrapped labels get an explicit height: neither Excel nor LibreOffice autofits them on open
    long_label = _find_row(ws, "Не принято к оплате в связи с превышением установленных комиссией объемов")
    assert (ws.row_dimensions[long_label].height or 0) >= 24
    assert ws.row_dimensions[total].height is None  # a one-line row keeps the default


def test_long_register_sums_and_print_setup(tmp_path: Path) -> None:
    form = long_register()
    ws = _sheet(form, tmp_path)
    total = _find_row(ws, "Итого по СМО")
    first = total - 300
    presented = sum(Decimal(str(ws.cell(r, 5).value)) for r in range(first, total))
    assert presented == Decimal(form.rows[-1].cells[2].value) / 100  # exact to the kopeck
    assert ws.cell(first, 7).number_format == "#,##0.00"  # a share with 2 decimals
    assert ws.page_setup.orientation == "portrait"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.freeze_panes == f"C{first}"


def test_landscape_three_level_header(tmp_path: Path) -> None:
    ws = _sheet(ksg_tariffs(), tmp_path)
    top = _find_row(ws, "Наименование КСГ")
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {f"A{top}:A{top + 2}", f"C{top}:C{top + 2}", f"E{top}:J{top}", f"E{top + 1}:F{top + 1}",
            f"K{top}:K{top + 2}"} <= merged
    assert ws.page_setup.orientation == "landscape"
    assert ws.cell(_find_row(ws, "Родоразрешение"), 3).value == 0.98
    assert ws.cell(_find_row(ws, "Родоразрешение"), 3).number_format == "#,##0.00"

from __future__ import annotations

from decimal import Decimal

import pytest
from form_samples import mek_act

from forms.model import Cell, Column, FormModelError, HeaderCell, RenderedForm, Row, ValueKind
from forms.render.layout import TableLayout, format_decimal, format_money

NN = "\u202f"


def _form(header: list[list[HeaderCell]], rows: list[Row] | None = None, **kw: object) -> RenderedForm:
    base = mek_act()
    columns = [Column("a", "случаев"), Column("b", "сумма, руб.", ValueKind.MONEY), Column("c", "прочее")]
    return RenderedForm(title=base.title, columns=columns, header=header, meta=base.meta,
                        rows=rows if rows is not None else [Row("x", [Cell(1), Cell(2), Cell(3)])],
                        **kw)  # type: ignore[arg-type]


def test_colspan_overflow_names_the_header_cell() -> None:
    with pytest.raises(FormModelError) as error:
        _form([[HeaderCell("случаев"), HeaderCell("Принято к оплате", colspan=3)]])
    message = str(error.value)
    assert "строка 1, ячейка 2 «Принято к оплате»" in message
    assert "colspan=3" in message and "3 столбцов данных" in message


def test_rowspan_overflow_and_gaps_and_overlaps_are_rejected() -> None:
    with pytest.raises(FormModelError, match="«Итого» \\(rowspan=3\\) выходит за пределы заголовка"):
        _form([[HeaderCell("Итого", rowspan=3), HeaderCell("Б", colspan=2)],
               [HeaderCell("в"), HeaderCell("г")]])
    with pytest.raises(FormModelError, match="строка 2 не покрывает столбец 3"):
        _form([[HeaderCell("A", colspan=3)], [HeaderCell("в"), HeaderCell("г")]])
    with pytest.raises(FormModelError, match="colspan и rowspan"):
        _form([[HeaderCell("A", colspan=0), HeaderCell("Б", colspan=3)]])


def test_valid_multilevel_header_with_rowspan_is_accepted() -> None:
    form = _form([[HeaderCell("Всего", rowspan=2), HeaderCell("в том числе", colspan=2)],
                  [HeaderCell("сумма"), HeaderCell("прочее")]])
    layout = TableLayout(form)
    # stub cells span the whole header; data cells are shifted by the two stub columns
    assert [(c.text, c.col, c.rowspan) for c in layout.header[0]] == [
        ("Наименование показателя", 0, 2), ("№ строки", 1, 2), ("Всего", 2, 2), ("в том числе", 3, 1)]
    assert [(c.text, c.col) for c in layout.header[1]] == [("сумма", 3), ("прочее", 4)]
    assert layout.numbers == ["А", "Б", "1", "2", "3"]


def test_rows_must_match_columns_and_value_kinds() -> None:
    header = [[HeaderCell("a"), HeaderCell("b"), HeaderCell("c")]]
    with pytest.raises(FormModelError, match="строка 1 «x».*2 ячеек, а столбцов данных 3"):
        _form(header, [Row("x", [Cell(1), Cell(2)])])
    with pytest.raises(FormModelError, match="столбец 'b': ожидается целое число \\(в копейках\\)"):
        _form(header, [Row("x", [Cell(1), Cell(12.5), Cell(3)])])  # type: ignore[arg-type]
    with pytest.raises(FormModelError, match="строка-раздел"):
        _form(header, [Row("Раздел", [Cell(1)], is_section=True)])
    with pytest.raises(FormModelError, match="только A4"):
        _form(header, page_size="A3")


def test_money_is_formatted_exactly_with_narrow_spaces() -> None:
    assert format_money(123456789) == f"1{NN}234{NN}567,89"
    assert format_money(5) == "0,05"
    assert format_money(-100) == "-1,00"
    assert format_money(900_719_925_474_099_199) == f"9{NN}007{NN}199{NN}254{NN}740{NN}991,99"
    assert format_decimal(Decimal("2.675"), 2) == "2,68"  # half up on the decimal value
    assert format_decimal(Decimal("1234.5"), 0, " ") == "1 235"
    assert format_decimal(7, 3) == "7,000"

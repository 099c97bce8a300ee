"""Spreadsheet formula injection: text from user input that starts with = + - @ TAB CR is neutralised
in every CSV/XLSX output meant for Excel (the ФЛК protocol, form CSV/XLSX); numbers stay numbers."""

from __future__ import annotations

import csv
import io
import re

import pytest
from api_helpers import ApiEnv
from platform_helpers import PASSWORD

from engine.oms.io.protocol import FlkError, to_csv
from engine.oms.io.spreadsheet import neutralize_workbook, safe_cell, safe_row

EVIL = '=HYPERLINK("http://x","y").XML'


@pytest.mark.parametrize("text", [EVIL, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
                                  "=1", "-", "+"])
def test_formula_like_text_gets_a_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["-12", "+3.50", "-1 234,56", "-1\u202f234,56", "12", "abc", "", 5, -5,
                                   None, "a=b", "'=already"])
def test_numbers_and_plain_text_are_untouched(value: object) -> None:
    assert safe_cell(value) == value


def test_protocol_csv_of_the_engine_neutralises_the_file_name() -> None:
    rows = list(csv.reader(io.StringIO(to_csv([FlkError("FLK-FILE-EMPTY", "пустой файл", EVIL)])), delimiter=";"))
    assert rows[1][0] == "'" + EVIL
    assert safe_row([EVIL, -3, "-3"]) == ["'" + EVIL, -3, "-3"]


def test_xlsx_cells_are_stored_as_text_not_formulas() -> None:
    from openpyxl import Workbook, load_workbook

    wb = Workbook()
    wb.active.append([EVIL, "@x", "plain", 7, "-7"])
    assert wb.active["A1"].data_type == "f"  # what openpyxl would write: a live formula
    assert neutralize_workbook(wb) == 2
    buf = io.BytesIO()
    wb.save(buf)
    ws = load_workbook(io.BytesIO(buf.getvalue())).active
    assert [c.data_type for c in ws[1]] == ["s", "s", "s", "n", "s"]
    assert ws["A1"].value == EVIL and ws["A1"].quotePrefix and not ws["C1"].quotePrefix


def test_form_xlsx_and_csv_neutralise_injected_labels(tmp_path) -> None:  # noqa: ANN001
    from openpyxl import load_workbook

    from forms.render.csv import write_csv
    from forms.render.xlsx import render_xlsx
    from tests.forms.form_samples import mek_act

    form = mek_act()
    row = next(r for r in form.rows if not r.is_section)
    row.label = EVIL
    ws = load_workbook(io.BytesIO(render_xlsx(form))).active
    cells = [c for r in ws.iter_rows() for c in r if c.value == EVIL]
    assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert not any(c.data_type == "f" for r in ws.iter_rows() for c in r)
    out = write_csv(form, tmp_path / "act.csv")
    labels = [r[1] for r in csv.reader(out.open(encoding="utf-8-sig"))]
    assert "'" + EVIL in labels and EVIL not in labels


def test_uploaded_file_name_is_neutralised_in_the_web_protocol_csv(env: ApiEnv) -> None:
    # an upload keeps only the last path component ("http://x" would be cut at its slashes)
    r = env.client.post("/registries", headers=env.h("economist"),
                        files=[("files", ('=HYPERLINK("x","y").XML', b"<ZL_LIST><ZGLV>", "application/xml"))])
    assert r.status_code == 202, r.text
    reg = env.wait_registry(r.json()["id"])
    assert reg["status"] == "rejected"
    protocol = env.client.get(f"/registries/{reg['id']}/protocol", headers=env.h("economist")).json()
    name = protocol["errors"][0]["file"]  # the JSON keeps the name exactly (quotes as the client sent them)
    assert name.startswith("=HYPERLINK(") and name.endswith(").XML")
    page = env.client.get("/web/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    env.client.post("/web/login", data={"username": "economist", "password": PASSWORD, "csrf": csrf.group(1)})
    body = env.client.get(f"/web/registries/{reg['id']}/protocol.csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert any(row[0] == "'" + name for row in rows[1:]), rows[:3]
    assert not any(cell.startswith("=") for row in rows for cell in row)

"""The shipped month through the pages: upload → status → run → totals, scoping, filters, explain, forms."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

from conftest import MO, SMO, WebEnv
from openpyxl import load_workbook
from pypdf import PdfReader
from web_helpers import ERZ, FEDERAL, MONTH, upload, wait_state

from api.web.common import money
from engine.oms.pipeline import process
from engine.runtime.compiler import compile_package


def _defect_rows(html: str) -> list[list[str]]:
    body = html.split('<table class="defects">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], flags=re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S)]
            for r in rows]


def test_run_page_totals_equal_the_engine_settlement(month: WebEnv) -> None:
    c = month.client("economist")
    reg = c.get(f"/web/registries/{month.registry_id}")
    assert "принят" in reg.text and "HM000001T76_25031.XML" in reg.text
    page = c.get(f"/web/runs/{month.run_id}")
    assert page.status_code == 200 and "federal@2025.1.0" in page.text
    res = process(compile_package(FEDERAL), [MONTH], {"insured": ERZ})
    s = res.settlement
    assert s is not None
    for field, values in (("billed", s.billed), ("withheld", s.withheld), ("accepted", s.accepted),
                          ("fine", s.fine)):
        cell = re.search(rf'id="total-{field}">([^<]*) руб\.', page.text)
        assert cell and cell.group(1) == money(int(values.sum())), field
    for mo in ("000001", "000002", "000003"):
        assert f"<td>{mo}</td>" in page.text  # per-МО summary rows
    assert "По страховым медицинским организациям" in page.text


def test_defect_filter_and_paging(month: WebEnv) -> None:
    c = month.client("economist")
    # pages of 20 (the realistic month has about 40 defects)
    all_rows = c.get(f"/web/runs/{month.run_id}", params={"per": 20})
    total = int(re.search(r"Найдено: ([\d\u202f]+)", all_rows.text).group(1).replace("\u202f", ""))
    assert total > 20 and len(_defect_rows(all_rows.text)) == 20 and "следующие" in all_rows.text
    r = c.get(f"/web/runs/{month.run_id}", params={"code": "1.10.2", "mo": MO})
    rows = _defect_rows(r.text)
    assert rows and {row[0] for row in rows} == {"1.10.2"} and {row[3] for row in rows} == {MO}
    nxt = re.search(r'href="([^"]*after=\d+)#defects"', all_rows.text).group(1).replace("&amp;", "&")
    assert "per=20" in nxt
    second = _defect_rows(c.get(f"/web/runs/{month.run_id}{nxt}").text)
    assert second and len(second) == min(20, total - 20)
    assert not set(map(tuple, second)) & set(map(tuple, _defect_rows(all_rows.text)))   # pages do not overlap


def test_mo_operator_sees_only_its_mo(month: WebEnv) -> None:
    c = month.client("mo_op")
    regs = c.get("/web/registries")
    assert regs.status_code == 200 and f'href="/web/registries/{month.registry_id}"' not in regs.text
    assert c.get(f"/web/registries/{month.registry_id}").status_code == 404  # a multi-МО registry
    run = c.get(f"/web/runs/{month.run_id}")  # visible: it holds cases of its МО
    assert run.status_code == 200
    rows = _defect_rows(run.text)
    assert rows and {row[3] for row in rows} == {MO}
    assert "<td>000002</td>" not in run.text and "<td>000003</td>" not in run.text
    # Forms sum the whole run, which holds other МО: refused.
    assert c.get(f"/web/runs/{month.run_id}/forms").status_code == 403
    # Its own registry through the page: listed, and the upload of another МО's files is rejected.
    own = upload(c, sorted(MONTH.glob("*000001*.XML")))
    assert own.status_code == 303
    own_id = int(own.headers["location"].rsplit("/", 1)[1])
    # the month holding these files is imported already: the same account again is refused (submission rule)
    assert wait_state(c, f"/web/registries/{own_id}/state")["status"] == "rejected"
    assert f'href="/web/registries/{own_id}"' in c.get("/web/registries").text
    foreign = upload(c, sorted(MONTH.glob("*000002*.XML")))
    foreign_id = int(foreign.headers["location"].rsplit("/", 1)[1])
    assert wait_state(c, f"/web/registries/{foreign_id}/state")["status"] == "rejected"
    assert "API-MO-SCOPE" in c.get(f"/web/registries/{foreign_id}").text


def test_smo_operator_sees_only_its_insured(month: WebEnv) -> None:
    rows = _defect_rows(month.client("smo_op").get(f"/web/runs/{month.run_id}").text)
    assert rows and {row[4] for row in rows} == {SMO}


def test_explain_page_shows_the_tree_with_parameter_labels(month: WebEnv) -> None:
    c = month.client("economist")
    key = "HM000001T76_25031/10000001"
    page = c.get(f"/web/runs/{month.run_id}/explain", params={"entity": "case", "key": key})
    assert page.status_code == 200 and "Значения строки" in page.text and "Предъявлено к оплате" in page.text
    tree = c.get(f"/web/runs/{month.run_id}/explain", params={"entity": "case", "key": key, "name": "d_period"})
    assert '<ul class="tree">' in tree.text and "node-parameter" in tree.text
    assert "Сколько месяцев до отчётного можно предъявлять случаи" in tree.text  # the parameter's label
    assert re.search(r'class="src">[^<]*\.rules:\d+:\d+', tree.text)  # source positions
    # Why a check fires on a case: the link from the defect and the explained condition.
    dup = "HM000001T76_25031/10000003"   # a duplicate in the ground truth of the shipped month
    page = c.get(f"/web/runs/{month.run_id}/explain", params={"entity": "case", "key": dup})
    assert "check=duplicate_case" in page.text
    why = c.get(f"/web/runs/{month.run_id}/explain", params={"entity": "case", "key": dup, "check": "duplicate_case"})
    assert why.status_code == 200 and "проверка duplicate_case" in why.text and "срабатывает" in why.text
    # A case of another МО is not explained for an МО operator.
    other = "HM000002T76_25031/20000001"
    assert month.client("mo_op").get(f"/web/runs/{month.run_id}/explain",
                                     params={"entity": "case", "key": other}).status_code == 404


def test_personal_data_masked_without_the_right(month: WebEnv) -> None:
    key = "HM000001T76_25031/10000001"
    eco = month.client("economist").get(f"/web/runs/{month.run_id}/explain",
                                        params={"entity": "case", "key": key, "name": "mek_person"})
    med = month.client("medic").get(f"/web/runs/{month.run_id}/explain",
                                    params={"entity": "case", "key": key, "name": "mek_person"})
    assert eco.status_code == med.status_code == 200
    assert "Персональные данные скрыты" in eco.text and "Персональные данные скрыты" not in med.text


def test_form_downloads_are_valid_xlsx_pdf_xml(month: WebEnv) -> None:
    c = month.client("economist")
    listing = c.get(f"/web/runs/{month.run_id}/forms")
    assert listing.status_code == 200 and "Акт медико-экономического контроля" in listing.text
    xlsx = c.get(f"/web/runs/{month.run_id}/forms/mek_act.xlsx")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert any("медико-экономического" in str(cell.value or "") for row in wb.active.iter_rows() for cell in row)
    pdf = c.get(f"/web/runs/{month.run_id}/forms/invoice.pdf", params={"mo": MO})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert MO in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    xml = c.get(f"/web/runs/{month.run_id}/forms/ksg_report.xml")
    assert xml.status_code == 200 and b"<ISP_OB" in xml.content
    controls = c.get(f"/web/runs/{month.run_id}/forms/invoice/controls", params={"mo": MO})
    assert controls.status_code == 200 and ("НАРУШЕНО" in controls.text or "выполнены" in controls.text)
    assert c.get(f"/web/runs/{month.run_id}/forms/mek_act.exe").status_code == 404


def test_malformed_registry_shows_the_flk_protocol(env: WebEnv, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    for p in MONTH.glob("*000001*.XML"):
        shutil.copy(p, bad / p.name)
    h = bad / "HM000001T76_25031.XML"
    h.write_bytes(h.read_bytes().replace(b"<DATE_Z_1>2025-", b"<DATE_Z_1>20X5-", 1))
    c = env.client("economist")
    r = upload(c, sorted(bad.iterdir()))
    reg_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert wait_state(c, f"/web/registries/{reg_id}/state")["status"] == "rejected"
    page = c.get(f"/web/registries/{reg_id}")
    assert "Протокол ФЛК" in page.text and "FLK-XSD-FORMAT" in page.text and "DATE_Z_1" in page.text
    row = re.search(r'<td class="col-file">HM000001T76_25031.XML</td>\s*<td class="col-line">(\d+)</td>\s*'
                    r'<td class="col-n_zap">1</td>\s*<td class="col-idcase">10000001</td>', page.text)
    assert row, page.text[:4000]
    csv = c.get(f"/web/registries/{reg_id}/protocol.csv")
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    text = csv.content.decode("utf-8-sig").splitlines()
    assert text[0].startswith("Файл;Строка;N_ZAP;IDCASE") and "FLK-XSD-FORMAT" in text[1]
    html = c.get(f"/web/registries/{reg_id}/protocol.html")
    assert html.status_code == 200 and "Протокол форматно-логического контроля" in html.text

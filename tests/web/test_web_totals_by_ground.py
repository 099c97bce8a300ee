"""The web run page's table by ground and GET /runs/{id}/totals equal the settlement's totals by the
applied ground (engine.oms.settlement.by_ground) on the shipped month; Σ by ground = the withheld total."""

from __future__ import annotations

from platform_helpers import PASSWORD, login
from web_helpers import ERZ, FEDERAL, MONTH, by_ground_table

from api.web.common import money
from engine.oms.pipeline import process
from engine.oms.settlement import by_ground
from engine.runtime.compiler import compile_package


def test_page_and_api_totals_by_ground_equal_the_settlement(month) -> None:  # tests/web/conftest.py
    s = process(compile_package(FEDERAL), [MONTH], {"insured": ERZ}).settlement
    grounds = by_ground(s)
    assert sum(g.withheld for g in grounds) == int(s.withheld.sum())
    c = month.client("economist")
    page = c.get(f"/web/runs/{month.run_id}")
    assert page.status_code == 200
    from api.web.common import number

    assert by_ground_table(page.text) == {g.code: (number(g.cases), money(g.withheld)) for g in grounds}
    api = month.client()
    body = api.get(f"/runs/{month.run_id}/totals", headers=login(api, "economist", PASSWORD)).json()
    assert [(g["code"], g["cases"], g["withheld_kopecks"], g["fine_kopecks"]) for g in body["by_ground"]] == \
        [(g.code, g.cases, g.withheld, g.fine) for g in grounds]
    assert body["withheld_kopecks"] == int(s.withheld.sum()) == sum(g["withheld_kopecks"] for g in body["by_ground"])
    assert body["cases"] == len(s.keys)


def test_scoped_user_sees_totals_by_ground_of_their_mo(month) -> None:
    import numpy as np

    s = process(compile_package(FEDERAL), [MONTH], {"insured": ERZ}).settlement
    mine = by_ground(s, np.nonzero(s.mo == "000001")[0])
    api = month.client()
    body = api.get(f"/runs/{month.run_id}/totals", headers=login(api, "mo_op", PASSWORD)).json()
    assert [(g["code"], g["cases"], g["withheld_kopecks"]) for g in body["by_ground"]] == \
        [(g.code, g.cases, g.withheld) for g in mine]
    assert body["withheld_kopecks"] == sum(g.withheld for g in mine)

"""One truth for the totals by ground: the settlement, the МЭК act (in memory and from a run directory)
and summary_ground.csv agree on every shipped month and a generated one — each case counted once,
under the ground applied, and Σ by ground = the run's withheld total; and every shipped month
stored and run on the platform gives the same figures on the web run page, in the act form the
web serves and in GET /runs/{id}/totals (SQLite and PostgreSQL). The shipped months are the
directories of examples/registries, found at collection: a new month is covered without a change
here."""

from __future__ import annotations

import csv
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest

from engine.oms.io import read_registry
from engine.oms.pipeline import process, read_extra, write_outputs
from engine.oms.settlement import by_ground
from engine.runtime.compiler import compile_package
from engine.runtime.dataset import bind
from forms.build import build_form
from forms.dataset import run_data_from_dir, run_data_from_result
from forms.definition import load_form, resolve_form_path

ROOT = Path(__file__).resolve().parents[2]
FEDERAL = ROOT / "methodologies" / "federal" / "2025"
SHIPPED = sorted(p for p in (ROOT / "examples" / "registries").iterdir() if p.is_dir())


@cache
def _generated(tmp_root: str) -> Path:
    from examples.generator.generate import Config, generate

    out = Path(tmp_root) / "generated-2025-05"
    generate(Config(2025, 5, 2, 300, 7, out, 0.3, False, FEDERAL))
    for h in out.glob("H*.XML"):   # as the shipped month: H files of 2025 declare 5.0 (same 3.2 content)
        h.write_bytes(h.read_bytes().replace(b"<VERSION>3.2</VERSION>", b"<VERSION>5.0</VERSION>", 1))
    return out


def _erz(month: Path) -> Path:
    return next(month.glob("ERZ_*.csv"))


def _xml(month: Path) -> list[Path]:
    return sorted(p for p in month.iterdir() if p.suffix.upper() == ".XML")


@pytest.fixture(scope="module")
def federal():
    return compile_package(FEDERAL)


@pytest.fixture(scope="module", params=[*(p.name for p in SHIPPED), "generated"])
def month(request, tmp_path_factory) -> Path:
    if request.param == "generated":
        return _generated(str(tmp_path_factory.getbasetemp()))
    return ROOT / "examples" / "registries" / request.param


def _act_lines(rd, m) -> tuple[dict[str, tuple[int, int]], int]:
    """МЭК act: {ground: (cases, withheld kopecks)} from lines 02.N, and line 02's withheld."""
    form = load_form(resolve_form_path("mek_act"))
    res = build_form(form, run=rd, methodology=m, params={"period": "тест"})
    cols = [c.code for c in form.columns]
    out, total = {}, None
    for row in res.form.rows:
        if row.is_section or row.code is None or not row.code.startswith("02"):
            continue
        vals = dict(zip(cols, (c.value for c in row.cells), strict=False))
        kop = int(vals["withheld"])   # money cells hold kopecks
        if row.code == "02":
            total = kop
        elif row.code.startswith("02.") and vals["cases"]:
            out[row.label.split(" — ")[0]] = (int(vals["cases"]), kop)
    return out, total


def test_act_summary_file_and_settlement_agree(federal, month, tmp_path):
    res = process(federal, _xml(month), {"insured": _erz(month)})
    assert res.status == "done"
    s = res.settlement
    grounds = {g.code: (g.cases, g.withheld) for g in by_ground(s)}
    assert grounds, "в месяце должны быть дефекты с неоплатой"
    # each case once: Σ by ground = the run's withheld total and the number of cases with a withholding
    assert sum(w for _, w in grounds.values()) == int(s.withheld.sum())
    assert sum(n for n, _ in grounds.values()) == int((s.withheld > 0).sum())
    act, total = _act_lines(run_data_from_result(res), federal)
    assert act == grounds and total == int(s.withheld.sum())
    out = tmp_path / "run"
    write_outputs(res, out)
    with (out / "summary_ground.csv").open(encoding="utf-8") as fh:
        written = {r["code"]: (int(r["cases"]), int(Decimal(r["withheld"]) * 100)) for r in csv.DictReader(fh)}
    assert written == grounds
    raw = dict(read_registry(_xml(month)).data.tables)
    raw.update(read_extra({"insured": _erz(month)}))
    act_dir, _ = _act_lines(run_data_from_dir(out, federal, bind(federal.entities, raw)), federal)
    assert act_dir == grounds


# --- the same month through the platform: upload, run, the web run page, the act form, the API ----


@pytest.fixture
def platform(db, tmp_path):  # type: ignore[no-untyped-def]  # db: tests/conftest.py (SQLite, PostgreSQL)
    """An app with an economist and the federal package published; (app, methodology version id)."""
    from platform_helpers import app_with_users

    from api.auth.roles import Role
    from api.auth.users import Scope
    from api.store.methodologies import publish

    app, sessions = app_with_users(db.engine, tmp_path / "home", {"economist": (Role.ECONOMIST, Scope())})
    with sessions() as session:
        mv, _ = publish(session, compile_package(FEDERAL), actor="economist", user_id=None)
        session.commit()
    yield app, mv.id
    app.state.worker.shutdown(wait_jobs=True)


def _platform_run(client, headers: dict[str, str], version_id: int, month: Path) -> int:  # type: ignore[no-untyped-def]
    import time

    files = [("files", (p.name, p.read_bytes(), "application/xml")) for p in _xml(month)]
    r = client.post("/registries?wait=true", headers=headers, files=files)
    assert r.status_code == 201, r.text
    erz = _erz(month)
    r = client.post("/runs", headers=headers, files={"insured": (erz.name, erz.read_bytes(), "text/csv")},
                    data={"methodology_version_id": str(version_id), "registry_id": str(r.json()["id"])})
    assert r.status_code == 202, r.text
    run_id = int(r.json()["id"])
    deadline = time.monotonic() + 300
    while (body := client.get(f"/runs/{run_id}", headers=headers).json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, body
        time.sleep(0.1)
    assert body["status"] == "done", body
    return run_id


def _act_html(html: str) -> tuple[dict[str, tuple[int, int]], int]:
    """The МЭК act as the web serves it (HTML): {ground: (cases, withheld kopecks)} of lines 02.N,
    and line 02's withheld (columns: cases, billed, withheld, accepted, fine)."""
    import re

    def kop(text: str) -> int:
        return int(Decimal(re.sub(r"\s", "", text).replace(",", ".")) * 100)

    out, total = {}, None
    for label, code, cells in re.findall(
            r'<tr[^>]*><td class="left"[^>]*>([^<]*)</td><td class="center">(02[.0-9]*)</td>(.*?)</tr>', html, re.S):
        vals = re.findall(r'<td class="right">([^<]*)</td>', cells)
        if code == "02":
            total = kop(vals[2])
        elif vals[0].strip() not in ("", "0"):
            out[label.split(" — ")[0]] = (int(vals[0]), kop(vals[2]))
    return out, total


@pytest.mark.parametrize("name", [p.name for p in SHIPPED])
def test_web_page_act_form_api_and_settlement_agree(federal, platform, name) -> None:  # type: ignore[no-untyped-def]
    """Every shipped month (each directory of examples/registries: 2025-03 H, 2025-09 H+C+T+D),
    stored and run on the platform (SQLite and PostgreSQL): the web run page's table by code, the
    МЭК act form the web builds from the stored run, GET /runs/{id}/totals and the settlement's
    totals by the applied ground are one set of figures, Σ = the run's withheld total. (The
    generated month: test_act_summary_file_and_settlement_agree above.)"""
    from fastapi.testclient import TestClient
    from platform_helpers import PASSWORD, login

    from api.web.common import money, number
    from tests.web.web_helpers import by_ground_table, web_login

    month = ROOT / "examples" / "registries" / name
    s = process(federal, _xml(month), {"insured": _erz(month)}).settlement
    grounds = by_ground(s)
    assert grounds and sum(g.withheld for g in grounds) == int(s.withheld.sum())
    app, version_id = platform
    client = TestClient(app, raise_server_exceptions=True, base_url="http://testserver")
    run_id = _platform_run(client, login(client, "economist", PASSWORD), version_id, month)

    body = client.get(f"/runs/{run_id}/totals", headers=login(client, "economist", PASSWORD)).json()
    assert [(g["code"], g["cases"], g["withheld_kopecks"], g["fine_kopecks"]) for g in body["by_ground"]] == \
        [(g.code, g.cases, g.withheld, g.fine) for g in grounds]
    assert body["withheld_kopecks"] == int(s.withheld.sum()) and body["cases"] == len(s.keys)

    assert web_login(client, "economist").status_code == 303
    page = client.get(f"/web/runs/{run_id}")
    assert page.status_code == 200
    assert by_ground_table(page.text) == {g.code: (number(g.cases), money(g.withheld)) for g in grounds}
    act = client.get(f"/web/runs/{run_id}/forms/mek_act.html")
    assert act.status_code == 200, act.text[act.text.find("<main"):][:600]
    lines, total = _act_html(act.text)
    assert lines == {g.code: (g.cases, g.withheld) for g in grounds} and total == int(s.withheld.sum())

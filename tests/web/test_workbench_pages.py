"""Web workbench routes (TestClient): drafts, save with diagnostics, tests, diff, publish, rights, audit."""

from __future__ import annotations

import re

import pytest
from conftest import WebEnv
from sqlalchemy import select
from web_helpers import ROOT, page_csrf

from api.db.models import AuditEvent, MethodologyVersion
from api.store.methodologies import publish
from engine.runtime.compiler import compile_package

TARIFF = ROOT / "examples" / "packages" / "tariff"


def _publish_tariff(env: WebEnv) -> int:
    with env.sessions() as session:
        mv, _ = publish(session, compile_package(TARIFF), actor="economist", user_id=None)
        session.commit()
        return mv.id


def _draft(env: WebEnv, c) -> tuple[int, str]:
    vid = _publish_tariff(env)
    r = c.post(f"/web/methodologies/{vid}/drafts", data={"csrf": page_csrf(c, "/web/methodologies")},
               follow_redirects=False)
    assert r.status_code == 303, r.text
    return vid, r.headers["location"].rsplit("/", 1)[1]


def _save(c, draft: str, path: str, text: str):
    return c.post(f"/web/drafts/{draft}/files/{path}", follow_redirects=True,
                  data={"csrf": page_csrf(c, f"/web/drafts/{draft}"), "text": text})


def _post(c, draft: str, what: str):
    return c.post(f"/web/drafts/{draft}/{what}", data={"csrf": page_csrf(c, f"/web/drafts/{draft}")},
                  follow_redirects=False)


def _actions(env: WebEnv) -> list[str]:
    with env.sessions() as s:
        return [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq))]


def test_roles_without_publish_right_get_403(env: WebEnv) -> None:
    vid = _publish_tariff(env)
    eco = env.client("economist")
    draft = eco.post(f"/web/methodologies/{vid}/drafts", data={"csrf": page_csrf(eco, "/web/methodologies")},
                     follow_redirects=False).headers["location"].rsplit("/", 1)[1]
    for user in ("medic", "admin", "mo_op"):
        c = env.client(user)
        assert "Создать черновик" not in c.get("/web/methodologies").text
        csrf = page_csrf(c, "/web/")
        r = c.post(f"/web/methodologies/{vid}/drafts", data={"csrf": csrf})
        assert r.status_code == 403 and "публикация версии методологии" in r.text, user
        for method, url in (("get", f"/web/drafts/{draft}"), ("get", "/web/drafts"),
                            ("post", f"/web/drafts/{draft}/publish"), ("post", f"/web/drafts/{draft}/tests"),
                            ("post", f"/web/drafts/{draft}/files/parameters.yaml")):
            r = getattr(c, method)(url, data={"csrf": csrf}) if method == "post" else c.get(url)
            assert r.status_code == 403, (user, url, r.status_code)
    assert "Создать черновик" in env.client("head").get("/web/methodologies").text


def test_draft_save_compile_errors_refuse_publish(env: WebEnv) -> None:
    c = env.client("economist")
    vid, draft = _draft(env, c)
    page = c.get(f"/web/drafts/{draft}")
    assert "example-tariff@1.0.1" in page.text and "компилируется без ошибок" in page.text
    assert "tariff.rules" in page.text and "таблица ksg" in page.text
    rules = c.get(f"/web/drafts/{draft}/files/tariff.rules").text
    assert "<textarea" in rules and "ksg_tariff" in rules
    broken = _save(c, draft, "tariff.rules", "for case:\n    cost: money = no_such_name + 1\n")
    assert broken.status_code == 200 and "Ошибки компиляции" in broken.text
    assert re.search(r"tariff\.rules:2:\d+", broken.text), broken.text
    r = _post(c, draft, "publish")
    assert r.status_code == 422 and "содержит ошибки" in r.text and "не опубликована" in r.text
    with env.sessions() as s:
        assert [v.version for v in s.scalars(select(MethodologyVersion))] == ["1.0.0"]
    actions = _actions(env)
    assert {"methodology.draft.create", "methodology.draft.save", "methodology.draft.publish_refused"} <= set(actions)


def test_failing_test_refuses_publish_then_fix_publishes(env: WebEnv) -> None:
    c = env.client("economist")
    vid, draft = _draft(env, c)
    params = c.get(f"/web/drafts/{draft}/files/parameters.yaml").text
    assert "30000.00" in params
    original = (TARIFF / "parameters.yaml").read_text(encoding="utf-8")
    _save(c, draft, "parameters.yaml", original.replace("30000.00", "30100.00"))
    tests = _post(c, draft, "tests")
    assert tests.status_code == 200 and "Не прошли: 1" in tests.text, tests.text
    assert "25110" in tests.text  # the expected value in the failure message
    r = _post(c, draft, "publish")
    assert r.status_code == 422 and "Не прошли тесты" in r.text
    diff = c.get(f"/web/drafts/{draft}/diff")
    assert diff.status_code == 200 and "base_rate" in diff.text and "30100" in diff.text.replace("\u202f", "")
    _save(c, draft, "parameters.yaml", original)
    assert "Все тесты прошли" in _post(c, draft, "tests").text
    r = _post(c, draft, "publish")
    assert r.status_code == 303, r.text
    new_id = int(r.headers["location"].rsplit("/", 1)[1])
    with env.sessions() as s:
        assert s.get(MethodologyVersion, new_id).version == "1.0.1"
        assert s.get(MethodologyVersion, vid).version == "1.0.0"
    assert _post(c, draft, "publish").status_code == 409
    assert _save(c, draft, "parameters.yaml", original).status_code == 409
    actions = _actions(env)
    for step in ("create", "save", "test", "publish"):
        assert f"methodology.draft.{step}" in actions
    assert "methodology.publish" in actions  # the API's publish record


def test_table_grid_save_and_xlsx_import(env: WebEnv, tmp_path) -> None:
    from api.workbench.xlsx_tables import export_table

    c = env.client("economist")
    _vid, draft = _draft(env, c)
    grid = c.get(f"/web/drafts/{draft}/files/tables/ksg.csv").text
    assert 'name="c0_0" value="st02.001"' in grid and 'name="c0_2" value="0.93"' in grid
    rows = int(re.search(r'name="rows" value="(\d+)"', grid).group(1))
    form = {"csrf": page_csrf(c, f"/web/drafts/{draft}"), "rows": str(rows)}
    form.update(dict(re.findall(r'name="(c\d+_\d+)" value="([^"]*)"', grid)))
    form["c0_2"] = "0.95"
    r = c.post(f"/web/drafts/{draft}/files/tables/ksg.csv", data=form, follow_redirects=True)
    assert r.status_code == 200 and "компилируется без ошибок" in r.text
    assert "0.95" in c.get(f"/web/drafts/{draft}/files/tables/ksg.csv").text
    assert "Не прошли: 1" in _post(c, draft, "tests").text
    xlsx = export_table(compile_package(TARIFF), "ksg", tmp_path / "ksg.xlsx")  # the published 0.93
    r = c.post(f"/web/drafts/{draft}/import", data={"csrf": page_csrf(c, f"/web/drafts/{draft}"), "target": "ksg"},
               files={"workbook": ("ksg.xlsx", xlsx.read_bytes(), "application/octet-stream")})
    assert r.status_code == 200 and "Импортировано из XLSX" in r.text, r.text
    assert "Все тесты прошли" in _post(c, draft, "tests").text
    bad = c.post(f"/web/drafts/{draft}/import", data={"csrf": page_csrf(c, f"/web/drafts/{draft}"),
                                                       "target": "ksg"},
                 files={"workbook": ("x.xlsx", b"not a workbook", "application/octet-stream")})
    assert bad.status_code == 422 and "не читается как XLSX" in bad.text


@pytest.mark.parametrize("path", ["../draft.json", "tables/../../draft.json", "nope.rules"])
def test_draft_files_outside_the_package_are_not_found(env: WebEnv, path: str) -> None:
    c = env.client("economist")
    _vid, draft = _draft(env, c)
    assert c.get(f"/web/drafts/{draft}/files/{path}").status_code == 404
    assert c.get("/web/drafts/0123456789abcdef").status_code == 404


def test_concurrent_publish_of_one_draft_publishes_once(env: WebEnv) -> None:
    from concurrent.futures import ThreadPoolExecutor

    c = env.client("economist")
    _vid, draft = _draft(env, c)
    clients = [env.client("economist"), env.client("head")]
    csrfs = [page_csrf(k, f"/web/drafts/{draft}") for k in clients]
    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(lambda i: clients[i].post(f"/web/drafts/{draft}/publish", data={"csrf": csrfs[i]},
                                                          follow_redirects=False).status_code, range(2)))
    assert codes == [303, 409]
    with env.sessions() as s:
        assert sorted(v.version for v in s.scalars(select(MethodologyVersion))) == ["1.0.0", "1.0.1"]


def test_concurrent_drafts_and_saves_stay_whole(env: WebEnv) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from api.store.drafts import create_draft, load_draft, locked, read_file, write_file

    vid = _publish_tariff(env)
    with env.sessions() as s:
        mv = s.get(MethodologyVersion, vid)
        with ThreadPoolExecutor(4) as pool:
            drafts = list(pool.map(lambda _i: create_draft(env.home, mv, "economist"), range(8)))
    assert len({d.meta.id for d in drafts}) == 8
    d = drafts[0]
    texts = [f"# правка {i}\n" + "x" * 20000 for i in range(16)]

    def save(text: str) -> None:
        with locked(d) as cur:
            write_file(cur, "tariff.rules", text)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(save, texts))
    assert read_file(load_draft(env.home, d.meta.id), "tariff.rules") in texts


def test_every_role_follows_the_permission_table_on_the_workbench(env: WebEnv) -> None:
    """The whole role column of methodology.publish (PERMISSIONS) walked through the web pages."""
    from platform_helpers import BRANCH_CODE, MO_CODE, scope_for
    from web_helpers import web_login

    from api.auth.permissions import Action, allowed
    from api.auth.roles import Role
    from api.auth.users import create_user, set_branch

    vid = _publish_tariff(env)
    with env.sessions() as s, s.begin():
        set_branch(s, BRANCH_CODE, "Северный филиал", [MO_CODE], actor="test")
        for role in Role:
            create_user(s, login=f"r_{role.value}", password="пароль-для-тестов-1", role=role,
                        scope=scope_for(role), actor="test")
    for role in Role:
        c = env.client()
        assert web_login(c, f"r_{role.value}", "пароль-для-тестов-1").status_code == 303
        may = allowed(role, Action.METHODOLOGY_PUBLISH)
        assert (c.get("/web/drafts").status_code == 200) == may, role
        r = c.post(f"/web/methodologies/{vid}/drafts", data={"csrf": page_csrf(c, "/web/")}, follow_redirects=False)
        assert r.status_code == (303 if may else 403), (role, r.status_code)


def test_yaml_error_position_and_parameters_xlsx_import(env: WebEnv, tmp_path) -> None:
    from openpyxl import load_workbook

    from api.workbench.xlsx_params import export_params

    c = env.client("economist")
    _vid, draft = _draft(env, c)
    original = (TARIFF / "parameters.yaml").read_text(encoding="utf-8")
    broken = _save(c, draft, "parameters.yaml", original.replace("type: money", "type: [money", 1))
    assert "Ошибки компиляции" in broken.text and re.search(r"parameters\.yaml:\d+:\d+", broken.text), broken.text
    _save(c, draft, "parameters.yaml", original)
    xlsx = export_params(compile_package(TARIFF), tmp_path / "params.xlsx")
    wb = load_workbook(xlsx)
    ws = wb["параметры"]
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "base_rate")
    ws.cell(row, 3).value = 30200
    wb.save(xlsx)
    r = c.post(f"/web/drafts/{draft}/import", data={"csrf": page_csrf(c, f"/web/drafts/{draft}"),
                                                     "target": "parameters"},
               files={"workbook": ("params.xlsx", xlsx.read_bytes(), "application/octet-stream")})
    assert r.status_code == 200 and "base_rate" in r.text and "30200" in r.text, r.text
    assert "30200" in c.get(f"/web/drafts/{draft}/files/parameters.yaml").text
    assert "Не прошли: 1" in _post(c, draft, "tests").text
    assert "methodology.draft.import" in _actions(env)

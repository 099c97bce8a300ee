"""Account-level defects (1.4.2 on a whole МО account) do not leak across СМО: an account whose cases
belong to several СМО is invisible to an СМО operator — its defect, its values and its explanation —
through the API and the web pages; the operator still sees the ground on its own cases' settlement."""

from __future__ import annotations

import re

import pytest
from api_helpers import SMO, ApiEnv
from platform_helpers import PASSWORD

ACCOUNT_RULES = '''
@ref "Приказ Минздрава России № 231н, п. 1.4.2"
check account_total on account:
    code "1.4.2"
    title "Сумма счёта не соответствует итоговой сумме реестра"
    when summav > 0
    withhold share 1.0 of summav
    fine 0
    message "Счёт {nschet}: SUMMAV = {summav} ₽, случаев {count(case)}"
'''


@pytest.fixture
def account_month(env: ApiEnv) -> ApiEnv:
    r = env.publish(replace={"rules/account.rules": ACCOUNT_RULES})
    assert r.status_code in (200, 201), r.text
    env.upload_month()
    run = env.start_run()
    assert run["status"] == "done", run
    return env


def _web(env: ApiEnv, user: str) -> None:
    env.client.cookies.clear()
    page = env.client.get("/web/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    r = env.client.post("/web/login", data={"username": user, "password": PASSWORD, "csrf": csrf.group(1)},
                        follow_redirects=False)
    assert r.status_code == 303


def test_smo_operator_does_not_see_mixed_accounts(account_month: ApiEnv) -> None:
    env, run = account_month, account_month.run_id
    fund = env.all_pages(f"/runs/{run}/defects", "economist", code="1.4.2")
    accounts = [d for d in fund if d["entity"] == "account"]
    assert len(accounts) == 3 and all(d["smo_code"] is None for d in accounts)  # each mixes 3 СМО
    assert all(d["mo_code"] for d in accounts)  # the МО still owns its account
    own = env.all_pages(f"/runs/{run}/defects", "smo_op")
    assert own and all(d["entity"] != "account" for d in own)
    assert {d["smo_code"] for d in own} == {SMO}
    results = env.all_pages(f"/runs/{run}/results", "smo_op", entity="account")
    assert results == []
    key = accounts[0]["row_key"]
    r = env.client.get(f"/runs/{run}/explain", headers=env.h("smo_op"),
                       params={"entity": "account", "key": key, "name": "summav"})
    assert r.status_code == 404
    fund_view = env.client.get(f"/runs/{run}/explain", headers=env.h("economist"),
                               params={"entity": "account", "key": key, "name": "summav"})
    assert fund_view.status_code == 200
    # its own share: the settlement of its own cases names the account ground, amounts of its cases only
    cases = env.all_pages(f"/runs/{run}/results", "smo_op", entity="case")
    assert cases and {c["smo_code"] for c in cases} == {SMO}
    # the МО operator still sees its account's defect
    mo_rows = env.all_pages(f"/runs/{run}/defects", "mo_op", code="1.4.2")
    assert [d["entity"] for d in mo_rows].count("account") == 1


def test_web_pages_hide_mixed_accounts_from_the_smo_operator(account_month: ApiEnv) -> None:
    env, run = account_month, account_month.run_id
    key = next(d["row_key"] for d in env.all_pages(f"/runs/{run}/defects", "economist", code="1.4.2")
               if d["entity"] == "account")
    _web(env, "smo_op")
    page = env.client.get(f"/web/runs/{run}", params={"code": "1.4.2", "entity": "account"})
    assert page.status_code == 200 and "SUMMAV =" not in page.text
    explain = env.client.get(f"/web/runs/{run}/explain", params={"entity": "account", "key": key, "name": "summav"})
    assert explain.status_code == 404 and explain.headers["content-type"].startswith("text/html")
    _web(env, "economist")
    page = env.client.get(f"/web/runs/{run}", params={"code": "1.4.2", "entity": "account"})
    assert page.status_code == 200 and "SUMMAV =" in page.text

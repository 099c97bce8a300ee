from api_helpers import ApiEnv


def test_month_runs(month: ApiEnv) -> None:
    r = month.client.get(f"/runs/{month.run_id}", headers=month.h("economist"))
    assert r.json()["status"] == "done", r.json()

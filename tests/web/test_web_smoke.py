from conftest import WebEnv


def test_smoke(month: WebEnv) -> None:
    c = month.client("economist")
    for url in ["/web/", "/web/registries", f"/web/registries/{month.registry_id}", "/web/runs",
                f"/web/runs/{month.run_id}", f"/web/runs/{month.run_id}/forms", "/web/methodologies",
                f"/web/methodologies/{month.version_id}", "/web/runs/new", "/web/registries/upload"]:
        r = c.get(url)
        assert r.status_code == 200, (url, r.text[:3000])

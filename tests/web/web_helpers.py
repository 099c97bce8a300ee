"""Helpers of the web page tests: a signed-in browser-like client, CSRF tokens from pages."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from platform_helpers import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
FEDERAL = ROOT / "methodologies" / "federal" / "2025"
MONTH = ROOT / "examples" / "registries" / "2025-03"
ERZ = MONTH / "ERZ_2025-03.csv"

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "на странице нет CSRF-токена"
    return m.group(1)


def web_login(client: TestClient, user: str, password: str = PASSWORD) -> Any:
    page = client.get("/web/login")
    assert page.status_code == 200
    return client.post("/web/login", data={"username": user, "password": password, "csrf": csrf_of(page.text),
                                           "next": "/web/"}, follow_redirects=False)


def page_csrf(client: TestClient, url: str = "/web/") -> str:
    r = client.get(url)
    assert r.status_code == 200, r.text
    return csrf_of(r.text)


def wait_state(client: TestClient, url: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(url)
        assert r.status_code == 200, r.text
        body = r.json()
        if body["final"]:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def upload(client: TestClient, paths: list[Path], **data: str) -> Any:
    files = [("files", (p.name, p.read_bytes(), "application/xml")) for p in paths]
    return client.post("/web/registries/upload", files=files,
                       data={"csrf": page_csrf(client, "/web/registries/upload"), **data}, follow_redirects=False)


def start_run(client: TestClient, version_id: int, registry_id: int, insured: bool = True) -> Any:
    files = {"insured": (ERZ.name, ERZ.read_bytes(), "text/csv")} if insured else None
    return client.post("/web/runs/new", files=files, follow_redirects=False,
                       data={"csrf": page_csrf(client, "/web/runs/new"), "methodology_version_id": str(version_id),
                             "registry_id": str(registry_id)})


def by_ground_table(html: str) -> dict[str, tuple[str, str]]:
    """The run page's table by ground: {code: (cases, withheld) as displayed}."""
    body = html.split('id="by-ground"', 1)[1].split("</table>", 1)[0]
    out = {}
    for code, rest in re.findall(r'<tr><td><a[^>]*>([^<]+)</a></td><td>[^<]*</td>(.*?)</tr>', body, re.S):
        cells = re.findall(r'<td class="num">([^<]*)</td>', rest)
        out[code] = (cells[0], cells[1])
    return out

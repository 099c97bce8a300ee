"""The web workbench in a real browser: Debian's chromium, headless, driven by Playwright.

The server is uvicorn in a thread on a free port (the test's own METODIKA_HOME and database).
A methodologist signs in, creates a draft of examples/packages/tariff, breaks a YAML test by
editing a parameter, sees the failure, fixes it, sees the tests pass, publishes, and the head
of the fund sees the steps in the audit log. Chromium is installed by scripts/setup.sh; when it
is missing this test FAILS (CI must run it), it never skips. `playwright install` is not used.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WebEnv
from platform_helpers import PASSWORD
from sqlalchemy import select
from web_helpers import ROOT

from api.db.models import MethodologyVersion
from api.store.methodologies import publish
from engine.runtime.compiler import compile_package

TARIFF = ROOT / "examples" / "packages" / "tariff"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
TIMEOUT_MS = 60_000


def chromium_path() -> str:
    for c in CHROMIUM_CANDIDATES:
        if Path(c).is_file():
            return c
    found = shutil.which("chromium")
    if not found:
        pytest.fail("chromium не найден (/usr/bin/chromium): установите его — bash scripts/setup.sh "
                    "(apt-get install chromium chromium-driver); браузерный тест обязателен")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(env: WebEnv) -> Iterator[str]:
    import uvicorn

    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(env.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    while not srv.started:
        if not thread.is_alive():
            pytest.fail("uvicorn не запустился")
        thread.join(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(30)


@pytest.fixture
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("нет пакета playwright: pip install -e '.[test]' (scripts/setup.sh)")
    executable = chromium_path()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def _login(page, base: str, user: str) -> None:
    page.goto(f"{base}/web/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/web/")


def _edit(page, path: str, old: str, new: str) -> None:
    page.click(f"#files a:text-is('{path}')")
    text = page.input_value("textarea[name=text]")
    assert old in text
    page.fill("textarea[name=text]", text.replace(old, new))
    page.click("#save")
    page.wait_for_selector("#notice")
    assert "компилируется без ошибок" in page.inner_text("main")


@pytest.mark.parametrize("empty_db", ["sqlite"], indirect=True)  # SQLite in tmp; the routes run on both in
# test_workbench_pages.py
def test_methodologist_edits_tests_and_publishes_in_the_browser(env: WebEnv, server: str, browser) -> None:
    with env.sessions() as session:
        base_version, _ = publish(session, compile_package(TARIFF), actor="economist", user_id=None)
        session.commit()
        base_id = base_version.id
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    _login(page, server, "economist")

    page.goto(f"{server}/web/methodologies")
    page.click(f"button[data-draft-from='{base_id}']")
    page.wait_for_selector("#compile-ok")
    assert "example-tariff@1.0.1" in page.inner_text("h1")
    draft_url = page.url

    _edit(page, "parameters.yaml", "2025-01-01: 30000.00", "2025-01-01: 30100.00")
    page.click("#run-tests")
    page.wait_for_selector("#tests-summary")
    assert "Не прошли: 1" in page.inner_text("#tests-summary")
    failing = page.inner_text("#tests tr.failed")
    assert "уровень 1" in failing and "25110" in failing.replace("\u202f", "").replace(" ", "")

    page.goto(draft_url)
    page.click("#publish")
    assert "Не прошли тесты" in page.inner_text("main")

    page.goto(draft_url)
    page.click("#changes")
    assert "base_rate" in page.inner_text("main")

    page.goto(draft_url)
    _edit(page, "parameters.yaml", "2025-01-01: 30100.00", "2025-01-01: 30000.00")
    page.click("#run-tests")
    page.wait_for_selector("#tests-summary")
    assert "Все тесты прошли" in page.inner_text("#tests-summary")

    page.goto(draft_url)
    page.click("#publish")
    page.wait_for_url(f"{server}/web/methodologies/*")
    assert "1.0.1" in page.inner_text("main")
    page.goto(f"{server}/web/methodologies")
    listing = page.inner_text("main")
    assert "example-tariff@1.0.1" in listing and "example-tariff@1.0.0" in listing
    with env.sessions() as s:
        assert sorted(v.version for v in s.scalars(select(MethodologyVersion))) == ["1.0.0", "1.0.1"]

    page.click("button.link")  # sign out; the head of the fund reads the audit log
    _login(page, server, "head")
    page.goto(f"{server}/web/audit")
    audit = page.inner_text("main")
    assert "Журнал аудита цел" in audit
    for step in ("create", "save", "test", "publish_refused", "publish"):
        assert f"methodology.draft.{step}" in audit, step
    assert "methodology.publish" in audit

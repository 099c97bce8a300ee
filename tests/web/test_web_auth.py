"""Sign-in, sign-out, CSRF, permission checks and audit of the web pages."""

from __future__ import annotations

from conftest import WebEnv
from sqlalchemy import select
from web_helpers import csrf_of, page_csrf, web_login

from api.db.models import AuditEvent
from api.web.common import SESSION_COOKIE


def test_pages_need_sign_in(env: WebEnv) -> None:
    c = env.client()
    r = c.get("/web/runs", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/web/login?next=/web/runs")
    assert c.get("/", follow_redirects=False).headers["location"] == "/web/"
    login = c.get("/web/login")
    assert login.status_code == 200 and "Вход" in login.text and "password" in login.text


def test_login_sets_httponly_strict_cookie_and_logout_clears_it(env: WebEnv) -> None:
    c = env.client()
    r = web_login(c, "economist")
    assert r.status_code == 303 and r.headers["location"] == "/web/"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    home = c.get("/web/")
    assert home.status_code == 200 and "Экономист" in home.text and "Загрузить реестр" in home.text
    assert "Журнал аудита" not in home.text  # economist has no audit.verify
    # The session token is the API's JWT: the same token works as a bearer token.
    token = c.cookies.get(SESSION_COOKIE)
    assert env.client().get("/me", headers={"Authorization": f"Bearer {token}"}).json()["login"] == "economist"
    # Logout without the CSRF token is refused, with it the cookie is cleared.
    assert c.post("/web/logout", data={}, follow_redirects=False).status_code == 403
    csrf = page_csrf(c)
    out = c.post("/web/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/web/login"
    assert c.get("/web/", follow_redirects=False).status_code == 303


def test_failed_login_is_audited_and_login_form_needs_its_csrf(env: WebEnv) -> None:
    c = env.client()
    bad = web_login(c, "economist", "wrong-password")
    assert bad.status_code == 401 and "Неверный логин или пароль" in bad.text
    assert SESSION_COOKIE not in c.cookies
    with env.sessions() as s:
        failed = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")))
    assert failed and "wrong-password" not in failed[-1].payload
    # A login post from elsewhere (no matching cookie token) is refused before checking the password.
    other = env.client()
    r = other.post("/web/login", data={"username": "economist", "password": "correct-horse-1", "csrf": "x"},
                   follow_redirects=False)
    assert r.status_code == 403 and SESSION_COOKIE not in other.cookies
    # After sign-in only local pages are followed (no open redirect).
    page = c.get("/web/login")
    r = c.post("/web/login", data={"username": "economist", "password": "correct-horse-1",
                                   "csrf": csrf_of(page.text), "next": "https://evil.example/"},
               follow_redirects=False)
    assert r.headers["location"] == "/web/"


def test_post_forms_need_the_session_csrf_token(env: WebEnv) -> None:
    c = env.client("economist")
    r = c.post("/web/registries/upload", files=[("files", ("a.XML", b"<x/>", "application/xml"))],
               data={"csrf": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    r = c.post("/web/runs/new", data={"methodology_version_id": "1", "registry_id": "1"}, follow_redirects=False)
    assert r.status_code == 403
    # A token of another session does not fit either.
    other = env.client("head")
    assert page_csrf(other) != page_csrf(c)


def test_permission_table_applies_to_pages(env: WebEnv) -> None:
    admin = env.client("admin")
    assert admin.get("/web/registries").status_code == 403
    assert admin.get("/web/runs").status_code == 403
    audit = admin.get("/web/audit")
    assert audit.status_code == 200 and "Журнал аудита цел" in audit.text
    smo = env.client("smo_op")
    assert smo.get("/web/registries").status_code == 403  # СМО roles do not read registry files
    assert smo.get("/web/registries/upload").status_code == 403
    assert smo.get("/web/runs").status_code == 200
    assert smo.get("/web/audit").status_code == 403
    assert env.client("head").get("/web/runs/new").status_code == 403  # head may not start runs
    page = env.client("economist").get("/web/runs")
    assert page.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in page.headers[
        "content-security-policy"]

"""Signing in to /admin over real HTTP: sessions, CSRF, lockout, roles and security headers."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import select

from admin_support import PASSWORD, admin_site, field, sign_in
from bot.admin.auth import MAX_FAILURES
from bot.services import Services
from storage.models import AdminUser, AuditEntry


@pytest.fixture
def admin_app(db, db_url: str) -> Iterator[tuple[str, Services]]:
    with admin_site(db_url) as site:
        yield site


def test_every_page_needs_a_sign_in(admin_app) -> None:
    url, _ = admin_app
    response = requests.get(f"{url}/admin/", allow_redirects=False, timeout=10)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_signing_in_and_out(admin_app) -> None:
    url, services = admin_app
    browser, response = sign_in(url, "ani")
    assert response.status_code == 200 and "Ringkasan" in response.text and "ani" in response.text
    cookie = next(c for c in browser.cookies if c.name == "lapor_admin")
    assert cookie.has_nonstandard_attr("HttpOnly") and not cookie.secure  # plain http in tests
    raw = response.history[0].headers["Set-Cookie"]
    assert "HttpOnly" in raw and "SameSite=Strict" in raw
    page = browser.get(f"{url}/admin/", timeout=10).text
    out = browser.post(f"{url}/admin/logout", data={"csrf_token": field(page)}, allow_redirects=False, timeout=10)
    assert out.status_code == 302
    assert browser.get(f"{url}/admin/", allow_redirects=False, timeout=10).status_code == 302
    with services.db.transaction() as s:
        assert [e.action for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))] == ["sign-in", "sign-out"]


def test_a_post_without_the_csrf_token_is_refused(admin_app) -> None:
    url, _ = admin_app
    browser, _ = sign_in(url, "ani")
    assert browser.post(f"{url}/admin/logout", data={}, timeout=10).status_code == 400
    assert browser.post(f"{url}/admin/logout", data={"csrf_token": "forged"}, timeout=10).status_code == 400
    login = requests.post(f"{url}/admin/login", data={"name": "ani", "password": PASSWORD}, timeout=10)
    assert login.status_code == 400  # no token, no sign-in attempt at all


def test_wrong_passwords_lock_the_account_and_say_nothing_about_names(admin_app) -> None:
    url, services = admin_app
    _, unknown = sign_in(url, "nobody", "whatever-password")
    _, wrong = sign_in(url, "ani", "not-the-password")
    assert unknown.status_code == wrong.status_code == 401
    assert "wrong name or password" in unknown.text and "wrong name or password" in wrong.text
    for _ in range(MAX_FAILURES - 1):
        sign_in(url, "ani", "not-the-password")
    _, locked = sign_in(url, "ani")  # even the right password, while locked
    assert locked.status_code == 401 and "locked until" in locked.text
    with services.db.transaction() as s:
        user = s.scalars(select(AdminUser).where(AdminUser.name == "ani")).one()
        assert user.locked_until is not None
        assert "locked" in [e.action for e in s.scalars(select(AuditEntry))]


@pytest.mark.parametrize(("name", "sees_complaints", "sees_scripts"),
                         [("ani", True, True), ("eko", False, True), ("vina", True, False)])
def test_each_role_sees_what_it_may(admin_app, name: str, sees_complaints: bool, sees_scripts: bool) -> None:
    url, _ = admin_app
    browser, response = sign_in(url, name)
    assert ("Pengaduan" in response.text) is sees_complaints
    assert ("Naskah dialog" in response.text) is sees_scripts
    assert ("<td>complaint</td>" in response.text) is sees_scripts  # the script id in the versions table


def test_security_headers_and_no_open_redirect(admin_app) -> None:
    url, _ = admin_app
    page = requests.get(f"{url}/admin/login", timeout=10)
    headers = page.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src" not in headers["Content-Security-Policy"]  # default-src 'none': no scripts at all
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Cache-Control"] == "no-store"
    browser = requests.Session()
    form = browser.get(f"{url}/admin/login?next=https://evil.example/", timeout=10)
    response = browser.post(f"{url}/admin/login?next=https://evil.example/", allow_redirects=False, timeout=10,
                            data={"csrf_token": field(form.text), "name": "ani", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")


def test_a_name_with_html_is_shown_as_text(admin_app) -> None:
    url, _ = admin_app
    _, response = sign_in(url, "<script>alert(1)</script>", "whatever-password")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


def test_admins_see_accounts_and_the_audit_log_and_can_unlock(admin_app) -> None:
    url, services = admin_app
    for _ in range(MAX_FAILURES):
        sign_in(url, "eko", "not-the-password")
    sign_in(url, "<b>x</b>", "whatever-password")  # a name with HTML lands in the log as text
    admin, _ = sign_in(url, "ani")
    page = admin.get(f"{url}/admin/users/", timeout=10).text
    assert "Buka kunci eko" in page and "sign-in-failed" in page and "locked" in page
    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page
    admin.post(f"{url}/admin/users/{_user_id(services, 'eko')}/unlock", data={"csrf_token": field(page)}, timeout=10)
    _, response = sign_in(url, "eko")
    assert response.status_code == 200 and "Ringkasan" in response.text
    editor, _ = sign_in(url, "eko")
    assert editor.get(f"{url}/admin/users/", timeout=10).status_code == 403


def _user_id(services, name: str) -> int:
    with services.db.transaction() as s:
        return s.scalars(select(AdminUser).where(AdminUser.name == name)).one().id

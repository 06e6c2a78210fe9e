"""Signing in to /admin over real HTTP: server-side sessions, CSRF, throttled sign-ins per client
address, roles, locks and security headers."""
from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from collections.abc import Iterator

import pytest
import requests
from admin_support import PASSWORD, admin_site, field, sign_in
from sqlalchemy import func, select

from bot.admin import auth
from bot.admin.auth import ADDRESS_LIMIT, NAME_LIMIT
from bot.services import Services
from storage.models import AdminSession, AdminUser, AuditEntry


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Every password check the server makes (the real Argon2id check, counted)."""
    made: list[str] = []
    real = auth.check_password

    def counted(password: str, stored: str):
        made.append(stored)
        return real(password, stored)

    monkeypatch.setattr(auth, "check_password", counted)
    return made


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


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer_and_the_same_work(admin_app, hashes) -> None:
    url, services = admin_app
    _, unknown = sign_in(url, "nobody", "whatever-password")
    _, wrong = sign_in(url, "ani", "not-the-password")
    assert unknown.status_code == wrong.status_code == 401
    def page(response: requests.Response, name: str) -> str:  # but for the name typed, and the form's token
        return re.sub(r'name="csrf_token" value="[^"]*"', "", response.text).replace(name, "NAME")

    assert page(unknown, "nobody") == page(wrong, "ani")
    assert len(hashes) == 2 and all(h.startswith("$argon2id$") for h in hashes)  # one real check each
    with services.db.transaction() as s:  # a guess at a name leaves nothing in the audit log
        assert [(e.actor, e.action) for e in s.scalars(select(AuditEntry))] == [("ani", "sign-in-failed")]


def test_failures_are_throttled_per_address_before_any_hashing(admin_app, hashes) -> None:
    """Reproduced: every wrong password cost a full hash, without limit."""
    url, services = admin_app
    for n in range(ADDRESS_LIMIT):
        assert sign_in(url, f"tamu{n}", "whatever-password")[1].status_code == 401
    checked = len(hashes)
    _, throttled = sign_in(url, "ani")  # even the right password, from this address, now
    assert throttled.status_code == 429 and 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
    assert len(hashes) == checked  # refused before hashing: a flood costs little
    _, elsewhere = sign_in(url, "ani", address="127.0.0.2")
    assert elsewhere.status_code == 200 and "Ringkasan" in elsewhere.text  # another address is not held back
    with services.db.transaction() as s:
        actions = [e.action for e in s.scalars(select(AuditEntry))]
    assert actions.count("sign-in-failed") == 0 and actions.count("sign-in-throttled") == 1  # unknown names: one entry


def test_failures_from_one_address_never_lock_the_account_for_another(admin_app) -> None:
    """Reproduced: five wrong passwords from anywhere locked the account for its owner too."""
    url, services = admin_app
    for _ in range(NAME_LIMIT):
        assert sign_in(url, "ani", "not-the-password")[1].status_code == 401
    _, here = sign_in(url, "ani")
    assert here.status_code == 429  # this address must wait for this name...
    _, owner = sign_in(url, "ani", address="127.0.0.3")
    assert owner.status_code == 200 and "Ringkasan" in owner.text  # ...its owner elsewhere signs in
    with services.db.transaction() as s:
        user = s.scalars(select(AdminUser).where(AdminUser.name == "ani")).one()
        assert user.locked_until is None
        assert [e.action for e in s.scalars(select(AuditEntry))].count("sign-in-throttled") == 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(db_url: str) -> None:
    with admin_site(db_url, proxy_hops=1) as (url, _):
        def attempt(client: str, password: str) -> int:
            browser = requests.Session()
            form = browser.get(f"{url}/admin/login", timeout=10)
            if form.status_code != 200:
                return form.status_code
            return browser.post(f"{url}/admin/login", headers={"X-Forwarded-For": client}, timeout=10, data={
                "csrf_token": field(form.text), "name": "ani", "password": password}).status_code

        assert [attempt("203.0.113.7", "not-the-password") for _ in range(NAME_LIMIT)] == [401] * NAME_LIMIT
        assert attempt("203.0.113.7", PASSWORD) == 429
        assert attempt("198.51.100.20", PASSWORD) == 200  # through the same proxy, another client signs in


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_password_is_checked_inside_a_database_transaction(admin_app, monkeypatch) -> None:
    """Reproduced: the check ran inside a transaction, which on SQLite holds the write lock every
    webhook needs (one wrong password added 100+ ms to intake). While the real check runs here,
    another connection takes the write lock at once."""
    url, services = admin_app
    free_during_check: list[bool] = []
    real = auth.check_password

    def probed(password: str, stored: str):
        other = sqlite3.connect(services.db.engine.url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            free_during_check.append(True)
        except sqlite3.OperationalError:
            free_during_check.append(False)
        finally:
            other.close()
        return real(password, stored)

    monkeypatch.setattr(auth, "check_password", probed)
    sign_in(url, "ani", "not-the-password")
    sign_in(url, "nobody", "whatever-password")
    sign_in(url, "ani")
    assert free_during_check == [True, True, True]


def test_an_older_hash_is_rehashed_with_argon2id_at_sign_in(admin_app) -> None:
    url, services = admin_app
    salt = secrets.token_bytes(16)
    scrypt = hashlib.scrypt(PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    with services.db.transaction() as s:
        s.scalars(select(AdminUser).where(AdminUser.name == "eko")).one().password_hash = \
            f"scrypt${2**14}$8$1${salt.hex()}${scrypt.hex()}"
    assert sign_in(url, "eko")[1].status_code == 200
    with services.db.transaction() as s:
        assert s.scalars(select(AdminUser.password_hash).where(AdminUser.name == "eko")).one().startswith("$argon2id$")
    assert sign_in(url, "eko")[1].status_code == 200  # and the new hash works


def test_a_signed_out_cookie_is_refused(admin_app) -> None:
    """Reproduced: the cookie held the session itself, so a copy of it stayed valid after
    signing out, for its whole eight hours."""
    url, services = admin_app
    browser, _ = sign_in(url, "ani")
    copy = requests.Session()
    copy.cookies.update(browser.cookies)
    assert copy.get(f"{url}/admin/", allow_redirects=False, timeout=10).status_code == 200
    page = browser.get(f"{url}/admin/", timeout=10).text
    browser.post(f"{url}/admin/logout", data={"csrf_token": field(page)}, timeout=10)
    assert copy.get(f"{url}/admin/", allow_redirects=False, timeout=10).status_code == 302
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(AdminSession)) == 0


def test_a_lock_or_a_role_change_takes_effect_on_the_next_request(admin_app) -> None:
    url, services = admin_app
    viewer, _ = sign_in(url, "vina")
    editor, _ = sign_in(url, "eko")
    with services.db.transaction() as s:  # as `lapor admin set-role eko viewer` does
        s.scalars(select(AdminUser).where(AdminUser.name == "eko")).one().role = "viewer"
    assert editor.get(f"{url}/admin/scripts/", timeout=10).status_code == 403
    assert editor.get(f"{url}/admin/complaints/", timeout=10).status_code == 200
    admin, _ = sign_in(url, "ani")
    users = admin.get(f"{url}/admin/users/", timeout=10).text
    assert admin.post(f"{url}/admin/users/{_user_id(services, 'vina')}/lock", data={"csrf_token": field(users)},
                      timeout=10).status_code == 200
    assert viewer.get(f"{url}/admin/complaints/", allow_redirects=False, timeout=10).status_code == 302
    _, again = sign_in(url, "vina")
    assert again.status_code == 401 and "locked until" in again.text
    with services.db.transaction() as s:  # as `lapor admin disable ani` does, but the session stays
        s.scalars(select(AdminUser).where(AdminUser.name == "ani")).one().disabled = True
    assert admin.get(f"{url}/admin/", allow_redirects=False, timeout=10).status_code == 302


def test_a_signed_in_user_changes_their_own_password(admin_app) -> None:
    url, services = admin_app
    other_browser, _ = sign_in(url, "vina")
    browser, _ = sign_in(url, "vina")
    form = browser.get(f"{url}/admin/account/password", timeout=10)
    assert form.status_code == 200 and 'autocomplete="new-password"' in form.text
    weak = browser.post(f"{url}/admin/account/password", timeout=10, data={
        "csrf_token": field(form.text), "current": PASSWORD, "new": "pendek", "again": "pendek"})
    assert weak.status_code == 400 and "12" in weak.text
    wrong = browser.post(f"{url}/admin/account/password", timeout=10, data={
        "csrf_token": field(form.text), "current": "not-the-password", "new": "kata-sandi-baru-2026", "again": "kata-sandi-baru-2026"})
    assert wrong.status_code == 400
    done = browser.post(f"{url}/admin/account/password", timeout=10, data={
        "csrf_token": field(form.text), "current": PASSWORD, "new": "kata-sandi-baru-2026", "again": "kata-sandi-baru-2026"})
    assert done.status_code == 200 and "Kata sandi diganti" in done.text
    assert browser.get(f"{url}/admin/", allow_redirects=False, timeout=10).status_code == 200  # this one stays
    assert other_browser.get(f"{url}/admin/", allow_redirects=False, timeout=10).status_code == 302  # others end
    assert sign_in(url, "vina", address="127.0.0.4")[1].status_code == 401
    assert sign_in(url, "vina", "kata-sandi-baru-2026", address="127.0.0.4")[1].status_code == 200
    with services.db.transaction() as s:
        assert "password-changed" in [e.action for e in s.scalars(select(AuditEntry))]


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


def test_admins_see_accounts_and_the_audit_log_and_can_lock_and_unlock(admin_app) -> None:
    url, services = admin_app
    sign_in(url, "eko", "not-the-password")
    sign_in(url, "<b>x</b>", "whatever-password")  # a name with HTML is shown as text where it appears
    admin, _ = sign_in(url, "ani")
    page = admin.get(f"{url}/admin/users/", timeout=10).text
    assert "Kunci eko" in page and "sign-in-failed" in page and "Kunci ani" not in page  # not oneself
    admin.post(f"{url}/admin/users/{_user_id(services, 'eko')}/lock", data={"csrf_token": field(page)}, timeout=10)
    assert sign_in(url, "eko")[1].status_code == 401
    page = admin.get(f"{url}/admin/users/", timeout=10).text
    assert "Buka kunci eko" in page and "lock" in page
    admin.post(f"{url}/admin/users/{_user_id(services, 'eko')}/unlock", data={"csrf_token": field(page)}, timeout=10)
    _, response = sign_in(url, "eko")
    assert response.status_code == 200 and "Ringkasan" in response.text
    editor, _ = sign_in(url, "eko")
    assert editor.get(f"{url}/admin/users/", timeout=10).status_code == 403


def _user_id(services, name: str) -> int:
    with services.db.transaction() as s:
        return s.scalars(select(AdminUser).where(AdminUser.name == name)).one().id

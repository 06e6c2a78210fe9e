"""Shared by the /admin tests: the app served over real HTTP with one account per role, and
signing in the way a browser does (the login form's CSRF token, then the session cookie)."""
from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager

import requests
from requests.adapters import HTTPAdapter
from tests_support import LiveServer, make_settings

from bot.admin.passwords import hash_password
from bot.app import create_app
from bot.scripts import sync_files
from bot.services import Services, build_services
from storage import repository as repo

PASSWORD = "kata-sandi-yang-panjang"
HASH = hash_password(PASSWORD)  # once: scrypt is slow on purpose
ACCOUNTS = {"ani": "admin", "eko": "editor", "vina": "viewer"}


@contextmanager
def admin_site(db_url: str, **overrides) -> Iterator[tuple[str, Services]]:
    """(base URL, services) of the app on ``db_url`` (Settings ``overrides`` applied), scripts
    imported, the ACCOUNTS created."""
    settings = make_settings(db_url, **overrides)
    services = build_services(settings, channels={})  # no channels: replies stay in the outbox
    sync_files(services.db, settings.scripts_dir, repo.utcnow())
    with services.db.transaction() as s:
        for name, role in ACCOUNTS.items():
            repo.add_admin_user(s, name=name, role=role, password_hash=HASH, now=repo.utcnow())
    try:
        with LiveServer(create_app(settings, services)) as live:
            yield live.url, services
    finally:
        services.close()


def field(page: str, name: str = "csrf_token") -> str:
    """The value of a form's hidden field (the CSRF token by default)."""
    return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page).group(1))


class FromAddress(HTTPAdapter):
    """Connect from another loopback address (127.0.0.2, ...): another client, as the server sees it."""

    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)


def sign_in(url: str, name: str, password: str = PASSWORD, *,
            address: str | None = None) -> tuple[requests.Session, requests.Response]:
    """Sign in as a browser does, from ``address`` (a loopback address) when given."""
    browser = requests.Session()
    if address is not None:
        browser.mount("http://", FromAddress(address))
    form = browser.get(f"{url}/admin/login", timeout=10)
    if form.status_code != 200:  # a throttled address gets no form
        return browser, form
    response = browser.post(f"{url}/admin/login", data={"csrf_token": field(form.text), "name": name,
                                                         "password": password}, timeout=10)
    return browser, response


def signed_in(url: str, name: str) -> requests.Session:
    return sign_in(url, name)[0]

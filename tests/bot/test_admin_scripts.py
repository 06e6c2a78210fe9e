"""Editing dialog scripts in /admin over real HTTP: checked like `lapor dialogs check`, saved as
drafts, diffed, published without a restart, rolled back, audited; editors and admins only."""
from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import requests
from admin_support import admin_site, field, signed_in
from sqlalchemy import select

from bot.services import Services, build_services
from channels.base import InboundMessage
from storage import repository as repo
from storage.models import AuditEntry, ScriptVersion

OLD_PROMPT, NEW_PROMPT = "id: Jenis laporan Anda?", "id: Apa jenis laporan Anda?"


@pytest.fixture
def admin_app(db, db_url: str) -> Iterator[tuple[str, Services]]:
    with admin_site(db_url) as site:
        yield site


def versions(services: Services) -> list[tuple[int, bool]]:
    with services.db.transaction() as s:
        return [(v.version, v.published) for v in s.scalars(select(ScriptVersion).order_by(ScriptVersion.version))]


def save(browser: requests.Session, url: str, text: str) -> requests.Response:
    page = browser.get(f"{url}/admin/scripts/complaint/edit", timeout=10)
    return browser.post(f"{url}/admin/scripts/complaint/edit", timeout=10,
                        data={"csrf_token": field(page.text), "text": text, "base": "1"})


def first_prompt(services: Services, sender: str) -> str:
    result = services.intake.handle(InboundMessage("terminal", sender, "halo", uuid.uuid4().hex, repo.utcnow()))
    return "\n".join(result.replies)


def test_an_error_is_shown_with_its_line_and_nothing_is_saved(admin_app) -> None:
    url, services = admin_app
    browser = signed_in(url, "eko")
    current = browser.get(f"{url}/admin/scripts/complaint/edit", timeout=10)
    text = re.search(r'<textarea[^>]*>(.*?)</textarea>', current.text, re.S).group(1)
    assert "Jenis laporan Anda?" in text
    broken = save(browser, url, "id: complaint\nsteps:\n  - id: a\n    type: nonsense\n")
    assert broken.status_code == 422 and "belum disimpan" in broken.text
    assert re.search(r"baris \d+: ", broken.text)
    assert versions(services) == [(1, True)]


def test_save_diff_publish_and_roll_back_without_a_restart(admin_app) -> None:
    url, services = admin_app
    browser = signed_in(url, "eko")
    other_process = build_services(services.settings, channels={})  # another process on the same database
    original_text = _live_text(services)
    saved = save(browser, url, original_text.replace(OLD_PROMPT, NEW_PROMPT))
    assert saved.status_code == 200 and "complaint v2" in saved.text and "Tersimpan sebagai versi 2" in saved.text
    assert "-      " + OLD_PROMPT in saved.text and "+      " + NEW_PROMPT in saved.text  # the diff to v1
    assert versions(services) == [(1, True), (2, False)]
    assert "Jenis laporan Anda?" in first_prompt(services, "+628111")  # a draft is not live

    page = browser.get(f"{url}/admin/scripts/complaint/v2", timeout=10)
    browser.post(f"{url}/admin/scripts/complaint/v2/publish", data={"csrf_token": field(page.text)}, timeout=10)
    assert versions(services) == [(1, True), (2, True)]
    assert "Apa jenis laporan Anda?" in first_prompt(services, "+628222")  # live, without a restart,
    assert "Apa jenis laporan Anda?" in first_prompt(other_process, "+628333")  # in every process
    other_process.close()

    page = browser.get(f"{url}/admin/scripts/complaint/", timeout=10)
    assert "Kembalikan ke v1" in page.text
    browser.post(f"{url}/admin/scripts/complaint/v1/publish", data={"csrf_token": field(page.text), "rollback": "1"},
                 timeout=10)
    assert versions(services) == [(1, True), (2, True), (3, True)]  # history only grows
    assert _live_text(services) == original_text
    with services.db.transaction() as s:
        audit = [(e.actor, e.action, e.target) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert audit[1:] == [("eko", "script-save", "complaint v2"), ("eko", "script-publish", "complaint v2"),
                         ("eko", "script-rollback", "complaint v3")]


def _live_text(services: Services) -> str:
    with services.db.transaction() as s:
        return repo.published_script(s, "complaint").text


def test_the_id_cannot_change_and_viewers_cannot_edit(admin_app) -> None:
    url, services = admin_app
    browser = signed_in(url, "eko")
    renamed = save(browser, url, _live_text(services).replace("id: complaint", "id: other", 1))
    assert renamed.status_code == 422 and "the id must stay" in renamed.text
    viewer = signed_in(url, "vina")
    assert viewer.get(f"{url}/admin/scripts/", timeout=10).status_code == 403
    page = viewer.get(f"{url}/admin/", timeout=10)
    denied = viewer.post(f"{url}/admin/scripts/complaint/v1/publish", data={"csrf_token": field(page.text)}, timeout=10)
    assert denied.status_code == 403
    assert versions(services) == [(1, True)]


def test_script_text_is_shown_escaped(admin_app) -> None:
    url, services = admin_app
    browser = signed_in(url, "eko")
    text = _live_text(services).replace("en: What kind of report?", 'en: "What kind of report? <script>x()</script>"')
    saved = save(browser, url, text)
    assert saved.status_code == 200
    assert "<script>x()</script>" not in saved.text and "&lt;script&gt;x()&lt;/script&gt;" in saved.text

"""Simulating a script version in /admin: the real engine, per-channel rendering, either
language, drafts included, and nothing stored."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from admin_support import admin_site, field, signed_in
from sqlalchemy import func, select

from bot.scripts import save_draft
from bot.services import Services
from storage import repository as repo
from storage.models import Complaint, Conversation, Message

HAPPY = ["halo", "1", "Jalan rusak", "Jalan di depan sekolah rusak parah sejak Januari.", "1", "Jl. Merdeka 1",
         "kemarin", "lewati", "1", "Budi Santoso", "ya"]


@pytest.fixture
def admin_app(db, db_url: str) -> Iterator[tuple[str, Services]]:
    with admin_site(db_url) as site:
        yield site


def chat(browser: requests.Session, url: str, lines: list[str], version: int = 1, **choices: str) -> str:
    page = browser.get(f"{url}/admin/scripts/complaint/v{version}/simulate", timeout=10).text
    for line in lines:
        page = browser.post(f"{url}/admin/scripts/complaint/v{version}/simulate", timeout=10, data={
            "csrf_token": field(page, "csrf_token"), "state": field(page, "state"), "text": line, **choices}).text
    return page


def test_a_whole_complaint_in_the_simulator_files_nothing(admin_app) -> None:
    url, services = admin_app
    page = chat(signed_in(url, "eko"), url, HAPPY, channel="sms", language="id")
    assert "Selamat datang" in page and "SMS GSM-7, 1 segmen" in page
    assert "LAP-XXXXXX" in page  # the completion reply, with a sample number
    with services.db.transaction() as s:
        assert [s.scalar(select(func.count()).select_from(model)) for model in (Complaint, Conversation, Message)] == [0, 0, 0]


def test_english_on_telegram(admin_app) -> None:
    url, _ = admin_app
    page = chat(signed_in(url, "eko"), url, ["hi"], channel="telegram", language="en")
    assert "What kind of report?" in page and "karakter" in page and "SMS" not in page.split("<ol")[1].split("</ol>")[0]


def test_a_draft_can_be_simulated_before_it_is_published(admin_app) -> None:
    url, services = admin_app
    with services.db.transaction() as s:
        text = repo.published_script(s, "complaint").text
    version, _ = save_draft(services.db, "complaint", text.replace("id: Jenis laporan Anda?", "id: Laporan apa?"),
                            "eko", repo.utcnow())
    browser = signed_in(url, "eko")
    assert "Laporan apa?" in chat(browser, url, ["halo"], version=version)
    assert "Jenis laporan Anda?" in chat(browser, url, ["halo"], version=1)


def test_a_changed_state_is_refused(admin_app) -> None:
    url, _ = admin_app
    browser = signed_in(url, "eko")
    page = browser.get(f"{url}/admin/scripts/complaint/v1/simulate", timeout=10).text
    forged = browser.post(f"{url}/admin/scripts/complaint/v1/simulate", timeout=10, data={
        "csrf_token": field(page, "csrf_token"), "state": "eyJzdGF0ZSI6e319.forged", "text": "halo"})
    assert forged.status_code == 400
    assert browser.get(f"{url}/admin/scripts/complaint/v99/simulate", timeout=10).status_code == 404


def test_the_simulator_takes_commands_as_a_channel_does(admin_app) -> None:
    """STATUS and STOP with no conversation open answer without starting one, as on a phone."""
    url, services = admin_app
    browser = signed_in(url, "eko")
    status = chat(browser, url, ["STATUS LAP-7K3M9Q"])
    assert "STATUS dijawab dari basis data" in status and "Jenis laporan" not in status
    stop = chat(browser, url, ["berhenti"])
    assert "tidak akan menerima pesan lagi" in stop
    english = chat(browser, url, ["bahasa english"])
    assert "What kind of report?" in english
    with services.db.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Conversation)) == 0


def test_the_simulator_asks_which_place_as_a_channel_does(admin_app) -> None:
    url, _ = admin_app
    page = chat(signed_in(url, "eko"), url, [*HAPPY[:5], "Jl. Merdeka 10, Bandung"], channel="sms", language="id")
    assert "Maksud Anda yang mana?" in page and "Kota Bandung, Jawa Barat" in page
    page = chat(signed_in(url, "eko"), url, [*HAPPY[:5], "Jl. Merdeka 10, Bandung", "2"], channel="sms", language="id")
    assert "Kapan terjadinya?" in page

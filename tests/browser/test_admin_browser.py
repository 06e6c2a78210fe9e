"""The admin pages in a real browser: Debian's chromium driven by Playwright, against the app
served over HTTP. Signing in (by the form's labels, and by keyboard), editing a script with an
error and seeing its line, fixing and publishing it, simulating, changing a complaint's status
(the citizen's notification queued), exporting, and a citizen's HTML staying inert.

Chromium comes from `make browser` (apt); Playwright never downloads one. A missing chromium
fails the run in CI and skips these tests elsewhere. With LAPOR_SCREENSHOTS=DIR the main pages
are saved there as PNG (how docs/screenshots/ was made).
"""
from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from admin_support import PASSWORD, admin_site
from media_support import jpeg, keep
from sqlalchemy import select

from bot.media.process import process
from bot.services import Services
from channels.base import InboundMessage, Media
from storage import repository as repo
from storage.migrate import upgrade
from storage.models import Attachment, Message, Outbox

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
XSS = "<script>window.pwned = 1</script><img src=x onerror=\"window.pwned = 2\">"
SHOTS = os.environ.get("LAPOR_SCREENSHOTS")

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail("Debian's chromium is missing (/usr/bin/chromium): run `make browser`", pytrace=False)
    pytest.skip("no /usr/bin/chromium here (`make browser` installs it)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Services]]:
    url = f"sqlite:///{tmp_path}/lapor.sqlite3"
    upgrade(url)
    with admin_site(url) as served:
        yield served


@pytest.fixture
def page(browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def sign_in(page: Page, url: str, name: str) -> None:
    page.goto(f"{url}/admin/")
    expect(page).to_have_url(f"{url}/admin/login?next=/admin/?")
    page.get_by_label("Nama pengguna").fill(name)
    page.get_by_label("Kata sandi").fill(PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    expect(page.get_by_role("heading", name="Ringkasan")).to_be_visible()


def file_complaint(services: Services, title: str) -> str:
    lines = ["halo", "1", title, f"Jalan di depan sekolah rusak parah sejak Januari. {XSS}", "1", "Jl. Merdeka 1",
             "kemarin", "lewati", "1", "Budi Santoso", "ya"]
    for line in lines:
        result = services.intake.handle(InboundMessage("sms", "+628111", line, uuid.uuid4().hex, repo.utcnow()))
    return result.tracking_number


def test_signing_in_by_keyboard(site, page: Page) -> None:
    url, _ = site
    page.goto(f"{url}/admin/login")
    shot(page, "login")
    expect(page.get_by_label("Nama pengguna")).to_be_focused()  # the form is ready to type into
    page.keyboard.type("ani")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Ringkasan")).to_be_visible()
    expect(page.get_by_text("Anda masuk sebagai ani")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Lewati ke isi")).to_be_focused()  # the skip link comes first
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    shot(page, "overview")


def test_edit_with_an_error_then_fix_publish_and_simulate(site, page: Page) -> None:
    url, services = site
    sign_in(page, url, "eko")
    page.get_by_role("link", name="Naskah dialog").first.click()
    page.get_by_role("link", name="complaint").click()
    page.get_by_role("link", name="Ubah versi terbaru").click()
    editor = page.get_by_label("YAML naskah")
    original = editor.input_value()
    editor.fill(original.replace("type: choice", "type: pilihan", 1))
    page.get_by_role("button", name="Periksa dan simpan").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("belum disimpan")
    broken_line = original.splitlines().index("    type: choice") + 1
    expect(alert).to_contain_text(f"baris {broken_line}:")  # the line of the broken step type
    shot(page, "script-edit-error")
    page.get_by_label("YAML naskah").fill(original.replace("id: Jenis laporan Anda?", "id: Apa jenis laporan Anda?"))
    page.get_by_role("button", name="Periksa dan simpan").click()
    expect(page.get_by_text("Tersimpan sebagai versi 2")).to_be_visible()
    expect(page.locator(".diff .add", has_text="id: Apa jenis laporan Anda?")).to_be_visible()
    shot(page, "script-diff")
    page.get_by_role("button", name="Terbitkan versi ini").click()
    expect(page.get_by_text("Versi 2 sekarang aktif")).to_be_visible()
    with services.db.transaction() as s:
        assert repo.published_script(s, "complaint").version == 2
    shot(page, "script-versions")

    page.goto(f"{url}/admin/scripts/complaint/v2/simulate")
    page.get_by_label("Pesan Anda").fill("halo")
    page.get_by_role("button", name="Kirim").click()
    expect(page.locator(".transcript")).to_contain_text("Apa jenis laporan Anda?")
    expect(page.locator(".transcript")).to_contain_text("SMS GSM-7")
    page.get_by_label("Pesan Anda").fill("1")
    page.get_by_label("Pesan Anda").press("Enter")
    expect(page.locator(".transcript")).to_contain_text(re.compile("judul", re.IGNORECASE))
    shot(page, "simulate")


def test_a_status_change_queues_the_citizens_notification_and_html_stays_inert(site, page: Page) -> None:
    url, services = site
    number = file_complaint(services, "Jalan rusak")
    sign_in(page, url, "ani")
    page.get_by_role("link", name="Pengaduan").first.click()
    shot(page, "complaints")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=f"{number}: Jalan rusak")).to_be_visible()
    assert page.evaluate("window.pwned") is None  # the citizen's <script> and onerror never ran
    expect(page.locator(".facts")).to_contain_text("<script>window.pwned = 1</script>")  # shown as text
    page.get_by_label("Status baru").select_option("in_progress")
    page.get_by_label("Catatan untuk warga").fill("Tim survei datang Senin.")
    page.get_by_role("button", name="Simpan dan beri tahu warga").click()
    expect(page.get_by_role("status")).to_contain_text("pemberitahuan untuk warga sudah diantrekan")
    shot(page, "complaint")
    with services.db.transaction() as s:
        note = s.scalars(select(Message).join(Outbox, Outbox.message_id == Message.id)
                         .where(Outbox.kind == "notification")).one()
        assert number in note.text and "Tim survei datang Senin." in note.text

    page.get_by_role("link", name="Pengaduan").first.click()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    content = Path(download.value.path()).read_text(encoding="utf-8")
    assert content.startswith("tracking_number,status,") and number in content


def test_funnel_and_deliveries_pages(site, page: Page) -> None:
    url, services = site
    file_complaint(services, "Lampu mati")
    sign_in(page, url, "ani")
    page.goto(f"{url}/admin/scripts/complaint/funnel")
    expect(page.locator("svg.funnel")).to_be_visible()
    expect(page.get_by_text("1 percakapan dimulai, 1 selesai")).to_be_visible()
    shot(page, "funnel")
    page.get_by_role("link", name="Pengiriman").click()
    page.get_by_role("link", name="Menunggu").click()
    expect(page.get_by_role("button", name="Kirim ulang").first).to_be_visible()
    shot(page, "deliveries")


def test_the_complaint_page_shows_the_photo_and_the_region_within_the_csp(site, page: Page) -> None:
    url, services = site
    lines = ["halo", "1", "Jalan berlubang", "Lubang besar di depan SD Negeri 3 sudah sebulan.", "1",
             "Jl. Merdeka 10, Kec. Coblong, Kota Bandung", "kemarin", "photo", "2", "ya"]
    for line in lines:
        media = (Media("ref-photo-1", "image/jpeg"),) if line == "photo" else ()
        result = services.intake.handle(InboundMessage("telegram", "5550001", "" if media else line, uuid.uuid4().hex,
                                                       repo.utcnow(), media=media))
    number = result.tracking_number
    with services.db.reading() as s:
        [attachment_id] = s.scalars(select(Attachment.id)).all()
    photo = jpeg(900, 600, (30, 120, 60))
    keep(services, attachment_id, photo)  # what the download worker does (bot.media.downloads)
    kept = process(photo)
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text
            else None)
    sign_in(page, url, "vina")
    page.goto(f"{url}/admin/complaints/{number}")
    expect(page.get_by_text("Coblong, Kota Bandung, Jawa Barat (32.73.02)")).to_be_visible()
    image = page.get_by_role("img", name="Foto 1")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 320  # the thumbnail loaded
    shot(page, "complaint-evidence")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Unduh image.jpeg")).click()
    assert Path(download.value.path()).read_bytes() == kept.data
    page.goto(f"{url}/admin/complaints/?province=32&regency=32.73")
    expect(page.get_by_role("link", name=number)).to_be_visible()
    expect(page.get_by_label("Kabupaten/kota")).to_have_value("32.73")
    assert violations == []

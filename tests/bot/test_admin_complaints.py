"""Complaints in /admin over real HTTP: list, filters, search, detail, a status change that is
told to the citizen, exports that honour privacy; and everything a citizen wrote is inert."""
from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator

import pytest
import requests
from admin_support import admin_site, field, signed_in
from media_support import jpeg, keep
from PIL import Image
from sqlalchemy import select

from bot.services import Services
from channels.base import InboundMessage, Media
from storage import repository as repo
from storage.models import Attachment, AuditEntry, Message, Outbox

XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def file_complaint(services: Services, sender: str, title: str, *, anonymous: bool, channel: str = "sms",
                   place: str = "Jl. Merdeka 1", photo: bool = False) -> str:
    lines = ["halo", "1", title, f"Jalan di depan sekolah rusak parah sejak Januari. {XSS}", "1", place,
             "kemarin", "photo" if photo else "lewati", "2" if anonymous else "1",
             *([] if anonymous else ["Budi Santoso"]), "ya"]
    for line in lines:
        media = (Media(f"ref-{uuid.uuid4().hex}", "image/jpeg"),) if line == "photo" else ()
        result = services.intake.handle(InboundMessage(channel, sender, "" if media else line, uuid.uuid4().hex,
                                                       repo.utcnow(), media=media))
    return result.tracking_number


def keep_photos(services: Services) -> None:
    """What the download worker does with the photos, done here directly."""
    with services.db.reading() as s:
        ids = list(s.scalars(select(Attachment.id)))
    for attachment_id in ids:
        keep(services, attachment_id, jpeg(800, 600, (200, 10, 10)))


@pytest.fixture
def admin_app(db, db_url: str) -> Iterator[tuple[str, Services, list[str]]]:
    with admin_site(db_url) as (url, services):
        numbers = [file_complaint(services, "+6281311110001", "Jalan rusak", anonymous=False),
                   file_complaint(services, "+6281322220002", f"Judul {XSS}", anonymous=True),
                   file_complaint(services, "+6281333330003", "Lampu mati", anonymous=False, channel="whatsapp")]
        yield url, services, numbers


def listed(page: str) -> list[str]:
    return re.findall(r">(LAP-[0-9A-Z]{6})</a>", page)


def test_the_list_filters_and_searches(admin_app) -> None:
    url, _, numbers = admin_app
    viewer = signed_in(url, "vina")
    assert listed(viewer.get(f"{url}/admin/complaints/", timeout=10).text) == numbers[::-1]
    assert listed(viewer.get(f"{url}/admin/complaints/?channel=whatsapp", timeout=10).text) == [numbers[2]]
    assert listed(viewer.get(f"{url}/admin/complaints/?q=lampu", timeout=10).text) == [numbers[2]]
    assert listed(viewer.get(f"{url}/admin/complaints/?q=100%25", timeout=10).text) == []  # % is literal
    assert listed(viewer.get(f"{url}/admin/complaints/?status=resolved", timeout=10).text) == []
    assert listed(viewer.get(f"{url}/admin/complaints/?from=2000-01-01&to=2999-12-31", timeout=10).text) == numbers[::-1]


def test_what_a_citizen_wrote_is_inert_everywhere(admin_app) -> None:
    url, _, numbers = admin_app
    viewer = signed_in(url, "vina")
    for page in (viewer.get(f"{url}/admin/complaints/", timeout=10).text,
                 viewer.get(f"{url}/admin/complaints/{numbers[1]}", timeout=10).text):
        assert "<script>" not in page and "<img" not in page
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_the_detail_shows_the_transcript_and_hides_an_anonymous_reporter(admin_app) -> None:
    url, _, numbers = admin_app
    viewer = signed_in(url, "vina")
    named = viewer.get(f"{url}/admin/complaints/{numbers[0]}", timeout=10).text
    hidden = viewer.get(f"{url}/admin/complaints/{numbers[1].lower()}", timeout=10).text
    assert "Budi Santoso" in named and "Budi Santoso" not in hidden and "(disembunyikan)" in hidden
    assert "Warga:" in named and "Selamat datang" in named  # the transcript, both sides
    assert "81311110001" not in named  # never a phone number
    assert "Ubah status" not in named  # viewers read only
    assert viewer.get(f"{url}/admin/complaints/LAP-000000", timeout=10).status_code == 404


def test_an_admin_changes_a_status_and_the_citizen_is_told(admin_app) -> None:
    url, services, numbers = admin_app
    admin = signed_in(url, "ani")
    page = admin.get(f"{url}/admin/complaints/{numbers[0]}", timeout=10)
    done = admin.post(f"{url}/admin/complaints/{numbers[0]}/status", timeout=10,
                      data={"csrf_token": field(page.text), "status": "in_progress", "note": "Tim datang Senin."})
    assert "pemberitahuan untuk warga sudah diantrekan" in done.text and "in_progress" in done.text
    with services.db.transaction() as s:
        note = s.scalars(select(Message).join(Outbox, Outbox.message_id == Message.id)
                         .where(Outbox.kind == "notification")).one()
        assert numbers[0] in note.text and "Tim datang Senin." in note.text and note.channel == "sms"
        assert [(e.actor, e.action, e.target) for e in s.scalars(select(AuditEntry))
                if e.action == "complaint-status"] == [("ani", "complaint-status", numbers[0])]
    viewer = signed_in(url, "vina")
    page = viewer.get(f"{url}/admin/", timeout=10)
    denied = viewer.post(f"{url}/admin/complaints/{numbers[0]}/status", timeout=10,
                         data={"csrf_token": field(page.text), "status": "resolved"})
    assert denied.status_code == 403


def test_exports_honour_privacy_and_are_audited(admin_app) -> None:
    url, services, numbers = admin_app
    viewer = signed_in(url, "vina")
    csv_text = viewer.get(f"{url}/admin/complaints/export.csv", timeout=10)
    assert csv_text.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in csv_text.headers["Content-Disposition"]
    json_text = viewer.get(f"{url}/admin/complaints/export.json", timeout=10).text
    records = json.loads(json_text)
    assert {r["tracking_number"]: r["anonymous"] for r in records} == {numbers[0]: False, numbers[1]: True, numbers[2]: False}
    assert all("reporter_name" not in r for r in records)
    for export in (csv_text.text, json_text):  # no names, anonymous or not, and no contacts at all
        # the numbers' digits (a bare "628" once matched a timestamp's microseconds)
        assert "Budi" not in export and not any(digits in export for digits in ("81311110001", "81322220002", "81333330003"))
    with services.db.transaction() as s:
        assert [e.detail for e in s.scalars(select(AuditEntry)) if e.action == "complaints-export"] == [
            {"format": "csv", "count": 3}, {"format": "json", "count": 3}]


def test_editors_do_not_see_complaints(admin_app) -> None:
    url, _, _ = admin_app
    assert signed_in(url, "eko").get(f"{url}/admin/complaints/", timeout=10).status_code == 403


def test_a_value_that_cannot_be_decrypted_never_breaks_a_page(admin_app) -> None:
    """Reproduced: a reporter name encrypted with another key made the detail page answer 500."""
    from storage.crypto import DataCipher

    url, services, numbers = admin_app
    with services.db.transaction() as s:
        complaint = repo.complaint_by_tracking(s, numbers[0])
        complaint.reporter_name_enc = DataCipher.from_secret("some-other-key").encrypt("Budi Santoso")
        for message in s.scalars(select(Message).where(Message.conversation_id == complaint.conversation_id,
                                                       Message.text_enc.is_not(None))):
            message.text_enc = DataCipher.from_secret("some-other-key").encrypt("Budi Santoso")
    admin = signed_in(url, "ani")
    page = admin.get(f"{url}/admin/complaints/{numbers[0]}", timeout=10)
    assert page.status_code == 200 and "tidak dapat dibuka" in page.text and "Budi Santoso" not in page.text
    assert admin.get(f"{url}/admin/complaints/export.csv", timeout=10).status_code == 200


@pytest.fixture
def regional_app(db, db_url: str) -> Iterator[tuple[str, Services, list[str]]]:
    with admin_site(db_url) as (url, services):
        numbers = [file_complaint(services, "+628444", "Jalan Coblong", anonymous=True,
                                  place="Jl. Merdeka 10, Kec. Coblong, Kota Bandung", photo=True),
                   file_complaint(services, "+628555", "Jembatan Garut", anonymous=False, place="Kab. Garut"),
                   file_complaint(services, "+628666", "Jalan Semarang", anonymous=False, place="Kota Semarang")]
        keep_photos(services)
        yield url, services, numbers


def test_complaints_filter_by_province_and_regency(regional_app) -> None:
    url, _, (bandung, garut, semarang) = regional_app
    viewer = signed_in(url, "vina")
    page = viewer.get(f"{url}/admin/complaints/", timeout=10).text
    assert '<option value="32" >Jawa Barat</option>' in page and "Kabupaten/kota" not in page
    assert listed(viewer.get(f"{url}/admin/complaints/?province=32", timeout=10).text) == [garut, bandung]
    assert listed(viewer.get(f"{url}/admin/complaints/?province=33", timeout=10).text) == [semarang]
    west_java = viewer.get(f"{url}/admin/complaints/?province=32&regency=32.73", timeout=10).text
    assert listed(west_java) == [bandung]
    assert '<option value="32.73" selected>Kota Bandung</option>' in west_java
    # a regency outside the province, or a code that is no region, filters nothing
    assert listed(viewer.get(f"{url}/admin/complaints/?province=33&regency=32.73", timeout=10).text) == [semarang]
    assert listed(viewer.get(f"{url}/admin/complaints/?province=%27or1", timeout=10).text) == [semarang, garut, bandung]
    exported = {row["tracking_number"]: row for row in viewer.get(f"{url}/admin/complaints/export.json", timeout=10).json()}
    assert (exported[bandung]["regency_code"], exported[bandung]["regency"]) == ("32.73", "Kota Bandung")
    assert (exported[bandung]["district"], exported[bandung]["village"]) == ("Coblong", None)
    assert exported[garut]["province_code"] == "32" and exported[garut]["district_code"] is None


def test_the_detail_shows_the_region_the_agency_and_the_photo(regional_app) -> None:
    url, services, (bandung, garut, _) = regional_app
    viewer = signed_in(url, "vina")
    page = viewer.get(f"{url}/admin/complaints/{bandung}", timeout=10).text
    assert "Coblong, Kota Bandung, Jawa Barat (32.73.02)" in page
    assert "Pemerintah Kota Bandung" in page
    [thumb] = re.findall(r'<img src="([^"]+/thumb)"', page)
    [download] = re.findall(r'<a href="([^"]+/files/[0-9]+)" download>', page)
    image = viewer.get(f"{url}{thumb}", timeout=10)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(image.content)).size) <= 320
    full = viewer.get(f"{url}{download}", timeout=10)
    assert full.status_code == 200 and Image.open(io.BytesIO(full.content)).size == (800, 600)
    assert "img-src 'self'" in full.headers["Content-Security-Policy"]
    other = download.replace(bandung, garut)  # the file is not that complaint's
    assert viewer.get(f"{url}{other}", timeout=10).status_code == 404
    assert requests.get(f"{url}{download}", timeout=10, allow_redirects=False).status_code in (302, 401, 403)
    assert "Kabupaten Garut" in viewer.get(f"{url}/admin/complaints/{garut}", timeout=10).text

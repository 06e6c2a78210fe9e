"""Evidence and place end to end, over real HTTP: a WhatsApp photo (through Twilio's media API,
with its redirect, and the real twilio client for the replies) and a Telegram photo (through
python-telegram-bot's getFile and download) reach a webhook registry with the region and the
responsible agency. The registry opens each file from its signed link, without credentials,
and finds no EXIF or GPS in it; an altered link is refused."""
from __future__ import annotations

import hashlib
import io
import json
from urllib.parse import urlsplit

import pytest
import requests
from media_support import GPS_IFD, VOICE_NOTE, jpeg
from PIL import Image
from providers.registry_webhook import WebhookRegistryServer
from providers.telegram_api import TOKEN, TelegramApiServer
from providers.twilio_api import TwilioApiServer
from stacks import telegram_service, whatsapp_service
from tests_support import wait_for

from bot.services import Services
from storage.models import Attachment

CITIZEN = "+6281298765432"
SECRET = "evidence-secret"
CHAT = 5550123
BEFORE_PHOTO = ["halo", "1", "Jalan berlubang", "Lubang besar di depan SD Negeri 3 sudah sebulan, dua motor jatuh.",
                "1", "Jl. Merdeka 10, Kec. Coblong, Kota Bandung", "kemarin"]
AFTER_PHOTO = ["2", "ya"]  # anonymous, then send


def opened_without_metadata(registry_body: dict) -> Image.Image:
    """Fetch the first attachment from its signed link, as a registry would (no credentials),
    check its size and hash, and return the image, asserting it carries no EXIF at all."""
    [item] = registry_body["attachments"]
    response = requests.get(item["url"], timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == item["content_type"] == "image/jpeg"
    assert len(response.content) == item["size"]
    assert hashlib.sha256(response.content).hexdigest() == item["sha256"]
    image = Image.open(io.BytesIO(response.content))
    assert dict(image.getexif()) == {} and "exif" not in image.info
    assert image.getexif().get_ifd(GPS_IFD) == {}
    assert image.size == (1200, 1600)  # auto-rotated
    tampered = item["url"].replace("signature=", "signature=0")
    assert requests.get(tampered, timeout=10).status_code == 403
    split = urlsplit(item["url"])
    assert requests.get(f"{split.scheme}://{split.netloc}{split.path}", timeout=10).status_code == 403
    return image


def check_place_and_agency(body: dict) -> None:
    region = body["location"]["region"]
    assert region["province"] == {"code": "32", "name": "Jawa Barat"}
    assert region["regency"] == {"code": "32.73", "name": "Kota Bandung"}
    assert region["district"] == {"code": "32.73.02", "name": "Coblong"}
    assert region["village"] is None
    assert body["agency"] == "Pemerintah Kota Bandung"
    assert body["anonymous"] is True and body["reporter"] is None


def received_photo(registry: WebhookRegistryServer, services: Services) -> Attachment:
    """Wait for the complaint at the registry; check its place, agency and photo; return the
    photo's attachment row (stored)."""
    [body] = wait_for(lambda: registry.received, timeout=20)
    check_place_and_agency(body)
    opened_without_metadata(body)
    with services.db.reading() as session:
        [kept] = session.query(Attachment).all()
    assert (kept.status, kept.kind, kept.content_type) == ("stored", "image", "image/jpeg")
    return kept


def test_a_whatsapp_photo_reaches_the_registry_without_exif(db, db_url: str) -> None:
    with TwilioApiServer() as twilio, WebhookRegistryServer(SECRET) as registry, \
            whatsapp_service(db_url, twilio, CITIZEN, registry) as (send, services):
        for line in BEFORE_PHOTO:
            send(line)
        send("", media=(jpeg(1600, 1200, exif=True), "image/jpeg"))
        for line in AFTER_PHOTO:
            send(line)
        received_photo(registry, services)
    assert len(twilio.media_fetches) == 1
    assert twilio.violations == [] and registry.violations == []
    assert CITIZEN[1:].encode() not in registry.raw[0]


def test_a_telegram_photo_reaches_the_registry_without_exif(db, db_url: str) -> None:
    photo, small = jpeg(1600, 1200, exif=True), jpeg(160, 120, exif=True)
    with TelegramApiServer() as telegram, WebhookRegistryServer(SECRET) as registry:
        telegram.put_file("AgADsmall", small, "photos/file_0.jpg")
        telegram.put_file("AgADlarge", photo, "photos/file_1.jpg")
        with telegram_service(db_url, telegram, CHAT, registry) as (send, services):
            for line in BEFORE_PHOTO:
                send(line)
            send(photo=[{"file_id": "AgADsmall", "file_unique_id": "s1", "width": 160, "height": 120,
                         "file_size": len(small)},
                        {"file_id": "AgADlarge", "file_unique_id": "l1", "width": 1600, "height": 1200,
                         "file_size": len(photo)}])
            for line in AFTER_PHOTO:
                send(line)
            kept = received_photo(registry, services)
            assert TOKEN not in kept.ref and TOKEN not in (kept.error or "")
    assert [call["file_id"] for call in telegram.calls_to("getFile")] == ["AgADlarge"]  # the largest size only
    assert telegram.violations == [] and registry.violations == []


@pytest.mark.parametrize("content", [b"PK\x03\x04" + b"\x00" * 200, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200])
def test_a_file_we_do_not_keep_is_refused_kindly(db, db_url: str, content: bytes) -> None:
    with TelegramApiServer() as telegram:
        telegram.put_file("BQADfile", content, "documents/file_9.bin")
        with telegram_service(db_url, telegram, CHAT) as (send, services):
            send(document={"file_id": "BQADfile", "file_unique_id": "d1", "file_name": "ktp-budi.pdf",
                           "mime_type": "application/pdf", "file_size": len(content)})
            told = wait_for(lambda: [c for c in telegram.calls_to("sendMessage")
                                     if "tidak bisa kami terima" in c["text"]], timeout=10)
            with services.db.reading() as session:
                [row] = session.query(Attachment).all()
                assert row.status == "refused" and row.sha256 is None
                assert "ktp-budi" not in json.dumps([row.ref, row.error, row.declared_type])  # no file name kept
    assert "Kirim foto, dokumen PDF, atau pesan suara" in told[0]["text"]


def test_a_telegram_voice_note_answers_the_description_and_reaches_the_registry(db, db_url: str) -> None:
    with TelegramApiServer() as telegram, WebhookRegistryServer(SECRET) as registry:
        telegram.put_file("AwACvoice", VOICE_NOTE, "voice/file_2.oga")
        with telegram_service(db_url, telegram, CHAT, registry) as (send, _):
            for line in ("halo", "1", "Jalan berlubang"):
                send(line)
            send(voice={"file_id": "AwACvoice", "file_unique_id": "v1", "duration": 7, "mime_type": "audio/ogg",
                        "file_size": len(VOICE_NOTE)})
            for line in ("1", "Kota Bandung", "kemarin", "lewati", "2", "ya"):
                send(line)
            [body] = wait_for(lambda: registry.received, timeout=20)
            [item] = body["attachments"]
            assert body["description"] == "(Pesan suara terlampir)"
            assert item["content_type"] == "audio/ogg" and item["size"] == len(VOICE_NOTE)
            assert requests.get(item["url"], timeout=10).content == VOICE_NOTE  # kept as it is
    assert telegram.violations == [] and registry.violations == []

"""WhatsApp and SMS end to end: signed webhooks over real HTTP into the app, replies through the
real twilio client into a local Twilio API that validates every request against the spec."""
from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import requests
from media_support import jpeg
from providers.twilio_api import ACCOUNT_SID, AUTH_TOKEN, TwilioApiServer, sign
from sqlalchemy import func, select
from tests_support import LiveServer, free_port, make_settings, wait_for

from bot.app import create_app
from bot.scripts import sync_files
from bot.services import Services, build_services
from channels.sms import sms_size
from channels.twilio import TwilioChannel
from storage import repository as repo
from storage.models import Attachment, Contact, Conversation, Message, Outbox

WA_FROM = "+14155238886"
SMS_FROM = "+15005550006"
CITIZEN = "+6281234567890"
HAPPY = ["halo", "1", "Jalan rusak", "Jalan di depan sekolah rusak parah sejak Januari.", "1",
         "Jl. Merdeka 1", "kemarin", "lewati", "1", "Budi Santoso", "ya"]


@dataclass
class Stack:
    services: Services
    twilio: TwilioApiServer
    url: str

    def post(self, path: str, form: dict[str, str], *, signature: str | None = None) -> requests.Response:
        """POST a form as Twilio does, signed over the public URL unless ``signature`` is given."""
        url = self.url + path
        headers = {"X-Twilio-Signature": signature if signature is not None else sign(url, form, AUTH_TOKEN)}
        return requests.post(url, data=form, headers=headers, timeout=10)

    def inbound(self, kind: str, text: str, *, sid: str | None = None, sender: str = CITIZEN, **extra: str) -> requests.Response:
        prefix = "whatsapp:" if kind == "whatsapp" else ""
        form = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": prefix + sender,
                "To": prefix + (WA_FROM if kind == "whatsapp" else SMS_FROM), "Body": text, "NumMedia": "0", **extra}
        return self.post(f"/webhooks/twilio/{kind}", form)

    def count(self, model, *where) -> int:
        with self.services.db.transaction() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where))

    def replies_to(self, number: str) -> list[dict]:
        return [m for m in self.twilio.messages if m["To"].endswith(number)]


@pytest.fixture
def stack(db, db_url: str) -> Iterator[Stack]:
    port = free_port()
    with TwilioApiServer() as twilio:
        env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": WA_FROM,
               "TWILIO_SMS_FROM": SMS_FROM, "TWILIO_API_BASE_URL": twilio.base_url,
               "LAPOR_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        settings = make_settings(db_url, extra_env=env)
        channels = {kind: TwilioChannel.from_env(kind, settings.env, settings.public_url) for kind in ("whatsapp", "sms")}
        services = build_services(settings, channels=channels)
        sync_files(services.db, settings.scripts_dir, repo.utcnow())
        services.start_worker()
        try:
            with LiveServer(create_app(settings, services), port) as live:
                yield Stack(services, twilio, live.url)
        finally:
            services.close()
        assert twilio.violations == []


def test_a_whatsapp_message_is_answered_through_twilio(stack: Stack) -> None:
    response = stack.inbound("whatsapp", "halo", ProfileName="Budi", WaId="6281234567890")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml") and response.text.endswith("<Response></Response>")
    sent = wait_for(lambda: len(stack.replies_to(CITIZEN)) == 1 and stack.replies_to(CITIZEN))
    assert [m["To"] for m in sent] == [f"whatsapp:{CITIZEN}"]
    assert all(m["From"] == f"whatsapp:{WA_FROM}" for m in sent)
    assert sent[0]["Body"].startswith("Selamat datang") and "\n1. Pengaduan" in sent[0]["Body"]
    assert all(m["StatusCallback"] == f"{stack.url}/webhooks/twilio/status" for m in sent)


@pytest.mark.parametrize("signature", ["", "forged", "bad-base64=="])
def test_a_forged_or_missing_signature_is_403_and_stores_nothing(stack: Stack, signature: str) -> None:
    form = {"MessageSid": "SM1", "From": f"whatsapp:{CITIZEN}", "Body": "halo"}
    response = stack.post("/webhooks/twilio/whatsapp", form, signature=signature)
    assert response.status_code == 403
    assert stack.count(Message) == 0 and stack.count(Contact) == 0


def test_a_signature_for_other_params_is_403(stack: Stack) -> None:
    form = {"MessageSid": "SM1", "From": f"whatsapp:{CITIZEN}", "Body": "halo"}
    tampered = dict(form, Body="STOP")
    response = stack.post("/webhooks/twilio/whatsapp", tampered, signature=sign(stack.url + "/webhooks/twilio/whatsapp", form, AUTH_TOKEN))
    assert response.status_code == 403 and stack.count(Message) == 0


def test_a_malformed_but_signed_webhook_is_400_and_stores_nothing(stack: Stack) -> None:
    response = stack.post("/webhooks/twilio/sms", {"From": CITIZEN, "Body": "halo"})  # no MessageSid
    assert response.status_code == 400 and stack.count(Message) == 0


MEDIA_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"


@pytest.mark.parametrize("extra", [
    pytest.param({"Body": "x" * 1601}, id="Body over 1600"),
    pytest.param({"NumMedia": "11", **{f"MediaUrl{n}": "{base}" + MEDIA_PATH for n in range(11)}}, id="11 media"),
    pytest.param({"NumMedia": "1", "MediaUrl0": "file:///etc/passwd"}, id="file URL"),
    pytest.param({"NumMedia": "1", "MediaUrl0": "http://127.0.0.1:5432" + MEDIA_PATH}, id="other loopback port"),
    pytest.param({"NumMedia": "1", "MediaUrl0": "https://evil.example" + MEDIA_PATH}, id="other host"),
    pytest.param({"Latitude": "1e1", "Longitude": "106.8272"}, id="exponent"),
    pytest.param({"Latitude": "-6.1754", "Longitude": "1_0"}, id="underscore"),
])
def test_input_twilio_never_sends_is_400_and_stores_nothing(stack: Stack, extra: dict[str, str]) -> None:
    fields = {name: value.format(base=stack.twilio.base_url) for name, value in extra.items()}
    response = stack.inbound("whatsapp", fields.pop("Body", "halo"), **fields)
    assert response.status_code == 400
    assert stack.count(Message) == 0 and stack.count(Contact) == 0 and stack.count(Outbox) == 0


def test_unknown_twilio_kind_is_404(stack: Stack) -> None:
    assert stack.post("/webhooks/twilio/fax", {"MessageSid": "SM1"}).status_code == 404


def test_the_same_message_sid_three_times_is_one_step_and_one_reply(stack: Stack) -> None:
    stack.inbound("sms", "halo")
    wait_for(lambda: len(stack.replies_to(CITIZEN)) == 1)
    for _ in range(3):
        assert stack.inbound("sms", "1", sid="SMdup0000000000000000000000000000").status_code == 200
    wait_for(lambda: len(stack.replies_to(CITIZEN)) == 2)
    with stack.services.db.transaction() as s:
        assert s.scalars(select(Conversation.step_id)).one() == "title"
    assert stack.count(Message, Message.direction == "in") == 2
    wait_for(lambda: stack.count(Outbox, Outbox.status != "done") == 0)
    assert len(stack.replies_to(CITIZEN)) == 2


def test_ten_parallel_messages_from_one_sender_are_processed_one_at_a_time(stack: Stack) -> None:
    stack.inbound("sms", "halo")
    stack.inbound("sms", "1")  # now at the title question (min 5 characters)
    barrier = threading.Barrier(10)
    codes: list[int] = []

    def send(i: int) -> None:
        barrier.wait()
        codes.append(stack.inbound("sms", str(i)).status_code)  # each too short: one rejection each

    threads = [threading.Thread(target=send, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 10
    with stack.services.db.transaction() as s:
        conversation = s.scalars(select(Conversation)).one()
        assert conversation.step_id == "title" and conversation.state["failures"] == 10  # no lost update
        inbound = s.scalars(select(Message).where(Message.direction == "in").order_by(Message.id)).all()
        replies = s.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)).all()
    # one reply per message, in the order the messages were processed
    assert len(inbound) == 12 and len(replies) == 1 + 1 + 10
    # each message saw the state the previous one left: help is offered from the third failure on
    offered = ["Perlu bantuan?" in r.text for r in replies[2:]]
    assert offered == [False, False] + [True] * 8
    # and each reply was written right after its own message, one message at a time
    assert all(reply.id > message.id for message, reply in zip(inbound[2:], replies[2:], strict=False))
    assert all(inbound[i + 3].id > replies[i + 2].id for i in range(9))
    wait_for(lambda: len(stack.replies_to(CITIZEN)) == 12, timeout=30)


def test_a_whole_complaint_over_sms_fits_sms_parts(stack: Stack) -> None:
    for line in HAPPY:
        assert stack.inbound("sms", line).status_code == 200
    sent = wait_for(lambda: (m := stack.replies_to(CITIZEN)) and "LAP-" in m[-1]["Body"] and m, timeout=30)
    assert all(sms_size(m["Body"]).segments <= 3 for m in sent)
    assert all(m["From"] == SMS_FROM and m["To"] == CITIZEN for m in sent)
    assert any("Periksa laporan Anda" in m["Body"] for m in sent)


def test_media_and_a_shared_location_fill_their_steps(stack: Stack) -> None:
    for line in HAPPY[:5]:
        stack.inbound("whatsapp", line)
    stack.inbound("whatsapp", "", Latitude="-6.1754", Longitude="106.8272", Address="Monas, Jakarta")
    stack.inbound("whatsapp", "hari ini")
    media_url = stack.twilio.put_media("MM" + "0" * 32, jpeg(40, 30), "image/jpeg")  # Twilio's media host is its API's
    assert stack.inbound("whatsapp", "", NumMedia="1", MediaUrl0=media_url, MediaContentType0="image/jpeg").status_code == 200
    with stack.services.db.transaction() as s:
        state = s.scalars(select(Conversation)).one().state
    location = state["answers"]["location"]
    assert {k: location[k] for k in ("text", "latitude", "longitude")} == {
        "text": "Monas, Jakarta", "latitude": -6.1754, "longitude": 106.8272}
    assert location["region"]["district"] == {"code": "31.71.01", "name": "Gambir"}
    assert state["answers"]["attachment"][0] == {"url": media_url, "content_type": "image/jpeg"}
    assert state["step_id"] == "privacy"
    wait_for(lambda: stack.count(Attachment, Attachment.status == "stored") == 1)  # downloaded after the commit


def test_status_callbacks_are_recorded(stack: Stack) -> None:
    stack.inbound("whatsapp", "halo")
    wait_for(lambda: stack.count(Message, Message.status == "sent") == 1)
    with stack.services.db.transaction() as s:
        sid = s.scalars(select(Message.provider_message_id).where(Message.direction == "out").order_by(Message.id)).first()
    callback = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID,
                "To": f"whatsapp:{CITIZEN}", "From": f"whatsapp:{WA_FROM}"}
    assert stack.post("/webhooks/twilio/status", callback).status_code == 200
    assert stack.post("/webhooks/twilio/status", dict(callback, MessageStatus="failed"), signature="nope").status_code == 403
    with stack.services.db.transaction() as s:
        assert s.scalars(select(Message.status).where(Message.provider_message_id == sid)).one() == "delivered"


def test_whatsapp_free_text_outside_the_24_hour_window_needs_a_template(stack: Stack) -> None:
    stack.inbound("whatsapp", "halo")
    wait_for(lambda: len(stack.replies_to(CITIZEN)) == 1)
    with stack.services.db.transaction() as s:
        contact = s.scalars(select(Contact)).one()
        contact.last_inbound_at = repo.utcnow() - timedelta(hours=25)
        message = repo.add_message(s, contact=contact, conversation=None, direction="out", channel="whatsapp",
                                   text="Kabar laporan LAP-7K3M9Q: selesai.", status="queued")
        repo.add_outbox(s, kind="notification", channel="whatsapp", contact_id=contact.id, message=message,
                        payload={}, now=repo.utcnow())

    def dead_letter() -> Outbox | None:  # the embedded worker may be the one that takes it: wait for either
        stack.services.delivery.drain()
        with stack.services.db.transaction() as s:
            row = s.scalars(select(Outbox).where(Outbox.kind == "notification")).one()
            s.expunge(row)
            return row if row.status == "dead" else None

    row = wait_for(dead_letter)
    assert "24-hour" in row.last_error
    with stack.services.db.transaction() as s:
        assert s.get(Message, row.message_id).status == "needs_template"
    assert len(stack.replies_to(CITIZEN)) == 1  # nothing more was sent


def test_a_provider_outage_is_retried_and_nothing_is_lost(stack: Stack) -> None:
    stack.twilio.fail_next(503, times=2)
    stack.inbound("sms", "halo")
    wait_for(lambda: stack.count(Outbox, Outbox.last_error.is_not(None)) >= 1)
    later = repo.utcnow() + timedelta(minutes=10)
    for _ in range(4):
        stack.services.delivery.run_once(now=later)
        later += timedelta(minutes=10)
    wait_for(lambda: len(stack.replies_to(CITIZEN)) == 1)
    assert stack.count(Outbox, Outbox.status == "done") == 1

"""TwilioChannel: webhooks signed with the real algorithm, sends through the real twilio Client to a
local Twilio API that checks every request against Twilio's OpenAPI spec."""
from __future__ import annotations

import logging
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from providers.twilio_api import ACCOUNT_SID, AUTH_TOKEN, TwilioApiServer, sign

from channels.base import (
    DeliveryError,
    InboundMessage,
    Location,
    Media,
    OutboundMessage,
    StatusUpdate,
    WebhookRejected,
    WebhookRequest,
)
from channels.twilio import DEFAULT_API_BASE_URL, TwilioChannel

PUBLIC_URL = "https://lapor.example.id"
SMS_URL = f"{PUBLIC_URL}/webhooks/twilio/sms"
WHATSAPP_URL = f"{PUBLIC_URL}/webhooks/twilio/whatsapp"
STATUS_URL = f"{PUBLIC_URL}/webhooks/twilio/status"
CITIZEN = "+6281234567890"
OUR_NUMBER = "+14155238886"
MESSAGE_SID = "SM" + "1f" * 16
MEDIA_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM{'2e' * 16}/Media/ME{'3d' * 16}"
MEDIA_URL = f"https://api.twilio.com{MEDIA_PATH}"  # what Twilio sends, on its own host


@pytest.fixture
def server() -> Iterator[TwilioApiServer]:
    with TwilioApiServer() as server:
        yield server


def channel(kind: str, api_base_url: str, *, from_number: str = OUR_NUMBER, timeout: float = 5.0) -> TwilioChannel:
    return TwilioChannel(
        kind,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=from_number,
        public_url=PUBLIC_URL,
        api_base_url=api_base_url,
        timeout=timeout,
    )


def offline(kind: str, api_base_url: str = DEFAULT_API_BASE_URL) -> TwilioChannel:
    """A channel for verify/parse tests, which make no HTTP calls: Twilio's own API base by
    default, since that is where inbound media must be."""
    return channel(kind, api_base_url)


def webhook(url: str, form: dict[str, str], signature: str | None = None) -> WebhookRequest:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return WebhookRequest(url=url, headers=headers, form=tuple(form.items()))


def signed(url: str, form: dict[str, str]) -> WebhookRequest:
    return webhook(url, form, sign(url, form, AUTH_TOKEN))


def sms_form(**extra: str) -> dict[str, str]:
    return {"MessageSid": MESSAGE_SID, "AccountSid": ACCOUNT_SID, "From": CITIZEN, "To": OUR_NUMBER,
            "Body": "Jalan rusak di depan sekolah", "NumMedia": "0", **extra}


def whatsapp_form(**extra: str) -> dict[str, str]:
    return {**sms_form(), "From": f"whatsapp:{CITIZEN}", "To": f"whatsapp:{OUR_NUMBER}",
            "WaId": CITIZEN.removeprefix("+"), "ProfileName": "Siti", **extra}


def outbound(kind: str, text: str = "Terima kasih. Balas 1, 2 atau 3.") -> OutboundMessage:
    return OutboundMessage(channel=kind, recipient=CITIZEN, text=text, message_id=41, choices=(("1", "Ya"),))


# --- verify -----------------------------------------------------------------------------------

def test_a_real_signature_over_the_public_url_passes() -> None:
    offline("sms").verify(signed(SMS_URL, sms_form()))
    offline("whatsapp").verify(signed(f"{WHATSAPP_URL}?lang=id", whatsapp_form()))


def test_repeated_form_keys_are_signed_with_every_value() -> None:
    form = (("MessageSid", MESSAGE_SID), ("Tag", "b"), ("Tag", "a"))
    # Twilio's algorithm: the URL, then each key (sorted) followed by each of its values (sorted)
    signature = sign(SMS_URL + "MessageSid" + MESSAGE_SID + "TagaTagb", {}, AUTH_TOKEN)
    offline("sms").verify(WebhookRequest(url=SMS_URL, headers={"X-Twilio-Signature": signature}, form=form))


@pytest.mark.parametrize("request_", [
    pytest.param(webhook(SMS_URL, sms_form()), id="missing"),
    pytest.param(webhook(SMS_URL, sms_form(), "bm90IGEgc2lnbmF0dXJl"), id="forged"),
    pytest.param(webhook(SMS_URL, sms_form(Body="diubah"), sign(SMS_URL, sms_form(), AUTH_TOKEN)), id="tampered param"),
    pytest.param(webhook(SMS_URL, sms_form(Extra="x"), sign(SMS_URL, sms_form(), AUTH_TOKEN)), id="added param"),
    pytest.param(webhook(SMS_URL, sms_form(), sign(WHATSAPP_URL, sms_form(), AUTH_TOKEN)), id="other url"),
    pytest.param(webhook(SMS_URL, sms_form(), sign(SMS_URL, sms_form(), "another-token")), id="other token"),
])
def test_bad_signatures_are_403(request_: WebhookRequest) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        offline("sms").verify(request_)
    assert rejected.value.status == 403
    assert CITIZEN not in str(rejected.value)


def test_the_signature_header_is_case_insensitive() -> None:
    form = sms_form()
    headers = {"x-twilio-signature": sign(SMS_URL, form, AUTH_TOKEN)}
    offline("sms").verify(WebhookRequest(url=SMS_URL, headers=headers, form=tuple(form.items())))


# --- parse ------------------------------------------------------------------------------------

def test_parse_an_sms() -> None:
    before = datetime.now(UTC)
    (message,) = offline("sms").parse(signed(SMS_URL, sms_form()))
    assert message == InboundMessage(
        channel="sms", sender=CITIZEN, text="Jalan rusak di depan sekolah",
        provider_message_id=MESSAGE_SID, received_at=message.received_at,
    )
    assert message.received_at.tzinfo is UTC and before <= message.received_at <= datetime.now(UTC)


def test_parse_whatsapp_media() -> None:
    form = whatsapp_form(Body="", NumMedia="2",
                         MediaUrl0=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1",
                         MediaContentType0="image/jpeg",
                         MediaUrl1=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME2")
    (message,) = offline("whatsapp").parse(signed(WHATSAPP_URL, form))
    assert (message.channel, message.sender, message.text, message.profile_name) == ("whatsapp", CITIZEN, "", "Siti")
    assert message.media == (
        Media(form["MediaUrl0"], "image/jpeg"),
        Media(form["MediaUrl1"], "application/octet-stream"),  # no MediaContentType1
    )


def test_parse_a_whatsapp_location() -> None:
    form = whatsapp_form(Body="", Latitude="-6.175392", Longitude="106.827153", Address="Monas, Gambir, Jakarta Pusat")
    (message,) = offline("whatsapp").parse(signed(WHATSAPP_URL, form))
    assert message.location == Location(-6.175392, 106.827153, "Monas, Gambir, Jakarta Pusat")
    assert message.profile_name == "Siti" and message.media == ()


def test_a_body_of_1600_characters_and_ten_media_pass() -> None:
    form = sms_form(Body="é" * 1600, NumMedia="10", **{f"MediaUrl{n}": MEDIA_URL + str(n) for n in range(10)})
    (message,) = offline("sms").parse(signed(SMS_URL, form))
    assert len(message.text) == 1600 and [m.url for m in message.media] == [MEDIA_URL + str(n) for n in range(10)]


@pytest.mark.parametrize("url", [
    pytest.param(MEDIA_URL.replace("https:", "http:"), id="http"),
    pytest.param(f"https://evil.example{MEDIA_PATH}", id="other host"),
    pytest.param(f"https://api.twilio.com.evil.example{MEDIA_PATH}", id="host suffix"),
    pytest.param(f"https://evil.example/api.twilio.com{MEDIA_PATH}", id="host in the path"),
    pytest.param(f"https://user:pw@api.twilio.com{MEDIA_PATH}", id="userinfo"),
    pytest.param(f"https://api.twilio.com@evil.example{MEDIA_PATH}", id="host as userinfo"),
    pytest.param(f"https://api.twilio.com:8443{MEDIA_PATH}", id="other port"),
    pytest.param(f"https://API.TWILIO.COM{MEDIA_PATH}", id="other spelling"),
    pytest.param(f"http://127.0.0.1{MEDIA_PATH}", id="loopback"),
    pytest.param(f"http://localhost:8000{MEDIA_PATH}", id="localhost"),
    pytest.param(f"http://169.254.169.254{MEDIA_PATH}", id="link-local metadata"),
    pytest.param("file:///etc/passwd", id="file"),
    pytest.param(f"file://api.twilio.com{MEDIA_PATH}", id="file on the host"),
    pytest.param("data:image/jpeg;base64,/9j/4AAQSkZJRg==", id="data"),
    pytest.param(f"//api.twilio.com{MEDIA_PATH}", id="scheme-relative"),
    pytest.param(MEDIA_PATH, id="relative"),
    pytest.param(MEDIA_URL.replace(ACCOUNT_SID, "AC" + "0" * 32), id="other account"),
    pytest.param(MEDIA_URL.replace("/Messages/", "/Calls/"), id="not a message's"),
    pytest.param(f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/../../../x",
                 id="dot segments"),
    pytest.param(f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/%2e%2e",
                 id="encoded dot segments"),
    pytest.param(f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1", id="no medium"),
    pytest.param(MEDIA_URL + "?redirect=https://evil.example", id="query"),
    pytest.param(MEDIA_URL + "#x", id="fragment"),
    pytest.param(MEDIA_URL + "\n", id="trailing newline"),
    pytest.param(" " + MEDIA_URL, id="leading space"),
    pytest.param(MEDIA_URL + "\x00", id="NUL"),
])
def test_a_media_url_off_twilios_media_host_is_400(url: str) -> None:
    form = whatsapp_form(NumMedia="1", MediaUrl0=url, MediaContentType0="image/jpeg")
    with pytest.raises(WebhookRejected, match="MediaUrl0") as rejected:
        offline("whatsapp").parse(signed(WHATSAPP_URL, form))
    assert rejected.value.status == 400


def test_media_must_be_on_the_configured_api_base() -> None:
    """A local stand-in for Twilio (http on a loopback host) serves its own media, and only those."""
    local = offline("whatsapp", "http://127.0.0.1:8080/")
    good = f"http://127.0.0.1:8080{MEDIA_PATH}"
    (message,) = local.parse(signed(WHATSAPP_URL, whatsapp_form(NumMedia="1", MediaUrl0=good)))
    assert message.media == (Media(good),)
    for url in (MEDIA_URL, f"http://127.0.0.1:8081{MEDIA_PATH}", f"https://127.0.0.1:8080{MEDIA_PATH}",
                f"http://localhost:8080{MEDIA_PATH}"):
        with pytest.raises(WebhookRejected, match="MediaUrl0"):
            local.parse(signed(WHATSAPP_URL, whatsapp_form(NumMedia="1", MediaUrl0=url)))


def test_media_are_https_unless_the_api_base_is_a_loopback_stand_in() -> None:
    proxied = offline("sms", "http://twilio-proxy.internal")
    secure = f"https://twilio-proxy.internal{MEDIA_PATH}"
    (message,) = proxied.parse(signed(SMS_URL, sms_form(NumMedia="1", MediaUrl0=secure)))
    assert message.media == (Media(secure),)
    with pytest.raises(WebhookRejected, match="MediaUrl0"):
        proxied.parse(signed(SMS_URL, sms_form(NumMedia="1", MediaUrl0=secure.replace("https:", "http:"))))


@pytest.mark.parametrize("latitude, longitude", [
    ("-6.9147", "107.6098"), ("0", "0"), ("-0", "-0.0"), ("90", "-180"), ("-90.00000000000000000000", "180.0"),
    ("1.12345678901234567890", "012.5"),
])
def test_plain_decimal_coordinates_in_range_pass(latitude: str, longitude: str) -> None:
    form = whatsapp_form(Body="", Latitude=latitude, Longitude=longitude)
    (message,) = offline("whatsapp").parse(signed(WHATSAPP_URL, form))
    assert message.location == Location(float(latitude), float(longitude))


@pytest.mark.parametrize("coordinate", [
    "1e1", "1E1", "1_0", " 5", "5 ", "5\n", "+5", "0x10", "inf", "-inf", "Infinity", "nan", "NaN", "٣", "１",
    "1.", ".5", "-", "--1", "1,5", "1234", "1.123456789012345678901", "", "180.0000001", "-999",
])
@pytest.mark.parametrize("name", ["Latitude", "Longitude"])
def test_coordinates_that_are_not_plain_decimals_in_range_are_400(name: str, coordinate: str) -> None:
    form = whatsapp_form(Body="", **{"Latitude": "-6.9147", "Longitude": "107.6098", name: coordinate})
    with pytest.raises(WebhookRejected, match=name) as rejected:
        offline("whatsapp").parse(signed(WHATSAPP_URL, form))
    assert rejected.value.status == 400


@pytest.mark.parametrize("kind, form, reason", [
    ("sms", {k: v for k, v in sms_form().items() if k != "MessageSid"}, "missing MessageSid"),
    ("sms", {k: v for k, v in sms_form().items() if k != "From"}, "missing From"),
    ("sms", sms_form(NumMedia="dua"), "NumMedia"),
    ("sms", sms_form(NumMedia="-1"), "NumMedia"),
    ("sms", sms_form(NumMedia="2", MediaUrl0=MEDIA_URL), "missing MediaUrl1"),
    ("sms", sms_form(NumMedia="11", **{f"MediaUrl{n}": MEDIA_URL for n in range(11)}), "NumMedia"),
    ("sms", sms_form(NumMedia="99"), "NumMedia"),
    ("sms", sms_form(Body="x" * 1601), "Body"),
    ("sms", sms_form(From="081234567890"), "E.164"),
    ("sms", sms_form(From=f"whatsapp:{CITIZEN}"), "WhatsApp"),
    ("whatsapp", whatsapp_form(From=CITIZEN), "non-WhatsApp"),
    ("whatsapp", whatsapp_form(Latitude="utara", Longitude="106.8"), "Latitude"),
    ("whatsapp", whatsapp_form(Latitude="-91", Longitude="106.8"), "Latitude"),
    ("whatsapp", whatsapp_form(Latitude="90.0000001", Longitude="106.8"), "Latitude"),
    ("whatsapp", whatsapp_form(Latitude="-6.1", Longitude="180.5"), "Longitude"),
    ("whatsapp", whatsapp_form(Latitude="-6.1", Longitude="nan"), "Longitude"),
    ("whatsapp", whatsapp_form(Latitude="-6.1"), "together"),
])
def test_malformed_webhooks_are_400(kind: str, form: dict[str, str], reason: str) -> None:
    url = WHATSAPP_URL if kind == "whatsapp" else SMS_URL
    with pytest.raises(WebhookRejected, match=reason) as rejected:
        offline(kind).parse(signed(url, form))
    assert rejected.value.status == 400
    assert CITIZEN.removeprefix("+") not in str(rejected.value)


# --- status callbacks ---------------------------------------------------------------------------

def status_form(status: str, *, to: str = CITIZEN, **extra: str) -> dict[str, str]:
    return {"MessageSid": MESSAGE_SID, "MessageStatus": status, "SmsStatus": status, "AccountSid": ACCOUNT_SID,
            "From": OUR_NUMBER, "To": to, "ApiVersion": "2010-04-01", **extra}


@pytest.mark.parametrize("reported, status", [
    ("queued", "sent"), ("sending", "sent"), ("sent", "sent"), ("delivered", "delivered"),
    ("undelivered", "undelivered"), ("failed", "failed"), ("read", "read"),
])
def test_parse_status(reported: str, status: str) -> None:
    update = offline("sms").parse_status(signed(STATUS_URL, status_form(reported)))
    assert update == StatusUpdate(channel="sms", provider_message_id=MESSAGE_SID, status=status)


def test_parse_a_failed_status_with_its_error() -> None:
    form = status_form("undelivered", ErrorCode="30003", ErrorMessage="Unreachable destination handset")
    update = offline("sms").parse_status(signed(STATUS_URL, form))
    assert update.status == "undelivered" and update.error == "30003 Unreachable destination handset"


def test_status_channel_comes_from_the_to_address() -> None:
    """Every Twilio kind shares /webhooks/twilio/status, so either channel can parse any callback."""
    form = status_form("read", to=f"whatsapp:{CITIZEN}")
    assert offline("sms").parse_status(signed(STATUS_URL, form)).channel == "whatsapp"
    assert offline("whatsapp").parse_status(signed(STATUS_URL, status_form("sent"))).channel == "sms"


@pytest.mark.parametrize("form, reason", [
    ({k: v for k, v in status_form("sent").items() if k != "MessageSid"}, "missing MessageSid"),
    ({k: v for k, v in status_form("sent").items() if k != "MessageStatus"}, "missing MessageStatus"),
    (status_form("received"), "unknown MessageStatus"),
])
def test_malformed_status_callbacks_are_400(form: dict[str, str], reason: str) -> None:
    with pytest.raises(WebhookRejected, match=reason) as rejected:
        offline("sms").parse_status(signed(STATUS_URL, form))
    assert rejected.value.status == 400


# --- send ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("from_number", [OUR_NUMBER, f"whatsapp:{OUR_NUMBER}"])
def test_send_whatsapp(server: TwilioApiServer, from_number: str) -> None:
    result = channel("whatsapp", server.base_url, from_number=from_number).send(outbound("whatsapp"))
    assert server.violations == []
    assert server.messages == [{
        "To": f"whatsapp:{CITIZEN}",
        "From": f"whatsapp:{OUR_NUMBER}",
        "Body": "Terima kasih. Balas 1, 2 atau 3.",  # choices are not sent: the text has the menu
        "StatusCallback": STATUS_URL,
    }]
    assert re.fullmatch(r"SM[0-9a-f]{32}", result.provider_message_id or "") and result.status == "sent"


def test_send_sms(server: TwilioApiServer) -> None:
    result = channel("sms", server.base_url).send(outbound("sms", "Nomor laporan Anda: LAP-7K3M9Q"))
    assert server.violations == []
    assert server.messages == [
        {"To": CITIZEN, "From": OUR_NUMBER, "Body": "Nomor laporan Anda: LAP-7K3M9Q", "StatusCallback": STATUS_URL}
    ]
    assert result.status == "sent"


def test_one_client_serves_many_sends(server: TwilioApiServer) -> None:
    sms = channel("sms", server.base_url)
    ids = {sms.send(outbound("sms", f"pesan {n}")).provider_message_id for n in range(3)}
    assert len(ids) == 3 and len(server.messages) == 3 and server.violations == []


def test_concurrent_sends_share_one_client(server: TwilioApiServer) -> None:
    """The delivery worker may send from several threads; a 429 reaches only the thread it hit."""
    sms = channel("sms", server.base_url)
    server.fail_next(429, code=20429, message="Too Many Requests", retry_after=30)

    def attempt(n: int) -> DeliveryError | None:
        try:
            sms.send(outbound("sms", f"pesan {n}"))
        except DeliveryError as error:
            return error
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(16)))
    errors = [outcome for outcome in outcomes if outcome is not None]
    assert [(error.retryable, error.retry_after) for error in errors] == [(True, 30.0)]
    assert len(server.messages) == 15 and server.violations == []


def send_error(server: TwilioApiServer, kind: str = "sms", *, timeout: float = 5.0) -> DeliveryError:
    with pytest.raises(DeliveryError) as raised:
        channel(kind, server.base_url, timeout=timeout).send(outbound(kind))
    assert server.violations == []
    assert CITIZEN.removeprefix("+") not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    return raised.value


def test_429_is_retryable_after_retry_after(server: TwilioApiServer) -> None:
    server.fail_next(429, code=20429, message="Too Many Requests", retry_after=30)
    error = send_error(server)
    assert (error.retryable, error.retry_after, str(error)) == (True, 30.0, "Twilio 20429: Too Many Requests")


def test_retry_after_may_be_an_http_date(server: TwilioApiServer) -> None:
    server.fail_next(429, retry_after=format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True))
    error = send_error(server)
    assert error.retryable and error.retry_after is not None and 110 <= error.retry_after <= 120


def test_429_without_retry_after(server: TwilioApiServer) -> None:
    server.fail_next(429, code=20429, message="Too Many Requests")
    error = send_error(server)
    assert error.retryable and error.retry_after is None


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_is_retryable(server: TwilioApiServer, status: int) -> None:
    server.fail_next(status, message="Internal Server Error")
    error = send_error(server)
    assert error.retryable and error.retry_after is None and str(error) == f"Twilio {status}: Internal Server Error"


@pytest.mark.parametrize("code, message", [
    (21211, f"The 'To' number {CITIZEN} is not a valid phone number."),
    (21610, "Attempt to send to unsubscribed recipient"),
    (21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: " + CITIZEN),
    (63016, "Failed to send freeform message because you are outside the allowed window."),
])
def test_other_4xx_are_permanent_without_the_number(server: TwilioApiServer, code: int, message: str) -> None:
    server.fail_next(400, code=code, message=message)
    error = send_error(server, "whatsapp")
    assert not error.retryable and error.retry_after is None
    assert str(error).startswith(f"Twilio {code}: ") and CITIZEN not in str(error)


def test_21211_reason_redacts_the_number(server: TwilioApiServer) -> None:
    server.fail_next(400, code=21211, message=f"The 'To' number {CITIZEN} is not a valid phone number.")
    assert str(send_error(server)) == "Twilio 21211: The 'To' number [number] is not a valid phone number."


def test_a_closed_port_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(DeliveryError) as raised:
        channel("sms", closed).send(outbound("sms"))
    assert raised.value.retryable and str(raised.value) == "Twilio unreachable (ConnectionError)"


def test_a_timeout_is_retryable(server: TwilioApiServer) -> None:
    server.hang_next(5)
    started = time.monotonic()
    error = send_error(server, timeout=0.3)
    assert time.monotonic() - started < 2
    assert error.retryable and str(error) == "Twilio did not answer in time"


def test_nothing_personal_is_logged(server: TwilioApiServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    whatsapp = channel("whatsapp", server.base_url)
    whatsapp.parse(signed(WHATSAPP_URL, whatsapp_form()))
    whatsapp.send(outbound("whatsapp"))
    server.fail_next(400, code=21211, message=f"The 'To' number {CITIZEN} is not a valid phone number.")
    with pytest.raises(DeliveryError):
        whatsapp.send(outbound("whatsapp"))
    digits = CITIZEN.removeprefix("+")
    assert "Twilio API Request" in caplog.text and "POST" in caplog.text
    assert digits not in caplog.text and "Balas 1" not in caplog.text and "Jalan rusak" not in caplog.text


# --- configuration ------------------------------------------------------------------------------

FULL_ENV = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_WHATSAPP_FROM": f"whatsapp:{OUR_NUMBER}", "TWILIO_SMS_FROM": OUR_NUMBER}


@pytest.mark.parametrize("kind, missing", [
    ("sms", "TWILIO_ACCOUNT_SID"), ("sms", "TWILIO_AUTH_TOKEN"), ("sms", "TWILIO_SMS_FROM"),
    ("whatsapp", "TWILIO_WHATSAPP_FROM"),
])
def test_from_env_without_credentials_is_none(kind: str, missing: str) -> None:
    assert TwilioChannel.from_env(kind, {k: v for k, v in FULL_ENV.items() if k != missing}, PUBLIC_URL) is None
    assert TwilioChannel.from_env(kind, {**FULL_ENV, missing: " "}, PUBLIC_URL) is None


def test_from_env_reaches_the_configured_api(server: TwilioApiServer) -> None:
    env = {**FULL_ENV, "TWILIO_SMS_FROM": "+6221500000", "TWILIO_API_BASE_URL": server.base_url}
    sms = TwilioChannel.from_env("sms", env, PUBLIC_URL + "/")
    assert sms is not None and sms.name == "sms"
    sms.send(outbound("sms"))
    assert server.messages[0]["From"] == "+6221500000"
    assert server.messages[0]["StatusCallback"] == STATUS_URL and server.violations == []


def test_unknown_kinds_and_relative_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="telegram"):
        TwilioChannel.from_env("telegram", FULL_ENV, PUBLIC_URL)
    with pytest.raises(ValueError, match="public_url"):
        TwilioChannel("sms", account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, from_number=OUR_NUMBER,
                      public_url="/lapor")
    with pytest.raises(ValueError, match="api_base_url"):
        TwilioChannel.from_env("sms", {**FULL_ENV, "TWILIO_API_BASE_URL": "api.twilio.com"}, PUBLIC_URL)


def test_sending_leaves_twilios_generated_api_unloaded() -> None:
    """The send goes through twilio's Domain and Version: the generated resources of the whole
    2010 API (some 7 MB) stay unloaded. In a process of its own, since other tests load them."""
    script = (
        "import sys\n"
        "from channels.base import DeliveryError\n"
        "from channels.twilio_rest import TwilioMessages\n"
        "messages = TwilioMessages('AC' + '0' * 32, 'token', 'http://127.0.0.1:9', 2.0)\n"
        "try:\n"
        "    messages.create(to='+6281234567890', from_='+15005550006', body='x', status_callback='http://x/s')\n"
        "except DeliveryError as exc:\n"
        "    assert exc.retryable, exc\n"
        "assert 'twilio.rest.api' not in sys.modules, 'the generated API was loaded'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr

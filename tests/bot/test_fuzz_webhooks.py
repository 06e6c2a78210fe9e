"""Property-based fuzzing of the provider webhooks: bad input is refused, never a crash.

Proven with hypothesis on SQLite and on PostgreSQL, for every generated request to
``/webhooks/twilio/sms``, ``/webhooks/twilio/whatsapp``, ``/webhooks/twilio/status``,
``/webhooks/telegram`` and ``/webhooks/registry`` -- random forms and JSON, random bytes and
invalid UTF-8, control characters, HTML, emoji, deep nesting, forged, missing and valid
signatures, and validly signed requests that are malformed:

* the answer is never a 5xx: no parser or storage failure reaches the provider as a crash;
* a refused request (any 4xx) stores nothing: no table of the schema gains a row;
* a body over the 1 MB limit is refused with 413 on every endpoint;
* a message is accepted exactly when the provider could have sent it, as far as its length,
  media (at most 10 Twilio URLs of our account on the configured API host; plausible Telegram
  file ids), coordinates (plain decimals on Twilio, JSON numbers on Telegram, on the globe)
  and Telegram chat id (a JSON integer) go; otherwise it is 400;
* an accepted message is stored as the citizen wrote it, HTML included (escaping is the job
  of whatever displays it, not of intake).

The app runs in-process (Flask's test client) with the real Twilio and Telegram channels, so
the real verify and parse code is fuzzed. No delivery worker runs, so nothing is ever sent,
and the providers' API URLs point at a closed local port to make sure of it.
"""
from __future__ import annotations

import base64
import copy
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote_from_bytes, urlencode

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from providers.telegram_api import TOKEN as TELEGRAM_TOKEN
from providers.twilio_api import ACCOUNT_SID, AUTH_TOKEN
from sqlalchemy import func, select
from tests_support import make_settings
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from bot.app import create_app
from bot.registry.callbacks import PUSHED_STATUSES
from bot.registry.signing import sign_callback
from bot.scripts import sync_files
from bot.services import Services, build_services
from channels.base import InboundMessage
from channels.telegram import SECRET_HEADER as TELEGRAM_SECRET_HEADER
from channels.telegram import TelegramChannel
from channels.twilio import SIGNATURE_HEADER as TWILIO_SIGNATURE_HEADER
from channels.twilio import TwilioChannel
from storage import repository as repo
from storage.db import Database
from storage.models import Base, Message

PUBLIC_URL = "https://lapor.example.go.id"  # what Twilio signs over: LAPOR_PUBLIC_URL + path
NOWHERE = "http://127.0.0.1:9"  # the discard port: a send that happened anyway would fail
MEDIA_PREFIX = f"{NOWHERE}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/"  # Twilio's media are on its API host
MEDIA_URL = f"{MEDIA_PREFIX}MM{'0' * 32}/Media/ME{'1' * 32}"
TELEGRAM_SECRET = "fuzz-Telegram_secret-0123"
REGISTRY_SECRET = "fuzz-registry-secret"
WA_FROM, SMS_FROM, CITIZEN = "+14155238886", "+15005550006", "+6281234567890"
FORM = "application/x-www-form-urlencoded"
LIMIT = 1024 * 1024  # the app's MAX_CONTENT_LENGTH
HTML = "<script>alert(1)</script><b onmouseover=\"x()\">&amp;</b>"
# Lines that take the default script from the first message to a filed complaint (over SMS).
COMPLAINT_LINES = ("halo", "1", "Jalan rusak", "Jalan di depan sekolah rusak parah sejak Januari.", "1",
                   "Jl. Merdeka 1", "kemarin", "lewati", "1", "Budi Santoso", "ya")

SCALE = int(os.environ.get("LAPOR_FUZZ_SCALE", "1"))  # `make bench` runs ten times as many examples
FUZZ = settings(max_examples=300 * SCALE, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class Stack:
    """The app under test and its services. Not a dataclass: hypothesis would print every field."""

    def __init__(self, app: Flask, services: Services) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.services = services

    def __repr__(self) -> str:
        return "Stack()"


@pytest.fixture
def stack(db: Database, db_url: str) -> Iterator[Stack]:
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_WHATSAPP_FROM": WA_FROM,
           "TWILIO_SMS_FROM": SMS_FROM, "TWILIO_API_BASE_URL": NOWHERE,
           "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
           "TELEGRAM_API_BASE_URL": NOWHERE, "LAPOR_REGISTRY_SECRET": REGISTRY_SECRET, "LAPOR_PUBLIC_URL": PUBLIC_URL}
    settings_ = make_settings(db_url, extra_env=env)
    channels = {kind: TwilioChannel.from_env(kind, settings_.env, settings_.public_url) for kind in ("whatsapp", "sms")}
    channels["telegram"] = TelegramChannel.from_env(settings_.env)
    services = build_services(settings_, channels=channels)
    sync_files(services.db, settings_.scripts_dir, repo.utcnow())
    app = create_app(settings_, services)
    try:
        yield Stack(app, services)
    finally:
        services.close()


# -- the invariants ------------------------------------------------------------------------------

def row_counts(db: Database) -> dict[str, int]:
    """The number of rows in every table of the schema."""
    with db.transaction() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables}


def post(stack: Stack, path: str, body: bytes | Mapping[str, str], headers: Mapping[str, str],
         content_type: str | None = None) -> TestResponse:
    """POST, and assert what must hold for any request: no 5xx, and nothing stored if refused."""
    before = row_counts(stack.services.db)
    response = stack.client.post(path, data=body, headers=dict(headers), content_type=content_type)
    assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert row_counts(stack.services.db) == before, f"a refused request ({response.status_code}) stored rows"
    return response


# -- signing -------------------------------------------------------------------------------------

def twilio_signature(path: str, form: Iterable[tuple[str, str]]) -> str:
    """Twilio's signature of a form POSTed to ``path``, every value of a repeated key included
    (providers.twilio_api.sign computes the same for a plain dict)."""
    return RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, MultiDict(list(form)))


def parsed_form(stack: Stack, path: str, body: bytes) -> list[tuple[str, str]]:
    """The form Flask reads from a raw urlencoded ``body``: what a valid signature must cover."""
    with stack.app.test_request_context(path, method="POST", data=body, content_type=FORM):
        return list(request.form.items(multi=True))


def twilio_headers(path: str, form: Iterable[tuple[str, str]], how: str, forged: str) -> dict[str, str]:
    """Headers for ``how`` = "valid", "missing" or "forged" (the signature ``forged``)."""
    if how == "missing":
        return {}
    return {TWILIO_SIGNATURE_HEADER: twilio_signature(path, form) if how == "valid" else forged}


def inbound_form(kind: str, text: str = "halo") -> dict[str, str]:
    """A well-formed inbound Twilio webhook from the citizen."""
    prefix = "whatsapp:" if kind == "whatsapp" else ""
    return {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": prefix + CITIZEN,
            "To": prefix + (WA_FROM if kind == "whatsapp" else SMS_FROM), "Body": text, "NumMedia": "0"}


def telegram_update(text: str) -> dict[str, Any]:
    """A well-formed Telegram update: ``text`` in a private chat."""
    user = {"id": 5550001, "is_bot": False, "first_name": "Budi"}
    return {"update_id": uuid.uuid4().int % 2**31,
            "message": {"message_id": 7, "date": 1_700_000_000, "chat": {"id": 5550001, "type": "private"},
                        "from": user, "text": text}}


def file_complaint(services: Services) -> str:
    """File one complaint over SMS (through intake: nothing is sent) and return its tracking number."""
    for line in COMPLAINT_LINES:
        result = services.intake.handle(InboundMessage("sms", "+6281111111111", line, uuid.uuid4().hex, repo.utcnow()))
    assert result.tracking_number
    return result.tracking_number


# -- strategies ----------------------------------------------------------------------------------

DROP = object()  # a change that removes the field


def with_changes(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with each dotted path set to its value (removed for DROP); a path
    whose parent an earlier change replaced by something other than an object is skipped."""
    result = copy.deepcopy(dict(base))
    for path, value in changes.items():
        *parents, last = path.split(".")
        target: Any = result
        for key in parents:
            target = target.get(key) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            continue
        if value is DROP:
            target.pop(last, None)
        else:
            target[last] = value
    return result


NASTY = st.sampled_from([
    HTML, "", " ", "\x00", "a\x00b", "\x1b[2J\x07", "\u202eevil", "\ufeff", "😀🇮🇩", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "' OR 1=1; --",
    "%00%ff%", "\r\n\r\n", "\t", "NaN", "-inf", "1e999", "0x10", "٣", "+6281234567890", "whatsapp:+6281234567890",
    "null", "{}", "[]", "\\u0000", "/start", "/status@LaporBot LAP-000000",
])
TEXT = st.one_of(NASTY, st.text(st.characters(codec="utf-8"), max_size=40), st.just(300).map(lambda n: "x" * n))
# JSON can also carry what no UTF-8 text can: lone surrogates, written as \ud800 escapes.
JSON_TEXT = st.one_of(TEXT, st.sampled_from(["\ud800", "a\udfffb"]))
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-2**70, 2**70), st.floats(), JSON_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(JSON_TEXT, inner, max_size=4)),
    max_leaves=12,
)
PRINTABLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)
FORGED = st.one_of(PRINTABLE, st.binary(min_size=20, max_size=20).map(lambda raw: base64.b64encode(raw).decode()))
SIGNING = st.one_of(st.just("valid"), st.sampled_from(("missing", "forged")))

# Twilio: random forms, and a well-formed form with some fields changed to something worse.
TWILIO_FIELDS = ("MessageSid", "SmsSid", "AccountSid", "From", "To", "Body", "NumMedia", "MediaUrl0",
                 "MediaContentType0", "MediaUrl1", "Latitude", "Longitude", "Address", "ProfileName", "WaId",
                 "MessageStatus", "SmsStatus", "ErrorCode", "ErrorMessage")
TWILIO_FORMS = st.dictionaries(st.one_of(st.sampled_from(TWILIO_FIELDS), TEXT), TEXT, max_size=12)
NUMBERS = st.one_of(
    TEXT, st.integers(-10**6, 10**6).map(str), st.just(5000).map(lambda n: "9" * n), st.just("1" + "0" * 30),
    st.floats().map(str), st.sampled_from([" 1", "1.0", "01", "1_0"]),
)
SIDS = st.one_of(TEXT, st.just("SM" + "0" * 32), st.text(st.characters(codec="utf-8"), min_size=129, max_size=200),
                 st.just("SM\x00" + "0" * 31), st.just(DROP))
TWILIO_CHANGES = st.fixed_dictionaries({}, optional={
    "MessageSid": SIDS,
    "From": st.one_of(TEXT, st.sampled_from(["whatsapp:+62812345678901234567", "+0123456789", DROP])),
    "Body": st.one_of(TEXT, st.just(DROP)),
    "NumMedia": st.one_of(NUMBERS, st.just(DROP)),
    "MediaUrl0": st.one_of(TEXT, st.sampled_from([MEDIA_URL, "https://api.twilio.com/media/ME1", DROP])),
    "MediaContentType0": st.one_of(TEXT, st.just(DROP)),
    "Latitude": st.one_of(NUMBERS, st.floats(-1000, 1000).map(str)),
    "Longitude": st.one_of(NUMBERS, st.floats(-1000, 1000).map(str)),
    "Address": TEXT,
    "ProfileName": TEXT,
})
STATUS_CALLBACK = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID,
                   "To": "whatsapp:" + CITIZEN, "From": "whatsapp:" + WA_FROM}
STATUS_CHANGES = st.fixed_dictionaries({}, optional={
    "MessageSid": SIDS,
    "MessageStatus": st.one_of(TEXT, st.sampled_from(["DELIVERED", "failed", "read", "received", "receiving", DROP])),
    "To": st.one_of(TEXT, st.just(DROP)),
    "ErrorCode": NUMBERS,
    "ErrorMessage": TEXT,
})

# Values tagged with whether the provider could have sent them: (value, valid).
BAD_MEDIA_URLS = [
    "file:///etc/passwd", "data:image/jpeg;base64,/9j/4AAQ", "https://api.twilio.com" + MEDIA_URL.removeprefix(NOWHERE),
    MEDIA_URL.replace("http:", "https:"), MEDIA_URL.replace(":9/", ":5432/"), MEDIA_URL.replace("127.0.0.1", "localhost"),
    MEDIA_URL.replace("//", "//user@"), MEDIA_URL.replace(ACCOUNT_SID, "AC" + "0" * 32), MEDIA_URL + "?x=1",
    MEDIA_URL + "/../../..", MEDIA_URL.replace("/Messages/", "/Calls/"), MEDIA_URL + "\n", "", "\x00",
]
MEDIA_URLS = st.one_of(
    st.tuples(st.from_regex(r"[A-Za-z0-9]{1,34}", fullmatch=True), st.from_regex(r"[A-Za-z0-9]{1,34}", fullmatch=True))
    .map(lambda sids: (f"{MEDIA_PREFIX}{sids[0]}/Media/{sids[1]}", True)),
    st.sampled_from(BAD_MEDIA_URLS).map(lambda url: (url, False)),
    TEXT.map(lambda text: (text, False)),
)
BODIES = st.one_of(st.integers(1, 40), st.integers(1590, 1610), st.just(5000)).map(lambda n: ("é" * n, n <= 1600))


def twilio_coordinates(limit: int) -> st.SearchStrategy[tuple[str, bool]]:
    """Plain decimals (in range or not), and what Python's float() reads but Twilio never sends."""
    plain = st.tuples(st.sampled_from(["", "-"]), st.integers(0, 999),
                      st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,20}", fullmatch=True)))
    return st.one_of(
        plain.map(lambda parts: "".join(map(str, parts))).map(lambda text: (text, abs(float(text)) <= limit)),
        st.sampled_from(["1e1", "1E-5", "1_0", " 5", "5 ", "5\n", "+5", "0x10", "inf", "-inf", "Infinity", "nan",
                         "٣", "1.", ".5", "-", "1,5", "1234", "1.123456789012345678901", ""]).map(lambda text: (text, False)),
    )


TWILIO_LOCATIONS = st.one_of(st.none(), st.tuples(twilio_coordinates(90), twilio_coordinates(180)))

# Telegram: a text message in a private chat, with some parts changed, added or removed.
INTEGERS = st.one_of(st.integers(), st.integers(-2**70, 2**70), st.sampled_from([0, -1, 2**63, 10**12, -10**12]))
USERS = st.fixed_dictionaries({"id": st.one_of(INTEGERS, JSON), "is_bot": st.one_of(st.booleans(), JSON),
                               "first_name": JSON_TEXT}, optional={"last_name": JSON_TEXT})
FILES = st.fixed_dictionaries({"file_id": st.one_of(JSON_TEXT, JSON), "file_unique_id": JSON_TEXT},
                              optional={"width": INTEGERS, "height": INTEGERS, "file_size": INTEGERS,
                                        "mime_type": JSON_TEXT})
POINTS = st.fixed_dictionaries({"latitude": st.one_of(st.floats(), JSON), "longitude": st.one_of(st.floats(), JSON)})
MESSAGES = st.fixed_dictionaries({"message_id": INTEGERS, "date": INTEGERS, "chat": st.fixed_dictionaries(
    {"id": INTEGERS, "type": st.sampled_from(["private", "group"])})}, optional={"text": JSON_TEXT})
TELEGRAM_CHANGES = st.fixed_dictionaries({}, optional={
    "update_id": st.one_of(INTEGERS, JSON, st.just(DROP)),
    "message": st.one_of(JSON, st.just(DROP)),
    "message.date": st.one_of(INTEGERS, JSON, st.just(DROP)),
    "message.chat": st.one_of(JSON, st.just(DROP)),
    "message.chat.id": st.one_of(INTEGERS, JSON),
    "message.chat.type": st.one_of(st.sampled_from(["group", "supergroup", "channel", "sender"]), JSON),
    "message.text": st.one_of(JSON_TEXT, JSON, st.just(DROP)),
    "message.caption": st.one_of(JSON_TEXT, JSON),
    "message.from": st.one_of(USERS, JSON),
    "message.location": st.one_of(POINTS, JSON),
    "message.venue": st.fixed_dictionaries({"location": POINTS, "title": JSON_TEXT, "address": JSON_TEXT}),
    "message.photo": st.one_of(st.lists(FILES, max_size=3), JSON),
    "message.document": FILES,
    "message.voice": FILES,
    "message.contact": st.fixed_dictionaries({"phone_number": st.one_of(JSON_TEXT, JSON), "first_name": JSON_TEXT}),
    "callback_query": st.fixed_dictionaries({"id": JSON_TEXT, "from": USERS, "chat_instance": JSON_TEXT},
                                            optional={"data": st.one_of(JSON_TEXT, JSON), "message": MESSAGES}),
    "edited_message": st.one_of(MESSAGES, JSON),
})
TELEGRAM_CHAT_IDS = st.one_of(
    INTEGERS.map(lambda value: (value, True)),
    st.sampled_from(["5550001", 5550001.0, 1.5, True, False, None, [5550001], {"id": 1}]).map(lambda value: (value, False)),
)
TELEGRAM_TEXTS = st.one_of(st.integers(1, 40), st.integers(4090, 4100), st.just(100_000)).map(
    lambda n: ("é" * n, n <= 4096))
FILE_IDS = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,256}", fullmatch=True).map(lambda file_id: (file_id, True)),
    st.sampled_from(["", "a b", "../../etc/passwd", "x" * 257, "fotó", "a\x00b", "tg-file:x", 7, None, ["x"]])
    .map(lambda file_id: (file_id, False)),
)


def telegram_coordinates(limit: float) -> st.SearchStrategy[tuple[Any, bool]]:
    """JSON numbers on the globe; numbers off it, NaN, infinities, numeric strings, booleans and null."""
    return st.one_of(
        st.one_of(st.floats(-limit, limit), st.integers(-int(limit), int(limit))).map(lambda value: (value, True)),
        st.one_of(st.floats(allow_nan=True).filter(lambda value: not abs(value) <= limit),
                  st.floats(-limit, limit).map(str), st.booleans(), st.none(), st.integers(int(limit) + 1, 2**70))
        .map(lambda value: (value, False)),
    )


TELEGRAM_LOCATIONS = st.one_of(st.none(), st.tuples(telegram_coordinates(90.0), telegram_coordinates(180.0)))
# Python's json writes NaN and Infinity for such floats, and reads them back: so may an attacker.
TELEGRAM_BODIES = st.one_of(  # half of them updates, the rest anything
    TELEGRAM_CHANGES.map(lambda changes: json.dumps(with_changes(telegram_update("halo"), changes)).encode()),
    st.one_of(
        JSON.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=300),
        st.integers(1, 200_000).map(lambda depth: b"[" * depth + b"]" * depth),
        st.integers(1, 100_000).map(lambda depth: b'{"update_id": 1, "message": ' + b'{"a": ' * depth + b"1" + b"}" * (depth + 1)),
    ),
)


# -- Twilio --------------------------------------------------------------------------------------

@FUZZ
@given(kind=st.sampled_from(("sms", "whatsapp")), form=TWILIO_FORMS, how=SIGNING, forged=FORGED)
def test_random_twilio_forms_are_never_a_crash(stack: Stack, kind: str, form: dict[str, str], how: str, forged: str) -> None:
    path = f"/webhooks/twilio/{kind}"
    response = post(stack, path, form, twilio_headers(path, form.items(), how, forged))
    assert response.status_code in ((200, 400) if how == "valid" else (403,))


@FUZZ
@given(kind=st.sampled_from(("sms", "whatsapp")), changes=TWILIO_CHANGES)
def test_signed_but_malformed_twilio_forms_are_400_or_accepted(stack: Stack, kind: str, changes: dict[str, Any]) -> None:
    form = with_changes(inbound_form(kind), changes)
    path = f"/webhooks/twilio/{kind}"
    response = post(stack, path, form, twilio_headers(path, form.items(), "valid", ""))
    assert response.status_code in (200, 400)


@FUZZ
@given(kind=st.sampled_from(("sms", "whatsapp", "status")), junk=st.binary(max_size=400), as_body=st.booleans(),
       how=SIGNING, forged=FORGED,
       content_type=st.sampled_from((FORM, "application/json", "text/plain", "multipart/form-data")))
def test_raw_twilio_bodies_and_invalid_utf8_are_never_a_crash(stack: Stack, kind: str, junk: bytes, as_body: bool,
                                                              how: str, forged: str, content_type: str) -> None:
    path = f"/webhooks/twilio/{kind}"
    body = junk
    if as_body:  # the bytes, percent-encoded (%FF and all), as the Body of an otherwise good message
        message = with_changes(inbound_form("whatsapp" if kind == "whatsapp" else "sms"), {"Body": DROP})
        body = f"{urlencode(message)}&Body={quote_from_bytes(junk)}".encode()
    form = parsed_form(stack, path, body) if content_type == FORM else []
    response = post(stack, path, body, twilio_headers(path, form, how, forged), content_type)
    assert response.status_code in ((200, 400) if how == "valid" else (403,))


@FUZZ
@given(changes=STATUS_CHANGES, how=SIGNING, forged=FORGED)
def test_random_twilio_status_callbacks_are_never_a_crash(stack: Stack, changes: dict[str, Any], how: str, forged: str) -> None:
    form = with_changes(STATUS_CALLBACK, changes)
    path = "/webhooks/twilio/status"
    before = row_counts(stack.services.db)
    response = post(stack, path, form, twilio_headers(path, form.items(), how, forged))
    assert response.status_code in ((200, 400) if how == "valid" else (403,))
    assert row_counts(stack.services.db) == before  # a delivery report only ever updates a message


@FUZZ
@given(kind=st.sampled_from(("sms", "whatsapp")), body=BODIES, media=st.lists(MEDIA_URLS, max_size=12),
       location=TWILIO_LOCATIONS)
def test_twilio_input_is_accepted_exactly_when_twilio_could_send_it(
        stack: Stack, kind: str, body: tuple[str, bool], media: list[tuple[str, bool]],
        location: tuple[tuple[str, bool], tuple[str, bool]] | None) -> None:
    form = {**inbound_form(kind, body[0]), "NumMedia": str(len(media))}
    form.update({f"MediaUrl{n}": url for n, (url, _) in enumerate(media)})
    if location is not None:
        (form["Latitude"], _), (form["Longitude"], _) = location
    valid = body[1] and len(media) <= 10 and all(ok for _, ok in media) and all(ok for _, ok in location or ())
    path = f"/webhooks/twilio/{kind}"
    response = post(stack, path, form, twilio_headers(path, form.items(), "valid", ""))
    assert response.status_code == (200 if valid else 400)


@pytest.mark.parametrize("kind", ["sms", "whatsapp"])
def test_a_signed_body_of_one_megabyte(stack: Stack, kind: str) -> None:
    path = f"/webhooks/twilio/{kind}"
    under = inbound_form(kind, "x" * 1_000_000)  # 1 MB (decimal) fits under the 1 MiB limit, not Twilio's 1,600
    assert post(stack, path, under, twilio_headers(path, under.items(), "valid", "")).status_code == 400
    over = inbound_form(kind, "x" * LIMIT)
    assert post(stack, path, over, twilio_headers(path, over.items(), "valid", "")).status_code == 413


# -- Telegram ------------------------------------------------------------------------------------

@FUZZ
@given(body=TELEGRAM_BODIES, content_type=st.sampled_from(("application/json", FORM, "text/plain")))
def test_random_telegram_updates_are_never_a_crash(stack: Stack, body: bytes, content_type: str) -> None:
    response = post(stack, "/webhooks/telegram", body, {TELEGRAM_SECRET_HEADER: TELEGRAM_SECRET}, content_type)
    assert response.status_code in (200, 400)


@FUZZ
@given(body=TELEGRAM_BODIES, secret=st.one_of(st.none(), PRINTABLE, st.just(TELEGRAM_SECRET + "x")))
def test_a_wrong_telegram_secret_is_403(stack: Stack, body: bytes, secret: str | None) -> None:
    headers = {TELEGRAM_SECRET_HEADER: secret} if secret is not None else {}
    assert post(stack, "/webhooks/telegram", body, headers, "application/json").status_code == 403


@FUZZ
@given(chat_id=TELEGRAM_CHAT_IDS, text=TELEGRAM_TEXTS, file_id=st.one_of(st.none(), FILE_IDS),
       location=TELEGRAM_LOCATIONS)
def test_telegram_input_is_accepted_exactly_when_telegram_could_send_it(
        stack: Stack, chat_id: tuple[Any, bool], text: tuple[str, bool], file_id: tuple[Any, bool] | None,
        location: tuple[tuple[Any, bool], tuple[Any, bool]] | None) -> None:
    update = telegram_update(text[0])
    message = update["message"]
    message["chat"]["id"] = chat_id[0]
    if file_id is not None:
        message["document"] = {"file_id": file_id[0], "file_unique_id": "u"}
    if location is not None:
        (latitude, _), (longitude, _) = location
        message["location"] = {"latitude": latitude, "longitude": longitude}
    checks = [chat_id, text, *([file_id] if file_id is not None else []), *(location or ())]
    body = json.dumps(update).encode()
    response = post(stack, "/webhooks/telegram", body, {TELEGRAM_SECRET_HEADER: TELEGRAM_SECRET}, "application/json")
    assert response.status_code == (200 if all(ok for _, ok in checks) else 400)


def test_deeply_nested_telegram_json_is_400(stack: Stack) -> None:
    deep = b"[" * 400_000 + b"]" * 400_000
    assert post(stack, "/webhooks/telegram", deep, {TELEGRAM_SECRET_HEADER: TELEGRAM_SECRET}).status_code == 400


# -- the webhook registry ------------------------------------------------------------------------

@pytest.fixture
def tracking_number(stack: Stack) -> str:
    """A filed complaint's tracking number, so that a callback can also be accepted."""
    return file_complaint(stack.services)


@FUZZ
@given(data=st.data())
def test_random_registry_callbacks_are_never_a_crash(stack: Stack, tracking_number: str, data: st.DataObject) -> None:
    changes = st.fixed_dictionaries({}, optional={
        "tracking_number": st.one_of(st.just(tracking_number.lower()), JSON_TEXT, JSON, st.just(DROP)),
        "status": st.one_of(st.sampled_from(PUSHED_STATUSES), JSON_TEXT, JSON, st.just(DROP)),
        "note": st.one_of(JSON_TEXT, JSON, st.just(5000).map(lambda n: "x" * n), st.just(DROP)),
    })
    callback = {"tracking_number": tracking_number, "status": "in_progress", "note": "Diteruskan."}
    body = data.draw(st.one_of(changes.map(lambda c: json.dumps(with_changes(callback, c)).encode()),
                               JSON.map(lambda value: json.dumps(value).encode()), st.binary(max_size=300)))
    how = data.draw(SIGNING)
    headers: dict[str, str] = {}
    if how != "missing":
        at = int(time.time())
        headers["X-Lapor-Timestamp"] = str(at)
        headers["X-Lapor-Signature"] = sign_callback(body, at, REGISTRY_SECRET) if how == "valid" else data.draw(FORGED)
    response = post(stack, "/webhooks/registry", body, headers, "application/json")
    assert response.status_code in ((200, 400, 404) if how == "valid" else (403,))


# -- every endpoint ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/webhooks/twilio/sms", "/webhooks/twilio/whatsapp", "/webhooks/twilio/status",
                                  "/webhooks/telegram", "/webhooks/registry"])
def test_a_body_over_one_megabyte_is_413_and_stores_nothing(stack: Stack, path: str) -> None:
    body = b"Body=" + b"x" * LIMIT
    headers = {TWILIO_SIGNATURE_HEADER: twilio_signature(path, [("Body", "x" * LIMIT)]),
               TELEGRAM_SECRET_HEADER: TELEGRAM_SECRET, "X-Lapor-Timestamp": str(int(time.time())),
               "X-Lapor-Signature": sign_callback(body, int(time.time()), REGISTRY_SECRET)}
    assert post(stack, path, body, headers, FORM).status_code == 413


def test_html_in_an_accepted_message_is_stored_as_written(stack: Stack) -> None:
    form = inbound_form("sms", HTML)
    assert post(stack, "/webhooks/twilio/sms", form, twilio_headers("/webhooks/twilio/sms", form.items(), "valid", "")).status_code == 200
    update = telegram_update(HTML)
    response = post(stack, "/webhooks/telegram", json.dumps(update).encode(),
                    {TELEGRAM_SECRET_HEADER: TELEGRAM_SECRET}, "application/json")
    assert response.status_code == 200
    with stack.services.db.transaction() as session:
        stored = session.execute(select(Message.channel, Message.text).where(Message.direction == "in")).all()
    assert sorted(stored) == [("sms", HTML), ("telegram", HTML)]

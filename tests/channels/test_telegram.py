"""The Telegram channel, with the real python-telegram-bot over real HTTP against the local Bot API."""
from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from providers.telegram_api import TOKEN, TelegramApiServer, bot_api_contract

from channels.base import (
    DeliveryError,
    InboundMessage,
    Location,
    Media,
    OutboundMessage,
    WebhookRejected,
    WebhookRequest,
)
from channels.telegram import SECRET_HEADER, TelegramChannel, split_telegram

SECRET = "s3cret-Webhook_token"
DATE = 1_764_309_600  # 2025-11-28T06:00:00Z
CITIZEN = {"id": 42, "is_bot": False, "first_name": "Siti", "last_name": "Aminah"}
PRIVATE = {"id": 42, "type": "private", "first_name": "Siti"}


@pytest.fixture
def api() -> Iterator[TelegramApiServer]:
    with TelegramApiServer(max_poll_wait=0.5) as server:
        yield server


@pytest.fixture
def channel(api: TelegramApiServer) -> Iterator[TelegramChannel]:
    channel = TelegramChannel(token=TOKEN, webhook_secret=SECRET, api_base_url=api.base_url, timeout=2)
    yield channel
    channel.close()


def message(**fields: Any) -> dict[str, Any]:
    """A private message from the citizen, with ``fields`` added."""
    return {"message_id": 7, "date": DATE, "chat": PRIVATE, "from": CITIZEN, **fields}


def webhook(update: dict[str, Any], secret: str | None = SECRET) -> WebhookRequest:
    """Telegram's POST of ``update``, which must itself be a valid Update."""
    bot_api_contract().check_object("Update", update)
    headers = {"Content-Type": "application/json"} | ({SECRET_HEADER: secret} if secret is not None else {})
    return WebhookRequest(url="https://lapor.example/webhooks/telegram", headers=headers,
                          body=json.dumps(update).encode())


def unchecked(update: dict[str, Any]) -> WebhookRequest:
    """A POST of ``update`` that is not itself checked against the Bot API: what a forger sends."""
    return WebhookRequest(url="https://lapor.example/webhooks/telegram", headers={SECRET_HEADER: SECRET},
                          body=json.dumps(update).encode())


def rejected_400(channel: TelegramChannel, update: dict[str, Any]) -> str:
    """Why ``channel`` refused ``update`` with 400."""
    with pytest.raises(WebhookRejected) as rejected:
        channel.parse(unchecked(update))
    assert rejected.value.status == 400
    return str(rejected.value)


def parse_one(channel: TelegramChannel, update: dict[str, Any]) -> InboundMessage:
    messages = channel.parse(webhook(update))
    assert len(messages) == 1
    return messages[0]


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "telegram-loop"]


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


# -- configuration and verification ------------------------------------------------------------

def test_from_env_needs_both_the_token_and_the_secret() -> None:
    assert TelegramChannel.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}) is None
    assert TelegramChannel.from_env({"TELEGRAM_WEBHOOK_SECRET": SECRET}) is None
    channel = TelegramChannel.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET,
                                        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/"}, keyboards=False)
    assert channel is not None and channel.name == "telegram"
    assert loop_threads() == []  # nothing runs until the first call
    channel.close()


def test_a_secret_telegram_would_refuse_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        TelegramChannel(token=TOKEN, webhook_secret="has spaces and ümlauts")


def test_verify_accepts_the_right_secret_in_any_header_case(channel: TelegramChannel) -> None:
    channel.verify(webhook({"update_id": 1}))
    channel.verify(WebhookRequest(url="x", headers={SECRET_HEADER.lower(): SECRET}))


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", "ü"])
def test_verify_rejects_a_missing_or_wrong_secret(channel: TelegramChannel, secret: str | None) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        channel.verify(webhook({"update_id": 1}, secret=secret))
    assert rejected.value.status == 403


# -- parsing -----------------------------------------------------------------------------------

def test_a_text_message(channel: TelegramChannel) -> None:
    inbound = parse_one(channel, {"update_id": 900, "message": message(text="Jalan rusak di depan pasar")})

    assert inbound == InboundMessage(
        channel="telegram", sender="42", text="Jalan rusak di depan pasar", provider_message_id="900",
        received_at=datetime(2025, 11, 28, 6, 0, tzinfo=UTC), profile_name="Siti Aminah")


@pytest.mark.parametrize("typed, text", [
    ("/start", "start"),
    ("/help@lapor_test_bot", "help"),
    ("/status LAP-7K3M9Q", "status LAP-7K3M9Q"),
    ("/status@lapor_test_bot LAP-7K3M9Q", "status LAP-7K3M9Q"),
    ("1/2 jalan", "1/2 jalan"),
])
def test_bot_commands_lose_their_slash_and_bot_name(channel: TelegramChannel, typed: str, text: str) -> None:
    assert parse_one(channel, {"update_id": 1, "message": message(text=typed)}).text == text


def test_a_photo_gives_its_largest_size_and_the_caption(channel: TelegramChannel) -> None:
    sizes = [{"file_id": f"photo-{w}", "file_unique_id": f"u{w}", "width": w, "height": w * 3 // 4}
             for w in (320, 1280, 90)]

    inbound = parse_one(channel, {"update_id": 2, "message": message(photo=sizes, caption="lubang besar")})

    assert inbound.media == (Media("tg-file:photo-1280", "image/jpeg"),)
    assert inbound.text == "lubang besar"


@pytest.mark.parametrize("kind, item, content_type", [
    ("document", {"mime_type": "application/pdf"}, "application/pdf"),
    ("document", {}, "application/octet-stream"),
    ("voice", {"duration": 4}, "audio/ogg"),
    ("video", {"duration": 4, "width": 640, "height": 480, "mime_type": "video/quicktime"}, "video/quicktime"),
])
def test_files_become_tg_file_references(channel: TelegramChannel, kind: str, item: dict[str, Any],
                                         content_type: str) -> None:
    update = {"update_id": 3, "message": message(**{kind: {"file_id": "BQACAgUAAx", "file_unique_id": "AgAD", **item}})}

    assert parse_one(channel, update).media == (Media("tg-file:BQACAgUAAx", content_type),)


def test_a_shared_location_and_a_venue(channel: TelegramChannel) -> None:
    point = {"latitude": -6.2, "longitude": 106.8}
    venue = {"location": point, "title": "Pasar Senen", "address": "Jl. Pasar Senen, Jakarta"}

    located = parse_one(channel, {"update_id": 4, "message": message(location=point)})
    at_venue = parse_one(channel, {"update_id": 5, "message": message(location=point, venue=venue)})

    assert (located.text, located.location) == ("", Location(-6.2, 106.8))
    assert at_venue.location == Location(-6.2, 106.8, "Pasar Senen, Jl. Pasar Senen, Jakarta")


def test_a_shared_contact_answers_with_its_phone_number(channel: TelegramChannel) -> None:
    contact = {"phone_number": "+6281234567890", "first_name": "Siti", "user_id": 42}

    assert parse_one(channel, {"update_id": 6, "message": message(contact=contact)}).text == "+6281234567890"


def test_a_pressed_button_is_read_as_its_reply(channel: TelegramChannel) -> None:
    query = {"id": "4382", "from": CITIZEN, "chat_instance": "-81", "data": "2",
             "message": message(text="Pilih kategori", **{"from": {"id": 1, "is_bot": True, "first_name": "LAPOR!"}})}

    before = datetime.now(UTC)
    inbound = parse_one(channel, {"update_id": 7, "callback_query": query})

    assert (inbound.sender, inbound.text, inbound.provider_message_id) == ("42", "2", "7")
    assert inbound.received_at >= before  # when pressed, not when the keyboard was sent


def test_a_button_on_an_inline_message_answers_the_user(channel: TelegramChannel) -> None:
    query = {"id": "4383", "from": dict(CITIZEN, id=77), "chat_instance": "-81", "data": "ya",
             "inline_message_id": "AAAB"}

    assert parse_one(channel, {"update_id": 8, "callback_query": query}).sender == "77"


@pytest.mark.parametrize("update", [
    {"update_id": 9, "edited_message": message(text="diedit", edit_date=DATE + 60)},
    {"update_id": 10, "message": message(text="halo semua", chat={"id": -100123, "type": "supergroup", "title": "RT 05"})},
    {"update_id": 11, "message": message(sticker={"file_id": "s", "file_unique_id": "u", "type": "regular",
                                                  "width": 512, "height": 512, "is_animated": False,
                                                  "is_video": False})},
    {"update_id": 12, "my_chat_member": {
        "chat": PRIVATE, "from": CITIZEN, "date": DATE,
        "old_chat_member": {"status": "member", "user": CITIZEN},
        "new_chat_member": {"status": "kicked", "user": CITIZEN, "until_date": 0}}},
    {"update_id": 13, "callback_query": {"id": "1", "from": CITIZEN, "chat_instance": "-1", "game_short_name": "g"}},
    {"update_id": 14},
], ids=["edited", "group", "sticker", "my_chat_member", "game-callback", "empty"])
def test_other_updates_are_ignored(channel: TelegramChannel, update: dict[str, Any]) -> None:
    assert channel.parse(webhook(update)) == []


@pytest.mark.parametrize("body", [
    b"", b"not json", b"\xff\xfe", b"[]", b'"update"', b'{"message": {}}', b'{"update_id": "7"}',
    b'{"update_id": true}', b'{"update_id": 7, "message": "hi"}', b'{"update_id": 7, "message": {"text": "x"}}',
    b'{"update_id": 7, "message": {"message_id": 1, "date": 1, "text": "no chat"}}',
])
def test_malformed_updates_are_rejected_400(channel: TelegramChannel, body: bytes) -> None:
    with pytest.raises(WebhookRejected) as rejected:
        channel.parse(WebhookRequest(url="x", headers={SECRET_HEADER: SECRET}, body=body))
    assert rejected.value.status == 400


def test_a_text_or_caption_of_4096_characters_passes(channel: TelegramChannel) -> None:
    photo = [{"file_id": "AgACAgUAAxkBAAIB-_x", "file_unique_id": "u", "width": 90, "height": 90}]

    texted = parse_one(channel, {"update_id": 15, "message": message(text="é" * 4096)})
    captioned = parse_one(channel, {"update_id": 16, "message": message(photo=photo, caption="a" * 4096)})

    assert len(texted.text) == 4096 and len(captioned.text) == 4096


@pytest.mark.parametrize("fields, reason", [
    ({"text": "a" * 4097}, "text"),
    ({"text": "a" * 2_000_000}, "text"),
    ({"caption": "a" * 4097, "document": {"file_id": "BQACAgUAAx", "file_unique_id": "AgAD"}}, "caption"),
])
def test_a_text_or_caption_over_4096_characters_is_400(channel: TelegramChannel, fields: dict[str, Any],
                                                      reason: str) -> None:
    assert reason in rejected_400(channel, {"update_id": 17, "message": message(**fields)})


@pytest.mark.parametrize("chat_id", ["42", 42.0, 1.5, True, None, [42], {"id": 42}], ids=repr)
def test_a_chat_id_that_is_not_an_integer_is_400(channel: TelegramChannel, chat_id: object) -> None:
    assert "message.chat.id" in rejected_400(
        channel, {"update_id": 18, "message": message(text="halo", chat=dict(PRIVATE, id=chat_id))})


@pytest.mark.parametrize("chat_id", ["42", 42.5, False])
def test_a_button_press_from_a_chat_id_that_is_not_an_integer_is_400(channel: TelegramChannel, chat_id: object) -> None:
    shown = message(text="Pilih kategori", chat=dict(PRIVATE, id=chat_id))
    from_chat = {"id": "4384", "from": CITIZEN, "chat_instance": "-81", "data": "2", "message": shown}
    from_user = {"id": "4385", "from": dict(CITIZEN, id=chat_id), "chat_instance": "-81", "data": "ya",
                 "inline_message_id": "AAAB"}

    assert "callback_query.message.chat.id" in rejected_400(channel, {"update_id": 19, "callback_query": from_chat})
    assert "callback_query.from.id" in rejected_400(channel, {"update_id": 20, "callback_query": from_user})


@pytest.mark.parametrize("file_id", ["", "a b", "../../etc/passwd", "x" * 257, "fotó", "a\x00b", "tg-file:x",
                                     "https://example.org/x.jpg", 7, None], ids=repr)  # python-telegram-bot makes 7 "7"
@pytest.mark.parametrize("kind", ["photo", "document", "voice"])
def test_an_implausible_file_id_is_400(channel: TelegramChannel, kind: str, file_id: object) -> None:
    item = {"file_id": file_id, "file_unique_id": "u", "width": 90, "height": 90, "duration": 1}
    good = dict(item, file_id="AgACAgUAAxkBAAIB-_x", width=1280)
    fields = {"photo": [good, item]} if kind == "photo" else {kind: item}  # any size of a photo, not just the largest

    assert "file_id" in rejected_400(channel, {"update_id": 21, "message": message(**fields)})


def test_a_plausible_file_id_passes(channel: TelegramChannel) -> None:
    file_id = "AgACAgUAAxkBAAIB-_" + "x" * 238  # 256 characters of Telegram's alphabet
    document = {"file_id": file_id, "file_unique_id": "AgAD"}

    assert parse_one(channel, {"update_id": 22, "message": message(document=document)}).media == (
        Media(f"tg-file:{file_id}", "application/octet-stream"),)


def test_a_location_in_bandung_passes(channel: TelegramChannel) -> None:
    located = parse_one(channel, {"update_id": 23, "message": message(location={"latitude": -6.9147,
                                                                                "longitude": 107.6098})})
    assert located.location == Location(-6.9147, 107.6098)


@pytest.mark.parametrize("latitude, longitude", [
    ("-6.9147", 107.6098), (-6.9147, "107.6098"), ("1.5", "1.5"), (True, 107.6), (-6.9, False), (None, 107.6),
    (-91, 107.6), (-6.9, 180.5), (float("nan"), 107.6), (-6.9, float("inf")), (2**70, 0),
], ids=repr)
@pytest.mark.parametrize("where", ["location", "venue"])
def test_coordinates_that_are_not_numbers_on_the_globe_are_400(channel: TelegramChannel, where: str,
                                                              latitude: object, longitude: object) -> None:
    point = {"latitude": latitude, "longitude": longitude}
    fields = {"location": point} if where == "location" else {
        "venue": {"location": point, "title": "Gedung Sate", "address": "Jl. Diponegoro 22"}}

    rejected_400(channel, {"update_id": 24, "message": message(**fields)})


# -- sending -----------------------------------------------------------------------------------

def out(text: str = "Terima kasih.", choices: tuple[tuple[str, str], ...] = (), recipient: str = "42") -> OutboundMessage:
    return OutboundMessage(channel="telegram", recipient=recipient, text=text, message_id=1, choices=choices)


def test_send_posts_plain_text_to_the_chat(api: TelegramApiServer, channel: TelegramChannel) -> None:
    result = channel.send(out("Laporan *LAP-7K3M9Q* diterima_"))

    assert api.calls_to("sendMessage") == [{"chat_id": 42, "text": "Laporan *LAP-7K3M9Q* diterima_"}]
    assert result.provider_message_id == "1" and result.status == "sent"
    assert api.violations == []


def test_short_choices_become_buttons_three_to_a_row(api: TelegramApiServer, channel: TelegramChannel) -> None:
    choices = tuple((str(n), label) for n, label in enumerate(["Jalan", "Air", "Listrik", "Sampah", "Lain"], 1))

    channel.send(out("Pilih kategori", choices))

    rows = api.calls_to("sendMessage")[0]["reply_markup"]["inline_keyboard"]
    assert [[(b["text"], b["callback_data"]) for b in row] for row in rows] == [
        [("Jalan", "1"), ("Air", "2"), ("Listrik", "3")], [("Sampah", "4"), ("Lain", "5")]]
    assert api.violations == []


def test_long_labels_get_a_row_each_and_long_replies_are_cut_to_64_bytes(
        api: TelegramApiServer, channel: TelegramChannel) -> None:
    reply = "pengaduan-" + "é" * 40  # 90 bytes of UTF-8
    channel.send(out("Jenis laporan?", (("1", "Pengaduan"), (reply, "Permintaan informasi publik"))))

    rows = api.calls_to("sendMessage")[0]["reply_markup"]["inline_keyboard"]
    assert [len(row) for row in rows] == [1, 1]
    data = rows[1][0]["callback_data"]
    assert len(data.encode()) <= 64 and reply.startswith(data) and data.endswith("é")
    assert api.violations == []


def test_keyboards_can_be_switched_off(api: TelegramApiServer) -> None:
    channel = TelegramChannel(token=TOKEN, webhook_secret=SECRET, api_base_url=api.base_url, keyboards=False)
    try:
        channel.send(out("Pilih", (("1", "Ya"), ("2", "Tidak"))))
    finally:
        channel.close()
    assert "reply_markup" not in api.calls_to("sendMessage")[0]


def test_text_over_4096_characters_is_the_callers_to_split(api: TelegramApiServer, channel: TelegramChannel) -> None:
    channel.send(out("a" * 4096))
    with pytest.raises(ValueError, match="split_telegram"):
        channel.send(out("a" * 4097))
    assert len(api.calls) == 1


def test_many_threads_share_one_event_loop(api: TelegramApiServer, channel: TelegramChannel) -> None:
    results: list[tuple[int, str | None]] = []

    def sender(n: int) -> None:
        for i in range(5):
            results.append((n, channel.send(out(f"pesan {n}-{i}", recipient=str(100 + n))).provider_message_id))

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(results)) == 40 and len(api.calls) == 40
    assert {n: sorted(int(i) for m, i in results if m == n) for n in range(8)} == {n: [1, 2, 3, 4, 5] for n in range(8)}
    assert len(loop_threads()) == 1
    assert api.violations == []
    channel.close()
    assert loop_threads() == []


def test_a_closed_channel_refuses_to_send(channel: TelegramChannel) -> None:
    channel.close()
    with pytest.raises(RuntimeError, match="closed"):
        channel.send(out())


# -- failures ------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # int retry_after, until v23
def test_flood_control_is_retryable_after_telegrams_wait(api: TelegramApiServer, channel: TelegramChannel) -> None:
    api.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)

    error = _send_error(channel)

    assert (error.retryable, error.retry_after) == (True, 7.0)


@pytest.mark.parametrize("code, description, retryable, reason", [
    (403, "Forbidden: bot was blocked by the user", False, "telegram: forbidden: bot was blocked by the user"),
    (400, "Bad Request: chat not found", False, "telegram: bad request: Chat not found"),
    (401, "Unauthorized", False, "telegram: the bot token was rejected"),
    (500, "Internal Server Error", True, "telegram: network error: Internal Server Error"),
    (502, "Bad Gateway", True, "telegram: network error: Bad Gateway"),
])
def test_provider_errors_are_classified(api: TelegramApiServer, channel: TelegramChannel, code: int,
                                        description: str, retryable: bool, reason: str) -> None:
    api.fail_next("sendMessage", code, description)

    error = _send_error(channel)

    assert (error.retryable, str(error)) == (retryable, reason)


def test_a_timeout_is_retryable(api: TelegramApiServer) -> None:
    channel = TelegramChannel(token=TOKEN, webhook_secret=SECRET, api_base_url=api.base_url, timeout=0.3)
    api.hang_next(3)
    try:
        error = _send_error(channel)
    finally:
        channel.close()
    assert (error.retryable, str(error)) == (True, "telegram: timed out")


def test_a_refused_connection_is_retryable() -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = TelegramChannel(token=TOKEN, webhook_secret=SECRET, api_base_url=f"http://127.0.0.1:{port}", timeout=2)
    try:
        error = _send_error(channel)
    finally:
        channel.close()
    assert error.retryable and str(error).startswith("telegram: network error: ")
    assert TOKEN not in str(error)


def _send_error(channel: TelegramChannel) -> DeliveryError:
    secret_text = "nomor KTP saya 3171234567890001"
    with pytest.raises(DeliveryError) as failure:
        channel.send(out(secret_text))
    assert secret_text not in str(failure.value) and TOKEN not in str(failure.value)
    return failure.value


# -- files and webhook -------------------------------------------------------------------------

def test_download_gives_the_files_bytes(api: TelegramApiServer, channel: TelegramChannel) -> None:
    api.put_file("AgACAgUAAxk", b"\xff\xd8photo", "photos/file_3.jpg")

    assert channel.download("tg-file:AgACAgUAAxk", max_bytes=1024) == b"\xff\xd8photo"
    assert api.calls_to("getFile") == [{"file_id": "AgACAgUAAxk"}]
    assert api.violations == []


def test_download_of_exactly_max_bytes_passes(api: TelegramApiServer, channel: TelegramChannel) -> None:
    api.put_file("BQACAgUAAx", b"x" * 1000)

    assert len(channel.download("tg-file:BQACAgUAAx", max_bytes=1000)) == 1000


def test_download_refuses_what_is_no_telegram_reference(channel: TelegramChannel) -> None:
    with pytest.raises(ValueError):
        channel.download("https://example.org/x.jpg", max_bytes=1024)


def test_download_refuses_a_file_telegram_reports_too_large(api: TelegramApiServer, channel: TelegramChannel) -> None:
    api.put_file("BQACAgUAAx", b"x" * 2000)

    error = _download_error(channel, "tg-file:BQACAgUAAx", max_bytes=1000)

    assert not error.retryable and str(error) == "telegram: the file has 2000 bytes, over the limit of 1000"


def test_download_counts_the_bytes_it_received(api: TelegramApiServer, channel: TelegramChannel) -> None:
    """As when getFile's file_size is missing or wrong: two file ids sharing one path, so getFile
    reports the small file's size and the download serves the large one's bytes."""
    api.put_file("large", b"x" * 5000, "documents/shared.bin")
    api.put_file("small", b"x" * 10, "documents/shared.bin")

    error = _download_error(channel, "tg-file:small", max_bytes=1000)

    assert not error.retryable and str(error) == "telegram: the file has 5000 bytes, over the limit of 1000"


def test_download_of_an_unknown_file_is_permanent(api: TelegramApiServer, channel: TelegramChannel) -> None:
    error = _download_error(channel, "tg-file:gone")

    assert not error.retryable and str(error) == "telegram: bad request: Invalid file_id"


def test_download_of_a_file_gone_from_storage_is_permanent(api: TelegramApiServer, channel: TelegramChannel) -> None:
    """getFile knows the file, its download answers 404 (a file_path with "?": the download URL's
    path ends before it, so the stand-in has no file there)."""
    api.put_file("BQACAgUAAx", b"pdf", "documents/file_0.pdf?v=2")

    error = _download_error(channel, "tg-file:BQACAgUAAx")

    assert not error.retryable and str(error) == "telegram: the file is gone from Telegram's storage"


@pytest.mark.parametrize("code, description, retryable", [
    (502, "Bad Gateway", True),
    (500, "Internal Server Error", True),
    (401, "Unauthorized", False),
])
def test_download_errors_of_get_file_are_classified(api: TelegramApiServer, channel: TelegramChannel, code: int,
                                                    description: str, retryable: bool) -> None:
    api.put_file("BQACAgUAAx", b"pdf")
    api.fail_next("getFile", code, description)

    assert _download_error(channel, "tg-file:BQACAgUAAx").retryable is retryable


def test_a_download_that_times_out_is_retryable(api: TelegramApiServer) -> None:
    channel = TelegramChannel(token=TOKEN, webhook_secret=SECRET, api_base_url=api.base_url, timeout=0.3)
    api.put_file("BQACAgUAAx", b"pdf")
    api.hang_next(3)
    try:
        error = _download_error(channel, "tg-file:BQACAgUAAx")
    finally:
        channel.close()
    assert (error.retryable, str(error)) == (True, "telegram: timed out")


def test_a_download_error_names_neither_the_token_nor_the_file_url(api: TelegramApiServer) -> None:
    """Even when the failure's own text would: the refused connection's error is replaced, and the
    library's exception (which holds the URL) is not chained to it."""
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = TelegramChannel(token=TOKEN, webhook_secret=SECRET, api_base_url=f"http://127.0.0.1:{port}", timeout=2)
    try:
        error = _download_error(channel, "tg-file:BQACAgUAAx")
    finally:
        channel.close()
    assert error.retryable and error.__cause__ is None and error.__suppress_context__


def _download_error(channel: TelegramChannel, ref: str, max_bytes: int = 1024) -> DeliveryError:
    with pytest.raises(DeliveryError) as failure:
        channel.download(ref, max_bytes=max_bytes)
    secret = TOKEN.split(":")[1]
    assert secret not in str(failure.value) and "/file/bot" not in str(failure.value)
    return failure.value


def test_set_webhook_registers_the_secret(api: TelegramApiServer, channel: TelegramChannel) -> None:
    channel.set_webhook("https://lapor.example/webhooks/telegram")

    assert api.webhook == {"url": "https://lapor.example/webhooks/telegram", "secret_token": SECRET,
                           "allowed_updates": ["message", "callback_query"], "drop_pending_updates": False}
    assert api.violations == []


# -- long polling ------------------------------------------------------------------------------

class Poller:
    """``channel.poll`` in a thread, with a handler that records (and may refuse) messages."""

    def __init__(self, channel: TelegramChannel, refuse: int = 0) -> None:
        self.handled: list[InboundMessage] = []
        self.refuse = refuse  # how many first calls raise
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(channel,))

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self._thread.join(timeout=5)
        assert not self._thread.is_alive()

    def finished(self) -> bool:
        return not self._thread.is_alive()

    def _handle(self, inbound: InboundMessage) -> None:
        self.handled.append(inbound)
        if len(self.handled) <= self.refuse:
            raise RuntimeError("database unavailable")

    def _run(self, channel: TelegramChannel) -> None:
        try:
            channel.poll(self._handle, self.stop, timeout=1, retry_delay=0.05)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc


def offsets(api: TelegramApiServer) -> list[int | None]:
    return [params.get("offset") for params in api.calls_to("getUpdates")]


def test_poll_handles_updates_in_order_and_moves_the_offset(api: TelegramApiServer, channel: TelegramChannel) -> None:
    first = api.push_update({"message": message(text="halo")})
    api.push_update({"edited_message": message(text="halo!", edit_date=DATE + 5)})
    third = api.push_update({"message": message(text="1")})

    with Poller(channel) as poller:
        wait_for(lambda: third + 1 in offsets(api))

    assert [(m.text, m.provider_message_id) for m in poller.handled] == [("halo", str(first)), ("1", str(third))]
    assert offsets(api)[:2] == [None, third + 1]
    assert poller.error is None
    assert api.violations == []


def test_poll_fetches_an_update_again_when_its_handler_failed(api: TelegramApiServer, channel: TelegramChannel) -> None:
    first = api.push_update({"message": message(text="halo")})
    second = api.push_update({"message": message(text="2")})

    with Poller(channel, refuse=1) as poller:
        wait_for(lambda: second + 1 in offsets(api))

    assert [m.provider_message_id for m in poller.handled] == [str(first), str(first), str(second)]
    assert offsets(api)[:3] == [None, first, second + 1]


def test_poll_deletes_a_webhook_first(api: TelegramApiServer, channel: TelegramChannel) -> None:
    channel.set_webhook("https://lapor.example/webhooks/telegram")
    api.push_update({"message": message(text="halo")})

    with Poller(channel) as poller:
        wait_for(lambda: len(poller.handled) == 1)

    assert api.calls_to("deleteWebhook") == [{"drop_pending_updates": False}]
    assert api.webhook == {"url": ""}


def test_poll_waits_out_failures_of_get_updates(api: TelegramApiServer, channel: TelegramChannel) -> None:
    api.fail_next("getUpdates", 502, "Bad Gateway", times=2)
    api.push_update({"message": message(text="halo")})

    with Poller(channel) as poller:
        wait_for(lambda: len(poller.handled) == 1)

    assert len(api.calls_to("getUpdates")) >= 3 and poller.error is None


def test_poll_stops_on_a_permanent_failure(api: TelegramApiServer, channel: TelegramChannel) -> None:
    api.fail_next("getUpdates", 401, "Unauthorized")

    with Poller(channel) as poller:
        wait_for(poller.finished)

    assert isinstance(poller.error, DeliveryError) and not poller.error.retryable


def test_stop_ends_a_waiting_poll_at_once(api: TelegramApiServer, channel: TelegramChannel) -> None:
    with Poller(channel) as poller:
        wait_for(lambda: len(api.calls_to("getUpdates")) == 1)
        started = time.monotonic()
        poller.stop.set()
        wait_for(poller.finished, timeout=0.5)
    assert time.monotonic() - started < 0.5


# -- splitting ---------------------------------------------------------------------------------

def test_split_telegram_cuts_between_words() -> None:
    assert split_telegram("satu dua tiga", limit=8) == ["satu dua", "tiga"]
    assert split_telegram("baris satu\nbaris dua", limit=12) == ["baris satu", "baris dua"]
    assert split_telegram("pendek") == ["pendek"]


def test_split_telegram_cuts_a_word_only_when_it_is_longer_than_the_limit() -> None:
    assert split_telegram("a " + "x" * 10 + " b", limit=4) == ["a", "xxxx", "xxxx", "xx b"]


@given(st.lists(st.text(alphabet="abcdéö😀", min_size=1, max_size=30), min_size=1, max_size=60),
       st.sampled_from([" ", "\n"]), st.integers(min_value=30, max_value=120))
def test_split_telegram_keeps_every_word_whole_and_in_order(words: list[str], separator: str, limit: int) -> None:
    parts = split_telegram(separator.join(words), limit)

    assert all(len(part) <= limit for part in parts)
    assert " ".join(parts).split() == words

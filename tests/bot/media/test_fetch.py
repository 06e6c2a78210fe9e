"""The fetchers against the local Twilio and Telegram APIs over real HTTP: credentials go to the
provider's API and nowhere else, sizes are bounded while reading, failures are classified, and
no error or log line carries a token."""
from __future__ import annotations

import base64
import io
import json
import logging
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image
from providers.telegram_api import TOKEN, TelegramApiServer
from providers.twilio_api import ACCOUNT_SID, AUTH_TOKEN, TwilioApiServer

from bot.cli import quiet_libraries
from bot.media.fetch import (
    TELEGRAM_MAX_BYTES,
    Fetched,
    Fetcher,
    FetchError,
    TelegramMediaFetcher,
    TwilioMediaFetcher,
)
from bot.media.process import process
from channels.base import WebhookRequest
from channels.telegram import DOWNLOAD_LIMIT, SECRET_HEADER, TelegramChannel

INBOUND_SID = "MM" + "4c" * 16
PHOTO = b"\xff\xd8\xff\xe0" + b"a photo of a pothole " * 50
TELEGRAM_SECRET = TOKEN.split(":")[1]  # the part of the bot token that is the secret
SECRETS = (AUTH_TOKEN, base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode(), TELEGRAM_SECRET)


class Recording(httpx.BaseTransport):
    """Real HTTP that records every request and counts the body bytes handed to the client;
    ``drop_length`` removes Content-Length from answers, as a server that streams chunked would."""

    def __init__(self, *, drop_length: bool = False) -> None:
        self.requests: list[httpx.Request] = []
        self.body_bytes = 0
        self._drop_length = drop_length
        self._http = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self._http.handle_request(request)
        assert isinstance(answer.stream, httpx.SyncByteStream)
        headers = [(name, value) for name, value in answer.headers.raw
                   if not (self._drop_length and name.lower() == b"content-length")]
        return httpx.Response(answer.status_code, headers=headers, stream=_Counted(answer.stream, self),
                              extensions=answer.extensions)

    def close(self) -> None:
        self._http.close()


class _Counted(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, owner: Recording) -> None:
        self._stream = stream
        self._owner = owner

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._owner.body_bytes += len(chunk)
            yield chunk

    def close(self) -> None:
        self._stream.close()


@pytest.fixture
def twilio() -> Iterator[TwilioApiServer]:
    with TwilioApiServer() as server:
        yield server


@pytest.fixture
def transport() -> Recording:
    return Recording()


def twilio_fetcher(base_url: str, transport: httpx.BaseTransport | None = None, *, auth_token: str = AUTH_TOKEN,
                   max_bytes: int = 16 * 1024 * 1024, timeout: float = 2.0) -> TwilioMediaFetcher:
    return TwilioMediaFetcher(account_sid=ACCOUNT_SID, auth_token=auth_token, api_base_url=base_url,
                              max_bytes=max_bytes, timeout=timeout, transport=transport)


@pytest.fixture
def fetcher(twilio: TwilioApiServer, transport: Recording) -> Iterator[TwilioMediaFetcher]:
    fetcher = twilio_fetcher(twilio.base_url, transport)
    yield fetcher
    fetcher.close()


def fetch_error(fetcher: Fetcher, ref: str) -> FetchError:
    with pytest.raises(FetchError) as failure:
        fetcher.fetch(ref)
    text = str(failure.value)
    assert not [secret for secret in SECRETS if secret in text] and "://" not in text
    assert failure.value.__cause__ is None  # the library's exception, which may name the URL, is not chained
    return failure.value


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- Twilio ------------------------------------------------------------------------------------

def test_a_twilio_medium_comes_through_the_redirect_without_credentials_at_the_cdn(
        twilio: TwilioApiServer, fetcher: TwilioMediaFetcher, transport: Recording) -> None:
    url = twilio.put_media(INBOUND_SID, PHOTO, "image/jpeg")

    fetched = fetcher.fetch(url)

    assert fetched == Fetched(data=PHOTO, declared_type="image/jpeg")
    api, cdn = transport.requests
    assert api.url == url and api.headers["Authorization"].startswith("Basic ")
    assert cdn.url.host == "localhost" and cdn.url.port == api.url.port and "Authorization" not in cdn.headers
    assert twilio.violations == []  # the CDN saw no Authorization header either
    assert twilio.cdn_fetches == twilio.media_fetches == [url.rsplit("/", 1)[1]]


def test_the_fetched_bytes_go_on_to_process(twilio: TwilioApiServer, fetcher: TwilioMediaFetcher) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(buffer, "PNG")
    url = twilio.put_media(INBOUND_SID, buffer.getvalue(), "image/jpeg")  # a sender's wrong type

    assert process(fetcher.fetch(url).data).content_type == "image/png"


def test_one_client_serves_many_threads(twilio: TwilioApiServer, fetcher: TwilioMediaFetcher) -> None:
    media = {twilio.put_media(INBOUND_SID, bytes([n]) * 5000, "audio/ogg"): bytes([n]) * 5000 for n in range(8)}
    results: dict[str, bytes] = {}

    def fetch_all() -> None:
        for url in media:
            results[url + threading.current_thread().name] = fetcher.fetch(url).data

    threads = [threading.Thread(target=fetch_all, name=f"t{n}") for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 48 and all(results[url + f"t{n}"] == data for url, data in media.items() for n in range(6))
    assert twilio.violations == []


@pytest.mark.parametrize("ref", [
    "https://evil.example/2010-04-01/Accounts/{sid}/Messages/MM1/Media/ME1",  # another host
    "{cdn}/2010-04-01/Accounts/{sid}/Messages/MM1/Media/ME1",  # our port, another host name
    "{base}/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/MM1/Media/ME1",  # another account
    "{https}/2010-04-01/Accounts/{sid}/Messages/MM1/Media/ME1",  # another scheme
    "{base}/2010-04-01/Accounts/{sid}/Messages/MM1/Media/ME1?redirect=https://evil.example",
    "{base}/2010-04-01/Accounts/{sid}/Messages/MM1/Media/../../../../../Calls.json",
    "{base}/2010-04-01/Accounts/{sid}/Messages/MM1/Media/ME1/../ME2",
    "{userinfo}/2010-04-01/Accounts/{sid}/Messages/MM1/Media/ME1",
    "{base}/2010-04-01/Accounts/{sid}/Messages.json",
    "tg-file:AgACAgUAAxk",
    "",
], ids=["other host", "cdn host", "other account", "https", "query", "traversal", "dot segments", "userinfo",
        "messages", "telegram ref", "empty"])
def test_a_ref_that_is_not_our_twilio_media_is_refused_without_a_request(
        twilio: TwilioApiServer, fetcher: TwilioMediaFetcher, transport: Recording, ref: str) -> None:
    ref = ref.format(sid=ACCOUNT_SID, base=twilio.base_url, cdn=twilio.cdn_base_url,
                     https=twilio.base_url.replace("http:", "https:"),
                     userinfo=twilio.base_url.replace("//", f"//{ACCOUNT_SID}:{AUTH_TOKEN}@"))

    error = fetch_error(fetcher, ref)

    assert not error.retryable and str(error) == "twilio: not a media URL of our account on Twilio's API"
    assert transport.requests == []


def test_the_default_api_base_is_twilios_own_over_https() -> None:
    fetcher = TwilioMediaFetcher(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, transport=Recording())
    try:
        path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
        error = fetch_error(fetcher, "http://api.twilio.com" + path)  # credentials never travel in clear
    finally:
        fetcher.close()
    assert not error.retryable


def test_an_api_base_that_is_no_url_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="api_base_url"):
        TwilioMediaFetcher(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, api_base_url="api.twilio.com")


def test_an_unknown_medium_is_permanent(twilio: TwilioApiServer, fetcher: TwilioMediaFetcher) -> None:
    url = twilio.put_media(INBOUND_SID, PHOTO, "image/jpeg")

    error = fetch_error(fetcher, url[:-32] + "0" * 32)

    assert not error.retryable and str(error) == "twilio: no such medium (HTTP 404)"


def test_refused_credentials_are_permanent_and_say_which_setting(twilio: TwilioApiServer) -> None:
    fetcher = twilio_fetcher(twilio.base_url, auth_token="0" * 32)
    try:
        error = fetch_error(fetcher, twilio.put_media(INBOUND_SID, PHOTO, "image/jpeg"))
    finally:
        fetcher.close()
    assert not error.retryable
    assert str(error) == "twilio: credentials refused (HTTP 401); check TWILIO_AUTH_TOKEN"


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_rate_limits_are_retryable(twilio: TwilioApiServer, fetcher: TwilioMediaFetcher,
                                                     status: int) -> None:
    url = twilio.put_media(INBOUND_SID, PHOTO, "image/jpeg")
    twilio.fail_next(status)

    error = fetch_error(fetcher, url)

    assert error.retryable and str(error) == f"twilio: HTTP {status}"
    assert fetcher.fetch(url).data == PHOTO  # the next try succeeds


def test_a_timeout_is_retryable(twilio: TwilioApiServer) -> None:
    fetcher = twilio_fetcher(twilio.base_url, timeout=0.3)
    url = twilio.put_media(INBOUND_SID, PHOTO, "image/jpeg")
    twilio.hang_next(3)
    try:
        error = fetch_error(fetcher, url)
    finally:
        fetcher.close()
    assert (error.retryable, str(error)) == (True, "twilio: timed out")


def test_a_refused_connection_is_retryable() -> None:
    base = f"http://127.0.0.1:{unused_port()}"
    fetcher = twilio_fetcher(base)
    try:
        error = fetch_error(fetcher, f"{base}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{INBOUND_SID}/Media/ME1")
    finally:
        fetcher.close()
    assert (error.retryable, str(error)) == (True, "twilio: network error (ConnectError)")


def test_a_medium_over_max_bytes_by_its_content_length_is_not_read(twilio: TwilioApiServer,
                                                                   transport: Recording) -> None:
    fetcher = twilio_fetcher(twilio.base_url, transport, max_bytes=1000)
    url = twilio.put_media(INBOUND_SID, b"x" * 4_000_000, "video/mp4")
    try:
        error = fetch_error(fetcher, url)
    finally:
        fetcher.close()
    assert not error.retryable and str(error) == "twilio: the medium has 4000000 bytes, over the limit of 1000"
    assert transport.body_bytes == 0


def test_a_streamed_medium_over_max_bytes_stops_being_read(twilio: TwilioApiServer) -> None:
    transport = Recording(drop_length=True)
    fetcher = twilio_fetcher(twilio.base_url, transport, max_bytes=100_000)
    url = twilio.put_media(INBOUND_SID, b"x" * 8_000_000, "video/mp4")
    try:
        error = fetch_error(fetcher, url)
    finally:
        fetcher.close()
    assert not error.retryable and str(error) == "twilio: the medium is over the limit of 100000 bytes"
    assert 100_000 < transport.body_bytes < 300_000  # a chunk or two past the limit, not 8 MB


def test_a_medium_of_exactly_max_bytes_passes(twilio: TwilioApiServer) -> None:
    fetcher = twilio_fetcher(twilio.base_url, Recording(drop_length=True), max_bytes=len(PHOTO))
    try:
        assert fetcher.fetch(twilio.put_media(INBOUND_SID, PHOTO, "image/jpeg")).data == PHOTO
    finally:
        fetcher.close()


def test_a_redirect_loop_is_permanent() -> None:
    base = "https://api.twilio.com"
    url = f"{base}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{INBOUND_SID}/Media/ME1"
    hops: list[httpx.Request] = []

    def loop(request: httpx.Request) -> httpx.Response:
        hops.append(request)
        return httpx.Response(307, headers={"Location": f"https://media.twiliocdn.com/{len(hops)}"})

    fetcher = TwilioMediaFetcher(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, transport=httpx.MockTransport(loop))
    try:
        error = fetch_error(fetcher, url)
    finally:
        fetcher.close()
    assert (error.retryable, str(error)) == (False, "twilio: more than 3 redirects")
    assert len(hops) == 4 and all("Authorization" not in hop.headers for hop in hops[1:])


def test_a_refusal_of_the_storage_is_not_blamed_on_the_auth_token() -> None:
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{INBOUND_SID}/Media/ME1"

    def storage(request: httpx.Request) -> httpx.Response:
        if request.url.host == "api.twilio.com":
            return httpx.Response(302, headers={"Location": "https://media.twiliocdn.com/expired"})
        return httpx.Response(403, text="Request has expired")

    fetcher = TwilioMediaFetcher(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                                 transport=httpx.MockTransport(storage))
    try:
        error = fetch_error(fetcher, url)
    finally:
        fetcher.close()
    assert (error.retryable, str(error)) == (False, "twilio storage: HTTP 403")


# -- Telegram ----------------------------------------------------------------------------------

@pytest.fixture
def telegram() -> Iterator[TelegramApiServer]:
    with TelegramApiServer(max_poll_wait=0.5) as server:
        yield server


@pytest.fixture
def channel(telegram: TelegramApiServer) -> Iterator[TelegramChannel]:
    channel = TelegramChannel(token=TOKEN, webhook_secret="s3cret", api_base_url=telegram.base_url, timeout=2)
    yield channel
    channel.close()


def photo_update(sizes: list[tuple[str, int]]) -> WebhookRequest:
    photo = [{"file_id": file_id, "file_unique_id": f"u{width}", "width": width, "height": width * 3 // 4}
             for file_id, width in sizes]
    message = {"message_id": 7, "date": 1_764_309_600, "chat": {"id": 42, "type": "private", "first_name": "Siti"},
               "photo": photo}
    return WebhookRequest(url="https://lapor.example/webhooks/telegram", headers={SECRET_HEADER: "s3cret"},
                          body=json.dumps({"update_id": 1, "message": message}).encode())


def jpeg_bytes(width: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, width * 3 // 4), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_a_telegram_photo_is_its_largest_size(telegram: TelegramApiServer, channel: TelegramChannel) -> None:
    sizes = [("AgACAgUAAx-s", 90), ("AgACAgUAAx-l", 1280), ("AgACAgUAAx-m", 320)]
    for file_id, width in sizes:
        telegram.put_file(file_id, jpeg_bytes(width), f"photos/{file_id}.jpg")
    (inbound,) = channel.parse(photo_update(sizes))

    fetched = TelegramMediaFetcher(channel).fetch(inbound.media[0].url)

    assert fetched == Fetched(data=jpeg_bytes(1280), declared_type="")
    assert process(fetched.data).content_type == "image/jpeg"
    assert telegram.calls_to("getFile") == [{"file_id": "AgACAgUAAx-l"}]
    assert telegram.violations == []


def test_the_default_limit_is_what_the_bot_api_lets_a_bot_download() -> None:
    assert TELEGRAM_MAX_BYTES == DOWNLOAD_LIMIT == 20 * 1024 * 1024


def test_a_telegram_file_over_max_bytes_is_permanent(telegram: TelegramApiServer, channel: TelegramChannel) -> None:
    telegram.put_file("BQACAgUAAx", b"%PDF-" + bytes(5000))

    error = fetch_error(TelegramMediaFetcher(channel, max_bytes=1000), "tg-file:BQACAgUAAx")

    assert not error.retryable and str(error) == "telegram: the file has 5005 bytes, over the limit of 1000"


def test_an_unknown_telegram_file_is_permanent(channel: TelegramChannel) -> None:
    error = fetch_error(TelegramMediaFetcher(channel), "tg-file:BQACAgUAAx-gone")

    assert not error.retryable and str(error) == "telegram: bad request: Invalid file_id"


def test_a_ref_of_another_kind_is_permanent(channel: TelegramChannel) -> None:
    error = fetch_error(TelegramMediaFetcher(channel), f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}")

    assert (error.retryable, str(error)) == (False, "telegram: not a Telegram file reference")


def test_a_telegram_failure_keeps_its_retryability(telegram: TelegramApiServer, channel: TelegramChannel) -> None:
    telegram.put_file("BQACAgUAAx", b"%PDF-")
    telegram.fail_next("getFile", 502, "Bad Gateway")

    error = fetch_error(TelegramMediaFetcher(channel), "tg-file:BQACAgUAAx")

    assert error.retryable and str(error) == "telegram: network error: Bad Gateway"


# -- secrets in logs -----------------------------------------------------------------------------

@pytest.fixture
def service_logging() -> None:
    """The loggers as ``lapor`` sets them up (bot.cli.quiet_libraries); the suite's
    ``logging_as_it_was`` restores them afterwards."""
    quiet_libraries()


def fetch_and_fail(twilio: TwilioApiServer, telegram: TelegramApiServer) -> list[FetchError]:
    """Fetches that succeed and fail in every way that reaches a provider, each failure logged
    with its traceback as a worker would log it; the errors."""
    channel = TelegramChannel(token=TOKEN, webhook_secret="s3cret", api_base_url=telegram.base_url, timeout=2)
    offline = TelegramChannel(token=TOKEN, webhook_secret="s3cret", api_base_url=f"http://127.0.0.1:{unused_port()}",
                              timeout=2)
    twilio_media = twilio_fetcher(twilio.base_url)
    wrong_token = twilio_fetcher(twilio.base_url, auth_token="0" * 32)
    telegram.put_file("BQACAgUAAx", b"%PDF-" + bytes(5000))
    errors: list[FetchError] = []
    try:
        TelegramMediaFetcher(channel).fetch("tg-file:BQACAgUAAx")
        twilio_media.fetch(twilio.put_media(INBOUND_SID, PHOTO, "image/jpeg"))
        failing: list[tuple[Fetcher, str]] = [
            (TelegramMediaFetcher(channel), "tg-file:gone"),
            (TelegramMediaFetcher(channel, max_bytes=10), "tg-file:BQACAgUAAx"),
            (TelegramMediaFetcher(offline), "tg-file:BQACAgUAAx"),
            (wrong_token, twilio.put_media(INBOUND_SID, PHOTO, "image/jpeg")),
        ]
        for fetcher, ref in failing:
            with pytest.raises(FetchError) as failure:
                fetcher.fetch(ref)
            errors.append(failure.value)
            logging.getLogger("bot.worker").warning("fetch failed", exc_info=failure.value)
    finally:
        for closing in (channel, offline, twilio_media, wrong_token):
            closing.close()
    return errors


def leaks(caplog: pytest.LogCaptureFixture) -> list[tuple[str, int]]:
    """(logger, level) of every record whose text, traceback included, carries a secret; the
    stand-ins' own access log (werkzeug) aside."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [(record.name, record.levelno) for record in caplog.records
            if record.name != "werkzeug" and any(secret in formatter.format(record) for secret in SECRETS)]


def test_with_the_services_logging_nothing_logged_carries_a_token(
        twilio: TwilioApiServer, telegram: TelegramApiServer, caplog: pytest.LogCaptureFixture,
        service_logging: None) -> None:
    caplog.set_level(logging.DEBUG)

    errors = fetch_and_fail(twilio, telegram)

    assert len(errors) == 4 and not [e for e in errors if any(secret in str(e) for secret in SECRETS)]
    assert leaks(caplog) == []


def test_only_the_libraries_own_debug_and_info_lines_carry_the_token(
        twilio: TwilioApiServer, telegram: TelegramApiServer, caplog: pytest.LogCaptureFixture) -> None:
    """Why the service quiets them: at DEBUG, httpx logs every request URL at INFO (Telegram's
    embed the bot token) and python-telegram-bot its API URLs at DEBUG; no line of ours does."""
    caplog.set_level(logging.DEBUG)

    fetch_and_fail(twilio, telegram)

    found = leaks(caplog)
    assert {name for name, _ in found} == {"httpx", "telegram.Bot"}
    assert all(level < logging.WARNING for _, level in found)

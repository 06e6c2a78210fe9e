"""Downloading a citizen's attachment from the provider that holds it.

A ``Fetcher`` turns the media reference an inbound message carries (``Media.url``) into bytes:
``TwilioMediaFetcher`` for WhatsApp and SMS (MMS), whose references are Twilio's media URLs,
and ``TelegramMediaFetcher`` for ``tg-file:<file_id>`` references. Both hold the provider's
credentials and never let them out: not to another host, not into an error, not into a log
line. What the bytes are is for ``bot.media.process`` to decide; the provider's declared
content type is passed on for logs only.

Failures are ``FetchError``: retryable (timeouts, refused connections, 429, 5xx) or permanent
(a reference that is not ours, an unknown medium, rejected credentials, a file over the limit).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

import httpx

from channels.base import DeliveryError
from channels.tls import client_context
from channels.twilio import media_url_pattern  # the rule parse applies to MediaUrl{N}, applied again here

if TYPE_CHECKING:
    from channels.telegram import TelegramChannel

TWILIO_MAX_BYTES = 16 * 1024 * 1024  # Twilio accepts inbound media up to 16 MB (WhatsApp documents)
TELEGRAM_MAX_BYTES = 20 * 1024 * 1024  # the largest file the Bot API lets a bot download (channels.telegram
# .DOWNLOAD_LIMIT, not imported: a process that only fetches from Twilio never loads python-telegram-bot)
MAX_REDIRECTS = 3  # Twilio answers with one redirect to its storage
_RETRYABLE_STATUSES = (408, 429)  # and every 5xx


@dataclass(frozen=True, slots=True)
class Fetched:
    """The bytes of one attachment, as the provider served them."""

    data: bytes
    declared_type: str  # the provider's Content-Type ("" when it names none), for logs only


class FetchError(Exception):
    """A download that failed. ``retryable`` failures may succeed later; the others will not.
    ``str(self)`` says why, for admins and logs; it never holds a token, a password or a URL."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


class Fetcher(Protocol):
    """Downloads the attachment behind one provider's media references."""

    def fetch(self, ref: str) -> Fetched:
        """The bytes behind ``ref`` (an inbound ``Media.url``), or FetchError."""
        ...


class TwilioMediaFetcher:
    """Media of WhatsApp and SMS (MMS) messages, from Twilio's REST API.

    A ``MediaUrl{N}`` of a webhook is ``<API base>/2010-04-01/Accounts/<AccountSid>/Messages/
    <MessageSid>/Media/<MediaSid>``; Twilio answers it, behind HTTP Basic auth with the account
    SID and auth token, with a redirect (302/307) to a short-lived URL on its storage, which is
    followed without the credentials (httpx drops the Authorization header when a redirect
    leaves the origin). One long-lived ``httpx.Client`` serves every fetch: connections are
    kept alive, and any number of threads may fetch at once. Call ``close()`` at shutdown.
    """

    def __init__(self, *, account_sid: str, auth_token: str, api_base_url: str = "https://api.twilio.com",
                 max_bytes: int = TWILIO_MAX_BYTES, timeout: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        """Only references on ``api_base_url``'s host, over https unless that base is http on a
        loopback host (a local stand-in for Twilio), and of ``account_sid``'s messages are
        fetched: the same rule ``channels.twilio`` applies to ``MediaUrl{N}`` when it parses a
        webhook. ``timeout`` bounds connecting and each read or write; ``transport`` is for tests.
        ValueError when ``api_base_url`` is not an absolute http(s) URL."""
        base = urlsplit(api_base_url)
        if base.scheme not in ("http", "https") or not base.hostname:
            raise ValueError("api_base_url must be an absolute http(s) URL")
        self._media_url = media_url_pattern(api_base_url, account_sid)
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._max_bytes = max_bytes
        self._client = httpx.Client(timeout=timeout, follow_redirects=True, max_redirects=MAX_REDIRECTS,
                                    transport=transport, verify=client_context())

    def fetch(self, ref: str) -> Fetched:
        """The medium at ``ref``, at most ``max_bytes`` (by its Content-Length before reading,
        and by the bytes read, which stop as soon as they exceed it).

        FetchError, permanent: ``ref`` is not a media URL of our account on the API's host (no
        request is made), the medium does not exist (404), the credentials were refused
        (401/403), the file is too large, too many redirects, or another 4xx. Retryable: 408,
        429, 5xx, timeouts and network failures.
        """
        if not self._media_url.fullmatch(ref):
            raise FetchError("twilio: not a media URL of our account on Twilio's API", retryable=False)
        try:
            with self._client.stream("GET", ref, auth=self._auth) as response:
                _check_status(response, api_host=urlsplit(ref).netloc)
                declared = response.headers.get("Content-Type", "")
                return Fetched(data=self._read(response), declared_type=declared)
        # "from None" everywhere: httpx's exceptions name the URL, and that of the storage is a credential
        except httpx.TimeoutException:
            raise FetchError("twilio: timed out", retryable=True) from None
        except httpx.TooManyRedirects:
            raise FetchError(f"twilio: more than {MAX_REDIRECTS} redirects", retryable=False) from None
        except httpx.TransportError as exc:
            raise FetchError(f"twilio: network error ({type(exc).__name__})", retryable=True) from None
        except httpx.HTTPError as exc:  # a redirect to a URL httpx cannot follow, a body it cannot decode
            raise FetchError(f"twilio: {type(exc).__name__}", retryable=False) from None

    def close(self) -> None:
        """Close the connections; the fetcher is unusable after."""
        self._client.close()

    def _read(self, response: httpx.Response) -> bytes:
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > self._max_bytes:
            raise _too_large(self._max_bytes, int(length))
        data = bytearray()
        for chunk in response.iter_bytes():
            data += chunk
            if len(data) > self._max_bytes:
                raise _too_large(self._max_bytes)
        return bytes(data)


class TelegramMediaFetcher:
    """Files of Telegram messages (``tg-file:<file_id>``), through the channel's own bot client
    (``TelegramChannel.download``), so its connection pool and event loop serve downloads too."""

    def __init__(self, channel: TelegramChannel, *, max_bytes: int = TELEGRAM_MAX_BYTES) -> None:
        self._channel = channel
        self._max_bytes = max_bytes

    def fetch(self, ref: str) -> Fetched:
        """The file behind ``ref``, at most ``max_bytes``. FetchError as ``TelegramChannel.download``
        classifies its DeliveryError (same reason, same retryable); permanent for a reference of
        another kind. ``declared_type`` is "": python-telegram-bot does not expose the download's
        headers (and Telegram names no type but the sender's, which the message carried)."""
        try:
            data = self._channel.download(ref, self._max_bytes)
        except ValueError:
            raise FetchError("telegram: not a Telegram file reference", retryable=False) from None
        except DeliveryError as exc:
            raise FetchError(str(exc), retryable=exc.retryable) from None
        return Fetched(data=data, declared_type="")


def _check_status(response: httpx.Response, *, api_host: str) -> None:
    """Raise FetchError unless the final answer (after redirects) is 200."""
    status = response.status_code
    if status == 200:
        return
    where = "twilio" if response.url.netloc.decode("ascii") == api_host else "twilio storage"
    if status == 404:
        raise FetchError(f"{where}: no such medium (HTTP 404)", retryable=False)
    if status in (401, 403) and where == "twilio":
        raise FetchError(f"twilio: credentials refused (HTTP {status}); check TWILIO_AUTH_TOKEN", retryable=False)
    retryable = status in _RETRYABLE_STATUSES or status >= 500
    raise FetchError(f"{where}: HTTP {status}", retryable=retryable)


def _too_large(limit: int, length: int | None = None) -> FetchError:
    if length is None:
        return FetchError(f"twilio: the medium is over the limit of {limit} bytes", retryable=False)
    return FetchError(f"twilio: the medium has {length} bytes, over the limit of {limit}", retryable=False)

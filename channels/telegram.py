"""Telegram through the official python-telegram-bot client (Bot API over HTTPS).

Receiving: Telegram POSTs each update as JSON to our webhook with the secret we registered in
the ``X-Telegram-Bot-Api-Secret-Token`` header (``set_webhook``), or ``poll`` fetches updates by
long polling. Both turn updates into canonical messages with the same code.

Sending: python-telegram-bot is asyncio, our callers are threads. Each channel runs one
long-lived event loop in a daemon thread (``channels.aio.LoopThread``, started on first use);
``send`` and the other calls block their caller until the loop has the answer. Call ``close()``
once at shutdown.

Files stay at Telegram: media arrive as ``tg-file:<file_id>`` references that ``download``
fetches when they are needed. Their download URL embeds the bot token; it never leaves this
module, not even in an error.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import hmac
import json
import logging
import re
import threading
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest

from channels.aio import LoopThread
from channels.base import (
    DeliveryError,
    InboundMessage,
    Location,
    Media,
    OutboundMessage,
    SendResult,
    WebhookRejected,
    WebhookRequest,
    storable,
)
from channels.render import split_length
from channels.tls import client_context

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query")  # what set_webhook and poll subscribe to
TEXT_LIMIT = 4096  # characters in one sendMessage, and in any message a citizen sends
CAPTION_LIMIT = 4096  # characters in a citizen's caption: 1,024 for most, more for Premium users
CALLBACK_DATA_LIMIT = 64  # bytes of UTF-8 in one inline button's callback_data
FILE_REF_PREFIX = "tg-file:"
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # bytes: the largest file the Bot API lets a bot download
_DOWNLOAD_RATE = 256 * 1024  # bytes a second that a download is given time for, beyond one call's backstop

_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token
_FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,256}")  # Telegram's file ids are URL-safe base64
_COMMAND = re.compile(r"/([A-Za-z0-9_]+)(?:@\w+)?(\s.*)?", re.DOTALL)  # "/start", "/status@Bot X"
_BUTTONS_PER_ROW = 3
_SHORT_LABEL = 12  # characters; any longer label puts every button on a row of its own
_FILE_KINDS = (  # Message attribute, content type when Telegram names none
    ("document", "application/octet-stream"),
    ("video", "video/mp4"),
    ("voice", "audio/ogg"),
    ("audio", "audio/mpeg"),
)


def split_telegram(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` as messages of at most ``limit`` characters, cut between words or lines; a
    word longer than ``limit`` is the only thing ever cut. Callers split before ``send``."""
    return split_length(text, limit)


class TelegramChannel:
    """A ``WebhookChannel`` for one Telegram bot.

    Thread-safe: any number of threads may call ``send`` at once; they share one event loop
    and one connection pool. ``verify`` and ``parse`` need no network and start no thread.
    Every Bot API failure surfaces as ``DeliveryError``, retryable or not.
    """

    name = "telegram"

    def __init__(self, *, token: str, webhook_secret: str,
                 api_base_url: str = DEFAULT_API_BASE_URL, keyboards: bool = True,
                 timeout: float = 10.0) -> None:
        """``timeout`` bounds each of connecting, sending and reading one Bot API call.

        Raises ValueError for a secret that Telegram would not accept (1-256 of A-Z, a-z,
        0-9, ``_`` and ``-``).
        """
        if not _SECRET_PATTERN.fullmatch(webhook_secret):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ or -")
        self._secret = webhook_secret
        self._keyboards = keyboards
        self._call_timeout = 4 * timeout  # a backstop above httpx's connect + write + read + pool
        base = api_base_url.rstrip("/")
        shared = {"verify": client_context()}  # one CA bundle in memory for all our clients (channels.tls)
        self._requests = (
            HTTPXRequest(connection_pool_size=1, connect_timeout=timeout, read_timeout=timeout,
                         write_timeout=timeout, pool_timeout=timeout, httpx_kwargs=shared),  # getUpdates only
            HTTPXRequest(connection_pool_size=16, connect_timeout=timeout, read_timeout=timeout,
                         write_timeout=timeout, pool_timeout=timeout, httpx_kwargs=shared),
        )
        # No Bot.initialize(): it would only cache getMe; the HTTP clients are ready as built.
        self._bot = Bot(token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
                        get_updates_request=self._requests[0], request=self._requests[1])
        self._loop = LoopThread(name="telegram-loop")

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, keyboards: bool = True) -> TelegramChannel | None:
        """The channel configured by TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET and
        TELEGRAM_API_BASE_URL, or None when the token or the secret is missing (a channel never
        runs unverified)."""
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip()
        if not token or not secret:
            return None
        base = env.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL
        return cls(token=token, webhook_secret=secret, api_base_url=base, keyboards=keyboards)

    # -- receiving ---------------------------------------------------------------------------

    def verify(self, request: WebhookRequest) -> None:
        """Raise WebhookRejected (403) unless the secret token header matches ours."""
        given = request.header(SECRET_HEADER)
        if given is None or not hmac.compare_digest(given.encode(), self._secret.encode()):
            raise WebhookRejected("missing or wrong Telegram secret token", status=403)

    def parse(self, request: WebhookRequest) -> list[InboundMessage]:
        """The citizen message in one update (see ``messages_from_update``).

        WebhookRejected (400), so that nothing is stored, for what Telegram never sends: a body
        that is not JSON, not an object, or lacks an integer update_id; a field of the wrong type
        (python-telegram-bot checks no types: text may be a list); and in the update's
        ``message`` or ``callback_query`` (see ``_check_read_parts``), a chat or user id that is
        not a JSON integer, a text or caption over 4,096 characters, a file_id that is not 1-256 of
        A-Z, a-z, 0-9, ``_`` and ``-``, or a location that is not JSON numbers within ±90 and
        ±180 (a numeric string such as ``"1.5"`` included).
        """
        update = _update_from_body(request.body)
        try:
            messages = messages_from_update(update)
        except (TypeError, ValueError, AttributeError):
            raise WebhookRejected("the update does not match the Bot API", status=400) from None
        if not all(_well_typed(message) for message in messages):
            raise WebhookRejected("the update does not match the Bot API", status=400)
        return messages

    def set_webhook(self, url: str) -> None:
        """Have Telegram POST our updates (message and callback_query only) to ``url``, with
        our secret in the header; updates already waiting are kept."""
        self._call(self._bot.set_webhook(url=url, secret_token=self._secret,
                                         allowed_updates=list(ALLOWED_UPDATES),
                                         drop_pending_updates=False))

    def poll(self, handle: Callable[[InboundMessage], None], stop: threading.Event,
             timeout: int = 30, *, retry_delay: float = 1.0) -> None:
        """Receive updates by long polling until ``stop`` is set, passing each message to
        ``handle`` in order.

        A webhook, if one is set, is deleted first (Telegram refuses getUpdates while one is).
        The offset moves past an update only once ``handle`` has returned for it, so an update
        whose handler raised is fetched and handled again after ``retry_delay`` seconds;
        ``handle`` must therefore be idempotent (intake dedupes on provider_message_id).
        Retryable failures of getUpdates are waited out; others raise DeliveryError.
        ``timeout`` is the long-poll wait in seconds; ``stop`` ends even a waiting poll.
        """
        self._leave_webhook()
        offset: int | None = None
        while not stop.is_set():
            try:
                updates = self._fetch_updates(offset, timeout, stop)
            except DeliveryError as exc:
                if not exc.retryable:
                    raise
                log.warning("telegram getUpdates failed, retrying: %s", exc)
                stop.wait(exc.retry_after or retry_delay)
                continue
            offset, failed = _dispatch(updates, handle, offset)
            if failed:
                stop.wait(retry_delay)

    # -- sending -----------------------------------------------------------------------------

    def send(self, message: OutboundMessage) -> SendResult:
        """Send ``message.text`` as plain text (no parse mode) to the chat ``message.recipient``,
        with an inline keyboard of its choices when keyboards are on. Pressing a button sends
        the choice's reply back as a callback_query, which ``parse`` reads like typed text.

        Raises ValueError when the text exceeds 4096 characters (split it first with
        ``split_telegram``) or the recipient is not a chat id; DeliveryError when Telegram or
        the network fails. Telegram has no idempotency key: a send that timed out may have
        arrived.
        """
        if len(message.text) > TEXT_LIMIT:
            raise ValueError(f"text of {len(message.text)} characters exceeds Telegram's {TEXT_LIMIT}; "
                             "split it with split_telegram() first")
        chat_id = int(message.recipient)
        markup = keyboard(message.choices) if self._keyboards and message.choices else None
        sent = self._call(self._bot.send_message(chat_id=chat_id, text=message.text,
                                                 reply_markup=markup))
        return SendResult(provider_message_id=str(sent.message_id), status="sent")

    def download(self, file_ref: str, max_bytes: int) -> bytes:
        """The content of a ``tg-file:<file_id>`` reference from ``parse``: getFile, then the
        download from Telegram's file URL, both on the channel's loop and connection pool.

        Raises ValueError for a reference of another kind; DeliveryError, permanent, for an
        unknown file_id, a file without a download path (Telegram gives none over 20 MB), or a
        file over ``max_bytes`` (by the size getFile reports, before downloading, and by the
        bytes received); DeliveryError, retryable, for flood control, timeouts, 5xx and network
        failures. No reason carries the bot token or the file URL, and none is chained to the
        library's exception, whose text or traceback could.
        """
        if not file_ref.startswith(FILE_REF_PREFIX):
            raise ValueError("not a Telegram file reference")
        try:
            return self._download(file_ref.removeprefix(FILE_REF_PREFIX), max_bytes)
        except DeliveryError as exc:
            raise DeliveryError(self._scrub(str(exc)), retryable=exc.retryable,
                                retry_after=exc.retry_after) from None

    def close(self) -> None:
        """Close the HTTP connections and stop the event loop; the channel is unusable after."""
        if self._loop.started:
            self._loop.run(_shutdown(self._requests), self._call_timeout)
        self._loop.close()

    # -- helpers -----------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run one Bot API call on the loop (given ``timeout`` seconds, else the backstop of one
        call); map its failure to DeliveryError."""
        try:
            return self._loop.run(coro, timeout or self._call_timeout)
        except TelegramError as exc:
            raise delivery_error(exc) from exc
        except TimeoutError as exc:
            raise DeliveryError("telegram: no answer in time", retryable=True) from exc

    def _download(self, file_id: str, max_bytes: int) -> bytes:
        file = self._call(self._bot.get_file(file_id))
        if file.file_size is not None and file.file_size > max_bytes:
            raise DeliveryError(f"telegram: the file has {file.file_size} bytes, over the limit of {max_bytes}",
                                retryable=False)
        if not file.file_path:
            raise DeliveryError("telegram: the file has no download path (over 20 MB?)", retryable=False)
        try:
            data = self._call(file.download_as_bytearray(),
                              self._call_timeout + min(max_bytes, DOWNLOAD_LIMIT) / _DOWNLOAD_RATE)
        except DeliveryError as exc:
            if isinstance(exc.__cause__, InvalidToken):  # 401/404 for the file of a token getFile just accepted
                raise DeliveryError("telegram: the file is gone from Telegram's storage", retryable=False) from None
            raise
        if len(data) > max_bytes:
            raise DeliveryError(f"telegram: the file has {len(data)} bytes, over the limit of {max_bytes}",
                                retryable=False)
        return bytes(data)

    def _scrub(self, text: str) -> str:
        """``text`` without the bot token, as it is or as it appears in a URL."""
        token = self._bot.token
        return text.replace(token, "<token>").replace(quote(token), "<token>")

    def _leave_webhook(self) -> None:
        if self._call(self._bot.get_webhook_info()).url:
            self._call(self._bot.delete_webhook(drop_pending_updates=False))

    def _fetch_updates(self, offset: int | None, timeout: int,
                       stop: threading.Event) -> tuple[Update, ...]:
        """One getUpdates; empty when ``stop`` was set while it waited (it is then cancelled)."""
        future = self._loop.submit(self._bot.get_updates(
            offset=offset, timeout=timeout, allowed_updates=list(ALLOWED_UPDATES)))
        while not stop.is_set():
            try:
                return future.result(timeout=0.2)
            except TelegramError as exc:
                raise delivery_error(exc) from exc
            except concurrent.futures.TimeoutError as exc:
                if future.done():  # raised by the call itself, not by our wait
                    raise DeliveryError("telegram: no answer in time", retryable=True) from exc
        future.cancel()
        return ()


# -- parsing ---------------------------------------------------------------------------------

def messages_from_update(update: Update) -> list[InboundMessage]:
    """The citizen message carried by one update, as a list of zero or one.

    Read: ``message`` in a private chat, with text, a caption, media (photo: the largest size;
    document, video, voice, audio), a location or venue, or a shared contact (its phone number
    becomes the text, so a phone question can be answered with the contact button, and the
    message says ``shared_contact``: intake stores it encrypted); and
    ``callback_query`` from our inline keyboards (the button's data becomes the text). A bot
    command such as ``/start`` or ``/status@OurBot LAP-7K3M9Q`` loses its slash and bot name.
    Ignored, as []: edited messages (the dialog has moved on; an edit is not a new answer),
    group and channel chats (complaints are personal), stickers, polls and service messages,
    and every other kind of update.
    """
    provider_id = str(update.update_id)
    if update.message is not None:
        return _from_message(update.message, provider_id)
    if update.callback_query is not None:
        return _from_callback(update.callback_query, provider_id)
    return []


def _update_from_body(body: bytes) -> Update:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: nested too deep
        raise WebhookRejected("the body is not JSON", status=400) from None
    if not isinstance(data, dict):
        raise WebhookRejected("the body is not a JSON object", status=400)
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise WebhookRejected("the update has no integer update_id", status=400)
    _check_read_parts(data)
    try:
        update = Update.de_json(data, None)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError):
        # OverflowError and OSError: a date out of datetime's range (python-telegram-bot converts it)
        raise WebhookRejected("the update does not match the Bot API", status=400) from None
    shown = update.callback_query.message if update.callback_query is not None else None
    for message in (update.message, shown):
        if message is not None and message.chat is None:
            raise WebhookRejected("a message in the update has no chat", status=400)
    return update


def _check_read_parts(data: dict[str, Any]) -> None:
    """Raise WebhookRejected (400) for a value that Telegram never sends in the parts of an
    update we read, whatever the chat. This reads the JSON itself: python-telegram-bot checks
    no types (a chat id may arrive as ``"42"``, ``4.2`` or ``true``) and turns any file_id, even
    ``7`` or ``null``, into a string. Parts of the wrong shape are left to ``Update.de_json``."""
    if isinstance(message := data.get("message"), dict):
        _check_message(message)
    if isinstance(query := data.get("callback_query"), dict):
        _check_id("callback_query.from.id", _member(query.get("from"), "id"))
        if isinstance(shown := query.get("message"), dict):
            _check_id("callback_query.message.chat.id", _member(shown.get("chat"), "id"))


def _check_message(message: dict[str, Any]) -> None:
    """Its chat id is an integer; its text and caption fit Telegram's limits (counted in code
    points, never more than Telegram's count); every file id is one Telegram could have made."""
    _check_id("message.chat.id", _member(message.get("chat"), "id"))
    for name, limit in (("text", TEXT_LIMIT), ("caption", CAPTION_LIMIT)):
        if isinstance(value := message.get(name), str) and len(value) > limit:
            raise WebhookRejected(f"the {name} is longer than Telegram's {limit} characters", status=400)
    photo = message.get("photo")
    files = [*(photo if isinstance(photo, list) else ()), *(message.get(name) for name, _ in _FILE_KINDS)]
    for file in files:
        if isinstance(file, dict) and not (isinstance(file_id := file.get("file_id"), str)
                                           and _FILE_ID.fullmatch(file_id)):
            raise WebhookRejected("a file_id is not a Telegram file id", status=400)


def _member(value: object, name: str) -> object:
    """``value[name]`` when ``value`` is a JSON object, else None."""
    return value.get(name) if isinstance(value, dict) else None


def _check_id(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise WebhookRejected(f"{name} is not an integer", status=400)


def _well_typed(message: InboundMessage) -> bool:
    """Whether the values python-telegram-bot passed through unchecked are what the Bot API
    promises: text as text, storable media references and address (see ``storable``), and a
    location of finite coordinates on the globe, given as JSON numbers (not ``"1.5"`` or ``true``)."""
    stored = [value for media in message.media for value in (media.url, media.content_type)]
    if (location := message.location) is not None:
        stored.append(location.address)
        for value, limit in ((location.latitude, 90.0), (location.longitude, 180.0)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not abs(value) <= limit:
                return False  # "not <=" is also true for NaN
    texts = [message.text, message.profile_name, *stored]
    return all(isinstance(text, str) for text in texts) and all(storable(text) for text in stored)


def _from_message(message: Message, provider_id: str) -> list[InboundMessage]:
    if message.chat.type != ChatType.PRIVATE:
        return []
    text = message.text or message.caption or (message.contact.phone_number if message.contact else "")
    media, location = _media(message), _location(message)
    if not (text or media or location):
        return []
    return [InboundMessage(
        channel="telegram", sender=str(message.chat.id), text=_strip_command(text),
        provider_message_id=provider_id, received_at=message.date or datetime.now(UTC),
        media=media, location=location,
        profile_name=message.from_user.full_name if message.from_user else "",
        shared_contact=not (message.text or message.caption) and message.contact is not None,
    )]


def _from_callback(query: CallbackQuery, provider_id: str) -> list[InboundMessage]:
    if not query.data:
        return []
    if query.message is not None and query.message.chat.type != ChatType.PRIVATE:
        return []
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    return [InboundMessage(
        channel="telegram", sender=str(chat_id), text=query.data, provider_message_id=provider_id,
        received_at=datetime.now(UTC), profile_name=query.from_user.full_name,
    )]


def _media(message: Message) -> tuple[Media, ...]:
    found = []
    if message.photo:
        largest = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
        found.append(Media(FILE_REF_PREFIX + largest.file_id, "image/jpeg"))
    for attribute, default_type in _FILE_KINDS:
        if (item := getattr(message, attribute)) is not None:
            found.append(Media(FILE_REF_PREFIX + item.file_id, item.mime_type or default_type))
    return tuple(found)


def _location(message: Message) -> Location | None:
    if message.venue is not None:
        venue = message.venue
        address = ", ".join(part for part in (venue.title, venue.address) if part)
        return Location(venue.location.latitude, venue.location.longitude, address)
    if message.location is not None:
        return Location(message.location.latitude, message.location.longitude)
    return None


def _strip_command(text: str) -> str:
    """"/start" -> "start", "/status@LaporBot LAP-7K3M9Q" -> "status LAP-7K3M9Q"."""
    if match := _COMMAND.fullmatch(text):
        return match.group(1) + (match.group(2) or "")
    return text


def _dispatch(updates: tuple[Update, ...], handle: Callable[[InboundMessage], None],
              offset: int | None) -> tuple[int | None, bool]:
    """Handle ``updates`` in order; the next offset, and whether a handler failed (the offset
    then stays at that update, so it is fetched again)."""
    for update in updates:
        try:
            for message in messages_from_update(update):
                handle(message)
        except Exception as exc:  # noqa: BLE001 - any failure means: not handled, fetch again
            log.warning("telegram update %s not handled (%s); it will be fetched again",
                        update.update_id, type(exc).__name__)
            return update.update_id, True
        offset = update.update_id + 1
    return offset, False


# -- sending helpers -------------------------------------------------------------------------

def keyboard(choices: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup:
    """One inline button per (reply, label) choice, three to a row while every label is short,
    else one per row. A button's callback_data is its reply, cut to 64 bytes of UTF-8."""
    buttons = [InlineKeyboardButton(text=label or reply, callback_data=_truncate_utf8(reply or label))
               for reply, label in choices]
    short = all(len(button.text) <= _SHORT_LABEL for button in buttons)
    per_row = _BUTTONS_PER_ROW if short else 1
    return InlineKeyboardMarkup([buttons[i:i + per_row] for i in range(0, len(buttons), per_row)])


def _truncate_utf8(text: str, limit: int = CALLBACK_DATA_LIMIT) -> str:
    return text.encode()[:limit].decode(errors="ignore")


def delivery_error(exc: TelegramError) -> DeliveryError:
    """Classify a python-telegram-bot failure. Retryable: flood control (with its wait),
    timeouts, network errors and 5xx. Permanent: a rejected token, a bot blocked by the user
    (403), a bad request such as an unknown chat (400), and anything else. Reasons carry
    Telegram's description, never the message text or the token."""
    if isinstance(exc, RetryAfter):
        seconds = _seconds(exc.retry_after)
        return DeliveryError(f"telegram: flood control, retry after {seconds:g} s",
                             retryable=True, retry_after=seconds)
    if isinstance(exc, InvalidToken):
        return DeliveryError("telegram: the bot token was rejected", retryable=False)
    if isinstance(exc, Forbidden):
        detail = _description(exc).removeprefix("Forbidden: ")
        return DeliveryError(f"telegram: forbidden: {detail}", retryable=False)
    if isinstance(exc, BadRequest):  # before its base class, NetworkError
        return DeliveryError(f"telegram: bad request: {_description(exc)}", retryable=False)
    if isinstance(exc, TimedOut):
        return DeliveryError("telegram: timed out", retryable=True)
    if isinstance(exc, NetworkError):
        return DeliveryError(f"telegram: network error: {_description(exc)}", retryable=True)
    return DeliveryError(f"telegram: {type(exc).__name__}: {_description(exc)}", retryable=False)


def _description(exc: TelegramError) -> str:
    """Telegram's own description of an error it answered; only the exception type of a
    failure below HTTP (whose text may quote URLs, and so the token)."""
    if exc.__cause__ is not None:
        return type(exc.__cause__).__name__
    return exc.message[:200]


def _seconds(value: int | float | timedelta) -> float:
    """A python-telegram-bot time period (int now, timedelta from v23) in seconds."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _shutdown(requests: tuple[HTTPXRequest, ...]) -> None:
    await asyncio.gather(*(request.shutdown() for request in requests))

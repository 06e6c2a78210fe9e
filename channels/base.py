"""Canonical messages and the contract every channel connector fulfils."""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Media:
    """An attachment: where the provider keeps it, and its content type."""

    url: str
    content_type: str = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class Location:
    """A location shared from the phone (not typed text)."""

    latitude: float
    longitude: float
    address: str = ""


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A citizen's message, normalised from any channel.

    provider_message_id is Twilio's MessageSid or Telegram's update_id; it makes retries harmless.
    """

    channel: str  # "whatsapp" | "sms" | "telegram" | "terminal"
    sender: str  # E.164 phone or Telegram chat id
    text: str
    provider_message_id: str
    received_at: datetime  # UTC, timezone-aware
    media: tuple[Media, ...] = ()
    location: Location | None = None
    profile_name: str = ""  # what the provider says the sender calls themselves (never stored)
    shared_contact: bool = False  # text is the phone number of a contact card: personal data, stored encrypted


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message to a citizen. ``text`` alone always suffices; ``choices`` are
    (reply, label) pairs a channel may also show as buttons.

    ``message_id`` is our own id for the message, so a channel can make sends idempotent.
    """

    channel: str
    recipient: str
    text: str
    message_id: int
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider answered to a send."""

    provider_message_id: str | None
    status: str = "sent"


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A provider's HTTP request as channels see it, free of any web framework.

    ``url`` is the public URL the provider called (``LAPOR_PUBLIC_URL`` + path + query), which
    is what signatures are computed over behind proxies. ``form`` keeps repeated keys in order.
    """

    url: str
    headers: Mapping[str, str]  # case-insensitive look-ups: use header()
    body: bytes = b""
    form: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    def form_dict(self) -> dict[str, str]:
        """The form as a dict (the first value of a repeated key)."""
        result: dict[str, str] = {}
        for key, value in self.form:
            result.setdefault(key, value)
        return result


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(text: str) -> bool:
    """Whether ``text`` can be stored as it is: PostgreSQL takes no NUL, UTF-8 no lone surrogate.
    Channels refuse (400) a media reference or an address that is not; message text is cleaned."""
    return not _UNSTORABLE.search(text)


class WebhookRejected(Exception):
    """A webhook that must not be processed: forged (403) or malformed (400)."""

    def __init__(self, reason: str, status: int = 403):
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """A provider's delivery report for one of our outbound messages."""

    channel: str
    provider_message_id: str
    status: str  # "sent" | "delivered" | "failed" | "undelivered" | "read"
    error: str | None = None


class DeliveryError(Exception):
    """A send that failed. ``retryable`` failures (timeouts, 5xx, 429) are tried again
    later, after at least ``retry_after`` seconds when the provider said so; the others
    (blocked bot, invalid number) go to the dead letter with ``str(self)`` as the reason."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.retryable = retryable
        self.retry_after = retry_after


class Channel(Protocol):
    """Sends canonical messages through one provider."""

    name: str

    def send(self, message: OutboundMessage) -> SendResult:
        """Deliver one message or raise DeliveryError."""
        ...


@runtime_checkable
class WebhookChannel(Channel, Protocol):
    """A channel that also receives: verify, then parse, a provider's webhook."""

    def verify(self, request: WebhookRequest) -> None:
        """Raise WebhookRejected (403) unless the request provably comes from the provider."""
        ...

    def parse(self, request: WebhookRequest) -> list[InboundMessage]:
        """The citizen messages in a verified request (may be empty for ignored kinds);
        raise WebhookRejected(status=400) when it is malformed."""
        ...


_DELAY_SECONDS = re.compile(r"[0-9]+")


def retry_after_seconds(header: str | None) -> float | None:
    """A Retry-After header (delay-seconds or an HTTP date) as seconds from now; None if absent or bad."""
    if not header:
        return None
    text = header.strip()
    if _DELAY_SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT even when it does not say so
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())

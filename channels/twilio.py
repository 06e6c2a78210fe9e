"""Twilio WhatsApp and SMS: verify and parse Twilio's webhooks, send through Twilio's Messages API.

One ``TwilioChannel`` serves one kind, ``"whatsapp"`` or ``"sms"``; both kinds may share an account.
Senders and recipients are E.164 numbers (``+6281234567890``); the ``whatsapp:`` prefix that Twilio
puts on WhatsApp addresses is removed on the way in and added on the way out.

Nothing here logs, and no error text carries a phone number or a message body: Twilio's own error
messages can echo the number, so they are redacted before they become a ``DeliveryError``.
"""
from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator

if TYPE_CHECKING:
    from channels.twilio_rest import TwilioMessages

from channels.base import (
    InboundMessage,
    Location,
    Media,
    OutboundMessage,
    SendResult,
    StatusUpdate,
    WebhookRejected,
    WebhookRequest,
    storable,
)

KINDS = ("whatsapp", "sms")
WHATSAPP_PREFIX = "whatsapp:"
SIGNATURE_HEADER = "X-Twilio-Signature"
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
DEFAULT_API_BASE_URL = "https://api.twilio.com"
_FROM_ENV = {"whatsapp": "TWILIO_WHATSAPP_FROM", "sms": "TWILIO_SMS_FROM"}

# Twilio's message statuses (the spec's message_enum_status, minus the inbound-only "receiving" and
# "received") in the vocabulary of StatusUpdate and SendResult.
_STATUSES = {
    "accepted": "sent",
    "scheduled": "sent",
    "queued": "sent",
    "sending": "sent",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "partially_delivered": "undelivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_PHONE_LIKE = re.compile(r"\+?[0-9]{7,}")  # any run long enough to be a phone number (error codes have 5 digits)
_MEDIA_COUNT = re.compile(r"[0-9]{1,2}")
MEDIA_LIMIT = 10  # attachments in one message: Twilio sends at most 10
BODY_LIMIT = 1600  # characters in one message's Body: Twilio's limit
_MEDIA_PATH = "/2010-04-01/Accounts/{account_sid}/Messages/"  # then {MessageSid}/Media/{MediaSid}
_MEDIA_SIDS = r"[A-Za-z0-9]{1,128}/Media/[A-Za-z0-9]{1,128}"
_COORDINATE = re.compile(r"-?[0-9]{1,3}(\.[0-9]{1,20})?")  # a plain decimal: no exponent, sign, space or _
_SID = re.compile(r"[A-Za-z0-9]{1,128}")  # Twilio's SIDs are 34 letters and digits; 128 is the column's size


class TwilioChannel:
    """WhatsApp or SMS through Twilio; implements ``WebhookChannel``.

    One twilio ``Client`` per instance, built at the first send, is reused by every send. It is safe to call ``send``
    from several threads at once: each call uses only its own request state (the Retry-After of a
    failed call is kept per thread), and the underlying ``requests`` connection pool is thread-safe.
    """

    def __init__(
        self,
        kind: str,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        public_url: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        timeout: float = 10.0,
    ) -> None:
        """``from_number`` is our Twilio number, with or without ``whatsapp:``; ``public_url`` is
        the external base URL (``LAPOR_PUBLIC_URL``) that status callbacks are sent to;
        ``api_base_url`` is where Twilio's API is, and so where inbound media must be (see
        ``parse``). ValueError when either URL is not an absolute http(s) URL."""
        _check_kind(kind)
        for name, url in (("public_url", public_url), ("api_base_url", api_base_url)):
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{name} must be an absolute http(s) URL")
        self.name = kind
        self._from = _address(kind, from_number)
        self._status_callback = public_url.rstrip("/") + STATUS_CALLBACK_PATH
        self._validator = RequestValidator(auth_token)
        self._media_url = media_url_pattern(api_base_url, account_sid)
        self._rest_args = (account_sid, auth_token, api_base_url.rstrip("/"), timeout)
        self._rest: TwilioMessages | None = None  # built at the first send (serving processes never send)
        self._rest_lock = threading.Lock()

    @classmethod
    def from_env(cls, kind: str, env: Mapping[str, str], public_url: str) -> TwilioChannel | None:
        """The channel configured by ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``,
        ``TWILIO_WHATSAPP_FROM``/``TWILIO_SMS_FROM`` and ``TWILIO_API_BASE_URL``, or None when a
        credential or the sender number is missing (the caller logs that the channel is disabled)."""
        _check_kind(kind)
        names = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", _FROM_ENV[kind])
        account_sid, auth_token, from_number = (env.get(name, "").strip() for name in names)
        if not (account_sid and auth_token and from_number):
            return None
        return cls(
            kind,
            account_sid=account_sid,
            auth_token=auth_token,
            from_number=from_number,
            public_url=public_url,
            api_base_url=env.get("TWILIO_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL,
        )

    def verify(self, request: WebhookRequest) -> None:
        """Raise WebhookRejected (403) unless ``X-Twilio-Signature`` signs ``request.url`` and the
        form with our auth token, the way Twilio signs form-encoded webhooks."""
        signature = request.header(SIGNATURE_HEADER)
        if not signature:
            raise WebhookRejected(f"missing {SIGNATURE_HEADER}")
        if not self._validator.validate(request.url, _SignedForm(request.form), signature):
            raise WebhookRejected(f"{SIGNATURE_HEADER} does not match")

    def parse(self, request: WebhookRequest) -> list[InboundMessage]:
        """The one citizen message in a verified inbound webhook.

        Raise WebhookRejected(status=400), so that nothing is stored, for anything Twilio never
        sends: no ``MessageSid`` or ``From``; a ``MessageSid`` that is not letters and digits; a
        ``From`` of the other kind (``whatsapp:`` on the SMS webhook or its absence on the
        WhatsApp one) or not E.164; a ``Body`` over 1,600 characters; a ``NumMedia`` that is not
        a number from 0 to 10; a missing ``MediaUrl{N}``, or one that is not Twilio's URL of a
        medium of our account (``<api_base_url's origin>/2010-04-01/Accounts/<our
        AccountSid>/Messages/<sid>/Media/<sid>``, https unless the API base is http on a loopback
        host), so no ``file://``, other host or loopback address ever reaches a registry; and
        ``Latitude``/``Longitude`` that are not plain decimals (``-6.9147``: no exponent, ``+``,
        ``_``, spaces, ``inf`` or ``nan``) within ±90 and ±180.
        """
        form = request.form_dict()
        return [
            InboundMessage(
                channel=self.name,
                sender=self._sender(_required(form, "From")),
                text=_body(form),
                provider_message_id=_sid(form),
                received_at=datetime.now(UTC),
                media=_media(form, self._media_url),
                location=_location(form),
                profile_name=form.get("ProfileName", ""),
            )
        ]

    def parse_status(self, request: WebhookRequest) -> StatusUpdate:
        """The delivery report in a verified status callback (``/webhooks/twilio/status``).

        All Twilio kinds share that URL, so the channel comes from the callback's ``To`` (a
        ``whatsapp:`` address means WhatsApp), falling back to this channel's name. ``error`` is
        ``"<ErrorCode> <ErrorMessage>"`` when Twilio reports one. Raise WebhookRejected(status=400)
        without ``MessageSid`` (or with one that is not letters and digits) or ``MessageStatus``,
        or for a status Twilio never reports on outbound messages.
        """
        form = request.form_dict()
        sid = _sid(form)
        reported = _required(form, "MessageStatus")
        status = _STATUSES.get(reported.lower())
        if status is None:
            raise WebhookRejected(f"unknown MessageStatus {reported[:40]!r}", 400)
        to = form.get("To")
        channel = self.name if to is None else ("whatsapp" if to.startswith(WHATSAPP_PREFIX) else "sms")
        return StatusUpdate(channel=channel, provider_message_id=sid, status=status, error=_status_error(form))

    def send(self, message: OutboundMessage) -> SendResult:
        """Create one Twilio message with ``message.text`` as its body and our status callback.

        ``choices`` are ignored: the text already carries the numbered menu. Raise DeliveryError:
        retryable for 429 (``retry_after`` from its Retry-After header), 5xx, connection failures
        and timeouts; permanent for other 4xx, with ``"Twilio <code>: <message>"`` as the reason.
        A timeout after Twilio received the request may have sent the message: retrying it can
        duplicate it, because Twilio's Messages API has no idempotency key.
        """
        if self._rest is None:
            with self._rest_lock:
                if self._rest is None:
                    from channels.twilio_rest import TwilioMessages

                    self._rest = TwilioMessages(*self._rest_args)
        sid, status = self._rest.create(to=_address(self.name, message.recipient), from_=self._from,
                                        body=message.text, status_callback=self._status_callback)
        return SendResult(provider_message_id=sid, status=_STATUSES.get(status, status))

    def _sender(self, address: str) -> str:
        """The E.164 number of a ``From``, which must be of this channel's kind."""
        is_whatsapp = address.startswith(WHATSAPP_PREFIX)
        if is_whatsapp != (self.name == "whatsapp"):
            got = "a WhatsApp" if is_whatsapp else "a non-WhatsApp"
            raise WebhookRejected(f"the {self.name} webhook got {got} From", 400)
        number = address.removeprefix(WHATSAPP_PREFIX)
        if not _E164.fullmatch(number):
            raise WebhookRejected("From is not an E.164 number", 400)
        return number


class _SignedForm(dict[str, list[str]]):
    """A form as RequestValidator signs it: every value of a repeated key (through ``getall``)."""

    def __init__(self, form: Iterable[tuple[str, str]]) -> None:
        super().__init__()
        for key, value in form:
            self.setdefault(key, []).append(value)

    def getall(self, key: str) -> list[str]:
        return self[key]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown Twilio channel kind {kind!r}: expected one of {', '.join(KINDS)}")


def _address(kind: str, number: str) -> str:
    """A number as Twilio addresses it for ``kind``: ``whatsapp:+62...`` on WhatsApp."""
    if kind == "whatsapp" and not number.startswith(WHATSAPP_PREFIX):
        return WHATSAPP_PREFIX + number
    return number


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "")
    if not value:
        raise WebhookRejected(f"missing {name}", 400)
    return value


def _sid(form: Mapping[str, str]) -> str:
    sid = _required(form, "MessageSid")
    if not _SID.fullmatch(sid):
        raise WebhookRejected("MessageSid is not a Twilio SID", 400)
    return sid


def _body(form: Mapping[str, str]) -> str:
    """The ``Body``, which Twilio never sends longer than 1,600 characters."""
    body = form.get("Body", "")
    if len(body) > BODY_LIMIT:
        raise WebhookRejected(f"Body is longer than Twilio's {BODY_LIMIT} characters", 400)
    return body


def media_url_pattern(api_base_url: str, account_sid: str) -> re.Pattern[str]:
    """What every ``MediaUrl{N}`` must fully match: Twilio's URL of a medium of ``account_sid``
    on the scheme and host[:port] of ``api_base_url``, where the scheme is https unless that
    base is itself http on a loopback host (a local stand-in for Twilio)."""
    base = urlsplit(api_base_url)
    host = base.netloc.rpartition("@")[2].lower()
    scheme = "http" if base.scheme == "http" and _is_loopback(base.hostname or "") else "https"
    prefix = f"{scheme}://{host}" + _MEDIA_PATH.format(account_sid=account_sid)
    return re.compile(re.escape(prefix) + _MEDIA_SIDS)


def _is_loopback(host: str) -> bool:
    """Whether ``host`` (a URL's hostname, without brackets) names this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _media(form: Mapping[str, str], url_pattern: re.Pattern[str]) -> tuple[Media, ...]:
    """``NumMedia`` (at most 10) attachments from ``MediaUrl{N}``, each fully matching
    ``url_pattern``, and ``MediaContentType{N}``."""
    count = form.get("NumMedia", "0")
    if not _MEDIA_COUNT.fullmatch(count) or int(count) > MEDIA_LIMIT:
        raise WebhookRejected(f"NumMedia is not a number from 0 to {MEDIA_LIMIT}", 400)
    return tuple(_media_item(form, index, url_pattern) for index in range(int(count)))


def _media_item(form: Mapping[str, str], index: int, url_pattern: re.Pattern[str]) -> Media:
    url = _required(form, f"MediaUrl{index}")
    if not url_pattern.fullmatch(url):
        raise WebhookRejected(f"MediaUrl{index} is not Twilio's URL of a medium of our account", 400)
    content_type = form.get(f"MediaContentType{index}")
    if not storable(content_type or ""):
        raise WebhookRejected(f"MediaContentType{index} contains a NUL", 400)
    return Media(url, content_type) if content_type else Media(url)


def _location(form: Mapping[str, str]) -> Location | None:
    """A shared location (WhatsApp sends ``Latitude``, ``Longitude`` and maybe ``Address``)."""
    latitude, longitude = form.get("Latitude"), form.get("Longitude")
    if latitude is None and longitude is None:
        return None
    if latitude is None or longitude is None:
        raise WebhookRejected("Latitude and Longitude must come together", 400)
    address = form.get("Address", "")
    if not storable(address):
        raise WebhookRejected("Address contains a NUL", 400)
    return Location(_coordinate("Latitude", latitude, 90.0), _coordinate("Longitude", longitude, 180.0), address)


def _coordinate(name: str, text: str, limit: float) -> float:
    """``text`` as degrees: a plain decimal (``-6.9147``, see ``_COORDINATE``) within ±``limit``."""
    if not _COORDINATE.fullmatch(text):
        raise WebhookRejected(f"{name} is not a plain decimal number", 400)
    value = float(text)
    if abs(value) > limit:
        raise WebhookRejected(f"{name} is out of range", 400)
    return value


def _status_error(form: Mapping[str, str]) -> str | None:
    """``"30003 Unreachable destination handset"`` from ``ErrorCode`` and ``ErrorMessage``."""
    parts = [form.get("ErrorCode", "").strip(), form.get("ErrorMessage", "").strip()]
    text = " ".join(part for part in parts if part)
    return redact(text) if text else None


def redact(text: str) -> str:
    """``text`` without anything that looks like a phone number."""
    return _PHONE_LIKE.sub("[number]", text)

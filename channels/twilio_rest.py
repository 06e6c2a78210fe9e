"""The sending half of the Twilio channel: Twilio's Messages API through the official ``Client``.

Kept apart from ``channels.twilio`` so that processes that only verify and parse webhooks (the
gunicorn workers, when ``lapor worker`` sends) never load the twilio REST client and ``requests``.

The call goes through twilio's own API layer (``Domain`` and ``Version``: the request, the
credentials, the user agent and the mapping of error answers to ``TwilioRestException`` that
every generated resource uses), not through ``client.api.v2010.account.messages``: reaching that
one generated resource loads the generated code of the whole 2010 API (calls, conferences,
recordings, SIP...), some 7 MB of memory, for the one request we make.
"""
from __future__ import annotations

import threading
from typing import Any

import requests
from twilio.base.domain import Domain
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.base.version import Version
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from channels.base import DeliveryError, retry_after_seconds
from channels.twilio import redact

_TWILIO_MESSAGE_PREFIX = "Unable to create record: "  # what twilio puts before Twilio's own error message
API_VERSION = "2010-04-01"  # of the Messages API, as twilio's generated MessageList calls it
_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


class TwilioMessages:
    """``messages.create`` of one account; safe to call from several threads at once."""

    def __init__(self, account_sid: str, auth_token: str, api_base_url: str, timeout: float) -> None:
        self._http = _HeaderKeepingHttpClient(timeout=timeout)
        client = Client(account_sid, auth_token, http_client=self._http)
        self._api = Version(Domain(client, api_base_url), API_VERSION)
        self._uri = f"/Accounts/{account_sid}/Messages.json"

    def create(self, *, to: str, from_: str, body: str, status_callback: str) -> tuple[str, str]:
        """Create one message; returns Twilio's (sid, status). Raise DeliveryError: retryable for
        429 (``retry_after`` from its Retry-After header), 5xx, 401/403, connection failures and
        timeouts; permanent for other 4xx, with ``"Twilio <code>: <message>"`` as the reason."""
        # The form of twilio's MessageList.create, its fields in its order; Version.create raises
        # what that raises for an error answer, and returns the created message's JSON.
        data = {"To": to, "StatusCallback": status_callback, "From": from_, "Body": body}
        try:
            created = self._api.create(method="POST", uri=self._uri, data=data, headers=dict(_HEADERS))
        # "from None" everywhere: the library's exceptions can carry the recipient's number, and
        # a logged traceback of the DeliveryError would print them as its cause.
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _delivery_error(exc, self._http.last_retry_after()) from None
        except requests.Timeout:
            raise DeliveryError("Twilio did not answer in time", retryable=True) from None
        except requests.RequestException as exc:
            raise DeliveryError(f"Twilio unreachable ({type(exc).__name__})", retryable=True) from None
        return created.get("sid"), created.get("status") or "queued"


class _HeaderKeepingHttpClient(TwilioHttpClient):  # type: ignore[misc]  # twilio ships no types
    """A TwilioHttpClient that remembers, per thread, the Retry-After header of its last response.

    twilio's exceptions drop the response headers; this is how a 429's Retry-After reaches the
    DeliveryError. Read it right after the failed call, on the same thread.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._last = threading.local()

    def request(self, *args: Any, **kwargs: Any) -> Response:
        self._last.retry_after = None
        response = super().request(*args, **kwargs)
        self._last.retry_after = (response.headers or {}).get("Retry-After")
        return response

    def last_retry_after(self) -> str | None:
        """The Retry-After header of this thread's last response, if it had one."""
        return getattr(self._last, "retry_after", None)


def _delivery_error(exc: TwilioRestException | TwilioServiceException, retry_after: str | None) -> DeliveryError:
    """Classify an error answer: 429 and 5xx are retryable (after Retry-After); so are 401/403
    (our credentials are wrong or being rotated: the message must wait for the operator's fix,
    not be dropped); other 4xx (invalid number, unsubscribed, outside the window) are permanent."""
    if isinstance(exc, TwilioServiceException):
        text = f"{exc.title}: {exc.detail}" if exc.detail else exc.title
    else:
        text = exc.msg.removeprefix(_TWILIO_MESSAGE_PREFIX)
    reason = redact(f"Twilio {exc.code or exc.status}: {text}")
    if exc.status in (401, 403, 429) or exc.status >= 500:
        return DeliveryError(reason, retryable=True, retry_after=retry_after_seconds(retry_after))
    return DeliveryError(reason, retryable=False)

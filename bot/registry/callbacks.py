"""Status updates pushed by a webhook registry: ``POST /webhooks/registry``, HMAC-signed like
our submissions (``X-Lapor-Signature: sha256=<hex>`` over the raw body)."""
from __future__ import annotations

import json
from dataclasses import dataclass

from bot.registry.base import RemoteStatus
from bot.registry.signing import verify
from dialogs.answers import clean_text

PUSHED_STATUSES = ("received", "verified", "in_progress", "resolved", "rejected")


class CallbackRejected(Exception):
    """A status update we must refuse: ``status`` is the HTTP answer (403 forged, 400 malformed)."""

    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class StatusCallback:
    tracking_number: str
    update: RemoteStatus


def parse_callback(body: bytes, signature: str | None, secret: str) -> StatusCallback:
    """Verify and read one status update, or raise CallbackRejected."""
    if not verify(body, signature, secret):
        raise CallbackRejected("bad or missing X-Lapor-Signature", 403)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise CallbackRejected("the body is not JSON", 400) from None
    if not isinstance(data, dict) or not isinstance(data.get("tracking_number"), str):
        raise CallbackRejected("tracking_number is missing", 400)
    status, note = data.get("status"), data.get("note")
    if status not in PUSHED_STATUSES:
        raise CallbackRejected(f"status must be one of {', '.join(PUSHED_STATUSES)}", 400)
    if note is not None and not isinstance(note, str):
        raise CallbackRejected("note must be text", 400)
    # clean_text: the note is shown to the citizen, and PostgreSQL cannot store a NUL
    return StatusCallback(data["tracking_number"], RemoteStatus(status, clean_text(note or "")[:1000] or None))

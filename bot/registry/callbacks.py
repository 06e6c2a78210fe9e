"""Status updates pushed by a webhook registry: ``POST /webhooks/registry``.

The request carries ``X-Lapor-Timestamp: <unix seconds>`` and ``X-Lapor-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`` (``bot.registry.signing``). A missing,
bad or stale signature is refused with 403. What was accepted is ordered by its timestamp:
``StatusCallback.supersedes`` tells whether it may change a complaint that already applied
another one (an older update never overrides a newer one; the same one again is a replay).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.registry.base import RemoteStatus
from bot.registry.signing import callback_timestamp, verify_callback
from dialogs.normalize import clean_text

PUSHED_STATUSES = ("received", "verified", "in_progress", "resolved", "rejected")


class CallbackRejected(Exception):
    """A status update we must refuse: ``status`` is the HTTP answer (403 forged, 400 malformed)."""

    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True, slots=True)
class StatusCallback:
    """One verified status update: what it says, when the registry sent it, and its digest
    (SHA-256 of the signed text), which identifies an exact replay."""

    tracking_number: str
    update: RemoteStatus
    sent_at: datetime
    digest: str

    def supersedes(self, applied_at: datetime | None, applied_digest: str | None) -> bool:
        """Whether this update may be applied over the last one applied (sent at
        ``applied_at``, with ``applied_digest``): not when it is older, nor when it is that one."""
        if applied_at is None:
            return True
        if self.sent_at < applied_at:
            return False
        return not (self.sent_at == applied_at and self.digest == applied_digest)


def parse_callback(body: bytes, timestamp: str | None, signature: str | None, secret: str,
                   now: float) -> StatusCallback:
    """Verify and read one status update received at ``now`` (unix seconds), or raise
    CallbackRejected: 403 for a missing, stale or bad signature, 400 for a body that is not
    one JSON object of the documented shape (a nesting too deep for the parser included)."""
    sent = callback_timestamp(timestamp, now)
    if sent is None:
        raise CallbackRejected("missing or stale X-Lapor-Timestamp (at most 300 s from our clock)", 403)
    if not verify_callback(body, sent, signature, secret):
        raise CallbackRejected("bad or missing X-Lapor-Signature", 403)
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
        raise CallbackRejected("the body is not JSON", 400) from None
    if not isinstance(data, dict) or not isinstance(data.get("tracking_number"), str):
        raise CallbackRejected("tracking_number is missing", 400)
    status, note = data.get("status"), data.get("note")
    if status not in PUSHED_STATUSES:
        raise CallbackRejected(f"status must be one of {', '.join(PUSHED_STATUSES)}", 400)
    if note is not None and not isinstance(note, str):
        raise CallbackRejected("note must be text", 400)
    digest = hashlib.sha256(str(sent).encode() + b"." + body).hexdigest()
    # clean_text: the note is shown to the citizen, and PostgreSQL cannot store a NUL
    return StatusCallback(data["tracking_number"], RemoteStatus(status, clean_text(note or "")[:1000] or None),
                          datetime.fromtimestamp(sent, UTC), digest)

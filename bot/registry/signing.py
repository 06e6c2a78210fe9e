"""HMAC-SHA256 signatures of registry traffic.

- Our submissions: ``X-Lapor-Signature: sha256=<hex>`` over the raw body (``sign``).
- The registry's status callbacks: ``X-Lapor-Timestamp: <unix seconds>`` and
  ``X-Lapor-Signature: sha256=<hex>`` over ``"<timestamp>.<raw body>"`` (``sign_callback``), so
  that a captured callback cannot be replayed later: one whose timestamp is more than
  ``CALLBACK_TOLERANCE_SECONDS`` off our clock is refused.
"""
from __future__ import annotations

import hashlib
import hmac
import re

PREFIX = "sha256="
CALLBACK_TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def sign(body: bytes, secret: str) -> str:
    """The header value for ``body``."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """True when ``header`` is the signature of ``body`` (compared in constant time)."""
    if not header or not header.startswith(PREFIX) or not secret:
        return False
    return hmac.compare_digest(sign(body, secret), header.strip())


def sign_callback(body: bytes, timestamp: int, secret: str) -> str:
    """The ``X-Lapor-Signature`` of a status callback sent at ``timestamp`` (unix seconds)."""
    return sign(str(timestamp).encode() + b"." + body, secret)


def callback_timestamp(header: str | None, now: float) -> int | None:
    """The callback's ``X-Lapor-Timestamp`` as unix seconds, or None when it is missing, not
    digits, or more than CALLBACK_TOLERANCE_SECONDS from ``now``."""
    if not header or not _TIMESTAMP.fullmatch(header.strip()):
        return None
    timestamp = int(header.strip())
    return timestamp if abs(now - timestamp) <= CALLBACK_TOLERANCE_SECONDS else None


def verify_callback(body: bytes, timestamp: int, header: str | None, secret: str) -> bool:
    """True when ``header`` signs ``"<timestamp>.<body>"`` (compared in constant time)."""
    return verify(str(timestamp).encode() + b"." + body, header, secret)

"""HMAC-SHA256 signatures of registry traffic: ``X-Lapor-Signature: sha256=<hex>`` over the raw body."""
from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(body: bytes, secret: str) -> str:
    """The header value for ``body``."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """True when ``header`` is the signature of ``body`` (compared in constant time)."""
    if not header or not header.startswith(PREFIX) or not secret:
        return False
    return hmac.compare_digest(sign(body, secret), header.strip())

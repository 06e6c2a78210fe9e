"""Signed, expiring links to kept files: how a registry opens a complaint's evidence.

``/media/<sha256>.<ext>?expires=<unix seconds>&signature=<hex>``: the signature is an
HMAC-SHA256, under a key derived from ``LAPOR_SECRET_KEY``, of the file's name and the expiry,
so a link opens exactly one file, until it expires, without credentials; after that, or with
any part changed, it is refused (403). The extension names the content type (from the file's
bytes, ``bot.media.process``); nothing in a link says who sent the file.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

__all__ = ["CONTENT_TYPES", "MediaLinks"]

# The types we keep (bot.media.process) and their extensions.
CONTENT_TYPES = {
    "jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "pdf": "application/pdf",
    "ogg": "audio/ogg", "mp3": "audio/mpeg", "m4a": "audio/mp4", "amr": "audio/amr", "wav": "audio/wav",
}
_EXTENSIONS = {content_type: ext for ext, content_type in CONTENT_TYPES.items()}
_NAME = re.compile(r"([0-9a-f]{64})\.([a-z0-9]{2,4})")
_KEY_LABEL = b"lapor-intake media links v1"


class MediaLinks:
    """Makes and checks the links; thread-safe (immutable)."""

    def __init__(self, secret: str, public_url: str, ttl: timedelta):
        if not secret:
            raise ValueError("media links need a secret (LAPOR_SECRET_KEY)")
        self._key = hmac.new(secret.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()
        self._base = public_url.rstrip("/") + "/media/"
        self._ttl = ttl

    @staticmethod
    def name(sha256: str, content_type: str) -> str:
        """A kept file's name in links: its SHA-256 and the extension of its type."""
        return f"{sha256}.{_EXTENSIONS.get(content_type, 'bin')}"

    def url(self, sha256: str, content_type: str, *, now: datetime) -> str:
        """A link that opens the file until ``now`` + the configured time to live."""
        name = self.name(sha256, content_type)
        expires = int((now + self._ttl).timestamp())
        return f"{self._base}{name}?expires={expires}&signature={self._sign(name, expires)}"

    def check(self, name: str, expires: str, signature: str, *, now: datetime) -> tuple[str, str] | None:
        """(sha256, content type) when the link is ours, unchanged and not expired; else None."""
        match = _NAME.fullmatch(name)
        if match is None or not expires.isdigit() or len(expires) > 12 or match.group(2) not in CONTENT_TYPES:
            return None
        if not hmac.compare_digest(self._sign(name, int(expires)), signature):
            return None
        if int(expires) < now.timestamp():
            return None
        return match.group(1), CONTENT_TYPES[match.group(2)]

    def _sign(self, name: str, expires: int) -> str:
        return hmac.new(self._key, f"{name}\n{expires}".encode(), hashlib.sha256).hexdigest()

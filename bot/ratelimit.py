"""Provider rate limits, in process: an overall rate per channel and a pause per chat.

Telegram allows about 30 messages a second overall and one a second per chat. A worker asks
``reserve`` before each send; a positive answer means "not before that many seconds", and the
row is given back to the outbox for later instead of blocking the worker. Several worker
processes each keep their own budget; a provider's 429 with Retry-After is the backstop.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


class RateLimiter:
    """A token bucket (``per_second``, burst of the same size) plus a minimum gap per chat."""

    def __init__(self, per_second: float, per_chat_seconds: float = 0.0, clock: Callable[[], float] = time.monotonic):
        self._rate = per_second
        self._gap = per_chat_seconds
        self._clock = clock
        self._tokens = per_second
        self._updated = clock()
        self._last: dict[Hashable, float] = {}
        self._lock = threading.Lock()

    def reserve(self, chat: Hashable) -> float:
        """0.0 and the send is counted, or the seconds to wait before trying again."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._rate, self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            chat_wait = self._last.get(chat, -1e18) + self._gap - now
            bucket_wait = (1.0 - self._tokens) / self._rate if self._tokens < 1.0 else 0.0
            wait = max(chat_wait, bucket_wait, 0.0)
            if wait > 1e-9:  # below that it is float rounding, not a limit
                return wait
            self._tokens = max(0.0, self._tokens - 1.0)
            self._last[chat] = now
            if len(self._last) > 10_000:  # forget chats that can no longer matter
                self._last = {k: t for k, t in self._last.items() if now - t < self._gap}
            return 0.0

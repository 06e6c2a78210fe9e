"""The in-process provider rate limiter (a controllable clock: no sleeping, no timing flakiness)."""
from __future__ import annotations

from bot.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_message_a_second_per_chat() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=30, per_chat_seconds=1.0, clock=clock)
    assert limiter.reserve("a") == 0.0
    assert 0.99 <= limiter.reserve("a") <= 1.0
    assert limiter.reserve("b") == 0.0  # another chat is not held up
    clock.now += 1.0
    assert limiter.reserve("a") == 0.0


def test_overall_rate_allows_a_burst_then_spaces_messages() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=30, per_chat_seconds=1.0, clock=clock)
    assert all(limiter.reserve(f"chat{i}") == 0.0 for i in range(30))
    wait = limiter.reserve("chat30")
    assert 0 < wait <= 1 / 30 + 1e-9
    clock.now += wait
    assert limiter.reserve("chat30") == 0.0


def test_a_refused_reservation_is_not_counted() -> None:
    clock = Clock()
    limiter = RateLimiter(per_second=1, per_chat_seconds=0, clock=clock)
    assert limiter.reserve("a") == 0.0
    assert limiter.reserve("b") > 0
    assert limiter.reserve("b") > 0
    clock.now += 1.0
    assert limiter.reserve("b") == 0.0

"""bench.reply_drain keeps working: queued replies all reach the Bot API stand-in, each once,
through the real client; the figures are reported, never asserted as a speed."""
from __future__ import annotations

from bench.reply_drain import describe, drain


def test_every_queued_reply_is_sent_once_and_the_worker_is_measured(db_url: str) -> None:
    drained = drain(db_url, 24)  # raises unless the stand-in received the 24 and nothing broke its API
    assert drained.seconds > 0 and drained.cpu_ms_per_reply > 0
    assert 1 <= drained.commits <= 24 + 24  # a claim per round at most, and a recording per send at most
    assert describe("sqlite", 24, drained).startswith("sqlite: 24 replies sent in ")

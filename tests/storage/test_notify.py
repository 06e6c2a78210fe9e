"""Waking a worker in another process: the SQLite doorbell (PostgreSQL's NOTIFY is covered by
tests/bot/test_worker.py, which times a real worker process)."""
from __future__ import annotations

import time
from pathlib import Path

from storage.notify import Doorbell, DoorbellListener


def test_a_ring_ends_the_wait_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/lapor.sqlite3"
    listener = DoorbellListener.for_database(url)
    bell = Doorbell.for_database(url)
    try:
        assert listener.wait(0.01) is False
        for _ in range(5):
            bell.ring()
        started = time.monotonic()
        assert listener.wait(5.0) is True
        assert time.monotonic() - started < 0.5
        assert listener.wait(0.01) is False  # the five rings were drained as one
    finally:
        bell.close()
        listener.close()
    assert not (tmp_path / "lapor.sqlite3.wake").exists()


def test_ringing_with_nobody_listening_is_harmless_and_not_kept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/lapor.sqlite3"
    bell = Doorbell.for_database(url)
    bell.ring()  # no worker yet: dropped, not an error
    listener = DoorbellListener.for_database(url)
    try:
        assert listener.wait(0.05) is False  # a worker that starts later owes nothing to old rings
        bell.ring()
        assert listener.wait(1.0) is True
    finally:
        bell.close()
        listener.close()


def test_one_listener_per_database_and_a_dead_ones_socket_is_reclaimed(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/lapor.sqlite3"
    first = DoorbellListener.for_database(url)
    assert DoorbellListener.for_database(url) is None  # taken: the second worker polls
    first._sock.close()  # a worker killed without cleaning up leaves its socket file behind
    assert (tmp_path / "lapor.sqlite3.wake").exists()
    second = DoorbellListener.for_database(url)
    assert second is not None
    second.close()


def test_no_doorbell_for_postgresql_memory_or_overlong_paths(tmp_path: Path) -> None:
    assert Doorbell.for_database("postgresql+psycopg://root@127.0.0.1/test") is None
    assert Doorbell.for_database("sqlite://") is None
    assert DoorbellListener.for_database(f"sqlite:///{tmp_path}/{'x' * 120}.sqlite3") is None


"""``lapor worker``: drains the outbox and polls the registry until stopped.

It sleeps until work is signalled (PostgreSQL NOTIFY, or the SQLite doorbell) or
``IDLE_SECONDS`` pass. It survives a database outage: a failed round is logged, the listener is
rebuilt, and it tries again after ``RETRY_SECONDS``; leased rows of a worker that died are
taken over when their lease ends. SIGTERM stops it after the current round.
"""
from __future__ import annotations

import logging
import signal
import threading
import time

from bot.services import Services

log = logging.getLogger(__name__)
IDLE_SECONDS = 5.0  # at most: the wait ends when the next row falls due, and on a NOTIFY (PostgreSQL) or the doorbell (SQLite)
POLL_SECONDS = 0.2  # a second worker on SQLite, which finds the doorbell taken, polls
RETRY_SECONDS = 1.0  # after a failed round (the database is down, say)


class _Listener:
    """Whatever wakes this worker: NOTIFY, the doorbell, or a plain poll."""

    def __init__(self, services: Services):
        self._services = services
        self._listener = None
        self._open()

    def _open(self) -> None:
        from storage.notify import DoorbellListener, OutboxListener

        url = self._services.settings.database_url
        if self._services.db.dialect == "postgresql":
            self._listener = OutboxListener(url)
        else:
            self._listener = DoorbellListener.for_database(url)
            if self._listener is None:
                log.warning("SQLite: another worker holds the doorbell; this one polls every %s s", POLL_SECONDS)

    def wait(self, stop: threading.Event, seconds: float = IDLE_SECONDS) -> None:
        if self._listener is None:
            stop.wait(min(seconds, POLL_SECONDS))
        else:
            self._listener.wait(seconds)

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None


def run_worker(services: Services, stop: threading.Event | None = None) -> None:
    """Deliver until ``stop`` is set (or SIGTERM/SIGINT in the main thread)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    listener: _Listener | None = None
    while not stop.is_set():
        try:
            if listener is None:
                listener = _Listener(services)
            busy = services.delivery.run_once()
            if services.poller is not None:
                busy += services.poller.maybe_poll()
            if not busy:  # until signalled, or the next row falls due (a retry, a dead worker's lease)
                listener.wait(stop, services.delivery.idle_seconds(IDLE_SECONDS))
        except Exception as exc:  # the database went away, most likely: wait, reconnect, go on
            log.warning("delivery round failed (%s: %s); retrying in %s s", type(exc).__name__, exc, RETRY_SECONDS)
            if listener is not None:
                try:
                    listener.close()
                except Exception:  # the connection is already broken
                    pass
                listener = None
            time.sleep(RETRY_SECONDS)
    if listener is not None:
        listener.close()

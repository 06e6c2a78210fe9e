"""``lapor worker``: drains the outbox and polls the registry until stopped.

It sleeps until work is signalled (PostgreSQL NOTIFY, or the SQLite doorbell) or
``IDLE_SECONDS`` pass. It survives a database outage: a failed round is logged, the listener is
rebuilt, and it tries again after ``RETRY_SECONDS``; leased rows of a worker that died are
taken over when their lease ends. SIGTERM stops it after the current round, or at once while
it rests.
"""
from __future__ import annotations

import logging
import signal
import threading

from bot.delivery import deliver_until
from bot.services import Services
from storage.notify import DoorbellListener, OutboxListener

log = logging.getLogger(__name__)
# at most: the wait ends when the next row falls due, and on a NOTIFY (PostgreSQL) or the doorbell (SQLite)
IDLE_SECONDS = 5.0
POLL_SECONDS = 0.2  # a second worker on SQLite, which finds the doorbell taken, polls
RETRY_SECONDS = 1.0  # after a failed round (the database is down, say)


class _Stopped(BaseException):
    """Raised by the signal handler into a resting worker (never into a round): stop now."""


class _Listener:
    """Whatever wakes this worker (NOTIFY, the doorbell, or a plain poll): the worker loop's
    ``Rest``, opened when first needed and again after a failed round."""

    def __init__(self, services: Services, stop: threading.Event):
        self._services = services
        self._stop = stop
        self._listener: OutboxListener | DoorbellListener | None = None
        self._opened = False
        self.resting = False  # in ``wait``: a stop signal may interrupt it

    def _open(self) -> None:
        url = self._services.settings.database_url
        if self._services.db.dialect == "postgresql":
            self._listener = OutboxListener(url)
        else:
            self._listener = DoorbellListener.for_database(url)
            if self._listener is None:
                log.warning("SQLite: another worker holds the doorbell; this one polls every %s s", POLL_SECONDS)
        self._opened = True

    def wait(self, seconds: float) -> None:
        if not self._opened:
            self._open()
        self.resting = True
        try:
            if self._stop.is_set():
                return
            if self._listener is None:
                self._stop.wait(min(seconds, POLL_SECONDS))
            else:
                self._listener.wait(seconds)
        finally:
            self.resting = False

    def reset(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            except Exception:  # the connection is already broken
                pass
        self._listener, self._opened = None, False


def run_worker(services: Services, stop: threading.Event | None = None) -> None:
    """Deliver until ``stop`` is set (or SIGTERM/SIGINT in the main thread)."""
    stop = stop or threading.Event()
    listener = _Listener(services, stop)

    def on_signal(*_: object) -> None:
        stop.set()
        if listener.resting:  # a wait on a socket would otherwise last up to IDLE_SECONDS
            raise _Stopped

    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, on_signal)
    try:
        deliver_until(stop, services.delivery, services.poller, listener, longest=IDLE_SECONDS,
                      retry_seconds=RETRY_SECONDS)
    except _Stopped:
        pass
    finally:
        listener.reset()

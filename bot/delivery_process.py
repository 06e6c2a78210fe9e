"""``lapor serve``'s own delivery: one ``lapor worker`` process beside the web workers.

With ``delivery.embedded_worker`` on (the default, what ``make run`` starts), gunicorn's master
starts one ``lapor worker`` once it listens, starts another when it dies (after a back-off),
and stops it (SIGTERM, then SIGKILL after the graceful time) when the server stops. The web
workers only take webhooks and commit; this process sends, submits and downloads.

Why a process and not a thread in each web worker: a delivery thread shared its web worker's
GIL with the request threads, so a reply's send waited behind webhooks (and on PostgreSQL every
round trip of either handed the GIL over under contention); a process runs on another core.
And one delivery process per server keeps ``delivery.rate_limits`` true however many web
workers run, so ``server.workers`` can be one per core.

The child is started with ``subprocess`` (fork and exec, never a bare fork of the master), so
it builds its services from the configuration it inherits, as ``lapor worker`` run by hand
does. It stays in the server's process group: Ctrl-C in a terminal reaches it as it reaches
gunicorn's web workers. No thread of its own: the master's loop calls ``poll`` and ``tend``.
"""
from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from bot import metrics

log = logging.getLogger(__name__)
COMMAND = (sys.executable, "-m", "bot.cli", "worker")
FIRST_BACKOFF_SECONDS = 1.0  # before starting another; doubled after each quick death, up to the longest
LONGEST_BACKOFF_SECONDS = 30.0
STEADY_SECONDS = 60.0  # a process that ran this long died of something new: the back-off starts over


class DeliveryProcess:
    """Runs ``command`` until ``stop``, starting it again whenever it ends.

    In gunicorn's master (``bot.server``): ``start`` once it listens; ``poll`` when a child
    ended (before gunicorn reaps every child, ours too, and its exit status is lost); ``tend``
    on every turn of its loop (about every second); ``stop`` when it stops."""

    def __init__(self, command: Sequence[str] = COMMAND, *, graceful_seconds: float = 10.0,
                 first_backoff: float = FIRST_BACKOFF_SECONDS, clock: Callable[[], float] = time.monotonic):
        self._command = list(command)
        self._graceful = graceful_seconds
        self._first_backoff = first_backoff
        self._clock = clock
        self._process: subprocess.Popen[bytes] | None = None
        self._started_at = 0.0
        self._quick_deaths = 0
        self._next_start: float | None = None
        self._stopping = False
        self.starts = 0  # how many processes were started

    @property
    def pid(self) -> int | None:
        """The running process's pid; None while none runs."""
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the process."""
        self._spawn()

    def poll(self) -> None:
        """Notice that the process ended: log its exit status, forget its live metrics, and
        set when the next one starts."""
        if self._process is None or self._process.poll() is None:
            return
        ended, self._process = self._process, None
        metrics.forget(ended.pid)
        if self._stopping:
            return
        now = self._clock()
        if now - self._started_at >= STEADY_SECONDS:
            self._quick_deaths = 0
        delay = min(self._first_backoff * 2 ** self._quick_deaths, LONGEST_BACKOFF_SECONDS)
        self._quick_deaths += 1
        self._next_start = now + delay
        # exit status 0 can also mean gunicorn reaped it first (it waits for every child)
        log.warning("the delivery process (pid %s) ended with exit status %s; another starts in %.0f s",
                    ended.pid, ended.returncode, delay)

    def tend(self) -> None:
        """``poll``, and start the next process once its back-off is over."""
        self.poll()
        if self._process is None and self._next_start is not None and self._clock() >= self._next_start:
            self._spawn()

    def stop(self, wait: bool = True) -> None:
        """Stop for good: SIGTERM (the worker ends after its current round), and with ``wait``
        wait for it, SIGKILL after ``graceful_seconds``. ``stop(wait=False)`` then ``stop()``
        lets the web workers stop meanwhile."""
        process = self._process
        if process is not None and process.poll() is None and not self._stopping:
            process.terminate()
        self._stopping = True
        if process is None or not wait:
            return
        if process.returncode is None:
            try:
                process.wait(self._graceful)
            except subprocess.TimeoutExpired:
                log.warning("the delivery process (pid %s) did not stop in %.0f s: killed", process.pid, self._graceful)
                process.kill()
                process.wait()
        self.poll()

    def _spawn(self) -> None:
        if self._stopping:
            return
        self._process = subprocess.Popen(self._command, stdin=subprocess.DEVNULL)
        self._started_at, self._next_start = self._clock(), None
        self.starts += 1
        log.info("delivery process started (pid %s)", self._process.pid)

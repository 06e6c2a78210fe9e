"""Group commit: what several threads record at about the same time, written in one transaction.

The delivery pool's threads each record an outcome the moment their send went (a crash then
re-sends as little as possible). One transaction each costs a BEGIN and a COMMIT (on SQLite
the write lock, on PostgreSQL a WAL flush) and a Session, for two small UPDATEs. Here a thread
that records while another is writing waits for that write to end, then writes everything
recorded meanwhile in one transaction: nobody waits longer than one write, and under load a
transaction carries the outcomes of many sends. Items recorded with the same ``apply``
(``record_item``) are handed to it together, so it writes them with one statement each
(``executemany``) instead of one per item.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from storage.db import Database, Unavailable

log = logging.getLogger(__name__)
Write = Callable[[Any], None]  # does its part of a transaction with the Session it is given
Apply = Callable[[Any, list[Any]], None]  # writes several items with the Session it is given
_Member = tuple[Apply, Any, "Future[None]"]  # what to write, with what, and who waits for it


class GroupCommit:
    """Writes ``record``'s writes, grouped; thread-safe.

    A write must be independent of the others it may share a transaction with, and must not
    commit. If the database is unavailable, a group is tried again every ``retry_seconds`` for
    up to ``patience_seconds`` (giving up would leave rows leased, to be sent a second time),
    then each of its callers gets the Unavailable. Any other failure rolls the group back and
    its writes are tried again one by one, so that one bad write fails only its own caller.
    """

    def __init__(self, db: Database, *, retry_seconds: float, patience_seconds: float):
        self._db = db
        self._retry = retry_seconds
        self._patience = patience_seconds
        self._queued: list[_Member] = []
        self._queue_lock = threading.Lock()
        self._writing = threading.Lock()  # one group at a time: the next one gathers meanwhile

    def record(self, write: Write) -> None:
        """Return once ``write`` is committed (in this thread's group or in another's); raise
        what made it fail."""
        self.record_item(_each, write)

    def record_item(self, apply: Apply, item: Any) -> None:
        """``record`` for an item that ``apply`` writes: the items of one group that share an
        ``apply`` (the same function) are given to it in one call, in the order they came."""
        done: Future[None] = Future()
        with self._queue_lock:
            self._queued.append((apply, item, done))
        with self._writing:
            with self._queue_lock:
                group, self._queued = self._queued, []
            if group:  # else an earlier writer took ours along
                self._write_group(group)
        done.result()

    def _write_group(self, group: list[_Member]) -> None:
        try:
            self._commit(group)
        except Exception as exc:  # noqa: BLE001 - handed to the callers
            if isinstance(exc, Unavailable) or len(group) == 1:
                for *_, done in group:
                    done.set_exception(exc)
            else:  # which one failed: each alone
                for member in group:
                    self._write_group([member])
            return
        for *_, done in group:
            done.set_result(None)

    def _commit(self, group: list[_Member]) -> None:
        batches: dict[Apply, list[Any]] = {}
        for apply, item, _ in group:
            batches.setdefault(apply, []).append(item)
        deadline = time.monotonic() + self._patience
        while True:
            try:
                with self._db.transaction() as session:
                    for apply, items in batches.items():
                        apply(session, items)
                return
            except Unavailable:
                if time.monotonic() > deadline:
                    log.error("could not record %s outcome(s) for %s s; they may be sent again",
                              len(group), self._patience)
                    raise
                time.sleep(self._retry)


def _each(session: Any, writes: list[Write]) -> None:
    """The ``apply`` of plain writes: each in turn."""
    for write in writes:
        write(session)

"""bot.group_commit: what threads record meanwhile shares one transaction; failures stay their own."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.group_commit import GroupCommit
from storage import repository as repo
from storage.db import Database, Unavailable
from storage.models import Outbox


class CountedDatabase:
    """``db`` whose transactions are counted, and which is down for the next ``outages`` of them."""

    def __init__(self, db: Database, outages: int = 0):
        self.db = db
        self.transactions = 0
        self.outages = outages

    def transaction(self):
        self.transactions += 1
        if self.outages:
            self.outages -= 1
            raise Unavailable("the database is unavailable")
        return self.db.transaction()


def queue_row(session: Any) -> None:
    repo.insert_outbox(session, kind="submission", channel=None, contact_id=None, message_id=None, payload={},
                       now=repo.utcnow())


def stored(db: Database) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(Outbox)) or 0


def in_threads(recorder: GroupCommit, writes: list[Callable[[Any], None]]) -> list[BaseException | None]:
    """Record each write from a thread of its own; what each caller got (None: committed)."""
    outcomes: list[BaseException | None] = [None] * len(writes)

    def run(i: int) -> None:
        try:
            recorder.record(writes[i])
        except BaseException as exc:  # noqa: BLE001 - what the caller saw
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(writes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def held_first(others: int, queued: Callable[[], int]) -> Callable[[Any], None]:
    """A write that lasts until ``others`` more writes have queued behind it."""
    def write(session: Any) -> None:
        for _ in range(3000):
            if queued() >= others:
                break
            time.sleep(0.001)
        queue_row(session)
    return write


def test_writes_recorded_while_one_is_written_share_the_next_transaction(db: Database) -> None:
    counted = CountedDatabase(db)
    recorder = GroupCommit(counted, retry_seconds=0.01, patience_seconds=5)
    first = held_first(7, lambda: len(recorder._queued))
    assert in_threads(recorder, [first] + [queue_row] * 7) == [None] * 8
    assert stored(db) == 8
    # The first write went alone unless others had queued before it was taken; the seven
    # that queued behind it went together.
    assert counted.transactions <= 2


def test_a_failing_write_fails_only_its_own_caller(db: Database) -> None:
    def broken(session: Any) -> None:
        raise ValueError("a bug in one write")

    counted = CountedDatabase(db)
    recorder = GroupCommit(counted, retry_seconds=0.01, patience_seconds=5)
    first = held_first(3, lambda: len(recorder._queued))
    outcomes = in_threads(recorder, [first, queue_row, broken, queue_row])
    assert outcomes[0] is None and outcomes[1] is None and outcomes[3] is None
    assert isinstance(outcomes[2], ValueError)
    assert stored(db) == 3  # the group was rolled back, then each write tried alone


def test_an_unavailable_database_is_waited_for_then_given_up_on(db: Database) -> None:
    counted = CountedDatabase(db, outages=3)
    GroupCommit(counted, retry_seconds=0.01, patience_seconds=5).record(queue_row)
    assert (counted.transactions, stored(db)) == (4, 1)

    down = CountedDatabase(db, outages=10**6)
    with pytest.raises(Unavailable):
        GroupCommit(down, retry_seconds=0.01, patience_seconds=0.05).record(queue_row)
    assert stored(db) == 1


def test_items_of_one_apply_in_a_group_are_written_in_one_call(db: Database) -> None:
    calls: list[list[int]] = []

    def insert_rows(session: Any, items: list[int]) -> None:
        calls.append(items)
        for _ in items:
            queue_row(session)

    counted = CountedDatabase(db)
    recorder = GroupCommit(counted, retry_seconds=0.01, patience_seconds=5)
    first = held_first(5, lambda: len(recorder._queued))
    threads = [threading.Thread(target=recorder.record, args=(first,))]
    threads += [threading.Thread(target=recorder.record_item, args=(insert_rows, n)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert stored(db) == 6
    assert sorted(n for call in calls for n in call) == [0, 1, 2, 3, 4]
    assert len(calls) <= 2 and counted.transactions <= 3  # the five that queued behind the first: one call


def test_a_failing_item_fails_only_its_own_caller(db: Database) -> None:
    def insert_rows(session: Any, items: list[int]) -> None:
        if 2 in items:
            raise ValueError("a bad item")
        for _ in items:
            queue_row(session)

    recorder = GroupCommit(db, retry_seconds=0.01, patience_seconds=5)
    first = held_first(4, lambda: len(recorder._queued))
    failed: list[int] = []

    def record(n: int) -> None:
        try:
            recorder.record_item(insert_rows, n)
        except ValueError:
            failed.append(n)

    threads = [threading.Thread(target=recorder.record, args=(first,))]
    threads += [threading.Thread(target=record, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failed == [2] and stored(db) == 4

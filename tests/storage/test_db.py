"""storage.db: SQLite pragmas and BEGIN IMMEDIATE really applied; transactions; ping; private
files; read-only snapshots beside the writers, and glances without a transaction; a locked
database answered with Busy in seconds."""
from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from storage.db import LOCK_WAIT_SECONDS, SQLITE_BUSY_TIMEOUT_MS, Busy, Database, make_engine
from storage.migrate import upgrade
from storage.models import Contact, Conversation
from storage.repository import utcnow


def sqlite_file(db: Database) -> str:
    return db.engine.url.database


def pragma(db: Database, name: str):
    with db.transaction() as session:
        return session.execute(text(f"PRAGMA {name}")).scalar()


def add_contact(session, sender_hash: str = "h" * 64) -> Contact:
    contact = Contact(channel="sms", sender_hash=sender_hash, sender_enc=b"x")
    session.add(contact)
    session.flush()
    return contact


def test_sqlite_pragmas_are_applied_on_every_connection(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'x.sqlite3'}")
    try:
        assert (tmp_path / "nested" / "dir").is_dir()
        assert pragma(db, "journal_mode") == "wal"
        assert pragma(db, "foreign_keys") == 1
        assert pragma(db, "busy_timeout") == SQLITE_BUSY_TIMEOUT_MS
        assert pragma(db, "synchronous") == 1  # NORMAL
        assert pragma(db, "temp_store") == 2  # MEMORY
        assert pragma(db, "cache_size") == -16000
        assert db.dialect == "sqlite"
    finally:
        db.dispose()


def test_the_sqlite_file_its_wal_and_its_directory_are_private(tmp_path: Path) -> None:
    os.umask(0o022)  # a usual umask: without our care, the files would be world-readable
    path = tmp_path / "var" / "lapor.sqlite3"
    upgrade(f"sqlite:///{path}")
    db = Database.from_url(f"sqlite:///{path}")
    try:
        with db.transaction() as session:
            add_contact(session)
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
                 path.with_name(path.name + "-writer.lock")]
        assert all(f.exists() for f in files)
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    finally:
        db.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_locked_by_another_program_is_busy_within_seconds(db: Database) -> None:
    other = sqlite3.connect(sqlite_file(db), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # say, someone's sqlite3 shell in the middle of an edit
    try:
        assert db.ping() and not db.writable()
        started = time.monotonic()
        with pytest.raises(Busy), db.transaction() as session:
            add_contact(session)
        waited = time.monotonic() - started
        assert LOCK_WAIT_SECONDS * 0.9 < waited < 2 * LOCK_WAIT_SECONDS + 1  # well under Twilio's 15 s
        with db.reading() as session:  # reads go on meanwhile
            assert session.scalar(select(func.count()).select_from(Contact)) == 0
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert db.writable()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_writer_stuck_in_the_gate_makes_others_busy_not_wait_for_ever(db: Database) -> None:
    """A transaction of ours that holds the write turn too long (in another thread here; a
    SIGSTOPped process alike) costs the next writer LOCK_WAIT_SECONDS, then Busy."""
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with db.transaction() as session:
            add_contact(session, "a" * 64)
            held.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(Busy), db.transaction() as session:
            add_contact(session, "b" * 64)
        assert time.monotonic() - started < LOCK_WAIT_SECONDS + 1
    finally:
        done.set()
        holder.join()


HOLD = """
import sys, time
from storage.db import Database
db = Database.from_url(sys.argv[1])
with db.transaction():
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
print("released", time.monotonic(), flush=True)
"""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("hold", [0.6, 2 * LOCK_WAIT_SECONDS + 2])
def test_another_process_in_the_gate_hands_the_turn_on_at_once_or_we_are_busy(db: Database, db_url: str,
                                                                              hold: float) -> None:
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", HOLD, db_url, str(hold)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        if hold < LOCK_WAIT_SECONDS:
            with db.transaction() as session:
                entered = time.monotonic()
                add_contact(session)
            released = float(holder.stdout.readline().split()[1])  # the same clock, in the other process
            assert entered - released < 0.3  # woken when the other let go (however late it did), not later
        else:
            with pytest.raises(Busy), db.transaction() as session:
                add_contact(session)
            assert LOCK_WAIT_SECONDS - 0.2 < time.monotonic() - started < LOCK_WAIT_SECONDS + 1
    finally:
        holder.wait(timeout=30)
    with db.transaction() as session:  # the abandoned wait let the turn go again
        add_contact(session, "z" * 64)


def test_a_reading_snapshot_never_takes_the_write_lock_and_refuses_writes(db: Database) -> None:
    with db.reading() as reader:
        assert reader.scalar(select(func.count()).select_from(Contact)) == 0
        with db.transaction() as writer:  # a writer goes ahead while the snapshot is open
            add_contact(writer)
        with pytest.raises(Exception, match="readonly|read-only|read only"):
            add_contact(reader, "c" * 64)


def test_a_glance_reads_without_the_write_lock(db: Database) -> None:
    with db.transaction() as writer:
        add_contact(writer)
    with db.glance() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
        with db.transaction() as writer:  # a writer goes ahead meanwhile
            add_contact(writer, "c" * 64)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_postgres_glance_sends_no_begin(db: Database) -> None:
    import psycopg.pq

    with db.glance() as session:
        session.scalar(select(func.count()).select_from(Contact))
        status = session.connection().connection.driver_connection.info.transaction_status
    assert status == psycopg.pq.TransactionStatus.IDLE  # the statement ran outside a transaction
    with db.reading() as session:  # a snapshot still opens one
        session.scalar(select(func.count()).select_from(Contact))
        assert session.connection().connection.driver_connection.info.transaction_status == \
            psycopg.pq.TransactionStatus.INTRANS


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_sqlite_transaction_takes_the_write_lock_at_begin(db: Database) -> None:
    other = sqlite3.connect(sqlite_file(db), timeout=0.1, isolation_level=None)
    try:
        with db.transaction() as session:
            session.execute(text("SELECT 1"))  # only a read, yet the write lock is held
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(Conversation(contact_id=12345, script_id="s", script_version=1, state={}))
        session.flush()


def test_transaction_commits_on_success_and_rolls_back_on_exception(db: Database) -> None:
    with db.transaction() as session:
        kept = add_contact(session, "a" * 64)
    assert kept.id is not None and kept.channel == "sms"  # usable after commit (expire_on_commit=False)
    with pytest.raises(RuntimeError, match="boom"), db.transaction() as session:
        add_contact(session, "b" * 64)
        raise RuntimeError("boom")
    with db.transaction() as session:
        assert session.scalars(select(Contact.sender_hash)).all() == ["a" * 64]


def test_datetimes_come_back_aware_utc(db: Database) -> None:
    jakarta = timezone(timedelta(hours=7))
    with db.transaction() as session:
        contact = add_contact(session)
        contact.last_inbound_at = datetime(2026, 11, 28, 13, 0, tzinfo=jakarta)
    db.engine.dispose()
    with db.transaction() as session:
        stored = session.get(Contact, contact.id)
        assert stored.last_inbound_at == datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
        assert stored.last_inbound_at.utcoffset() == timedelta(0)
        assert stored.created_at.tzinfo is not None and abs(stored.created_at - utcnow()) < timedelta(minutes=1)


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.transaction() as session:
        session.add(Contact(channel="sms", sender_hash="n" * 64, sender_enc=b"x", created_at=datetime(2026, 1, 1)))
        session.flush()


def test_ping_and_dialect(db: Database) -> None:
    assert db.ping() is True
    assert db.dialect in ("sqlite", "postgresql") and db.dialect == db.engine.dialect.name
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_ping_is_false_when_the_database_is_unreachable() -> None:
    db = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        assert db.ping() is False
    finally:
        db.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://u@h/d", "sqlite+aiosqlite:///x.db"])
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        make_engine(url)


@pytest.mark.parametrize("url", ["postgresql://u@h/d", "postgres://u@h/d", "postgresql+psycopg://u@h/d"])
def test_postgresql_urls_use_psycopg_3(url: str) -> None:
    engine = make_engine(url)
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")


def test_a_sqlite_too_old_is_refused_with_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(ValueError, match=r"SQLite 3\.31\.1 is too old: lapor-intake needs 3\.35\.0 or newer"):
        make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    assert not (tmp_path / "old.sqlite3").exists()

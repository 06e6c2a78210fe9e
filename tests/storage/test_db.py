"""storage.db: SQLite pragmas and BEGIN IMMEDIATE really applied; transactions; ping."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from storage.db import Database, make_engine
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
        assert pragma(db, "busy_timeout") == 30000
        assert pragma(db, "synchronous") == 1  # NORMAL
        assert pragma(db, "temp_store") == 2  # MEMORY
        assert pragma(db, "cache_size") == -16000
        assert db.dialect == "sqlite"
    finally:
        db.dispose()


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
    with pytest.raises(IntegrityError):
        with db.transaction() as session:
            session.add(Conversation(contact_id=12345, script_id="s", script_version=1, state={}))
            session.flush()


def test_transaction_commits_on_success_and_rolls_back_on_exception(db: Database) -> None:
    with db.transaction() as session:
        kept = add_contact(session, "a" * 64)
    assert kept.id is not None and kept.channel == "sms"  # usable after commit (expire_on_commit=False)
    with pytest.raises(RuntimeError, match="boom"):
        with db.transaction() as session:
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
        assert stored.last_inbound_at == datetime(2026, 11, 28, 6, 0, tzinfo=timezone.utc)
        assert stored.last_inbound_at.utcoffset() == timedelta(0)
        assert stored.created_at.tzinfo is not None and abs(stored.created_at - utcnow()) < timedelta(minutes=1)


def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        with db.transaction() as session:
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

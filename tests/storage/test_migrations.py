"""Alembic migrations: idempotent, safe to run concurrently, and identical to the models."""
from __future__ import annotations

import secrets
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, inspect, select, text
from sqlalchemy.engine import make_url

from storage.db import LOCK_WAIT_SECONDS, Database
from storage.migrate import alembic_config, upgrade
from storage.models import COMPLAINT_SEARCH, COMPLAINT_SEARCH_INDEX, Base, Contact

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"contacts", "conversations", "messages", "complaints", "outbox", "script_versions", "admin_users", "audit_log",
          "admin_sessions", "sign_in_throttle", "data_keys", "attachments", "funnel_counts"}
UPGRADE = "import sys; from storage.migrate import upgrade; upgrade(sys.argv[1])"


def head() -> str:
    return ScriptDirectory.from_config(alembic_config("sqlite:///unused")).get_current_head()


def state(url: str) -> tuple[set[str], list[str]]:
    """(tables, alembic versions) of the database at ``url``."""
    db = Database.from_url(url)
    try:
        with db.engine.connect() as connection:
            tables = {name for name in inspect(connection).get_table_names()
                      if name != "alembic_version" and not name.startswith(COMPLAINT_SEARCH)}
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        return tables, versions
    finally:
        db.dispose()


def differences(db: Database, metadata: MetaData) -> list:
    """What differs, but for the complaints' text search, which is dialect-specific and kept out
    of the metadata on purpose (SQLite: an FTS5 table and its shadow tables; PostgreSQL: a
    pg_trgm index; storage.models.COMPLAINT_SEARCH)."""
    with db.engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    return [d for d in found if not (isinstance(d, tuple) and d[0] in ("remove_table", "remove_index")
                                     and (d[1].name.startswith(COMPLAINT_SEARCH) or d[1].name == COMPLAINT_SEARCH_INDEX))]


@pytest.fixture
def fresh_url(db: Database, db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as ``db``, with no schema at all."""
    if db.dialect == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'lapor.sqlite3'}"
        return
    schema = f"t_fresh_{secrets.token_hex(4)}"
    with db.transaction() as session:
        session.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield make_url(db_url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with db.transaction() as session:
            session.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    assert differences(db, Base.metadata) == []


def test_the_comparison_would_notice_a_difference(db: Database) -> None:
    changed = MetaData()
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["outbox"].append_column(Column("priority", Integer))
    assert [d[0] for d in differences(db, changed)] == ["add_column"]


def test_upgrading_again_is_harmless(db: Database, db_url: str, cipher) -> None:
    with db.transaction() as session:
        session.add(Contact(channel="sms", sender_hash=cipher.lookup_hash("+62"), sender_enc=cipher.encrypt("+62")))
    upgrade(db_url)
    upgrade(db_url)
    assert state(db_url) == (TABLES, [head()])
    with db.transaction() as session:
        assert session.scalars(select(Contact.channel)).all() == ["sms"]


def test_downgrade_to_base_and_back(fresh_url: str) -> None:
    upgrade(fresh_url)
    command.downgrade(alembic_config(fresh_url), "base")
    assert state(fresh_url) == (set(), [])
    upgrade(fresh_url)
    assert state(fresh_url) == (TABLES, [head()])


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_outbox_rows_notify_listening_workers_when_committed(db: Database, db_url: str) -> None:
    """Migration 0007's trigger: once per committed transaction that queued rows, never for one
    rolled back, on the channel the workers listen on (the migration's copy of its name)."""
    import importlib

    from storage import repository as repo
    from storage.notify import OutboxListener

    migration = importlib.import_module("storage.migrations.versions.0007_outbox_notify")
    assert migration.CHANNEL == repo.OUTBOX_CHANNEL
    listener = OutboxListener(db_url)
    try:
        def queue(session, count: int) -> None:
            for _ in range(count):
                repo.insert_outbox(session, kind="submission", channel=None, contact_id=None, message_id=None,
                                   payload={}, now=repo.utcnow())

        with pytest.raises(RuntimeError), db.transaction() as session:
            queue(session, 1)
            raise RuntimeError("rolled back")
        assert listener.wait(0.2) is False
        with db.transaction() as session:
            queue(session, 3)
            assert listener.wait(0.2) is False  # not before the commit
        assert listener.wait(5.0) is True
        assert listener.wait(0.2) is False  # and nothing after it
    finally:
        listener.close()


@pytest.mark.slow
def test_concurrent_upgrades_from_several_processes(fresh_url: str) -> None:
    for _ in range(2):  # first on an empty database, then on a migrated one
        processes = [subprocess.Popen([sys.executable, "-c", UPGRADE, fresh_url], cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
        outputs = [p.communicate(timeout=120) for p in processes]
        assert [p.returncode for p in processes] == [0] * 4, [err for _, err in outputs]
        assert state(fresh_url) == (TABLES, [head()])


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # PostgreSQL's advisory lock waits for ever
def test_an_upgrade_waits_out_another_writer_longer_than_a_request_would(db: Database, tmp_path: Path) -> None:
    """Another process holding SQLite's write lock past a request's LOCK_WAIT_SECONDS (another
    upgrade, on a slow machine) makes an upgrade wait its turn, not fail "database is locked"."""
    path = tmp_path / "held.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(LOCK_WAIT_SECONDS * 2 + 0.5, holder.rollback)
    started = time.monotonic()
    release.start()
    try:
        upgrade(f"sqlite:///{path}")
    finally:
        release.join()
        holder.close()
    assert time.monotonic() - started > LOCK_WAIT_SECONDS * 2
    assert state(f"sqlite:///{path}") == (TABLES, [head()])

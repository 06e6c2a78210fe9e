"""Engines and transactions for SQLite (the embedded default) and PostgreSQL.

On SQLite every transaction starts with ``BEGIN IMMEDIATE``: it takes the database's write lock
at BEGIN, before its first read, and holds it until COMMIT or ROLLBACK; ``WriteGate`` queues
writers of this service ahead of SQLite's own busy handler. So transactions are serialised
whole, which is what keeps two concurrent messages from one sender from reading the same
conversation state. Reads that need no lock (admin pages, exports, ``Database.ping``) run in
``Database.reading()``: a plain deferred transaction that WAL lets run alongside the writers.
A writer waits at most ``LOCK_WAIT_SECONDS`` for the gate and as long again for SQLite's lock
(another program may hold it), then gets ``Busy``: webhooks answer 503 and the provider retries,
well inside Twilio's 15 s. On PostgreSQL transactions run at READ COMMITTED and serialise per
sender with row locks (``storage.repository.lock_contact``).

The SQLite file, its WAL and its directory are created readable by their owner only.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

LOCK_WAIT_SECONDS = 2.5  # for the gate, then as long for SQLite's lock: 5 s at most in all
SQLITE_BUSY_TIMEOUT_MS = int(LOCK_WAIT_SECONDS * 1000)
# Applied to every new SQLite connection, in this order, after its busy_timeout (switching to
# WAL may have to wait for another connection).
SQLITE_PRAGMAS = (
    ("journal_mode", "WAL"),
    ("synchronous", "NORMAL"),
    ("foreign_keys", "ON"),
    ("temp_store", "MEMORY"),
    ("cache_size", "-16000"),  # 16 MiB per connection
)
SQLITE_OLDEST = (3, 35, 0)  # RETURNING (3.35); FTS5's trigram tokenizer (3.34)
POSTGRES_POOL = {"pool_size": 8, "max_overflow": 8, "pool_recycle": 1800}
# No pool_pre_ping: it costs a round trip per transaction. A connection broken by a database
# restart fails its transaction instead, which answers 503 (Unavailable) so that the provider
# re-sends; SQLAlchemy then discards every pooled connection of the old server.


def make_engine(url: str, *, sqlite_lock_wait: float = LOCK_WAIT_SECONDS) -> Engine:
    """An Engine for ``sqlite:///PATH`` or ``postgresql+psycopg://...``; ValueError (saying
    what is wrong, ``url_problem``) for anything else.

    SQLite: the file's directory is created. A connection waits up to ``sqlite_lock_wait``
    seconds for another one's write lock (migrations wait longer than requests: another
    process's whole upgrade). ``postgresql://`` and ``postgres://`` mean psycopg 3.
    """
    problem = url_problem(url)
    if problem:
        raise ValueError(problem)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        private_file(Path(parsed.database or ""))
        engine = create_engine(parsed)
        event.listen(engine, "connect", partial(_sqlite_connect, busy_timeout_ms=int(sqlite_lock_wait * 1000)))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(parsed.set(drivername="postgresql+psycopg"), connect_args={"connect_timeout": 10},
                         **POSTGRES_POOL)


def url_problem(url: str) -> str | None:
    """What makes ``url`` unusable as our database, or None: a scheme other than SQLite and
    PostgreSQL (psycopg 3), an in-memory SQLite database (every pooled connection would see a
    different, empty one), a SQLite library older than SQLITE_OLDEST. Touches nothing."""
    try:
        parsed = make_url(url)
    except ArgumentError:  # not echoed: it may hold a password
        return "this is not a database URL: use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
    if parsed.get_backend_name() != "sqlite":
        if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
            return None
        return (f"unsupported database URL scheme {parsed.drivername!r}: "
                "use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
    if parsed.drivername not in ("sqlite", "sqlite+pysqlite"):
        return f"unsupported SQLite driver {parsed.drivername!r}: use sqlite:///PATH"
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or parsed.query.get("mode") == "memory":
        return "SQLite needs a database file: use sqlite:///PATH (in-memory databases are not supported)"
    if sqlite3.sqlite_version_info < SQLITE_OLDEST:
        return (f"SQLite {sqlite3.sqlite_version} is too old: lapor-intake needs {'.'.join(map(str, SQLITE_OLDEST))} "
                "or newer (for RETURNING and FTS5's trigram tokenizer); use a Python built with a newer SQLite, "
                "or PostgreSQL")
    return None


def _sqlite_connect(dbapi_connection: Any, _record: Any, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    # SQLAlchemy's documented recipe: stop pysqlite from issuing BEGIN itself (it would do so
    # late, and deferred), and emit our own in the "begin" event.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        for name, value in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {name}={value}")
    finally:
        cursor.close()


def private_file(path: Path) -> None:
    """Create ``path`` (and missing parent directories) readable by its owner only, unless it
    exists. SQLite gives its -wal and -shm files the database file's permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_reader(engine: Engine) -> Engine:
    """A second engine on the same SQLite file for ``Database.reading``: deferred transactions
    (no write lock) on connections that refuse writes (``PRAGMA query_only``)."""
    reader = create_engine(engine.url)
    event.listen(reader, "connect", _sqlite_reader_connect)
    event.listen(reader, "begin", lambda connection: connection.exec_driver_sql("BEGIN"))
    return reader


def _sqlite_reader_connect(dbapi_connection: Any, record: Any) -> None:
    _sqlite_connect(dbapi_connection, record)
    dbapi_connection.execute("PRAGMA query_only=ON")


class WriteGate:
    """Serialises SQLite write transactions across the threads and processes of one database,
    handing the turn on the moment it is free. SQLite's own busy handler retries in sleeps of up
    to 100 ms, which shows as latency spikes when gunicorn workers and ``lapor worker`` write at
    once. Threads of one process queue on a lock; across processes, a kernel file lock
    (``<database>-writer.lock``) is taken at once when free, or else waited for in a blocking
    ``flock`` on a helper thread, which wakes the instant the other process lets go. Either
    wait ends with ``Busy`` after ``timeout`` seconds (a helper that gets the lock after that
    lets it go at once). SQLite's busy timeout stays as the backstop for writers outside the
    gate (migrations, other tools). Re-entrant within a thread, like the transactions it guards."""

    def __init__(self, database: str):
        self._path = database + "-writer.lock"
        self._lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = 0
        self._held_fd: int | None = None

    @contextmanager
    def held(self, timeout: float = LOCK_WAIT_SECONDS) -> Iterator[None]:
        deadline = time.monotonic() + timeout
        if not self._lock.acquire(timeout=timeout):
            raise Busy(f"the SQLite database is busy: no write turn within {timeout:g} s")
        try:
            if self._depth == 0:
                self._held_fd = self._lock_file(deadline)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._unlock(self._held_fd)
                    self._held_fd = None
        finally:
            self._lock.release()

    def _lock_file(self, deadline: float) -> int:
        """The descriptor that holds the file lock: the standing one when the lock was free,
        else a fresh one (flock locks belong to an open file, so an abandoned wait on its own
        descriptor can never release a lock that a later wait holds)."""
        standing = self._descriptor()
        try:
            fcntl.flock(standing, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return standing
        except BlockingIOError:
            pass
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        got, settled = threading.Event(), threading.Lock()
        abandoned = False

        def wait() -> None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with settled:
                if not abandoned:
                    got.set()
                    return
            self._unlock(fd)

        threading.Thread(target=wait, name="sqlite-write-turn", daemon=True).start()
        if not got.wait(max(0.0, deadline - time.monotonic())):
            with settled:
                if not got.is_set():
                    abandoned = True
                    raise Busy("the SQLite database is busy: another process holds the write turn")
        return fd

    def _unlock(self, fd: int | None) -> None:
        if fd is None:
            return
        fcntl.flock(fd, fcntl.LOCK_UN)
        if fd != self._fd:
            os.close(fd)

    def _descriptor(self) -> int:
        if self._fd is None or self._pid != os.getpid():  # a forked child needs its own open file
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd


class Unavailable(Exception):
    """The database cannot be reached right now (callers answer 503 and let providers retry)."""


class Busy(Unavailable):
    """The database answers, but its write lock stayed taken too long (SQLite): answer 503."""


class Database:
    """An engine and its sessions. Thread-safe; create one per process and share it."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._reader = sqlite_reader(engine) if engine.dialect.name == "sqlite" else \
            engine.execution_options(postgresql_readonly=True, isolation_level="REPEATABLE READ")
        self._readers = sessionmaker(self._reader, expire_on_commit=False)
        # One statement needs no transaction: on PostgreSQL, autocommit saves its BEGIN and its
        # COMMIT, two of a glance's three round trips (psycopg sends neither in autocommit).
        self._glances = self._readers if engine.dialect.name == "sqlite" else sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self._gate = WriteGate(os.path.abspath(database)) if database else None

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A Session inside one transaction: committed when the block ends normally, rolled back
        (and the exception re-raised) when it raises. Objects stay usable after the commit.

        On SQLite the transaction holds the database write lock from its first statement to
        its end, even if it only reads: keep transactions short and never call a provider or a
        registry inside one. Never open a second transaction while one is open in the same
        thread: it would wait for the locks the first one holds.
        """
        gate: AbstractContextManager[None] = self._gate.held() if self._gate is not None else nullcontext()
        try:
            with gate, self._sessions.begin() as session:
                yield session
        except (OperationalError, InterfaceError) as exc:
            self._reraise(exc)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only Session: one consistent snapshot that never takes the write lock (SQLite:
        a deferred transaction beside the writers, thanks to WAL; PostgreSQL: READ ONLY at
        REPEATABLE READ, so every statement sees the same snapshot). For
        admin pages and exports, however long they take. Writes in it fail."""
        try:
            with self._readers.begin() as session:
                yield session
        except (OperationalError, InterfaceError) as exc:
            self._reraise(exc)

    @contextmanager
    def glance(self) -> Iterator[Session]:
        """``reading`` for one read-only statement, which needs no snapshot of its own (the
        delivery loop's "when is the next row due?"): on PostgreSQL it runs in autocommit, one
        round trip where a transaction takes three; on SQLite it is ``reading``. For reads
        only (on PostgreSQL nothing stops a write, which would commit at once); statements
        after the first may each see a later state."""
        try:
            with self._glances.begin() as session:
                yield session
        except (OperationalError, InterfaceError) as exc:
            self._reraise(exc)

    def _reraise(self, exc: OperationalError | InterfaceError) -> None:
        if self.dialect == "sqlite" and "database is locked" in str(exc.orig):
            raise Busy("the SQLite database is busy: another program holds its write lock") from exc
        if getattr(exc, "connection_invalidated", False) or not self.ping():
            raise Unavailable(f"the {self.dialect} database is unavailable") from exc
        raise exc

    def writable(self, timeout: float = 0.5) -> bool:
        """Whether a write could start within ``timeout`` seconds now (SQLite: the gate and the
        write lock are free soon enough; PostgreSQL: always, once ``ping`` answers)."""
        if self._gate is None:
            return True
        try:
            with self._gate.held(timeout):
                connection = self.engine.raw_connection()
                try:
                    cursor = connection.cursor()
                    cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
                    try:
                        cursor.execute("BEGIN IMMEDIATE")
                        cursor.execute("ROLLBACK")
                    finally:
                        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
                    return True
                finally:
                    connection.close()
        except Busy:
            return False
        except self.engine.dialect.loaded_dbapi.OperationalError:
            return False

    def ping(self) -> bool:
        """True if the database answers ``SELECT 1``; False on any database error.

        Runs outside a transaction, so on SQLite it does not wait for the write lock.
        """
        try:
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()
                cursor.execute("SELECT 1")
                return cursor.fetchone() == (1,)
            finally:
                connection.close()
        except (SQLAlchemyError, self.engine.dialect.loaded_dbapi.Error):
            return False

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown, or in a child after fork)."""
        self.engine.dispose()
        if self._reader is not self.engine:
            self._reader.dispose()

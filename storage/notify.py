"""Waking outbox workers in other processes: PostgreSQL LISTEN on the channel that every
INSERT into the outbox NOTIFYs when its transaction commits (a trigger, migration 0007), and on
SQLite a doorbell (a Unix datagram socket) that intake rings after its commit."""
from __future__ import annotations

import contextlib
import os
import select
import socket

from sqlalchemy.engine import make_url

from storage.repository import OUTBOX_CHANNEL

UNIX_PATH_MAX = 104  # sun_path is 108 bytes on Linux, 104 on the BSDs


class OutboxListener:
    """A dedicated connection LISTENing for new outbox rows. ``wait`` returns early on a notice."""

    def __init__(self, url: str):
        import psycopg  # PostgreSQL only: SQLite deployments never load the driver

        sa_url = make_url(url)
        self._conn = psycopg.connect(sa_url.set(drivername="postgresql").render_as_string(hide_password=False),
                                     autocommit=True)
        self._conn.execute(f"LISTEN {OUTBOX_CHANNEL}")

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True if work was signalled (notices are drained)."""
        ready, _, _ = select.select([self._conn.fileno()], [], [], timeout)
        if not ready:
            return False
        return bool(list(self._conn.notifies(timeout=0, stop_after=1000)))  # drain them all

    def close(self) -> None:
        self._conn.close()


class Doorbell:
    """The SQLite counterpart of NOTIFY: a Unix datagram socket beside the database file, which
    a separate ``lapor worker`` listens on. ``ring`` never blocks and never fails: with no worker
    listening the datagram is simply dropped (the worker's fallback poll finds the work)."""

    def __init__(self, path: str):
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.setblocking(False)

    @classmethod
    def for_database(cls, url: str) -> Doorbell | None:
        """The doorbell of a SQLite file database, or None (PostgreSQL, in-memory, path too long)."""
        path = _doorbell_path(url)
        return cls(path) if path else None

    def ring(self) -> None:
        try:
            self._sock.sendto(b"!", self.path)
        except OSError:  # nobody listening, or the queue is full: the worker is awake anyway
            pass

    def close(self) -> None:
        self._sock.close()


class DoorbellListener:
    """A worker's end of the Doorbell. Only one process listens per database: a second worker
    finds the bell taken (``for_database`` returns None) and falls back to polling."""

    def __init__(self, path: str, sock: socket.socket):
        self._path = path
        self._sock = sock

    @classmethod
    def for_database(cls, url: str) -> DoorbellListener | None:
        path = _doorbell_path(url)
        if path is None:
            return None
        if os.path.exists(path):
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            try:
                probe.connect(path)
                return None  # a live worker holds it
            except OSError:
                os.unlink(path)  # left by a worker that died
            finally:
                probe.close()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        os.chmod(path, 0o600)  # like the database beside it: its owner's processes only
        sock.setblocking(False)
        return cls(path, sock)

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True if rung (pending rings are drained)."""
        ready, _, _ = select.select([self._sock], [], [], timeout)
        if not ready:
            return False
        try:
            while self._sock.recv(64):
                pass
        except BlockingIOError:
            pass
        return True

    def close(self) -> None:
        self._sock.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path)


def _doorbell_path(url: str) -> str | None:
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite" or not sa_url.database or sa_url.database == ":memory:":
        return None
    path = os.path.abspath(sa_url.database) + ".wake"
    return path if len(path.encode()) < UNIX_PATH_MAX else None

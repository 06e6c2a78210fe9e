"""Waking outbox workers in other processes: PostgreSQL LISTEN on the channel that
``repository.notify_outbox`` signals when a transaction that queued work commits."""
from __future__ import annotations

import select

import psycopg
from sqlalchemy.engine import make_url

from storage.repository import OUTBOX_CHANNEL


class OutboxListener:
    """A dedicated connection LISTENing for new outbox rows. ``wait`` returns early on a notice."""

    def __init__(self, url: str):
        sa_url = make_url(url)
        self._conn = psycopg.connect(sa_url.set(drivername="postgresql").render_as_string(hide_password=False),
                                     autocommit=True)
        self._conn.execute(f"LISTEN {OUTBOX_CHANNEL}")

    def wait(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True if work was signalled (notices are drained)."""
        ready, _, _ = select.select([self._conn.fileno()], [], [], timeout)
        if not ready:
            return False
        return any(True for _ in self._conn.notifies(timeout=0, stop_after=1000))

    def close(self) -> None:
        self._conn.close()

"""New outbox rows wake PostgreSQL workers by themselves: a statement-level trigger NOTIFYs
the outbox channel (``storage.repository.OUTBOX_CHANNEL``) after every INSERT into the outbox,
so a transaction that queues work no longer spends a round trip of its own on ``pg_notify``.
PostgreSQL delivers the notice when the transaction commits, and once however many rows it
queued (identical notices of one transaction are folded into one). Nothing on SQLite, where
intake rings the doorbell of ``storage.notify`` after its commit.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "lapor_outbox"  # storage.repository.OUTBOX_CHANNEL, as it was when this ran (a test holds them equal)
FUNCTION = "lapor_outbox_notify"
TRIGGER = "outbox_notify"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
               f"BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$")
    op.execute(f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON outbox")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")

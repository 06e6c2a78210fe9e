"""Cost as the data grows: the funnel pre-aggregated (``funnel_counts``, backfilled from the
ended conversations), an index for a script's active conversations, two on the outbox (a
complaint's deliveries; one status newest first, for the delivery pages), and an indexed text
search over complaints (tracking number, title, description).

The search is dialect-specific and outside the models' metadata (``storage.models.COMPLAINT_SEARCH``):

* SQLite: an FTS5 table with the trigram tokenizer over the complaints table's own columns
  (external content, no copy of the text), kept current by triggers. It answers case-insensitive
  substring queries of 3 characters or more. A later migration that rebuilds the complaints
  table (``batch_alter_table``) must drop and re-create the triggers and then ``rebuild`` it.
* PostgreSQL: a GIN index with pg_trgm's ``gin_trgm_ops`` on the three columns, which serves
  ``ILIKE '%...%'`` as it is. The extension is created if missing (trusted since PostgreSQL 13:
  the database owner may create it), in the ``public`` schema, or used where it already is.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.repository.funnel import rebuild_funnel_counts

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_TABLE = "complaints_search"  # storage.models.COMPLAINT_SEARCH
SEARCH_INDEX = "ix_complaints_search"  # storage.models.COMPLAINT_SEARCH_INDEX
COLUMNS = "tracking_number, title, description"
HAS_COMPLAINT = sa.text("complaint_id IS NOT NULL")
SQLITE_SEARCH = (
    f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5({COLUMNS}, content='complaints', content_rowid='id', "
    "tokenize='trigram')",
    f"CREATE TRIGGER {SEARCH_TABLE}_insert AFTER INSERT ON complaints BEGIN "
    f"INSERT INTO {SEARCH_TABLE} (rowid, {COLUMNS}) VALUES (new.id, new.tracking_number, new.title, new.description); "
    "END",
    f"CREATE TRIGGER {SEARCH_TABLE}_delete AFTER DELETE ON complaints BEGIN "
    f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, {COLUMNS}) "
    "VALUES ('delete', old.id, old.tracking_number, old.title, old.description); END",
    f"CREATE TRIGGER {SEARCH_TABLE}_update AFTER UPDATE OF {COLUMNS} ON complaints BEGIN "
    f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, {COLUMNS}) "
    "VALUES ('delete', old.id, old.tracking_number, old.title, old.description); "
    f"INSERT INTO {SEARCH_TABLE} (rowid, {COLUMNS}) VALUES (new.id, new.tracking_number, new.title, new.description); "
    "END",
    f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}) VALUES ('rebuild')",
)


def _trigram_schema(connection: sa.Connection) -> str:
    """The schema that holds pg_trgm, creating the extension (in public) when it is missing."""
    found = connection.execute(sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'")).scalar()
    if found is None:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public"))
        found = "public"
    return str(found)


def upgrade() -> None:
    op.create_table(
        "funnel_counts",
        sa.Column("script_id", sa.String(64), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("reached", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("reprompts", sa.Integer(), nullable=False),
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("script_id", "step_id", "shard", name=op.f("pk_funnel_counts")),
    )
    op.create_index(op.f("ix_conversations_script_id_status"), "conversations", ["script_id", "status"])
    op.create_index(op.f("ix_outbox_complaint_id"), "outbox", ["complaint_id"], sqlite_where=HAS_COMPLAINT,
                    postgresql_where=HAS_COMPLAINT)
    op.create_index(op.f("ix_outbox_status_id"), "outbox", ["status", "id"])
    connection = op.get_bind()
    rebuild_funnel_counts(connection)
    if connection.dialect.name == "postgresql":
        schema = _trigram_schema(connection)
        ops = f'"{schema}".gin_trgm_ops'
        op.execute(f"CREATE INDEX {SEARCH_INDEX} ON complaints USING gin "
                   f"(tracking_number {ops}, title {ops}, description {ops})")
    else:
        for statement in SQLITE_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")  # pg_trgm stays: others may use it
    else:
        for suffix in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {SEARCH_TABLE}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
    op.drop_index(op.f("ix_outbox_status_id"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_complaint_id"), table_name="outbox")
    op.drop_index(op.f("ix_conversations_script_id_status"), table_name="conversations")
    op.drop_table("funnel_counts")

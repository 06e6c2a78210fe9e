"""Initial schema: contacts, conversations, messages, complaints, outbox, script versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("sender_hash", sa.String(64), nullable=False),
        sa.Column("sender_enc", sa.LargeBinary(), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("last_inbound_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("channel", "sender_hash", name=op.f("uq_contacts_channel_sender_hash")),
    )
    op.create_table(
        "script_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("script_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        _at("created_at"),
        _at("published_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script_versions")),
        sa.UniqueConstraint("script_id", "version", name=op.f("uq_script_versions_script_id_version")),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("script_id", sa.String(64), nullable=False),
        sa.Column("script_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step_id", sa.String(64), nullable=True),
        sa.Column("state", JSON, nullable=False),
        _at("started_at"),
        _at("updated_at"),
        _at("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_conversations_contact_id_contacts")),
        sa.CheckConstraint("status IN ('active', 'completed', 'cancelled', 'expired')",
                           name=op.f("ck_conversations_status")),
    )
    op.create_index(op.f("ix_conversations_contact_id_status"), "conversations", ["contact_id", "status"])
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(10), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("category_code", sa.String(64), nullable=True),
        sa.Column("agency", sa.String(128), nullable=True),
        sa.Column("location_text", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("incident_date", sa.Date(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("reporter_name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("attachments", JSON, nullable=False),
        sa.Column("answers", JSON, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("registry_id", sa.String(128), nullable=True),
        sa.Column("registry_token", sa.String(128), nullable=True),
        _at("registry_checked_at", nullable=True),
        sa.Column("status_note", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _at("submitted_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("tracking_number", name=op.f("uq_complaints_tracking_number")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_complaints_contact_id_contacts")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_complaints_conversation_id_conversations")),
    )
    op.create_index(op.f("ix_complaints_status"), "complaints", ["status"])
    op.create_index(op.f("ix_complaints_created_at"), "complaints", ["created_at"])
    op.create_index(op.f("ix_complaints_category"), "complaints", ["category"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("provider_message_id", sa.String(128), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("channel", "provider_message_id", name=op.f("uq_messages_channel_provider_message_id")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_messages_contact_id_contacts")),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"],
                                name=op.f("fk_messages_conversation_id_conversations")),
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f("ck_messages_direction")),
    )
    op.create_index(op.f("ix_messages_conversation_id"), "messages", ["conversation_id"])
    op.create_index(op.f("ix_messages_contact_id"), "messages", ["contact_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("complaint_id", sa.Integer(), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        _at("lease_until", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        _at("done_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_outbox_contact_id_contacts")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_outbox_message_id_messages")),
        sa.ForeignKeyConstraint(["complaint_id"], ["complaints.id"], name=op.f("fk_outbox_complaint_id_complaints")),
        sa.CheckConstraint("kind IN ('reply', 'submission', 'notification')", name=op.f("ck_outbox_kind")),
        sa.CheckConstraint("status IN ('pending', 'sending', 'done', 'dead')", name=op.f("ck_outbox_status")),
    )
    op.create_index(op.f("ix_outbox_status_next_attempt_at"), "outbox", ["status", "next_attempt_at"])
    op.create_index(op.f("ix_outbox_contact_id_status"), "outbox", ["contact_id", "status"])


def downgrade() -> None:
    for table in ("outbox", "messages", "complaints", "conversations", "script_versions", "contacts"):
        op.drop_table(table)

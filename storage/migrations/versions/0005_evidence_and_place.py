"""Evidence and place: attachments downloaded and kept, complaints' Kemendagri regions, the
"download" outbox kind.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.columns import JSONType

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "kind IN ('reply', 'submission', 'notification')"
NEW_KINDS = "kind IN ('reply', 'submission', 'notification', 'download')"


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(1024), nullable=False),
        sa.Column("declared_type", sa.String(128), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(16), nullable=True),
        sa.Column("content_type", sa.String(128), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("thumb_sha256", sa.String(64), nullable=True),
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _at("created_at"),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_attachments_contact_id_contacts")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_attachments_message_id_messages")),
        sa.UniqueConstraint("message_id", "position", name=op.f("uq_attachments_message_id_position")),
        sa.CheckConstraint("status IN ('pending', 'stored', 'refused', 'failed')", name=op.f("ck_attachments_status")),
    )
    op.create_index(op.f("ix_attachments_contact_id_ref"), "attachments", ["contact_id", "ref"])

    with op.batch_alter_table("complaints") as batch:
        batch.add_column(sa.Column("region", JSONType, nullable=False, server_default=sa.text("'{}'")))
        batch.add_column(sa.Column("province_code", sa.String(16), nullable=True))
        batch.add_column(sa.Column("regency_code", sa.String(16), nullable=True))
    op.create_index(op.f("ix_complaints_province_code"), "complaints", ["province_code"])
    op.create_index(op.f("ix_complaints_regency_code"), "complaints", ["regency_code"])

    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_kind"), sa.text(NEW_KINDS))
        batch.add_column(sa.Column("attachment_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_outbox_attachment_id_attachments"), "attachments", ["attachment_id"], ["id"])


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE kind = 'download'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("fk_outbox_attachment_id_attachments"), type_="foreignkey")
        batch.drop_column("attachment_id")
        batch.drop_constraint(op.f("ck_outbox_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_outbox_kind"), sa.text(OLD_KINDS))
    op.drop_index(op.f("ix_complaints_regency_code"), table_name="complaints")
    op.drop_index(op.f("ix_complaints_province_code"), table_name="complaints")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("regency_code")
        batch.drop_column("province_code")
        batch.drop_column("region")
    op.drop_index(op.f("ix_attachments_contact_id_ref"), table_name="attachments")
    op.drop_table("attachments")

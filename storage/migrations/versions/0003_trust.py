"""Trust: inbound-only dedupe of provider ids, encrypted message text, capped re-sends of
unrecorded outbox work, callback order, admin
sessions and sign-in throttling, data key checks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INBOUND = sa.text("direction = 'in'")
OUTBOUND = sa.text("direction = 'out'")


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # Telegram numbers messages per chat: outbound ids are not unique, inbound ones still are.
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint(op.f("uq_messages_channel_provider_message_id"), type_="unique")
        batch.add_column(sa.Column("text_enc", sa.LargeBinary(), nullable=True))
    op.create_index("uq_messages_inbound_provider_id", "messages", ["channel", "provider_message_id"], unique=True,
                    sqlite_where=INBOUND, postgresql_where=INBOUND)
    op.create_index("ix_messages_outbound_provider_id", "messages", ["channel", "provider_message_id"],
                    sqlite_where=OUTBOUND, postgresql_where=OUTBOUND)

    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("reclaims", sa.Integer(), nullable=False, server_default=sa.text("0")))

    with op.batch_alter_table("complaints") as batch:
        batch.add_column(_at("callback_at", nullable=True))
        batch.add_column(sa.Column("callback_digest", sa.String(64), nullable=True))

    with op.batch_alter_table("admin_users") as batch:
        batch.add_column(sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        "admin_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_admin_sessions")),
        sa.ForeignKeyConstraint(["user_id"], ["admin_users.id"], name=op.f("fk_admin_sessions_user_id_admin_users"),
                                ondelete="CASCADE"),
    )
    op.create_index(op.f("ix_admin_sessions_user_id"), "admin_sessions", ["user_id"])
    op.create_index(op.f("ix_admin_sessions_expires_at"), "admin_sessions", ["expires_at"])

    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _at("window_until"),
        _at("blocked_until", nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )
    op.create_index(op.f("ix_sign_in_throttle_window_until"), "sign_in_throttle", ["window_until"])

    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.String(16), nullable=False),
        _at("created_at"),
        _at("retired_at", nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_data_keys")),
    )


def downgrade() -> None:
    op.drop_table("data_keys")
    op.drop_index(op.f("ix_sign_in_throttle_window_until"), table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
    op.drop_index(op.f("ix_admin_sessions_expires_at"), table_name="admin_sessions")
    op.drop_index(op.f("ix_admin_sessions_user_id"), table_name="admin_sessions")
    op.drop_table("admin_sessions")
    with op.batch_alter_table("admin_users") as batch:
        batch.drop_column("disabled")
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("callback_digest")
        batch.drop_column("callback_at")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("reclaims")
    op.drop_index("ix_messages_outbound_provider_id", table_name="messages")
    op.drop_index("uq_messages_inbound_provider_id", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("text_enc")
        batch.create_unique_constraint(op.f("uq_messages_channel_provider_message_id"),
                                       ["channel", "provider_message_id"])

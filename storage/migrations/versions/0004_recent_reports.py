"""Recent reports: a contact's complaints, newest first ("cek status"), by an index.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_complaints_contact_id_created_at", "complaints", ["contact_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_complaints_contact_id_created_at", table_name="complaints")

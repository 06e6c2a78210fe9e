"""Shared by the repository modules."""
from __future__ import annotations

from sqlalchemy.orm import Session

__all__ = ["is_postgres"]


def is_postgres(session: Session) -> bool:
    """Whether ``session`` talks to PostgreSQL (else SQLite)."""
    return session.get_bind().dialect.name == "postgresql"

"""Dialog script versions: stored, numbered, published.

Every function takes an open Session and none commits (see ``storage.repository``)."""
from __future__ import annotations

import hashlib
import zlib
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session

from storage.models import (
    ScriptVersion,
)
from storage.repository.common import is_postgres

__all__ = [
    "add_script_version",
    "all_script_versions",
    "lock_script",
    "publish_version",
    "published_script",
    "published_version",
    "script_version",
    "script_versions",
]


_SCRIPT_LOCK_CLASS = 0x4C50  # first key of pg_advisory_xact_lock(int, int) for script versions


def lock_script(session: Session, script_id: str) -> None:
    """Serialise writers of one script's versions until the transaction ends.

    Call it before reading versions when what you write depends on what you read. PostgreSQL:
    a transaction-scoped advisory lock; SQLite: the transaction already holds the write lock.
    """
    if is_postgres(session):
        key = zlib.crc32(script_id.encode("utf-8")) - 2**31  # into int4 range
        session.execute(select(func.pg_advisory_xact_lock(_SCRIPT_LOCK_CLASS, key)))


def published_script(session: Session, script_id: str) -> ScriptVersion | None:
    """The live version: the highest published one."""
    return session.scalars(
        select(ScriptVersion)
        .where(ScriptVersion.script_id == script_id, ScriptVersion.published.is_(True))
        .order_by(ScriptVersion.version.desc())
        .limit(1)
    ).first()


_SCRIPTS = cast(Table, ScriptVersion.__table__)
# Built once: intake asks it at every conversation's start, /readyz at every probe (the text is read
# only when the version is new to the process: ScriptCatalog.current).
_PUBLISHED_VERSION = (select(_SCRIPTS.c.version)
                      .where(_SCRIPTS.c.script_id == bindparam("script_id"), _SCRIPTS.c.published.is_(True))
                      .order_by(_SCRIPTS.c.version.desc()).limit(1))


def published_version(session: Session, script_id: str) -> int | None:
    """The live version's number alone (one indexed Core SELECT, no text, no ORM row)."""
    return session.execute(_PUBLISHED_VERSION, {"script_id": script_id}).scalar()


def script_version(session: Session, script_id: str, version: int) -> ScriptVersion | None:
    return session.scalars(
        select(ScriptVersion).where(ScriptVersion.script_id == script_id, ScriptVersion.version == version)
    ).one_or_none()


def script_versions(session: Session, script_id: str) -> list[ScriptVersion]:
    """All versions of a script, lowest first."""
    return list(session.scalars(
        select(ScriptVersion).where(ScriptVersion.script_id == script_id).order_by(ScriptVersion.version)
    ))


def add_script_version(session: Session, *, script_id: str, text: str, author: str, source: str, publish: bool,
                       now: datetime) -> ScriptVersion:
    """Store ``text`` as the next version (1 for a new script), published at once if ``publish``."""
    lock_script(session, script_id)
    highest = session.scalar(select(func.max(ScriptVersion.version)).where(ScriptVersion.script_id == script_id))
    row = ScriptVersion(
        script_id=script_id, version=(highest or 0) + 1, text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), author=author, source=source,
        published=publish, created_at=now, published_at=now if publish else None,
    )
    session.add(row)
    session.flush()
    return row


def publish_version(session: Session, script_id: str, version: int, now: datetime) -> ScriptVersion:
    """Mark a version published (LookupError if it does not exist). It becomes the live one if it
    is the highest published version; publishing again keeps the first ``published_at``."""
    row = script_version(session, script_id, version)
    if row is None:
        raise LookupError(f"script {script_id!r} has no version {version}")
    if not row.published:
        row.published, row.published_at = True, now
        session.flush()
    return row


def all_script_versions(session: Session) -> list[ScriptVersion]:
    """Every version of every script, by script then version (the admin overview)."""
    return list(session.scalars(select(ScriptVersion).order_by(ScriptVersion.script_id, ScriptVersion.version)))

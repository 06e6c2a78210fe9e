"""Schema migrations: Alembic, configured in code (no alembic.ini).

The migration scripts live in ``storage/migrations`` next to this module, so this works from a
source checkout and from an installed package alike.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# How long a migration waits for another process's (SQLite's write lock; on PostgreSQL the
# advisory lock waits as long as it takes): a whole upgrade, on a slow machine.
MIGRATION_LOCK_WAIT = 300.0
# Alembic keeps its running context in module globals: one migration at a time per process.
_LOCK = threading.Lock()


def alembic_config(url: str) -> Config:
    """An Alembic Config for ``url`` and our migration scripts (for ``alembic.command``)."""
    from alembic.config import Config  # imported when needed: serving processes never load Alembic

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # the value is interpolated
    return config


def upgrade(url: str) -> None:
    """Bring the database at ``url`` to the latest schema (``alembic upgrade head``).

    Idempotent, and safe to run from several processes at once: on SQLite the migration's
    transaction holds the write lock, on PostgreSQL an advisory lock; whoever comes second
    finds the schema current and does nothing. A schema already at the newest revision is
    seen with one query, without loading Alembic (most of a start-up's time, before).
    """
    if current(url):
        return
    from alembic import command

    with _LOCK:
        command.upgrade(alembic_config(url), "head")


def newest_revision() -> str:
    """The head revision, by our naming rule: each migration file starts with its revision id,
    and the ids count up ("0006_...py" is revision "0006"; a test holds Alembic to it)."""
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def current(url: str) -> bool:
    """Whether the database at ``url`` is at the newest revision (False when it has none yet,
    or cannot say: Alembic then does the work, and reports what is wrong). A SQLite file that
    does not exist is not created here (``storage.db`` creates it, private)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage.db import make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and not (parsed.database and Path(parsed.database).is_file()):
        return False
    try:
        engine = make_engine(url, sqlite_lock_wait=MIGRATION_LOCK_WAIT)
    except Exception:  # an unsupported URL: Alembic's turn to refuse it
        return False
    try:
        with engine.connect() as connection:
            found: list[str] = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except Exception:  # no schema yet, or the database cannot be reached
        return False
    finally:
        engine.dispose()
    return found == [newest_revision()]

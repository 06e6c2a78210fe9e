"""Alembic environment for lapor-intake (see storage/migrate.py).

The database URL comes from the Config's ``sqlalchemy.url`` main option. The whole upgrade runs
in one transaction: on SQLite that transaction begins with BEGIN IMMEDIATE (storage.db), on
PostgreSQL it first takes an advisory lock. Either way concurrent upgrades queue up (on SQLite
for up to MIGRATION_LOCK_WAIT seconds, not a request's few), and each reads the current
revision only once it holds the lock.
"""
from __future__ import annotations

from alembic import context

from storage.db import make_engine
from storage.migrate import MIGRATION_LOCK_WAIT
from storage.models import Base

MIGRATION_LOCK_KEY = 0x4C41504F52  # "LAPOR": pg_advisory_xact_lock key for migrations


def run_migrations_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set the Alembic main option sqlalchemy.url (storage.migrate.alembic_config does)")
    engine = make_engine(url, sqlite_lock_wait=MIGRATION_LOCK_WAIT)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; run storage.migrate.upgrade(url)")
run_migrations_online()

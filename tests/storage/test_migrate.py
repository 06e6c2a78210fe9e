"""The start-up's quick look at the schema: a current database is seen without Alembic."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.db import Database
from storage.migrate import alembic_config, current, newest_revision

ROOT = Path(__file__).resolve().parents[2]


def test_the_naming_rule_gives_alembics_head(db_url: str) -> None:
    assert newest_revision() == ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()


def test_a_current_database_is_upgraded_without_loading_alembic(db: Database, db_url: str) -> None:
    assert current(db_url)
    probe = "import sys; from storage.migrate import upgrade; upgrade(sys.argv[1]); print('alembic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe, db_url], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_an_older_or_missing_schema_is_not_current(db: Database, db_url: str, tmp_path: Path) -> None:
    missing = tmp_path / "none" / "lapor.sqlite3"
    assert not current(f"sqlite:///{missing}") and not missing.parent.exists()  # nothing created, not even private
    empty = tmp_path / "empty.sqlite3"
    sqlite3.connect(empty).close()
    assert not current(f"sqlite:///{empty}")  # no alembic_version table
    with db.transaction() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        assert not current(db_url)
    finally:
        with db.transaction() as session:
            session.execute(text(f"UPDATE alembic_version SET version_num = '{newest_revision()}'"))


def test_a_plain_postgresql_url_means_psycopg_3(db: Database, db_url: str) -> None:
    if db.dialect != "postgresql":
        return
    assert current(db_url.replace("postgresql+psycopg://", "postgresql://", 1))

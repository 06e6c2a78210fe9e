"""Fixtures shared by the whole suite: real databases, migrated and empty, and a test cipher.

``db_url`` is parametrized over ``sqlite`` and ``postgresql``: a test that uses it, or ``db``
(built on it), runs once on each. SQLite: a copy of a file migrated once per session.
PostgreSQL (``LAPOR_TEST_POSTGRES_URL``): a schema of its own per session, migrated once and
truncated before each test; the URL carries the schema as its search_path, so subprocesses
given ``db_url`` see the same data. A PostgreSQL that does not answer fails those tests;
``LAPOR_TEST_SKIP_POSTGRES=1`` skips them instead.
"""
from __future__ import annotations

import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot.cli import QUIETED_LIBRARIES
from storage.crypto import DataCipher
from storage.db import Database
from storage.migrate import upgrade

POSTGRES_URL = os.environ.get("LAPOR_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
SKIP_POSTGRES = os.environ.get("LAPOR_TEST_SKIP_POSTGRES") == "1"
TEST_DATA_KEY = "test-data-key"  # the LAPOR_DATA_KEY the service-level tests use too


@pytest.fixture(autouse=True)
def logging_as_it_was() -> Iterator[None]:
    """A test that runs ``bot.cli.main`` configures logging as a process would (root handlers,
    the provider libraries quieted); the tests after it run in the same process and expect
    logging as it was (a quieted ``twilio`` logger hides the lines a privacy test reads)."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in QUIETED_LIBRARIES}
    handlers, level = list(root.handlers), root.level
    yield
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)
    root.handlers[:] = handlers
    root.setLevel(level)


def schema_url(base_url: str, schema: str) -> str:
    """``base_url`` with ``schema`` as the search_path of every connection."""
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@dataclass(frozen=True)
class _Postgres:
    url: str | None  # the session schema's URL, or None when PostgreSQL is unusable
    problem: str = ""


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres() -> Iterator[_Postgres]:
    if SKIP_POSTGRES:
        yield _Postgres(None, "LAPOR_TEST_SKIP_POSTGRES=1")
        return
    server = Database.from_url(POSTGRES_URL)
    schema = f"t_{secrets.token_hex(6)}"
    try:
        with server.transaction() as session:
            session.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError as exc:
        server.dispose()
        where = make_url(POSTGRES_URL).render_as_string(hide_password=True)
        yield _Postgres(None, (
            f"PostgreSQL is not reachable at {where} ({exc.orig}); start it with: "
            "pg_ctlcluster <version> main start (see /etc/postgresql), or run .ci/run; "
            "or set LAPOR_TEST_SKIP_POSTGRES=1 to skip the PostgreSQL cases"))
        return
    try:
        url = schema_url(POSTGRES_URL, schema)
        upgrade(url)
        yield _Postgres(url)
    finally:
        with server.transaction() as session:
            session.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        server.dispose()


def _truncate_postgres(url: str) -> None:
    database = Database.from_url(url)
    try:
        with database.transaction() as session:
            tables = session.scalars(text(
                "SELECT quote_ident(tablename) FROM pg_tables "
                "WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
            )).all()
            if tables:
                session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    finally:
        database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a migrated, empty database of the parametrized kind."""
    if request.param == "sqlite":
        target = tmp_path / "db" / "lapor.sqlite3"
        target.parent.mkdir()
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), target)
        return f"sqlite:///{target}"
    postgres: _Postgres = request.getfixturevalue("_postgres")
    if postgres.url is None:
        if SKIP_POSTGRES:
            pytest.skip(postgres.problem)
        pytest.fail(postgres.problem, pytrace=False)
    _truncate_postgres(postgres.url)
    return postgres.url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A ``Database`` on ``db_url`` (disposed after the test)."""
    database = Database.from_url(db_url)
    yield database
    database.dispose()


@pytest.fixture
def cipher() -> DataCipher:
    """The DataCipher the services build from the tests' LAPOR_DATA_KEY."""
    return DataCipher.from_secret(TEST_DATA_KEY)

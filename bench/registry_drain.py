"""Registry backlog benchmark: how long 1,000 queued complaints take to drain into a local
webhook registry server (real HTTP on loopback, signatures and idempotency checked), on SQLite
and on PostgreSQL.

    .venv/bin/python bench/registry_drain.py [--count 1000] [--postgres URL]

The complaints are queued as intake queues them (complaint row + submission outbox row, one
transaction each); the clock runs from the first claim until the last is accepted.
"""
from __future__ import annotations

import argparse
import logging
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from providers.registry_webhook import WebhookRegistryServer  # noqa: E402

from bot.complaints import complaint_fields  # noqa: E402
from bot.services import build_services  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from storage import repository as repo  # noqa: E402
from storage.crypto import DataCipher  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

FIELDS = {"type": "complaint", "title": "Jalan berlubang", "category": "infrastructure",
          "description": "Lubang besar di depan SD Negeri 3 sudah sebulan, dua motor jatuh.",
          "location": {"text": "Jl. Merdeka 10", "latitude": None, "longitude": None},
          "incident_date": "2026-11-27", "attachments": [], "anonymous": False, "confidential": False,
          "reporter_name": "Budi"}


def drain(url: str, count: int) -> float:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    secret = secrets.token_hex(16)
    with WebhookRegistryServer(secret) as registry:
        env = {"LAPOR_CONFIG": str(ROOT / "config.yaml"), "LAPOR_DATABASE_URL": url, "LAPOR_DATA_KEY": "bench",
               "LAPOR_SECRET_KEY": "bench", "LAPOR_REGISTRY": "webhook", "LAPOR_REGISTRY_URL": registry.url,
               "LAPOR_REGISTRY_SECRET": secret}
        settings = load_settings(environ=env)
        upgrade(url)
        services = build_services(settings, channels={})
        cipher = DataCipher.from_secret("bench")
        fields = complaint_fields(FIELDS, settings)
        now = repo.utcnow()
        for i in range(count):
            with services.db.transaction() as session:
                contact = repo.lock_contact(session, cipher, "sms", f"+62812{i:08d}", now)
                complaint = repo.add_complaint(session, contact_id=contact.id, conversation_id=None, channel="sms",
                                               language="id", fields=fields, answers={},
                                               reporter_name_enc=cipher.encrypt("Budi"), now=now)
                repo.add_outbox(session, kind="submission", payload={}, complaint_id=complaint.id,
                                contact_id=contact.id, now=now)
        started = time.perf_counter()
        services.delivery.drain(limit_rounds=100_000)
        elapsed = time.perf_counter() - started
        services.close()
        assert len(registry.received) == count and not registry.violations, "lost, doubled or invalid submissions"
    return elapsed


POSTGRES_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"


def drain_postgres(url: str, count: int) -> float:
    """``drain`` on a schema of its own, dropped afterwards."""
    return on_own_schema(url, lambda schema_url: drain(schema_url, count))


def on_own_schema[T](url: str, run: Callable[[str], T]) -> T:
    """``run(url of a new schema on url's database)``; the schema is dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    schema = "bench_" + secrets.token_hex(4)
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        return run(f"{url}?options=-csearch_path%3D{schema}")
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def command_line[T](description: str, drain: Callable[[str, int], T],
                    describe: Callable[[str, int, T], str]) -> None:
    """A drain benchmark's command line (``--count``, ``--postgres``): ``drain`` on a fresh
    SQLite file, then on a schema of its own on PostgreSQL, each ``describe``d on a line."""
    import psycopg

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--postgres", default=POSTGRES_URL)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(describe("sqlite", args.count, drain(f"sqlite:///{tmp}/bench.sqlite3", args.count)))
    try:
        print(describe("postgresql", args.count, on_own_schema(args.postgres, lambda url: drain(url, args.count))))
    except psycopg.OperationalError as exc:
        print(f"postgresql: not measured ({args.postgres} does not answer: {str(exc).strip()[:200]})")


def describe(database: str, count: int, seconds: float) -> str:
    return f"{database}: {count} complaints drained in {seconds:.2f} s ({count / seconds:,.0f}/s)"


if __name__ == "__main__":
    command_line(__doc__.splitlines()[0], drain, describe)

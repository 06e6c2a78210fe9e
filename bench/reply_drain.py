"""Reply backlog benchmark: what a delivery worker spends to send 1,000 queued replies, one to
each of 1,000 Telegram chats, through the real python-telegram-bot client to the Bot API
stand-in (real HTTP on loopback, every call checked against the published Bot API), on SQLite
and on PostgreSQL.

    .venv/bin/python bench/reply_drain.py [--count 1000] [--postgres URL]

The replies are queued as intake queues them (a contact, an outgoing message and its outbox
row), with the provider rate limits off (the worker's own speed, not Telegram's pacing). The
stand-in runs in a process of its own, so the CPU figure is the worker's alone: its claims, its
sends and the recording of each send (``bot.group_commit``), per reply; "commits" counts the
worker's transactions.
"""
from __future__ import annotations

import logging
import multiprocessing
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench.registry_drain import command_line, on_own_schema  # noqa: E402

TEXT = "Terima kasih. Laporan Anda kami terima; nomor laporan Anda akan kami kirim sebentar lagi."


@dataclass(frozen=True)
class Drained:
    seconds: float
    cpu_ms_per_reply: float
    commits: int


def _stand_in(conn: Connection) -> None:
    """The Bot API stand-in until told to stop; then what it received and what broke the API."""
    from providers.telegram_api import TelegramApiServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with TelegramApiServer() as api:
        conn.send(api.base_url)
        conn.recv()
        conn.send((len(api.calls_to("sendMessage")), api.violations))


def drain(url: str, count: int) -> Drained:
    """Queue ``count`` replies on ``url`` (a migrated or empty database) and send them all."""
    ours, theirs = multiprocessing.Pipe()
    api = multiprocessing.get_context("fork").Process(target=_stand_in, args=(theirs,), daemon=True)
    api.start()
    try:
        with tempfile.TemporaryDirectory(prefix="lapor-reply-drain-") as workdir:
            drained = _drain(url, count, ours.recv(), Path(workdir))
        ours.send("stop")
        received, violations = ours.recv()
    finally:
        api.join(timeout=10)
        if api.is_alive():
            api.kill()
    assert received == count and not violations, f"{received} of {count} replies sent; {violations[:3]}"
    return drained


def _drain(url: str, count: int, api_url: str, workdir: Path) -> Drained:
    from providers.telegram_api import TOKEN
    from sqlalchemy import event

    from bot.services import build_services
    from bot.settings import load_settings
    from channels.telegram import TelegramChannel
    from storage import repository as repo
    from storage.crypto import DataCipher
    from storage.migrate import upgrade

    config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    config["delivery"]["rate_limits"] = {}
    (workdir / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    settings = load_settings(environ={"LAPOR_CONFIG": str(workdir / "config.yaml"), "LAPOR_DATABASE_URL": url,
                                      "LAPOR_DATA_KEY": "bench", "LAPOR_SECRET_KEY": "bench"})
    upgrade(url)
    channel = TelegramChannel(token=TOKEN, webhook_secret="bench", api_base_url=api_url)
    services = build_services(settings, channels={"telegram": channel}, intake=False)
    try:
        cipher = DataCipher.from_secret("bench")
        now = repo.utcnow()
        with services.db.transaction() as session:
            for i in range(count):
                contact = repo.lock_contact(session, cipher, "telegram", str(700_000_000 + i), now)
                message_id = repo.insert_message(
                    session, contact_id=contact.id, conversation_id=None, direction="out", channel="telegram",
                    text=TEXT, text_enc=None, provider_message_id=None, payload={}, status="queued", now=now)
                repo.insert_outbox(session, kind="reply", channel="telegram", contact_id=contact.id,
                                   message_id=message_id, payload={}, now=now)
        commits = 0

        def counted(_connection: object) -> None:
            nonlocal commits
            commits += 1

        event.listen(services.db.engine, "commit", counted)
        cpu, started = time.process_time(), time.perf_counter()
        services.delivery.drain(limit_rounds=100_000)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        services.close()
    return Drained(elapsed, cpu * 1000 / count, commits)


def drain_postgres(url: str, count: int) -> Drained:
    """``drain`` on a schema of its own, dropped afterwards."""
    return on_own_schema(url, lambda schema_url: drain(schema_url, count))


def describe(database: str, count: int, drained: Drained) -> str:
    return (f"{database}: {count} replies sent in {drained.seconds:.2f} s ({count / drained.seconds:,.0f}/s), "
            f"{drained.cpu_ms_per_reply:.2f} ms of the worker's CPU per reply, {drained.commits} commits")


if __name__ == "__main__":
    command_line(__doc__.splitlines()[0], drain, describe)

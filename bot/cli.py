"""The ``lapor`` command: serve, worker, chat, dialogs check, db upgrade, complaints, admin, keys.

Commands that read personal data refuse to start with a data key that cannot read the database
(``storage.keys``): they print why, naming LAPOR_DATA_KEY, and exit 1.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.memory import limit_arenas
from bot.settings import ConfigError, Settings, cores, load_settings

log = logging.getLogger("lapor")


def main(argv: Sequence[str] | None = None) -> int:
    limit_arenas()  # before any thread starts (bot.memory)
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    quiet_libraries()
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    from storage.crypto import WrongDataKey

    try:
        return int(args.run(args) or 0)
    except ConfigError as exc:
        print(f"lapor: {exc}", file=sys.stderr)
        return 2
    except WrongDataKey as exc:
        print(f"lapor: {exc}", file=sys.stderr)
        return 1


QUIETED_LIBRARIES = ("httpx", "httpcore", "telegram", "twilio", "alembic", "urllib3")


def quiet_libraries() -> None:
    """Keep secrets and personal data out of logs: httpx logs request URLs at INFO, and Telegram's
    URLs carry the bot token; python-telegram-bot logs message text at DEBUG. Alembic's plugin
    chatter is not for operators either."""
    for name in QUIETED_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lapor", description="LAPOR! chatbot intake service")
    sub = parser.add_subparsers(metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the webhooks and admin over HTTP (gunicorn)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="worker processes (0: one per core; default from config.yaml)")
    serve.set_defaults(run=_serve)

    worker = sub.add_parser("worker", help="deliver queued replies and complaints")
    worker.add_argument("--once", action="store_true", help="drain what is due, then exit")
    worker.set_defaults(run=_worker)

    chat = sub.add_parser("chat", help="talk to the bot in the terminal (full pipeline; stdin can be piped)")
    chat.add_argument("--sender", default="terminal-user", help="who you are (default: terminal-user)")
    chat.add_argument("--lang", choices=["id", "en"], help="the language the bot answers in")
    chat.set_defaults(run=_chat)

    dialogs = sub.add_parser("dialogs", help="dialog scripts").add_subparsers(metavar="ACTION")
    check = dialogs.add_parser("check", help="validate scripts; prints file:line: message, exit 1 on errors")
    check.add_argument("files", nargs="*", type=Path)
    check.set_defaults(run=_dialogs_check)

    telegram = sub.add_parser("telegram", help="Telegram bot set-up").add_subparsers(metavar="ACTION")
    telegram.add_parser("set-webhook", help="register LAPOR_PUBLIC_URL/webhooks/telegram with the secret").set_defaults(
        run=_telegram_set_webhook)
    telegram.add_parser("poll", help="receive updates by long polling (no public HTTPS URL needed)").set_defaults(
        run=_telegram_poll)

    db = sub.add_parser("db", help="database").add_subparsers(metavar="ACTION")
    db.add_parser("upgrade", help="migrate the schema and import script files").set_defaults(run=_db_upgrade)

    complaints = sub.add_parser("complaints", help="complaints").add_subparsers(metavar="ACTION")
    export = complaints.add_parser("export", help="write all complaints to stdout")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.set_defaults(run=_complaints_export)
    set_status = complaints.add_parser("set-status",
                                       help="change a complaint's status (local registry) and notify the citizen")
    set_status.add_argument("tracking_number")
    set_status.add_argument("status", choices=["received", "verified", "in_progress", "resolved", "rejected"])
    set_status.add_argument("--note", default="", help="a note the citizen reads with the new status")
    set_status.set_defaults(run=_complaints_set_status)

    nlu = sub.add_parser("nlu", help="understanding what citizens write").add_subparsers(metavar="ACTION")
    evaluate = nlu.add_parser("evaluate", help="score an interpreter on labelled examples (Rasa NLU YAML)")
    evaluate.add_argument("--data", type=Path, required=True, help="a file of intents or of categories")
    evaluate.add_argument("--backend", choices=["builtin", "rasa"], default="builtin",
                          help="rasa: the server at RASA_URL (RASA_TOKEN)")
    evaluate.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    evaluate.set_defaults(run=_nlu_evaluate)

    keys = sub.add_parser("keys", help="the data key (LAPOR_DATA_KEY)").add_subparsers(metavar="ACTION")
    keys.add_parser("status", help="the keys this database knows, and which this process holds").set_defaults(
        run=_keys_status)
    keys.add_parser("rotate", help="re-encrypt everything with LAPOR_DATA_KEY, then retire the previous keys "
                    "(LAPOR_DATA_KEY_PREVIOUS)").set_defaults(run=_keys_rotate)

    admin = sub.add_parser("admin", help="admin accounts").add_subparsers(metavar="ACTION")
    create_user = admin.add_parser("create-user", help="create an admin account (password from "
                                   "LAPOR_ADMIN_PASSWORD or asked)")
    create_user.add_argument("name")
    create_user.add_argument("--role", choices=["viewer", "editor", "admin"], required=True)
    create_user.set_defaults(run=_admin_create_user)
    set_role = admin.add_parser("set-role", help="change an account's role (effective on its next request)")
    set_role.add_argument("name")
    set_role.add_argument("role", choices=["viewer", "editor", "admin"])
    set_role.set_defaults(run=_admin_set_role)
    for action, text in (("disable", "stop an account from signing in, and end its sessions"),
                         ("enable", "let a disabled account sign in again")):
        command = admin.add_parser(action, help=text)
        command.add_argument("name")
        command.set_defaults(run=_admin_enable, enabled=action == "enable")
    reset = admin.add_parser("reset-password", help="set a new password (from LAPOR_ADMIN_PASSWORD or asked), "
                             "end the account's sessions and lift its locks")
    reset.add_argument("name")
    reset.set_defaults(run=_admin_reset_password)
    return parser


def _db_upgrade(args: argparse.Namespace) -> int:
    from bot.services import prepare_database

    settings = load_settings()
    prepare_database(settings)
    print(f"database ready: {_safe_url(settings.database_url)}")
    return 0


def _dialogs_check(args: argparse.Namespace) -> int:
    from bot.scripts import check_file

    files = args.files or sorted(load_settings().scripts_dir.glob("*.yaml"))
    errors = 0
    for path in files:
        diagnostics = check_file(path)
        for diagnostic in diagnostics:
            print(diagnostic)
        count = sum(d.severity == "error" for d in diagnostics)
        errors += count
        if not count:
            print(f"{path}: ok ({len(diagnostics)} warning(s))", file=sys.stderr)
    return 1 if errors else 0


def _serve(args: argparse.Namespace) -> int:
    from bot.server import serve

    settings = load_settings()
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if args.workers is not None:
        overrides["workers"] = args.workers or cores()  # 0: one per core, as in config.yaml
    return serve(settings, **overrides)


def _worker(args: argparse.Namespace) -> int:
    from bot import metrics
    from bot.prepare import prepare

    settings = load_settings()
    if not prepare(settings, meanwhile=lambda: _import_worker(settings)):  # loads its modules meanwhile
        return 1
    from bot.services import build_services
    from bot.worker import run_worker

    metrics.share(settings.metrics_dir)  # what it counts joins the service's /metrics
    services = build_services(settings, intake=False)
    try:
        if args.once:
            print(f"delivered {services.delivery.drain()} outbox row(s)")
            return 0
        log.info("worker started (registry: %s, channels: %s)", settings.registry,
                 ", ".join(services.channels) or "none")
        run_worker(services)
    finally:
        services.close()
    return 0


def _import_worker(settings: Settings) -> None:
    import bot.worker  # noqa: F401
    import channels.twilio_rest  # noqa: F401 - what sends through Twilio (web workers never load it)
    from bot.services import import_clients

    import_clients(settings)


def _chat(args: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    from bot.services import build_services, check_key, prepare_database
    from channels.base import InboundMessage
    from channels.terminal import TerminalChannel
    from storage.repository import utcnow

    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    logging.getLogger().setLevel(logging.WARNING)  # the conversation owns the terminal
    settings = load_settings()
    prepare_database(settings)
    check_key(settings)
    services = build_services(settings, channels={"terminal": TerminalChannel(stdout)})
    interactive = stdin.isatty()
    if interactive:
        print("Ketik pesan Anda (Ctrl-D untuk keluar). Type your message (Ctrl-D to quit).", file=sys.stderr)
    if args.lang:
        services.intake.set_language("terminal", args.sender, args.lang)
    try:
        while True:
            if interactive:
                print("> ", end="", file=sys.stderr, flush=True)
            line = stdin.readline()
            if not line:
                break
            text = line.rstrip("\n")
            if not interactive:
                stdout.write(f"> {text}\n")
            services.intake.handle(InboundMessage("terminal", args.sender, text, uuid.uuid4().hex, utcnow()))
            services.delivery.drain()
    except KeyboardInterrupt:
        pass
    finally:
        services.close()
    return 0


def _telegram_channel(settings):
    from channels.telegram import TelegramChannel

    channel = TelegramChannel.from_env(settings.env, keyboards=settings.telegram_keyboards)
    if channel is None:
        print("set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first", file=sys.stderr)
    return channel


def _telegram_set_webhook(args: argparse.Namespace) -> int:
    settings = load_settings()
    channel = _telegram_channel(settings)
    if channel is None:
        return 2
    try:
        channel.set_webhook(f"{settings.public_url}/webhooks/telegram")
    finally:
        channel.close()
    print(f"webhook set: {settings.public_url}/webhooks/telegram")
    return 0


def _telegram_poll(args: argparse.Namespace) -> int:
    """Long polling: the same intake and outbox as the webhook, for hosts without public HTTPS."""
    from bot import metrics
    from bot.services import build_services, check_key, prepare_database

    settings = load_settings()
    channel = _telegram_channel(settings)
    if channel is None:
        return 2
    prepare_database(settings)
    check_key(settings)
    metrics.share(settings.metrics_dir)  # what it receives and sends joins the service's /metrics
    services = build_services(settings, channels={"telegram": channel})
    services.start_worker()
    stop = threading.Event()
    log.info("polling Telegram for updates")
    try:
        channel.poll(services.intake.handle, stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        services.close()
    return 0


def _complaints_export(args: argparse.Namespace) -> int:
    from bot.export import export_complaints
    from bot.services import build_services, check_key

    settings = load_settings()
    check_key(settings)
    services = build_services(settings, channels={})
    try:
        export_complaints(services.db, args.format, sys.stdout)
    finally:
        services.close()
    return 0


def _complaints_set_status(args: argparse.Namespace) -> int:
    from bot.notify import change_status_of
    from bot.services import build_services, check_key
    from storage import repository as repo

    settings = load_settings()
    check_key(settings)
    services = build_services(settings, channels={})
    try:
        with services.db.transaction() as session:
            done = change_status_of(session, services.catalog, settings.default_script, args.tracking_number,
                                    args.status, args.note, repo.utcnow())
        if not done.found:
            print(f"no complaint {args.tracking_number}", file=sys.stderr)
            return 1
        print(f"{repo.normalize_tracking_number(args.tracking_number)}: {args.status}"
              + ("" if done.changed else " (unchanged)"))
    finally:
        services.close()
    return 0


def _new_password(name: str) -> str | None:
    """A new password for ``name``, hashed: from LAPOR_ADMIN_PASSWORD, or asked twice at the
    terminal; never an argument (it would show in the process list). None (the reason printed)
    when it is weak or the two differ."""
    import getpass

    from bot.admin.passwords import WeakPassword, hash_password

    password = os.environ.get("LAPOR_ADMIN_PASSWORD")
    if password is None:
        password = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return None
    try:
        return hash_password(password)
    except WeakPassword as exc:
        print(exc, file=sys.stderr)
        return None


def _admin_db():
    from storage.db import Database
    from storage.migrate import upgrade

    settings = load_settings()
    upgrade(settings.database_url)
    return Database.from_url(settings.database_url)


def _admin_create_user(args: argparse.Namespace) -> int:
    """``lapor admin create-user NAME --role ROLE``."""
    from sqlalchemy.exc import IntegrityError

    from storage import repository as repo

    hashed = _new_password(args.name)
    if hashed is None:
        return 1
    db = _admin_db()
    try:
        with db.transaction() as session:
            now = repo.utcnow()
            repo.add_admin_user(session, name=args.name, role=args.role, password_hash=hashed, now=now)
            repo.add_audit(session, actor="cli", action="create-user", target=args.name, detail={"role": args.role},
                           now=now)
    except IntegrityError:
        print(f"there is already a user {args.name}", file=sys.stderr)
        return 1
    finally:
        db.dispose()
    print(f"created {args.role} {args.name}")
    return 0


def _change_user(name: str, action: str, change, detail: dict | None = None) -> int:
    """Apply ``change(session, user, now)`` to the account ``name`` and audit ``action``."""
    from storage import repository as repo

    db = _admin_db()
    try:
        with db.transaction() as session:
            user = repo.admin_user(session, name)
            if user is None:
                print(f"there is no user {name}", file=sys.stderr)
                return 1
            now = repo.utcnow()
            change(session, user, now)
            user.updated_at = now
            repo.add_audit(session, actor="cli", action=action, target=name, detail=detail, now=now)
    finally:
        db.dispose()
    return 0


def _admin_set_role(args: argparse.Namespace) -> int:
    def change(session, user, now) -> None:
        user.role = args.role

    done = _change_user(args.name, "set-role", change, {"role": args.role})
    if not done:
        print(f"{args.name} is now {args.role}")
    return done


def _admin_enable(args: argparse.Namespace) -> int:
    from storage import repository as repo

    def change(session, user, now) -> None:
        user.disabled = not args.enabled
        if user.disabled:
            repo.end_admin_sessions(session, user.id)

    done = _change_user(args.name, "enable" if args.enabled else "disable", change)
    if not done:
        print(f"{args.name} is {'enabled' if args.enabled else 'disabled; its sessions have ended'}")
    return done


def _admin_reset_password(args: argparse.Namespace) -> int:
    from storage import repository as repo

    hashed = _new_password(args.name)
    if hashed is None:
        return 1

    def change(session, user, now) -> None:
        user.password_hash, user.locked_until, user.failed_logins = hashed, None, 0
        repo.end_admin_sessions(session, user.id)

    done = _change_user(args.name, "reset-password", change)
    if not done:
        print(f"new password set for {args.name}; its sessions have ended")
    return done


def _nlu_evaluate(args: argparse.Namespace) -> int:
    import json

    from bot.nlu.data import DataError
    from bot.nlu.evaluate import evaluate, render
    from bot.nlu.interpreter import RasaInterpreter, load_builtin

    settings = load_settings()
    builtin = load_builtin(settings.nlu_dir, settings.nlu_model_dir)
    interpreter: Any = builtin
    if args.backend == "rasa":
        url = settings.env.get("RASA_URL")
        if not url:
            print("lapor: set RASA_URL (and RASA_TOKEN) to the Rasa server, e.g. http://127.0.0.1:5005",
                  file=sys.stderr)
            return 2
        interpreter = RasaInterpreter(url, settings.env.get("RASA_TOKEN", ""), builtin, timeout=30)
    try:
        score = evaluate(args.data, interpreter)
    except (DataError, RuntimeError) as exc:
        print(f"lapor: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(score.to_json()) if args.json else render(score))
    return 0


def _keys_status(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.services import data_cipher
    from storage.db import Database
    from storage.keys import key_problem
    from storage.models import DataKey

    settings = load_settings()
    cipher = data_cipher(settings)
    db = Database.from_url(settings.database_url)
    try:
        with db.transaction() as session:
            rows = session.scalars(select(DataKey).order_by(DataKey.created_at)).all()
            problem = key_problem(session, cipher)
    finally:
        db.dispose()
    for row in rows:
        held = "LAPOR_DATA_KEY" if row.key_id == cipher.key_id else (
            "LAPOR_DATA_KEY_PREVIOUS" if row.key_id in cipher.key_ids else "not held")
        state = f"retired {row.retired_at:%Y-%m-%d %H:%M} UTC" if row.retired_at else "in use"
        print(f"{row.key_id}  {state:<28} {held}")
    if cipher.key_id not in {row.key_id for row in rows}:
        print(f"{cipher.key_id}  {'not yet used here':<28} LAPOR_DATA_KEY")
    print(problem or "ok: this process can read everything in this database")
    return 1 if problem else 0


def _keys_rotate(args: argparse.Namespace) -> int:
    from bot.services import data_cipher
    from storage import repository as repo
    from storage.db import Database
    from storage.keys import rotate

    settings = load_settings()
    db = Database.from_url(settings.database_url)
    try:
        done = rotate(db, data_cipher(settings), repo.utcnow())
    finally:
        db.dispose()
    for table, count in done.reencrypted.items():
        print(f"{table}: {count} row(s) re-encrypted")
    if done.unreadable:
        print(f"{len(done.unreadable)} row(s) no key of ours can read (nothing retired): "
              + ", ".join(done.unreadable[:20]), file=sys.stderr)
        return 1
    print("retired: " + (", ".join(done.retired) or "none") + "; LAPOR_DATA_KEY_PREVIOUS is no longer needed")
    return 0


def _safe_url(url: str) -> str:
    """A database URL without its password, for printing."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


if __name__ == "__main__":
    sys.exit(main())

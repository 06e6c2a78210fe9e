"""Telegram end to end: updates over real HTTP into the app, replies through python-telegram-bot
into a local Bot API that validates every call against the published spec."""
from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from providers.telegram_api import TOKEN, TelegramApiServer
from sqlalchemy import func, select
from tests_support import LiveServer, chat_env, free_port, make_settings, wait_for

from bot.app import create_app
from bot.scripts import sync_files
from bot.services import Services, build_services
from channels.telegram import TelegramChannel
from storage import repository as repo
from storage.models import Complaint, Contact, Conversation, Message, Outbox

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cret-Token_for-tests"
CHAT = 5550001
HAPPY = ["/start", "1", "Jalan rusak", "Jalan di depan sekolah rusak parah sejak Januari.", "1",
         "Jl. Merdeka 1", "kemarin", "lewati", "2", "ya"]
_ids = itertools.count(900_000_001)


def update(text: str | None = None, *, chat: int = CHAT, update_id: int | None = None, **message: object) -> dict:
    body: dict[str, object] = {"message_id": next(_ids) % 100000, "date": int(time.time()),
                               "chat": {"id": chat, "type": "private", "first_name": "Budi"},
                               "from": {"id": chat, "is_bot": False, "first_name": "Budi"}}
    if text is not None:
        body["text"] = text
    body.update(message)
    return {"update_id": update_id or next(_ids), "message": body}


@dataclass
class Stack:
    services: Services
    telegram: TelegramApiServer
    url: str

    def post(self, payload: object, *, secret: str | None = SECRET, raw: bytes | None = None) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return requests.post(f"{self.url}/webhooks/telegram", data=raw if raw is not None else json.dumps(payload),
                             headers=headers, timeout=10)

    def sent(self, chat: int = CHAT) -> list[dict]:
        return [c for c in self.telegram.calls_to("sendMessage") if int(c["chat_id"]) == chat]

    def count(self, model, *where) -> int:
        with self.services.db.transaction() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def stack(db, db_url: str) -> Iterator[Stack]:
    port = free_port()
    with TelegramApiServer() as telegram:
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_API_BASE_URL": telegram.base_url,
               "LAPOR_PUBLIC_URL": f"http://127.0.0.1:{port}"}
        settings = make_settings(db_url, extra_env=env)
        services = build_services(settings, channels={"telegram": TelegramChannel.from_env(settings.env)})
        sync_files(services.db, settings.scripts_dir, repo.utcnow())
        services.start_worker()
        try:
            with LiveServer(create_app(settings, services), port) as live:
                yield Stack(services, telegram, live.url)
        finally:
            services.close()
        assert telegram.violations == []


def test_a_message_is_answered_with_text_and_buttons(stack: Stack) -> None:
    response = stack.post(update("/start"))
    assert response.status_code == 200 and response.json() == {}
    [question] = wait_for(lambda: len(stack.sent()) == 1 and stack.sent())
    assert question["text"].startswith("Selamat datang") and "\n\nJenis laporan Anda?\n1. Pengaduan" in question["text"]
    assert "parse_mode" not in question
    buttons = [b for row in json.loads(question["reply_markup"])["inline_keyboard"] for b in row] \
        if isinstance(question["reply_markup"], str) else [b for row in question["reply_markup"]["inline_keyboard"] for b in row]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [("Pengaduan", "1"), ("Aspirasi", "2"), ("Permintaan informasi", "3")]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_a_wrong_or_missing_secret_is_403_and_stores_nothing(stack: Stack, secret: str | None) -> None:
    assert stack.post(update("halo"), secret=secret).status_code == 403
    assert stack.count(Message) == 0 and stack.count(Contact) == 0


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"message": {}}'])
def test_a_malformed_update_is_400_and_stores_nothing(stack: Stack, raw: bytes) -> None:
    assert stack.post(None, raw=raw).status_code == 400
    assert stack.count(Message) == 0


@pytest.mark.parametrize("payload", [
    pytest.param(update("a" * 4097), id="text over 4096"),
    pytest.param(update("halo", chat={"id": str(CHAT), "type": "private"}), id="string chat id"),
    pytest.param(update("halo", chat={"id": CHAT + 0.5, "type": "private"}), id="float chat id"),
    pytest.param(update(document={"file_id": "../../etc/passwd", "file_unique_id": "u"}), id="file_id"),
    pytest.param(update(location={"latitude": "-6.1754", "longitude": 106.8272}), id="numeric string latitude"),
])
def test_input_telegram_never_sends_is_400_and_stores_nothing(stack: Stack, payload: dict) -> None:
    assert stack.post(payload).status_code == 400
    assert stack.count(Message) == 0 and stack.count(Contact) == 0 and stack.count(Outbox) == 0


def test_other_update_kinds_are_ignored_with_200(stack: Stack) -> None:
    kicked = {"update_id": next(_ids), "my_chat_member": {
        "chat": {"id": CHAT, "type": "private"}, "from": {"id": CHAT, "is_bot": False, "first_name": "B"},
        "date": int(time.time()),
        "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "L"}},
        "new_chat_member": {"status": "kicked", "until_date": 0, "user": {"id": 1, "is_bot": True, "first_name": "L"}}}}
    assert stack.post(kicked).status_code == 200
    assert stack.count(Message) == 0


def test_the_same_update_id_three_times_is_one_step_and_one_reply(stack: Stack) -> None:
    stack.post(update("halo"))
    wait_for(lambda: len(stack.sent()) == 1)
    repeated = update("1", update_id=777)
    for _ in range(3):
        assert stack.post(repeated).status_code == 200
    wait_for(lambda: stack.count(Outbox, Outbox.status != "done") == 0 and len(stack.sent()) == 2)
    time.sleep(0.2)
    assert len(stack.sent()) == 2 and stack.count(Message, Message.direction == "in") == 2


def test_a_button_press_answers_the_menu(stack: Stack) -> None:
    stack.post(update("halo"))
    wait_for(lambda: len(stack.sent()) == 1)
    press = {"update_id": next(_ids), "callback_query": {
        "id": "cb1", "chat_instance": "ci", "data": "3",
        "from": {"id": CHAT, "is_bot": False, "first_name": "Budi"},
        "message": {"message_id": 2, "date": int(time.time()), "chat": {"id": CHAT, "type": "private"}, "text": "Jenis?"}}}
    assert stack.post(press).status_code == 200
    with stack.services.db.transaction() as s:
        assert s.scalars(select(Conversation)).one().state["answers"]["report_type"] == "information_request"


def test_a_whole_complaint_with_a_photo_and_a_shared_location(stack: Stack) -> None:
    for line in HAPPY[:5]:
        stack.post(update(line))
    stack.post(update(location={"latitude": -6.1754, "longitude": 106.8272}))
    stack.post(update("hari ini"))
    stack.post(update(photo=[{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                             {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960}]))
    for line in ("2", "ya"):
        stack.post(update(line))
    last = wait_for(lambda: (s := stack.sent()) and "LAP-" in s[-1]["text"] and s[-1], timeout=20)
    with stack.services.db.transaction() as s:
        complaint = s.scalars(select(Complaint)).one()
        assert complaint.tracking_number in last["text"]
        assert complaint.attachments == [{"url": "tg-file:large", "content_type": "image/jpeg"}]
        assert (complaint.latitude, complaint.longitude) == (-6.1754, 106.8272) and complaint.anonymous


def test_a_blocked_bot_is_dead_lettered_with_the_reason(stack: Stack) -> None:
    stack.telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    stack.post(update("halo"))
    wait_for(lambda: stack.count(Outbox, Outbox.status == "dead") == 1)
    with stack.services.db.transaction() as s:
        row = s.scalars(select(Outbox).where(Outbox.status == "dead")).one()
        assert "blocked" in row.last_error


def test_flood_control_is_honoured(stack: Stack) -> None:
    stack.telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    stack.post(update("halo"))
    wait_for(lambda: stack.count(Outbox, Outbox.last_error.is_not(None)) == 1)
    with stack.services.db.transaction() as s:
        row = s.scalars(select(Outbox).where(Outbox.last_error.is_not(None))).one()
        assert row.status == "pending" and (row.next_attempt_at - row.updated_at).total_seconds() >= 6.9


@pytest.mark.slow
def test_set_webhook_and_polling_from_the_command_line(db, db_url: str) -> None:
    with TelegramApiServer(max_poll_wait=0.5) as telegram:
        env = chat_env(db_url, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_WEBHOOK_SECRET=SECRET,
                       TELEGRAM_API_BASE_URL=telegram.base_url, LAPOR_PUBLIC_URL="https://lapor.example.go.id")
        done = subprocess.run([sys.executable, "-m", "bot.cli", "telegram", "set-webhook"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert telegram.webhook["url"] == "https://lapor.example.go.id/webhooks/telegram"
        assert telegram.webhook["secret_token"] == SECRET
        poller = subprocess.Popen([sys.executable, "-m", "bot.cli", "telegram", "poll"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            telegram.push_update(update("halo", chat=4242))
            wait_for(lambda: len([c for c in telegram.calls_to("sendMessage") if int(c["chat_id"]) == 4242]) == 1, timeout=30)
        finally:
            poller.terminate()
            poller.wait(timeout=15)
        assert telegram.violations == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_locked_by_another_program_gets_503_fast_and_readyz_says_so(stack: Stack) -> None:
    """Reproduced: with the SQLite file locked by another process, a webhook hung for 30 s
    (past Twilio's 15 s timeout) and then answered 500."""
    import sqlite3

    from storage.db import LOCK_WAIT_SECONDS

    other = sqlite3.connect(stack.services.db.engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = stack.post(update("halo", update_id=4242))
        waited = time.monotonic() - started
        assert response.status_code == 503 and response.headers["Retry-After"] == "5"
        assert waited < 2 * LOCK_WAIT_SECONDS + 1  # a few seconds, well under 15
        ready = requests.get(f"{stack.url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json() == {"status": "busy", "database": True, "writable": False}
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert stack.post(update("halo", update_id=4242)).status_code == 200  # Telegram's retry
    assert requests.get(f"{stack.url}/readyz", timeout=10).status_code == 200
    wait_for(lambda: len(stack.sent()) == 1)
    assert stack.count(Message, Message.direction == "in") == 1

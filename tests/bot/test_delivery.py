"""Delivery: retries with backoff, dead letters, registry submission, and the wake-up thread."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.delivery import DeliveryThread, backoff
from bot.registry import RegistryError
from bot.services import Services
from channels.base import DeliveryError, InboundMessage, OutboundMessage, SendResult
from storage import repository as repo
from storage.db import Unavailable
from storage.models import Complaint, Message, Outbox

PHONE = "+6281234567890"
HAPPY = ["halo", "1", "Jalan rusak", "Jalan di depan sekolah rusak parah sejak Januari.", "1",
         "Jl. Merdeka 1", "kemarin", "lewati", "2", "ya"]


class ScriptedChannel:
    """A channel port whose provider answers as scripted: errors first, then success."""

    name = "terminal"

    def __init__(self, failures: list[Exception] | None = None):
        self.failures = list(failures or [])
        self.sent: list[OutboundMessage] = []
        self.event = threading.Event()

    def send(self, message: OutboundMessage) -> SendResult:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        self.event.set()
        return SendResult(provider_message_id=f"P{len(self.sent)}")


class FlakyRegistry:
    name = "flaky"

    def __init__(self, failures: list[Exception]):
        self.failures = failures
        self.calls = 0

    def submit(self, submission, *, retry=False):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return __import__("bot.registry", fromlist=["SubmitResult"]).SubmitResult(registry_id="R-1", status="received")


def say(services: Services, text: str) -> None:
    services.intake.handle(InboundMessage("terminal", PHONE, text, uuid.uuid4().hex, repo.utcnow()))


def rows(services: Services):
    with services.db.transaction() as s:
        return [(r.kind, r.status, r.attempts, r.last_error) for r in s.scalars(select(Outbox).order_by(Outbox.id))]


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    samples = [backoff(n, 2.0, 60.0) for n in range(1, 9) for _ in range(50)]
    assert all(0 < s <= 60.0 for s in samples)
    first = [backoff(1, 2.0, 60.0) for _ in range(200)]
    fourth = [backoff(4, 2.0, 60.0) for _ in range(200)]
    assert min(first) >= 1.0 and max(first) <= 2.0 and min(fourth) >= 8.0 and max(fourth) <= 16.0
    assert len(set(first)) > 1  # jittered


def test_a_retryable_failure_is_retried_later_then_delivered(services: Services) -> None:
    channel = ScriptedChannel([DeliveryError("HTTP 503", retryable=True, retry_after=30)])
    services.delivery._channels["terminal"] = channel
    say(services, "halo")
    say(services, "bantuan")
    assert services.delivery.run_once() == 1  # the welcome; the help waits behind it (order)
    first, second = rows(services)
    assert first == ("reply", "pending", 1, "HTTP 503") and second == ("reply", "pending", 0, None)
    with services.db.transaction() as s:
        due = s.scalars(select(Outbox).order_by(Outbox.id)).first().next_attempt_at
    assert due >= repo.utcnow() + timedelta(seconds=25)  # Retry-After honoured
    assert services.delivery.run_once() == 0  # not due yet, and the question still waits
    assert services.delivery.run_once(now=due + timedelta(seconds=1)) == 1
    assert services.delivery.run_once(now=due + timedelta(seconds=1)) == 1
    assert [r[:3] for r in rows(services)] == [("reply", "done", 2), ("reply", "done", 1)]
    assert [m.text.split()[0] for m in channel.sent] == ["Selamat", "Jawab"]


def test_a_permanent_failure_is_dead_lettered_with_the_reason(services: Services) -> None:
    services.delivery._channels["terminal"] = ScriptedChannel([DeliveryError("Forbidden: bot was blocked by the user", retryable=False)])
    say(services, "halo")
    services.delivery.run_once()
    assert rows(services)[0] == ("reply", "dead", 1, "Forbidden: bot was blocked by the user")
    with services.db.transaction() as s:
        message = s.scalars(select(Message).where(Message.direction == "out").order_by(Message.id)).first()
        assert (message.status, message.error) == ("failed", "Forbidden: bot was blocked by the user")


def test_an_unexpected_exception_is_retried_not_lost(services: Services) -> None:
    services.delivery._channels["terminal"] = ScriptedChannel([RuntimeError("provider sent nonsense")])
    say(services, "halo")
    services.delivery.run_once()
    kind, status, attempts, error = rows(services)[0]
    assert status == "pending" and "RuntimeError: provider sent nonsense" in error


def test_attempts_are_bounded(services: Services) -> None:
    services.delivery._channels["terminal"] = ScriptedChannel([DeliveryError("timeout", retryable=True)] * 50)
    say(services, "halo")
    later = repo.utcnow()
    for _ in range(services.settings.max_attempts + 2):
        later += timedelta(days=1)
        services.delivery.run_once(now=later)
    assert rows(services)[0][:3] == ("reply", "dead", services.settings.max_attempts)


def test_registry_failures_retry_and_the_complaint_is_linked_later(services: Services) -> None:
    registry = FlakyRegistry([RegistryError("HTTP 500", retryable=True)])
    services.delivery._registry = registry
    for line in HAPPY:
        say(services, line)
    services.delivery.drain()
    with services.db.transaction() as s:
        complaint = s.scalars(select(Complaint)).one()
        assert complaint.status == "queued" and complaint.registry_id is None
    services.delivery.run_once(now=repo.utcnow() + timedelta(minutes=5))
    with services.db.transaction() as s:
        complaint = s.scalars(select(Complaint)).one()
        assert (complaint.status, complaint.registry_id) == ("received", "R-1")
    assert registry.calls == 2


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_status_pushed_while_the_submission_is_recorded_is_not_written_over(services: Services) -> None:
    """Reproduced (tests/bot/test_registry_roundtrip.py, once): the registry pushed "in_progress"
    while the worker recorded its answer to the submission, which then wrote "received" over it."""
    pushed, holding = threading.Event(), threading.Event()

    def push_status() -> None:  # what a registry's status push does: the complaint locked, then changed
        with services.db.transaction() as s:
            complaint = repo.lock_complaint(s, s.scalars(select(Complaint.id)).one())
            complaint.status = "in_progress"
            holding.set()
            time.sleep(0.5)  # the worker records its answer meanwhile
        pushed.set()

    class PushingRegistry(FlakyRegistry):
        def submit(self, submission, *, retry=False):
            threading.Thread(target=push_status).start()
            assert holding.wait(10)
            return super().submit(submission, retry=retry)

    services.delivery._registry = PushingRegistry([])
    for line in HAPPY:
        say(services, line)
    services.delivery.drain()
    assert pushed.wait(10)
    with services.db.transaction() as s:
        complaint = s.scalars(select(Complaint)).one()
        assert (complaint.status, complaint.registry_id) == ("in_progress", "R-1")


def test_the_thread_wakes_on_commit_without_waiting_for_its_poll(services: Services) -> None:
    channel = ScriptedChannel()
    services.delivery._channels["terminal"] = channel
    services.thread = DeliveryThread(services.delivery, poll_seconds=60)
    services.thread.start()
    time.sleep(0.2)  # let it fall asleep on an empty outbox
    started = time.monotonic()
    say(services, "halo")
    assert channel.event.wait(5), "the reply was not delivered"
    assert time.monotonic() - started < 5
    assert channel.sent[0].recipient == PHONE and "Selamat datang" in channel.sent[0].text


@pytest.mark.parametrize("first_reply", ["halo"])
def test_replies_keep_their_order_per_citizen(services: Services, first_reply: str) -> None:
    channel = ScriptedChannel()
    services.delivery._channels["terminal"] = channel
    say(services, first_reply)
    say(services, "bantuan")
    services.delivery.drain()
    texts = [m.text for m in channel.sent]
    assert len(texts) == 2  # one message per turn: the turn's replies travel together
    assert texts[0].startswith("Selamat datang") and texts[0].endswith("Balas 1, 2 atau 3.")
    assert texts[1].startswith("Jawab pertanyaan") and "\n\nJenis laporan" in texts[1]


class RecordingRegistry:
    """A registry port that is down until told otherwise, and records what it accepted, in order."""

    name = "recording"

    def __init__(self) -> None:
        self.down = True
        self.accepted: list[str] = []

    def submit(self, submission, *, retry=False):
        from bot.registry import SubmitResult

        if self.down:
            raise RegistryError("HTTP 503", retryable=True)
        self.accepted.append(submission.tracking_number)
        return SubmitResult(registry_id=f"R-{len(self.accepted)}")


def file_complaints(services: Services, count: int) -> list[str]:
    numbers = []
    for i in range(count):
        sender = f"+62812000000{i:02d}"
        for line in HAPPY:
            result = services.intake.handle(InboundMessage("terminal", sender, line, uuid.uuid4().hex, repo.utcnow()))
        numbers.append(result.tracking_number)
    return numbers


def test_a_registry_outage_holds_the_queue_and_it_drains_oldest_first(services: Services) -> None:
    registry = RecordingRegistry()
    services.delivery._registry = registry
    numbers = file_complaints(services, 5)
    services.delivery.drain()  # replies go out; the first submission fails and holds the rest
    with services.db.transaction() as s:
        pending = s.scalars(select(Outbox).where(Outbox.kind == "submission").order_by(Outbox.id)).all()
        assert [r.status for r in pending] == ["pending"] * 5
        assert len({r.next_attempt_at for r in pending}) == 1  # all held until the same moment
        due = pending[0].next_attempt_at
    registry.down = False
    services.delivery.run_once(now=due + timedelta(seconds=1))
    assert registry.accepted == numbers  # in the order they were filed


def test_a_complaint_is_retried_until_too_old_then_dead_lettered(services: Services) -> None:
    registry = RecordingRegistry()
    services.delivery._registry = registry
    file_complaints(services, 1)
    later = repo.utcnow()
    for _ in range(40):  # far more attempts than replies get
        later += timedelta(hours=3)
        services.delivery.run_once(now=later)
        with services.db.transaction() as s:
            row = s.scalars(select(Outbox).where(Outbox.kind == "submission")).one()
        if row.status == "dead":
            break
    assert row.status == "dead" and row.attempts > services.settings.max_attempts
    assert timedelta(hours=72) < later - row.created_at <= timedelta(hours=75)
    with services.db.transaction() as s:
        assert s.scalars(select(Complaint.status)).one() == "queued"  # kept, visible, never dropped


class OutageAfterSend(ScriptedChannel):
    """A provider that takes the message, after which the database is down for ``outages``
    transactions (as during a PostgreSQL restart)."""

    def __init__(self, db, outages: int):
        super().__init__()
        self.real_transaction = db.transaction
        self.outages = outages
        db.transaction = self.transaction

    def transaction(self):
        if self.sent and self.outages:
            self.outages -= 1
            raise Unavailable("the postgresql database is unavailable")
        return self.real_transaction()


def test_a_sent_reply_is_recorded_when_the_database_is_back_and_never_sent_twice(services: Services, monkeypatch) -> None:
    monkeypatch.setattr(services.delivery._recorder, "_retry", 0.01)
    say(services, "halo")
    channel = OutageAfterSend(services.db, outages=3)
    services.delivery._channels["terminal"] = channel
    assert services.delivery.run_once() == 1
    assert channel.outages == 0 and len(channel.sent) == 1
    assert rows(services)[0][:3] == ("reply", "done", 1)
    assert services.delivery.run_once(now=repo.utcnow() + timedelta(hours=1)) == 0  # nothing left to resend
    assert len(channel.sent) == 1


def test_telegram_message_ids_repeat_across_chats_and_every_send_is_recorded(db, settings) -> None:
    """Telegram numbers messages per chat: two chats' first replies both get message_id 1, and
    each is recorded against its own contact (a global unique id left the second row leased and
    re-sent for ever). An update_id equal to one of those ids is a new message, not a duplicate."""
    from providers.telegram_api import TOKEN, TelegramApiServer

    from bot.scripts import sync_files
    from bot.services import build_services
    from channels.telegram import TelegramChannel

    with TelegramApiServer() as api:
        channel = TelegramChannel(token=TOKEN, webhook_secret="s", api_base_url=api.base_url)
        services = build_services(settings, channels={"telegram": channel})
        sync_files(services.db, settings.scripts_dir, repo.utcnow())
        try:
            for chat in (7001, 7002):
                services.intake.handle(InboundMessage("telegram", str(chat), "halo", f"{chat}00", repo.utcnow()))
            assert services.delivery.drain() == 2
            with services.db.transaction() as s:
                sent = s.execute(select(Message.contact_id, Message.provider_message_id, Message.status)
                                 .where(Message.direction == "out")).all()
                assert sorted(r[1:] for r in sent) == [("1", "sent"), ("1", "sent")] and len({r[0] for r in sent}) == 2
                assert s.scalars(select(Outbox.status)).all() == ["done", "done"]
            again = services.intake.handle(InboundMessage("telegram", "7001", "1", "1", repo.utcnow()))
            assert not again.duplicate and again.replies
        finally:
            services.close()
        assert api.violations == [] and len(api.calls_to("sendMessage")) == 2


def test_a_send_whose_outcome_is_never_recorded_is_resent_at_most_a_few_times(services: Services, monkeypatch) -> None:
    """The provider took the reply each time, but recording it failed (the bug above did this):
    the row's lease runs out and it is claimed again, at most repo.MAX_RECLAIMS times, then it is
    dead-lettered for an admin instead of being sent again and again."""
    say(services, "halo")
    channel = ScriptedChannel()
    services.delivery._channels["terminal"] = channel

    def broken_record(*args, **kwargs):
        raise RuntimeError("the outcome could not be written")

    monkeypatch.setattr(repo, "finish_sends", broken_record)
    later = repo.utcnow()
    for _ in range(10):
        services.delivery.run_once(now=later)
        later += timedelta(seconds=services.settings.lease_seconds + 1)
    assert len(channel.sent) == 1 + repo.MAX_RECLAIMS
    [(kind, status, attempts, error)] = rows(services)
    assert (kind, status, attempts) == ("reply", "dead", 1 + repo.MAX_RECLAIMS)
    assert "may have been delivered" in error


def test_a_row_that_cannot_be_decrypted_is_dead_lettered_alone(services: Services) -> None:
    """Reproduced: one undecryptable recipient failed the whole batch, every second, for ever."""
    from storage.crypto import DataCipher
    from storage.models import Contact

    say(services, "halo")
    services.intake.handle(InboundMessage("terminal", "+6281200000009", "halo", uuid.uuid4().hex, repo.utcnow()))
    with services.db.transaction() as s:
        broken = s.scalars(select(Contact).order_by(Contact.id)).first()
        broken.sender_enc = DataCipher.from_secret("some-other-key").encrypt(PHONE)
    channel = ScriptedChannel()
    services.delivery._channels["terminal"] = channel
    assert services.delivery.run_once() == 2
    assert [m.recipient for m in channel.sent] == ["+6281200000009"]
    dead = [row for row in rows(services) if row[1] == "dead"]
    assert len(dead) == 1 and "cannot decrypt" in dead[0][3] and "LAPOR_DATA_KEY" in dead[0][3]


def test_a_reply_row_without_its_message_is_dead_lettered_alone(services: Services) -> None:
    say(services, "halo")
    with services.db.transaction() as s:
        contact = s.scalars(select(Message.contact_id)).first()
        repo.insert_outbox(s, kind="reply", channel="terminal", contact_id=contact, message_id=None, payload={},
                           now=repo.utcnow())
    channel = ScriptedChannel()
    services.delivery._channels["terminal"] = channel
    services.delivery.drain()
    assert len(channel.sent) == 1  # the real reply went
    assert [(kind, status) for kind, status, *_ in rows(services)] == [("reply", "done"), ("reply", "dead")]
    assert rows(services)[1][3] == "its message does not exist"

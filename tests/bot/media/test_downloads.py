"""Downloads through the outbox (bot.media.downloads with bot.delivery): a file is fetched after
the message's commit, kept under its hash, retried, refused with a notice, or failed after the
retries; the complaint's submission waits for its files (briefly) and then carries the kept ones
as signed links, while the gap stays visible. The provider is scripted here (the real Twilio
and Telegram paths are in tests/bot/test_evidence.py); the database, the blob store and the
processing are real."""
from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from media_support import jpeg
from tests_support import make_settings

from bot.media.fetch import Fetched, FetchError
from bot.registry import SubmitResult
from bot.scripts import ScriptCatalog, sync_files
from bot.services import Services
from bot.services import data_cipher as cipher_of
from channels.base import InboundMessage, Media, OutboundMessage, SendResult
from storage import repository as repo
from storage.blobs import FilesystemBlobStore
from storage.db import Database
from storage.models import Attachment, Complaint, Outbox

PHONE = "+6281234567890"
BEFORE = ["halo", "1", "Jalan rusak", "Jalan di depan sekolah rusak parah sejak Januari.", "1", "Jl. Merdeka 1",
          "kemarin"]
AFTER = ["2", "ya"]


class Terminal:
    name = "terminal"

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []

    def send(self, message: OutboundMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(provider_message_id=f"T{len(self.sent)}")


class Provider:
    """What the provider answers for a ref: bytes, an error, or a wait first."""

    def __init__(self, answers: dict[str, object], hold: threading.Event | None = None) -> None:
        self.answers = answers
        self.hold = hold
        self.calls: list[str] = []

    def fetch(self, ref: str) -> Fetched:
        self.calls.append(ref)
        if self.hold is not None:
            self.hold.wait(10)
        answer = self.answers[ref]
        if isinstance(answer, Exception):
            raise answer
        return Fetched(answer, "image/jpeg")


class Registry:
    name = "capture"

    def __init__(self) -> None:
        self.submissions: list = []

    def submit(self, submission, *, retry: bool = False) -> SubmitResult:
        self.submissions.append(submission)
        return SubmitResult(registry_id=f"R-{len(self.submissions)}")

    def check(self) -> None: ...

    def close(self) -> None: ...


@pytest.fixture
def make(db, db_url, tmp_path):
    made: list[Services] = []

    def build(provider: Provider, **overrides) -> tuple[Services, Registry, Terminal]:
        settings = make_settings(db_url, backoff_seconds=0.01, max_backoff_seconds=0.02, **overrides)
        database = Database.from_url(settings.database_url)
        registry, terminal = Registry(), Terminal()
        services = Services(settings=settings, db=database, cipher=cipher_of(settings), catalog=ScriptCatalog(database),
                            registry=registry, channels={"terminal": terminal},
                            blobs=FilesystemBlobStore(tmp_path / "media"), fetchers={"terminal": provider})
        sync_files(services.db, settings.scripts_dir, repo.utcnow())
        made.append(services)
        return services, registry, terminal

    yield build
    for services in made:
        services.close()


def say(services: Services, text: str, *media: Media) -> None:
    services.intake.handle(InboundMessage("terminal", PHONE, text, uuid.uuid4().hex, repo.utcnow(), media=media))


def report(services: Services, *media: Media) -> None:
    for line in BEFORE:
        say(services, line)
    say(services, "", *media)
    for line in AFTER:
        say(services, line)


def attachments(services: Services) -> list[Attachment]:
    with services.db.reading() as session:
        return list(session.query(Attachment).order_by(Attachment.id))


def test_the_submission_waits_for_its_file_then_links_it(make) -> None:
    photo = jpeg()
    services, registry, _ = make(Provider({"ref-1": photo}))
    report(services, Media("ref-1", "image/jpeg"))
    with services.db.reading() as session:  # one download row, committed with the message
        assert [row.kind for row in session.query(Outbox).filter(Outbox.kind == "download")] == ["download"]
    services.delivery.drain()
    [submission] = registry.submissions
    [item] = submission.attachments
    [kept] = attachments(services)
    assert kept.status == "stored" and item["sha256"] == kept.sha256 and item["size"] == kept.size
    assert item["content_type"] == "image/jpeg"
    assert item["url"].startswith(f"{services.settings.public_url}/media/{kept.sha256}.jpg?expires=")
    assert services.blobs.exists(kept.sha256) and services.blobs.exists(kept.thumb_sha256)


def test_a_failing_file_is_retried_then_the_complaint_goes_without_it_and_the_gap_shows(make) -> None:
    provider = Provider({"ref-1": FetchError("twilio answered 503", retryable=True), "ref-2": jpeg()})
    services, registry, _ = make(provider, max_attempts=3)
    report(services, Media("ref-1", "image/jpeg"), Media("ref-2", "image/jpeg"))
    for _ in range(200):
        services.delivery.drain()
        if registry.submissions:
            break
    [submission] = registry.submissions
    assert len(submission.attachments) == 1  # the one that arrived
    failed, stored = attachments(services)
    assert (failed.status, stored.status) == ("failed", "stored")
    assert "503" in failed.error and provider.calls.count("ref-1") == 3


def test_a_permanent_failure_is_not_retried(make) -> None:
    provider = Provider({"ref-1": FetchError("twilio answered 404: the medium is gone", retryable=False)})
    services, registry, _ = make(provider)
    report(services, Media("ref-1", "image/jpeg"))
    services.delivery.drain()
    assert provider.calls == ["ref-1"]
    [failed] = attachments(services)
    assert failed.status == "failed" and registry.submissions[0].attachments == []


def test_the_submission_waits_no_longer_than_configured(make) -> None:
    hold = threading.Event()
    services, registry, _ = make(Provider({"ref-1": jpeg()}, hold=hold), media_submit_wait=timedelta(seconds=0.3))
    report(services, Media("ref-1", "image/jpeg"))
    worker = threading.Thread(target=services.delivery.drain)  # stuck in the download
    worker.start()
    try:
        for _ in range(100):
            if registry.submissions:
                break
            services.delivery.drain(limit_rounds=5)
            threading.Event().wait(0.05)
        assert registry.submissions and registry.submissions[0].attachments == []
        assert attachments(services)[0].status == "pending"
    finally:
        hold.set()
        worker.join(10)
    services.delivery.drain()
    assert attachments(services)[0].status == "stored"  # kept, for the admins, after all


def test_a_refused_file_tells_the_citizen_and_the_rest_goes_on(make) -> None:
    services, registry, terminal = make(Provider({"ref-1": b"PK\x03\x04" + bytes(100)}))
    say(services, "halo")
    say(services, "", Media("ref-1", "application/zip"))
    services.delivery.drain()
    [refused] = attachments(services)
    assert refused.status == "refused" and refused.sha256 is None
    assert any("tidak bisa kami terima" in message.text for message in terminal.sent)


def test_a_repeated_webhook_downloads_once(make) -> None:
    provider = Provider({"ref-1": jpeg()})
    services, _, _ = make(provider)
    message = InboundMessage("terminal", PHONE, "", "same-id", repo.utcnow(), media=(Media("ref-1", "image/jpeg"),))
    services.intake.handle(message)
    services.intake.handle(message)
    services.delivery.drain()
    assert provider.calls == ["ref-1"] and len(attachments(services)) == 1


def test_a_worker_that_was_away_still_waits_for_the_files(make) -> None:
    services, registry, _ = make(Provider({"ref-1": jpeg()}), media_submit_wait=timedelta(seconds=60))
    report(services, Media("ref-1", "image/jpeg"))
    with services.db.transaction() as session:  # filed ten minutes ago, while no worker ran
        for complaint in session.query(Complaint):
            complaint.created_at = complaint.created_at - timedelta(minutes=10)
    services.delivery.drain()
    [submission] = registry.submissions
    assert len(submission.attachments) == 1


def test_a_download_an_admin_discards_fails_its_attachment_and_the_complaint_goes_on(make) -> None:
    hold = threading.Event()
    services, registry, _ = make(Provider({"ref-1": jpeg()}, hold=hold))
    report(services, Media("ref-1", "image/jpeg"))
    with services.db.transaction() as session:
        [row] = session.query(Outbox).filter(Outbox.kind == "download").all()
        repo.discard_outbox(session, row.id, "ani", repo.utcnow())
    [failed] = attachments(services)
    assert (failed.status, failed.error) == ("failed", "discarded by ani")
    hold.set()
    services.delivery.drain()
    assert registry.submissions[0].attachments == []


def test_pillow_loads_only_when_a_file_is_processed() -> None:
    """A process that never handles a file never loads Pillow (bot.media.process, some 3 MB). In
    a process of its own, since other tests load it."""
    script = ("import sys\nimport bot.app, bot.delivery, bot.services, bot.worker\n"
              "assert 'PIL' not in sys.modules and 'bot.media.process' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 0, done.stderr

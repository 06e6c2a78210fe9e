"""Delivery: drains the outbox, sending replies through channels, downloading citizens' files
and submitting complaints to the registry.

``Delivery.run_once`` claims a batch of due rows (several workers never claim the same row),
processes each and records the outcome. Failures are retried with exponential backoff and
jitter (honouring a provider's Retry-After) or dead-lettered with the provider's reason, where
admins see them. A worker renews the leases of the rows it works on (``LeaseKeeper``), so leases
are short and a row whose worker died is claimed again within seconds; nothing is lost, and the
registry's idempotency key (the tracking number) makes a repeat harmless. One row that cannot
be read (an undecryptable recipient, say) is dead-lettered alone; it never stops the others.

A submission waits for its attachments' downloads (``media.submit_wait_seconds`` at most after
the complaint was filed, looking again every few seconds without counting an attempt); then it
goes with the files that were kept, each as a signed, expiring link (``bot.media.links``), and
the ones that failed stay visible to admins on the complaint.
"""
from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from bot import metrics
from bot.group_commit import GroupCommit
from bot.media.downloads import DownloadJob, Downloads, Kept
from bot.media.fetch import FetchError
from bot.media.links import MediaLinks
from bot.notify import tell
from bot.ratelimit import RateLimiter
from bot.registry import Registry, RegistryError, Submission
from bot.scripts import ScriptCatalog
from bot.settings import Settings
from channels.base import Channel, DeliveryError, OutboundMessage
from dialogs.model import REGION_LEVELS
from storage import repository as repo
from storage.crypto import DataCipher, WrongDataKey
from storage.db import Database, Unavailable
from storage.models import Attachment, Complaint, Contact, Outbox

if TYPE_CHECKING:
    from bot.polling import RegistryPoller

log = logging.getLogger(__name__)
WHATSAPP_WINDOW = timedelta(hours=24)
NEEDS_TEMPLATE = "outside the WhatsApp 24-hour session window: needs an approved template message"
RECORD_RETRY_SECONDS = 0.5
RECORD_PATIENCE_SECONDS = 600.0
DOWNLOAD_WAIT_STEP = timedelta(seconds=2)  # how often a submission looks again for its downloads


class Delivery:
    """One outbox consumer; several may run at once, in threads or processes."""

    def __init__(self, db: Database, channels: Mapping[str, Channel], registry: Registry,
                 settings: Settings, cipher: DataCipher, *, downloads: Downloads, catalog: ScriptCatalog,
                 links: MediaLinks):
        """``downloads`` fetches and keeps citizens' files, ``catalog`` words a refused file's
        notice, ``links`` signs the files' links in submissions (``bot.services`` builds them)."""
        self._db = db
        self._channels = dict(channels)
        self._registry = registry
        self._settings = settings
        self._cipher = cipher
        self._downloads = downloads
        self._catalog = catalog
        self._links = links
        self._limiters = {name: RateLimiter(limit.per_second, limit.per_chat_seconds)
                          for name, limit in settings.rate_limits.items()}
        self._pool = ThreadPoolExecutor(max_workers=settings.send_threads, thread_name_prefix="lapor-send")
        self._leases = LeaseKeeper(db, settings.lease_seconds)
        self._recorder = GroupCommit(db, retry_seconds=RECORD_RETRY_SECONDS, patience_seconds=RECORD_PATIENCE_SECONDS)
        self._next_sweep = datetime.min.replace(tzinfo=UTC)  # when to look for rows whose lease ran out

    def run_once(self, now: datetime | None = None) -> int:
        """Claim and process one batch of due rows; returns how many were processed.

        The claim's transaction also reads everything the batch needs (one query per kind) and
        settles what needs no provider (outside the WhatsApp window, rate-limited). Then replies
        and notifications go out concurrently, on ``send_threads`` threads (a claim holds at most
        one per citizen, so their order holds), while submissions go out one by one, in order.
        Each send is recorded the moment it went, so a crash re-sends as little as possible. Rows
        whose lease ran out (their worker died) are looked for every third of a lease, not at
        every claim: claimed again, or given up when that happened too often.
        """
        now = now or repo.utcnow()
        sweep = now >= self._next_sweep
        if sweep:
            self._next_sweep = now + timedelta(seconds=self._settings.lease_seconds / 3)
        dead: list[repo.Claimed] = []  # dead-lettered here (outside the WhatsApp window, undecryptable)
        with self._db.transaction() as session:
            claimed = repo.claim_outbox(session, now=now, limit=self._settings.batch_size, give_up=sweep,
                                        reclaim=sweep, lease_seconds=self._settings.lease_seconds,
                                        channels=tuple(self._channels))
            if not claimed:
                return 0
            submissions = self._prepare_submissions(
                session, [row for row in claimed if row.kind == "submission"], now, dead)
            downloads = self._downloads.prepare(session, [row for row in claimed if row.kind == "download"])
            sends = self._prepare_sends(session, [row for row in claimed if row.kind in repo.ORDERED_KINDS], now, dead)
        for row in dead:
            _count_failure(row.kind, row.channel, retried=False)
        ids = [send[0] for send in sends] + [submission[0] for submission in submissions] + \
            [job.row_id for job in downloads]
        self._leases.hold(ids)
        try:
            futures = [self._pool.submit(self._send, *send, now) for send in sends]
            futures += [self._pool.submit(self._download, job, now) for job in downloads]
            self._submit_in_order(submissions, now)
            for future in futures:
                future.result()
        finally:
            self._leases.release(ids)
        return len(claimed)

    def idle_seconds(self, longest: float, after_work: bool = False) -> float:
        """How long a worker may rest after a round: until the next row falls due (a retry, or
        the lease of a worker that died), at most ``longest``. A row already due means 0 after
        a round that did work (the next reply of a citizen, say: claim again at once); after a
        round that found nothing to claim, it waits behind another's work, which wakes no one
        sooner. Read without the write lock, so an idle worker takes no write lock to learn it,
        and without a transaction (``Database.glance``)."""
        with self._db.glance() as session:
            due = repo.next_outbox_due(session)
        wait = (due - repo.utcnow()).total_seconds() if due is not None else longest
        if wait > 0:
            return min(longest, wait + 0.01)
        return 0.0 if after_work else longest

    def drain(self, limit_rounds: int = 1000) -> int:
        """Run batches until nothing is due (for the terminal and tests); returns the total."""
        total = 0
        for _ in range(limit_rounds):
            done = self.run_once()
            total += done
            if not done:
                break
        return total

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self._leases.close()
        self._downloads.close()

    # ------------------------------------------------------------------ replies and notifications

    def _prepare_sends(self, session, rows: list[repo.Claimed], now: datetime,
                       dead: list[repo.Claimed]) -> list[tuple[int, int, int, OutboundMessage]]:
        """What to send: (row id, attempts, message id, message). Rows outside the WhatsApp window
        are dead-lettered as needing a template, and rows that cannot be decrypted (both added to
        ``dead``); rate-limited ones are given back for later."""
        sends = []
        for row in rows:
            message = row.outgoing
            if message is None:  # its message is gone (never written so by intake)
                repo.dead_outbox(session, row.id, error="its message does not exist", now=now)
                dead.append(row)
                continue
            try:
                recipient = self._cipher.decrypt(message.sender_enc)
                text = self._cipher.decrypt(message.text_enc) if message.text_enc is not None else message.text
            except WrongDataKey as exc:
                self._unreadable(session, row, exc, now, dead)
                continue
            if row.channel == "whatsapp" and (message.last_inbound_at is None
                                              or now - message.last_inbound_at > WHATSAPP_WINDOW):
                # Free text outside the 24-hour session is refused by WhatsApp: an approved template
                # is needed. Keep it visible to admins instead of burning attempts.
                repo.mark_message(session, message.message_id, status="needs_template", error=NEEDS_TEMPLATE, now=now)
                repo.dead_outbox(session, row.id, error=NEEDS_TEMPLATE, now=now)
                dead.append(row)
                continue
            limiter = self._limiters.get(row.channel or "")
            wait = limiter.reserve(message.contact_id) if limiter is not None else 0.0
            if wait > 0:
                repo.postpone_outbox(session, row.id, until=now + timedelta(seconds=wait), now=now)
                continue
            sends.append((row.id, row.attempts, message.message_id, OutboundMessage(
                channel=row.channel or message.channel,
                recipient=recipient,
                text=text,
                message_id=message.message_id,
                choices=tuple((reply, label) for reply, label in (message.payload or {}).get("choices", [])),
            )))
        return sends

    def _send(self, row_id: int, attempts: int, message_id: int, outbound: OutboundMessage, now: datetime) -> None:
        """Hand one message to its channel and record the outcome at once (runs on a pool thread)."""
        try:
            result = self._channels[outbound.channel].send(outbound)
        except DeliveryError as exc:
            self._failed(row_id, attempts, exc, now)
            return
        except Exception as exc:  # a bug or an unexpected provider answer: retry, and say why
            log.exception("outbox row %s failed unexpectedly", row_id)
            self._failed(row_id, attempts, DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True), now)
            return
        metrics.reply(outbound.channel, "sent")
        sent = repo.Sent(row_id, message_id, result.provider_message_id, result.status, repo.utcnow())
        try:
            self._recorder.record_item(repo.finish_sends, sent)
        except Exception:  # the row stays leased; it is sent again at most repo.MAX_RECLAIMS times
            log.exception("outbox row %s was sent but its outcome could not be recorded", row_id)

    def _unreadable(self, session, row: repo.Claimed, exc: Exception, now: datetime,
                    dead: list[repo.Claimed]) -> None:
        """Dead-letter a row whose personal data cannot be decrypted (a wrong or lost data key, a
        corrupted value), adding it to ``dead``: admins see it; the rest of the batch goes on."""
        error = f"cannot decrypt this row's personal data ({exc}); check LAPOR_DATA_KEY and LAPOR_DATA_KEY_PREVIOUS"
        repo.dead_outbox(session, row.id, error=error, now=now)
        dead.append(row)
        log.error("outbox row %s is dead: its personal data cannot be decrypted", row.id)

    def _record(self, write: Callable[[Any], None]) -> None:
        """Record what already happened at a provider or registry, in one transaction with what
        the other pool threads record meanwhile (``GroupCommit``). If the database is down, keep
        trying (every RECORD_RETRY_SECONDS, for up to RECORD_PATIENCE_SECONDS): giving up would
        leave the row leased, and when the lease ran out it would be sent a second time. This
        batch's thread waits meanwhile, so this worker claims nothing else."""
        self._recorder.record(write)

    # ------------------------------------------------------------------ downloads

    def _download(self, job: DownloadJob, now: datetime) -> None:
        """Fetch and keep one attachment, and record the outcome (runs on a pool thread; never
        raises: a failure to record leaves the row leased, to be claimed again)."""
        # Here, not at the top: bot.media.process loads Pillow (some 3 MB), which only a process
        # that handles a file needs (Downloads.run imports it too).
        from bot.media.process import Refused

        try:
            kept = self._downloads.run(job)
        except Refused as exc:
            reason = str(exc)
            self._settle(job, lambda session: self._refused(session, job, reason), "refused")
            return
        except FetchError as exc:
            self._failed(job.row_id, job.attempts, DeliveryError(str(exc), retryable=exc.retryable), now)
            return
        except Exception as exc:  # the blob store is away, or a bug: retry, and say why
            log.exception("outbox row %s (a download) failed unexpectedly", job.row_id)
            self._failed(job.row_id, job.attempts, DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True), now)
            return
        self._settle(job, lambda session: self._stored(session, job, kept), "stored")

    def _settle(self, job: DownloadJob, write: Callable[[Any], None], outcome: metrics.DownloadOutcome) -> None:
        try:
            self._record(write)
        except Exception:  # the file is kept (by its hash); the row is claimed again and settles then
            log.exception("outbox row %s (a download) was done but its outcome could not be recorded", job.row_id)
            return
        metrics.download(outcome)

    def _stored(self, session, job: DownloadJob, kept: Kept) -> None:
        now = repo.utcnow()
        repo.store_attachment(session, job.attachment_id, kind=kept.kind, content_type=kept.content_type,
                              size=kept.size, sha256=kept.sha256, thumb_sha256=kept.thumb_sha256,
                              transcript=kept.transcript, now=now)
        repo.finish_outbox(session, job.row_id, now)
        repo.wake_submissions(session, job.contact_id, now)

    def _refused(self, session, job: DownloadJob, reason: str) -> None:
        """A file of a type we do not keep: recorded, and the citizen is told what we take."""
        now = repo.utcnow()
        repo.refuse_attachment(session, job.attachment_id, reason=reason, now=now)
        repo.finish_outbox(session, job.row_id, now)
        repo.wake_submissions(session, job.contact_id, now)
        contact = session.get_one(Contact, job.contact_id)
        tell(session, self._catalog, self._settings.default_script, contact, job.channel, "media_refused", now)
        log.info("attachment %s refused: %s", job.attachment_id, reason)

    # ------------------------------------------------------------------ registry submissions

    def _prepare_submissions(self, session, rows: list[repo.Claimed], now: datetime,
                             dead: list[repo.Claimed]) -> list[tuple[int, int, int, Submission]]:
        """What to submit: (row id, attempts, complaint id, submission); a row whose complaint
        cannot be decrypted is dead-lettered instead (and added to ``dead``)."""
        complaints = repo.submission_complaints(session, [row.id for row in rows])
        files = repo.attachments_of(session, list(complaints.values()))
        prepared = []
        for row in rows:
            complaint = complaints[row.id]
            attachments = files[complaint.id]
            if any(a.status == "pending" for a in attachments):
                # Its files are still being downloaded: look again shortly, without counting an
                # attempt, for media.submit_wait_seconds from the first look (not from the filing:
                # a worker that was away must not send it without files the moment it is back).
                since = _moment(row.payload.get(repo.WAITING_FOR_FILES)) or now
                deadline = since + self._settings.media_submit_wait
                if now < deadline:
                    repo.postpone_outbox(session, row.id, until=min(now + DOWNLOAD_WAIT_STEP, deadline), now=now,
                                         payload={**row.payload, repo.WAITING_FOR_FILES: since.isoformat()})
                    continue
            try:
                prepared.append((row.id, row.attempts, complaint.id, self._submission(complaint, attachments, now)))
            except WrongDataKey as exc:
                self._unreadable(session, row, exc, now, dead)
        return prepared

    def _submit_in_order(self, submissions: list[tuple[int, int, int, Submission]], now: datetime) -> None:
        """Submit oldest first; once the registry fails, hold the rest of the batch until the
        failed one is due again, so none hammers it and the queue keeps its order."""
        held_until: datetime | None = None
        for row_id, attempts, complaint_id, submission in submissions:
            if held_until is not None:
                with self._db.transaction() as session:
                    repo.postpone_outbox(session, row_id, until=held_until, now=now)
                continue
            try:
                self._submit(row_id, complaint_id, submission, retry=attempts > 1)
            except RegistryError as exc:
                held_until = self._failed(row_id, attempts, exc, now)
            except Exception as exc:  # a bug or an unexpected registry answer: retry, and say why
                log.exception("outbox row %s failed unexpectedly", row_id)
                held_until = self._failed(row_id, attempts,
                                          RegistryError(f"{type(exc).__name__}: {exc}", retryable=True), now)

    def _submit(self, row_id: int, complaint_id: int, submission: Submission, retry: bool) -> None:
        result = self._registry.submit(submission, retry=retry)
        metrics.submission("accepted")
        now = repo.utcnow()

        def accepted(session) -> None:
            # Locked, as a status pushed by the registry meanwhile locks it: else this could
            # write "received" over the "in_progress" that push had just committed.
            complaint = repo.lock_complaint(session, complaint_id)
            complaint.registry_id = result.registry_id or complaint.registry_id
            complaint.registry_token = result.token or complaint.registry_token
            if complaint.status == "queued":
                complaint.status = result.status
            complaint.submitted_at = complaint.submitted_at or now
            complaint.updated_at = now
            repo.finish_outbox(session, row_id, now)

        self._record(accepted)
        log.info("complaint %s accepted by the %s registry", submission.tracking_number, self._registry.name)

    def _submission(self, complaint: Complaint, attachments: list[Attachment], now: datetime) -> Submission:
        reporter = None
        if not complaint.anonymous:
            reporter = {
                "name": self._cipher.decrypt(complaint.reporter_name_enc) if complaint.reporter_name_enc else None,
                "channel": complaint.channel,
                "contact": repo.contact_sender(self._cipher, complaint.contact),
            }
        return Submission(
            tracking_number=complaint.tracking_number,
            type=complaint.type,
            title=complaint.title,
            description=complaint.description,
            category=complaint.category,
            category_code=complaint.category_code or "",
            agency=complaint.agency,
            location={"text": complaint.location_text, "latitude": complaint.latitude,
                      "longitude": complaint.longitude, "region": _region(complaint.region)},
            incident_date=complaint.incident_date.isoformat() if complaint.incident_date else None,
            anonymous=complaint.anonymous,
            confidential=complaint.confidential,
            reporter=reporter,
            attachments=[self._attachment(a, now) for a in attachments if a.status == "stored" and a.sha256],
            language=complaint.language,
            submitted_at=complaint.created_at.isoformat().replace("+00:00", "Z"),
        )

    def _attachment(self, attachment: Attachment, now: datetime) -> dict[str, Any]:
        """A kept file as the registry gets it: a signed link, its type, size and SHA-256."""
        content_type = attachment.content_type or "application/octet-stream"
        item: dict[str, Any] = {"url": self._links.url(attachment.sha256 or "", content_type, now=now),
                                "content_type": content_type, "size": attachment.size,
                                "sha256": attachment.sha256}
        if attachment.transcript:
            item["transcript"] = attachment.transcript
        return item

    def _failed(self, row_id: int, attempts: int, exc: DeliveryError | RegistryError, now: datetime) -> datetime | None:
        """Record a failure: retry later (returns when) or dead-letter it (returns None)."""
        with self._db.transaction() as session:
            row = session.get_one(Outbox, row_id)
            kind, channel = row.kind, row.channel
            if row.kind == "submission":
                # A complaint is retried until it is too old, however many attempts that takes, so
                # a long registry outage loses nothing; then it waits in the dead letter for admins.
                exhausted = now - row.created_at > self._settings.registry_max_age
            else:
                exhausted = attempts >= self._settings.max_attempts
            if not exc.retryable or exhausted:
                repo.dead_outbox(session, row_id, error=str(exc)[:2000], now=now)
                if row.message_id is not None:
                    repo.mark_message(session, row.message_id, status="failed", error=str(exc)[:2000], now=now)
                if row.attachment_id is not None:  # the complaint goes without it; admins see why
                    repo.fail_attachment(session, row.attachment_id, reason=str(exc), now=now)
                    repo.wake_submissions(session, row.contact_id or 0, now)
                log.warning("outbox row %s dead after %s attempts: %s", row_id, attempts, type(exc).__name__)
                due = None
            else:
                delay = backoff(attempts, self._settings.backoff_seconds, self._settings.max_backoff_seconds)
                due = now + timedelta(seconds=max(delay, exc.retry_after or 0.0))
                repo.retry_outbox(session, row_id, error=str(exc)[:2000], next_attempt_at=due, now=now)
                if row.kind == "submission":
                    # The registry is failing: hold every queued complaint until then too, so none
                    # hammers it meanwhile and, when it is back, they drain oldest first.
                    repo.defer_pending(session, kind="submission", until=due, now=now)
        _count_failure(kind, channel, retried=due is not None)
        return due


def _moment(text: Any) -> datetime | None:
    """An ISO timestamp kept in a payload, or None."""
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _region(region: Mapping[str, Any] | None) -> dict[str, Any]:
    """A complaint's region as registries get it: every level, null where not known."""
    region = region or {}
    return {level: (dict(region[level]) if region.get(level) else None) for level in REGION_LEVELS}


def _count_failure(kind: str, channel: str | None, *, retried: bool) -> None:
    """Count a failed row (``bot.metrics``): retried later, or dead-lettered."""
    if kind == "submission":
        metrics.submission("retried" if retried else "dead")
    elif kind == "download":
        metrics.download("retried" if retried else "failed")
    else:  # a reply or notification, which always has its channel
        metrics.reply(channel or "", "failed" if retried else "dead")


def backoff(attempts: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter in its upper half: base*2^(n-1), capped."""
    ceiling = min(cap, base * (2 ** max(0, attempts - 1)))
    return ceiling * random.uniform(0.5, 1.0)


class LeaseKeeper:
    """Renews the leases of the rows a Delivery is working on, every third of a lease, from a
    thread of its own (started at the first ``hold``): a row stays leased for as long as its
    worker lives, and no longer than ``lease_seconds`` after it died."""

    def __init__(self, db: Database, lease_seconds: float):
        self._db = db
        self._lease = float(lease_seconds)
        self._rows: dict[int, int] = {}  # row id -> holds
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def hold(self, row_ids: list[int]) -> None:
        with self._lock:
            for row_id in row_ids:
                self._rows[row_id] = self._rows.get(row_id, 0) + 1
            if self._thread is None and row_ids and not self._halt.is_set():
                self._thread = threading.Thread(target=self._run, name="lapor-leases", daemon=True)
                self._thread.start()

    def release(self, row_ids: list[int]) -> None:
        with self._lock:
            for row_id in row_ids:
                if self._rows.get(row_id, 0) <= 1:
                    self._rows.pop(row_id, None)
                else:
                    self._rows[row_id] -= 1

    def renew(self) -> int:
        """Extend every held lease by a whole lease from now; returns how many rows."""
        with self._lock:
            held = list(self._rows)
        if not held:
            return 0
        now = repo.utcnow()
        with self._db.transaction() as session:
            return repo.renew_leases(session, held, until=now + timedelta(seconds=self._lease), now=now)

    def close(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._halt.wait(self._lease / 3):
            try:
                self.renew()
            except Exception as exc:  # the database is away: the next round tries again
                log.warning("could not renew outbox leases (%s)", type(exc).__name__)


class Rest(Protocol):
    """How a delivery loop waits for work: until woken, or ``seconds`` pass."""

    def wait(self, seconds: float) -> None: ...

    def reset(self) -> None:
        """After a failed round: drop what may be broken (a listening connection)."""
        ...


def deliver_until(stop: threading.Event, delivery: Delivery, poller: RegistryPoller | None, rest: Rest, *,
                  longest: float, retry_seconds: float = 1.0) -> None:
    """The one delivery loop, of the embedded thread and of ``lapor worker``: work while there
    is work (a round is followed by another only when a row is due), else rest until woken or
    the next row falls due (``Delivery.idle_seconds``, at most ``longest``). A failed round (the
    database is down, a bug) is logged, the rest is reset, and the loop goes on after
    ``retry_seconds``: nothing kills it but ``stop``."""
    while not stop.is_set():
        try:
            busy = delivery.run_once()
            if poller is not None:
                busy += poller.maybe_poll()
            wait = delivery.idle_seconds(longest, after_work=busy > 0)
            if wait > 0:
                rest.wait(wait)
        except Exception as exc:
            log.warning("delivery round failed (%s: %s); retrying in %s s", type(exc).__name__, exc, retry_seconds,
                        exc_info=not isinstance(exc, Unavailable))
            rest.reset()
            stop.wait(retry_seconds)


class DeliveryThread(threading.Thread):
    """Runs a Delivery in the background (``deliver_until``); ``wake()`` (called after each
    intake commit) makes it look at once instead of waiting for the next poll."""

    def __init__(self, delivery: Delivery, poll_seconds: float = 1.0, poller: RegistryPoller | None = None):
        super().__init__(name="lapor-delivery", daemon=True)
        self._delivery = delivery
        self._poller = poller
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._halt = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._halt.set()
        self._wake.set()

    def run(self) -> None:
        deliver_until(self._halt, self._delivery, self._poller, self, longest=self._poll)

    def wait(self, seconds: float) -> None:
        """Rest until ``wake`` (a wake during the last round counts) or ``seconds`` pass."""
        self._wake.wait(seconds)
        self._wake.clear()

    def reset(self) -> None:
        """Nothing to reconnect: the wake-up is in this process."""

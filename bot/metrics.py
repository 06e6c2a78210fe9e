"""Prometheus metrics: what the service counts, and what ``GET /metrics`` answers.

Counters and the webhook histogram belong to the process that counts. ``lapor serve`` (before
gunicorn forks its workers) and ``lapor worker`` call ``share`` first: prometheus_client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``) then keeps each process's values in files of
``settings.metrics_dir``, and ``/metrics`` adds up the files of every process of the service
(its gunicorn workers with their delivery threads, and separate workers on the same host), so
whichever worker answers a scrape reports the same totals. Where ``share`` is never called
(tests, ``lapor chat``) the values stay in the process.

The outbox gauges are no per-process values: ``/metrics`` reads them from the database at
scrape time (``lapor_outbox_depth``, ``lapor_outbox_oldest_age_seconds``).

Counting costs an increment; nothing here queries the database per message. Every label comes
from a small fixed set (channel, outcome, event, kind, endpoint, status class): never a phone
number, chat id, text or tracking number.

prometheus_client fixes its mode when it is imported, so this module imports it (and the
storage layer) only when first needed: importing ``bot.metrics`` is free (``bot.prepare``
forks its child before SQLAlchemy is loaded).
"""
from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram
    from prometheus_client.metrics_core import Metric

    from storage.db import Database

log = logging.getLogger(__name__)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CHANNELS = ("whatsapp", "sms", "telegram")  # shown at 0 from the start; "terminal" appears when used
ReplyOutcome = Literal["sent", "failed", "dead"]  # sent; a retryable failure; dead-lettered
SubmissionOutcome = Literal["accepted", "retried", "dead"]
DownloadOutcome = Literal["stored", "refused", "retried", "failed"]
ConversationEvent = Literal["started", "completed", "cancelled", "expired"]
REPLY_OUTCOMES: tuple[ReplyOutcome, ...] = ("sent", "failed", "dead")
SUBMISSION_OUTCOMES: tuple[SubmissionOutcome, ...] = ("accepted", "retried", "dead")
DOWNLOAD_OUTCOMES = ("stored", "refused", "retried", "failed")
CONVERSATION_EVENTS: tuple[ConversationEvent, ...] = ("started", "completed", "cancelled", "expired")
# From a 1 ms webhook to Twilio's 15 s patience.
WEBHOOK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)


def share(directory: Path, *, forget_dead: bool = False) -> None:
    """Keep this process's metrics, and those of the processes it forks, in ``directory``,
    beside those of the service's other processes. A missing directory is created private (0700).

    ``forget_dead`` (``lapor serve``, at start): first delete the files of processes that no
    longer run, the counts of an earlier run; those of a running ``lapor worker`` stay.

    Call it before anything is counted in this process: RuntimeError if prometheus_client was
    imported before, since it would keep every count to itself."""
    values = sys.modules.get("prometheus_client.values")
    if values is not None and not values.ValueClass._multiprocess:
        raise RuntimeError("bot.metrics.share() must run before prometheus_client is imported")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    if forget_dead:
        for path in directory.glob("*.db"):
            pid = path.stem.rsplit("_", 1)[-1]  # counter_<pid>.db, histogram_<pid>.db, gauge_<mode>_<pid>.db
            if pid.isdigit() and not _alive(int(pid)):
                path.unlink(missing_ok=True)
    os.environ[MULTIPROC_ENV] = str(directory)
    log.info("metrics are shared in %s", directory)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def forget_worker(_server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook (in the master): ``forget`` a web worker that exited."""
    forget(worker.pid)


def forget(pid: int) -> None:
    """Drop the live gauges of a process of the service that exited, as prometheus_client
    documents. Its counters and histogram stay, so the totals never go down while the server
    runs. Nothing to do in a process that shares no metrics directory (``share``)."""
    if not os.environ.get(MULTIPROC_ENV):
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)


# ---------------------------------------------------------------------- counting

def inbound(channel: str, *, duplicate: bool) -> None:
    """A citizen's message was handled: new, or a provider's re-delivery of one seen before."""
    metrics = _metrics()
    (metrics.duplicates if duplicate else metrics.inbound).labels(channel).inc()


def conversation(event: ConversationEvent) -> None:
    """A conversation started, or ended (completed, cancelled, or found expired)."""
    _metrics().conversations.labels(event).inc()


def reply(channel: str, outcome: ReplyOutcome) -> None:
    """A reply or notification was sent, failed (to be retried), or dead-lettered."""
    _metrics().replies.labels(channel, outcome).inc()


def submission(outcome: SubmissionOutcome) -> None:
    """The registry accepted a complaint, or failed and it is retried later, or it is dead."""
    _metrics().submissions.labels(outcome).inc()


def download(outcome: DownloadOutcome) -> None:
    """A citizen's file was kept, refused (a type we do not take), failed (to be retried), or
    given up on after the retries."""
    _metrics().downloads.labels(outcome).inc()


def webhook(endpoint: str, status: int, seconds: float) -> None:
    """A webhook (one of ``bot.webhooks``' fixed endpoint names) answered ``status`` after ``seconds``."""
    _metrics().webhooks.labels(endpoint, f"{status // 100}xx").observe(seconds)


class _Metrics:
    """This process's counters and histogram. The fixed label sets start at 0, so every series
    exists from the first scrape."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.inbound: Counter = Counter(
            "lapor_inbound_messages", "Messages from citizens, by channel (re-deliveries excluded).",
            ["channel"], registry=None)
        self.duplicates: Counter = Counter(
            "lapor_inbound_duplicates", "Re-deliveries of a message already handled, by channel.",
            ["channel"], registry=None)
        self.replies: Counter = Counter(
            "lapor_replies", "Replies and notifications to citizens by outcome: sent, failed (retried later), "
            "dead (dead-lettered).", ["channel", "outcome"], registry=None)
        self.submissions: Counter = Counter(
            "lapor_registry_submissions", "Complaints handed to the registry by outcome: accepted, retried, dead.",
            ["outcome"], registry=None)
        self.downloads: Counter = Counter(
            "lapor_media_downloads", "Citizens' files by outcome: stored, refused (type not taken), retried, "
            "failed (given up after the retries).", ["outcome"], registry=None)
        self.conversations: Counter = Counter(
            "lapor_conversations", "Conversations started and ended (completed, cancelled, expired); "
            "abandoned = cancelled + expired.", ["event"], registry=None)
        self.webhooks: Histogram = Histogram(
            "lapor_webhook_seconds", "Time to answer a webhook, by endpoint and status class.",
            ["endpoint", "code"], buckets=WEBHOOK_BUCKETS, registry=None)
        for channel in CHANNELS:
            self.inbound.labels(channel)
            self.duplicates.labels(channel)
            for reply_outcome in REPLY_OUTCOMES:
                self.replies.labels(channel, reply_outcome)
        for submission_outcome in SUBMISSION_OUTCOMES:
            self.submissions.labels(submission_outcome)
        for event in CONVERSATION_EVENTS:
            self.conversations.labels(event)
        for download_outcome in DOWNLOAD_OUTCOMES:
            self.downloads.labels(download_outcome)

    def collectors(self) -> tuple[Counter | Histogram, ...]:
        return (self.inbound, self.duplicates, self.replies, self.submissions, self.downloads, self.conversations,
                self.webhooks)


_created: _Metrics | None = None
_creating = threading.Lock()


def _metrics() -> _Metrics:
    global _created
    if _created is None:
        with _creating:
            if _created is None:
                _created = _Metrics()
    return _created


# ---------------------------------------------------------------------- exposition

class Exposition:
    """What ``GET /metrics`` of one app answers: the service's counters (every process's, when
    shared) and the outbox gauges, read from ``db`` at each scrape."""

    def __init__(self, db: Database) -> None:
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        self._registry = CollectorRegistry()
        if os.environ.get(MULTIPROC_ENV):
            MultiProcessCollector(self._registry)
            _metrics()  # this process's zeros: every series shows from the first scrape
        else:
            for collector in _metrics().collectors():
                self._registry.register(collector)
        self._registry.register(OutboxCollector(db))

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition, and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self._registry), CONTENT_TYPE_LATEST


class OutboxCollector:
    """``lapor_outbox_depth`` and ``lapor_outbox_oldest_age_seconds`` per kind, over the rows
    still to do (pending or sending), from one query at each scrape. A database that does not
    answer leaves them out of that scrape; the counters are still served."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        from storage import repository as repo
        from storage.models import OUTBOX_KINDS

        try:
            with self._db.reading() as session:
                backlog = repo.outbox_backlog(session)
        except Exception as exc:  # down, busy or broken: the rest of the scrape still counts
            log.warning("outbox gauges left out of this scrape: %s", type(exc).__name__)
            return
        now = repo.utcnow()
        depth = GaugeMetricFamily("lapor_outbox_depth", "Outbox rows still to do (pending or sending), by kind.",
                                  labels=["kind"])
        age = GaugeMetricFamily("lapor_outbox_oldest_age_seconds",
                                "Age of the oldest outbox row still to do, by kind (0 when none).", labels=["kind"])
        for kind in OUTBOX_KINDS:
            count, oldest = backlog.get(kind, (0, None))
            depth.add_metric([kind], count)
            age.add_metric([kind], max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)
        yield depth
        yield age

"""Downloading one attachment: fetch it from its provider, make it safe, keep it.

``Downloads.run`` does the work of one "download" outbox row outside any transaction: the
channel's fetcher (``bot.media.fetch``) gets the bytes, ``bot.media.process`` checks their type
and cleans images (auto-rotated, EXIF and GPS stripped, at most 2048 px), the blob store keeps
the result (and an image's thumbnail) under its SHA-256, and a voice note is transcribed when a
speech-to-text server is set. The delivery worker records the outcome (``bot.delivery``):
stored, refused (the citizen is told), or retried, and "failed" once the retries are spent.
A file name is never kept: nothing of what the sender's phone called it reaches the registry.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from bot.media.fetch import Fetcher, FetchError
from bot.media.speech import Transcriber
from storage import repository as repo
from storage.blobs import BlobStore

__all__ = ["DownloadJob", "Downloads", "Kept"]

log = logging.getLogger(__name__)
# Files decoded at once per process: a photo may take a few hundred MB while it is resized, and
# the worker's send threads must not multiply that.
DECODES_AT_ONCE = 2


@dataclass(frozen=True, slots=True)
class DownloadJob:
    """One claimed "download" row, with what its work needs."""

    row_id: int
    attempts: int
    attachment_id: int
    channel: str
    ref: str
    contact_id: int
    language: str


@dataclass(frozen=True, slots=True)
class Kept:
    """A file in the blob store, as its attachment row records it."""

    kind: str
    content_type: str
    size: int
    sha256: str
    thumb_sha256: str | None
    transcript: str | None


class Downloads:
    """Fetchers by channel, the blob store and the optional transcriber; thread-safe."""

    def __init__(self, fetchers: Mapping[str, Fetcher], blobs: BlobStore, transcriber: Transcriber | None = None):
        self._fetchers = dict(fetchers)
        self.blobs = blobs
        self._transcriber = transcriber
        self._decoding = threading.BoundedSemaphore(DECODES_AT_ONCE)

    def prepare(self, session, rows: list[repo.Claimed]) -> list[DownloadJob]:
        """The jobs of claimed "download" rows (one query); a row whose attachment is gone is done."""
        found = repo.download_jobs(session, [row.id for row in rows])
        jobs = []
        for row in rows:
            if row.id not in found:
                repo.finish_outbox(session, row.id, repo.utcnow())
                continue
            attachment, language = found[row.id]
            jobs.append(DownloadJob(row.id, row.attempts, attachment.id, attachment.channel, attachment.ref,
                                    attachment.contact_id, language))
        return jobs

    def run(self, job: DownloadJob) -> Kept:
        """Fetch, check, clean and keep one file. Raises FetchError (retryable or not) when it
        cannot be fetched, ``bot.media.process.Refused`` when it is of a type we do not take."""
        fetcher = self._fetchers.get(job.channel)
        if fetcher is None:
            raise FetchError(f"no media fetcher for channel {job.channel} (are its credentials set?)",
                             retryable=False)
        # Here, not at the top: it loads Pillow (some 3 MB), which only a process that handles a file needs.
        from bot.media.process import process

        fetched = fetcher.fetch(job.ref)
        with self._decoding:
            done = process(fetched.data)
        blob = self.blobs.put(done.data, done.content_type)
        thumb = self.blobs.put(done.thumbnail, "image/jpeg").key if done.thumbnail is not None else None
        transcript = None
        if done.kind == "audio" and self._transcriber is not None:
            transcript = self._transcriber.transcribe(done.data, done.content_type, job.language)
        log.info("attachment %s kept: %s, %s bytes", job.attachment_id, done.content_type, blob.size)
        return Kept(done.kind, done.content_type, blob.size, blob.key, thumb, transcript)

    def close(self) -> None:
        for fetcher in {id(fetcher): fetcher for fetcher in self._fetchers.values()}.values():  # shared ones once
            if hasattr(fetcher, "close"):
                fetcher.close()
        if self._transcriber is not None:
            self._transcriber.close()


def fetchers_for(env: Mapping[str, str], channels: Mapping[str, object]) -> dict[str, Fetcher]:
    """A fetcher for each channel that can send files: WhatsApp and SMS through Twilio's API
    (``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, ``TWILIO_API_BASE_URL``), Telegram through
    its channel's Bot API client."""
    from bot.media.fetch import TelegramMediaFetcher, TwilioMediaFetcher
    from channels.telegram import TelegramChannel
    from channels.twilio import DEFAULT_API_BASE_URL

    found: dict[str, Fetcher] = {}
    sid, token = env.get("TWILIO_ACCOUNT_SID", "").strip(), env.get("TWILIO_AUTH_TOKEN", "").strip()
    twilio_channels = [name for name in ("whatsapp", "sms") if name in channels]
    if sid and token and twilio_channels:
        twilio = TwilioMediaFetcher(account_sid=sid, auth_token=token,
                                    api_base_url=env.get("TWILIO_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL)
        found.update({name: twilio for name in twilio_channels})
    telegram = channels.get("telegram")
    if isinstance(telegram, TelegramChannel):
        found["telegram"] = TelegramMediaFetcher(telegram)
    return found

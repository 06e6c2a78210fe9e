"""Attachments: recording what citizens sent, the outcome of their downloads, and finding them
for submissions and admin pages.

Every function takes an open Session and none commits (see ``storage.repository``)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, tuple_, update
from sqlalchemy.orm import Session

from storage.models import Attachment, Complaint, Contact, Outbox
from storage.repository.outbox import add_outbox

__all__ = ["WAITING_FOR_FILES", "add_attachments", "attachments_of", "complaint_attachment", "download_jobs",
           "fail_attachment", "refuse_attachment", "store_attachment", "wake_submissions"]

# The payload key of a submission row that waits for its files: since when (ISO), set by delivery.
WAITING_FOR_FILES = "waiting_for_files_since"


def add_attachments(session: Session, *, contact_id: int, message_id: int, channel: str,
                    media: Sequence[tuple[str, str]], now: datetime) -> list[Attachment]:
    """Record each (ref, declared type) of an inbound message as a "pending" attachment, each
    with a "download" outbox row; written with the next flush, in the caller's transaction."""
    rows = []
    for position, (ref, declared_type) in enumerate(media):
        attachment = Attachment(contact_id=contact_id, message_id=message_id, position=position, channel=channel,
                                ref=ref, declared_type=declared_type[:128], status="pending", created_at=now,
                                updated_at=now)
        session.add(attachment)
        download = add_outbox(session, kind="download", channel=channel, contact_id=contact_id, payload={}, now=now)
        download.attachment = attachment
        rows.append(attachment)
    return rows


def download_jobs(session: Session, row_ids: Sequence[int]) -> dict[int, tuple[Attachment, str]]:
    """The attachments that "download" outbox rows carry, with their contact's language, in
    one query: {row id: (attachment, language)}."""
    if not row_ids:
        return {}
    found = session.execute(
        select(Outbox.id, Attachment, Contact.language).join(Attachment, Outbox.attachment_id == Attachment.id)
        .join(Contact, Attachment.contact_id == Contact.id).where(Outbox.id.in_(row_ids))
    ).all()
    return {row_id: (attachment, language) for row_id, attachment, language in found}


def store_attachment(session: Session, attachment_id: int, *, kind: str, content_type: str, size: int, sha256: str,
                     thumb_sha256: str | None, transcript: str | None, now: datetime) -> None:
    """The file is kept (in the blob store, under ``sha256``): status "stored"."""
    session.execute(update(Attachment).where(Attachment.id == attachment_id).values(
        status="stored", kind=kind, content_type=content_type, size=size, sha256=sha256, thumb_sha256=thumb_sha256,
        transcript=transcript, error=None, updated_at=now))


def refuse_attachment(session: Session, attachment_id: int, *, reason: str, now: datetime) -> None:
    """The file is of a type we do not keep (a video, an archive...): status "refused"."""
    session.execute(update(Attachment).where(Attachment.id == attachment_id)
                    .values(status="refused", error=reason[:2000], updated_at=now))


def fail_attachment(session: Session, attachment_id: int, *, reason: str, now: datetime) -> None:
    """The file could not be fetched, after the retries: status "failed" (admins see why)."""
    session.execute(update(Attachment).where(Attachment.id == attachment_id, Attachment.status == "pending")
                    .values(status="failed", error=reason[:2000], updated_at=now))


def wake_submissions(session: Session, contact_id: int, now: datetime) -> None:
    """A file of ``contact_id`` is settled: their submissions that wait for files are due now,
    not at their next look (a submission held back by a failing registry is left alone)."""
    waiting = Outbox.payload[WAITING_FOR_FILES].as_string().is_not(None)
    session.execute(update(Outbox).where(Outbox.kind == "submission", Outbox.contact_id == contact_id,
                                         Outbox.status == "pending", Outbox.attempts == 0, waiting,
                                         Outbox.next_attempt_at > now)
                    .values(next_attempt_at=now, updated_at=now).execution_options(synchronize_session=False))


def attachments_of(session: Session, complaints: Sequence[Complaint]) -> dict[int, list[Attachment]]:
    """Each complaint's attachments, in the order its answers name them (by ref, from its
    contact's messages), in one query; a ref no row records is left out."""
    wanted = {(c.contact_id, str(item.get("url"))) for c in complaints for item in c.attachments or ()}
    if not wanted:
        return {c.id: [] for c in complaints}
    rows = session.scalars(select(Attachment).where(tuple_(Attachment.contact_id, Attachment.ref).in_(list(wanted)))
                           .order_by(Attachment.id)).all()
    by_ref: dict[tuple[int, str], Attachment] = {}
    for row in rows:  # the same ref twice (Telegram reuses a file id): a stored one, else a pending one, else the first
        known = by_ref.get((row.contact_id, row.ref))
        if known is None or _PREFERRED.get(row.status, 9) < _PREFERRED.get(known.status, 9):
            by_ref[(row.contact_id, row.ref)] = row
    return {c.id: [found for item in c.attachments or ()
                   if (found := by_ref.get((c.contact_id, str(item.get("url"))))) is not None]
            for c in complaints}


_PREFERRED = {"stored": 0, "pending": 1}


def complaint_attachment(session: Session, complaint: Complaint, attachment_id: int) -> Attachment | None:
    """One attachment of ``complaint`` (for the admin pages); None when it is not one of its own."""
    return next((a for a in attachments_of(session, [complaint])[complaint.id] if a.id == attachment_id), None)

"""Complaint status changes, and telling the citizen on the channel they used (``tell``: any
notice worded by the live script, such as a refused file's).

One path for every source of a change (an admin or the CLI for the local registry, a webhook
registry's signed callback, an Open311 poll): ``change_status_of`` finds and locks the
complaint by its tracking number, ``change_status`` changes it, so the citizen hears about each
change once, in their language, with the registry's note. Both run inside the caller's
transaction.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.complaints import STATUSES, status_text, status_title
from bot.scripts import ScriptCatalog
from channels.render import render_parts
from storage import repository as repo
from storage.models import Complaint, Contact
from storage.tracking import normalize_tracking_number


@dataclass(frozen=True, slots=True)
class StatusChange:
    """What ``change_status_of`` did: whether the complaint exists, was accepted by the guard,
    and changed (the citizen is then told)."""

    found: bool
    accepted: bool = False
    changed: bool = False


def change_status_of(session, catalog: ScriptCatalog, script_id: str, number: str, status: str, note: str | None,
                     now: datetime, guard: Callable[[Complaint], bool] | None = None) -> StatusChange:
    """Find the complaint with tracking number ``number`` (any case, with or without ``LAP-``),
    lock it until the transaction ends, and change its status as ``change_status`` does.
    ``guard``, when given, sees the locked complaint first and may refuse the change (it may
    also record what it accepted on the complaint)."""
    canonical = normalize_tracking_number(number)
    found = repo.complaint_by_tracking(session, canonical) if canonical else None
    if found is None:
        return StatusChange(found=False)
    complaint = repo.lock_complaint(session, found.id)
    if guard is not None and not guard(complaint):
        return StatusChange(found=True)
    return StatusChange(True, True, change_status(session, catalog, script_id, complaint, status, note, now))


def change_status(session, catalog: ScriptCatalog, script_id: str, complaint: Complaint, status: str, note: str | None,
                  now: datetime) -> bool:
    """Set a complaint's status and queue a notification (unless the citizen opted out), worded
    by the live version of the script ``script_id``; False when nothing changed. Raises
    ValueError for an unknown status."""
    if status not in STATUSES:
        raise ValueError(f"unknown status '{status}' (one of {', '.join(STATUSES)})")
    note = (note or "").strip() or None
    if complaint.status == status and complaint.status_note == note:
        return False
    complaint.status, complaint.status_note, complaint.updated_at = status, note, now
    contact = complaint.contact
    if contact.opted_out:
        return True  # they asked for no more messages; STATUS still answers when they ask
    script = catalog.current(session, script_id)
    language = contact.language if contact.language in script.languages else complaint.language
    lines = [script.text("status_changed", language, tracking_number=complaint.tracking_number,
                         title=status_title(complaint.title),
                         status=status_text(script, status, language))]
    if note:
        lines.append(script.text("status_note", language, note=note))
    _queue(session, contact, complaint.channel, "\n".join(lines), {"tracking_number": complaint.tracking_number}, now)
    return True


def tell(session, catalog: ScriptCatalog, script_id: str, contact: Contact, channel: str, key: str,
         now: datetime) -> None:
    """Queue the live script's message ``key`` to ``contact`` as a notification, in their
    language (nothing for a citizen who opted out)."""
    if contact.opted_out:
        return
    script = catalog.current(session, script_id)
    language = contact.language if contact.language in script.languages else script.default_language
    _queue(session, contact, channel, script.text(key, language), {}, now)


def _queue(session, contact: Contact, channel: str, text: str, payload: dict[str, str], now: datetime) -> None:
    for part in render_parts(channel, text):
        message = repo.add_message(session, contact=contact, conversation=None, direction="out",
                                   channel=channel, text=part, status="queued")
        repo.add_outbox(session, kind="notification", channel=channel, contact_id=contact.id,
                        message=message, payload=payload, now=now)

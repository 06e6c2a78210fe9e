"""Complaint status changes, and telling the citizen on the channel they used.

One function for every source of a change (an admin or the CLI for the local registry, a
webhook registry's signed callback, an Open311 poll), so the citizen hears about each change
once, in their language, with the registry's note. It runs inside the caller's transaction.
"""
from __future__ import annotations

from datetime import datetime

from bot.complaints import STATUSES, status_text
from channels.render import render_parts
from dialogs.model import Script
from storage import repository as repo
from storage.models import Complaint


def change_status(session, script: Script, complaint: Complaint, status: str, note: str | None, now: datetime) -> bool:
    """Set a complaint's status and queue a notification (unless the citizen opted out); False
    when nothing changed. Raises ValueError for an unknown status."""
    if status not in STATUSES:
        raise ValueError(f"unknown status '{status}' (one of {', '.join(STATUSES)})")
    note = (note or "").strip() or None
    if complaint.status == status and complaint.status_note == note:
        return False
    complaint.status, complaint.status_note, complaint.updated_at = status, note, now
    contact = complaint.contact
    if contact.opted_out:
        return True  # they asked for no more messages; STATUS still answers when they ask
    language = contact.language if contact.language in script.languages else complaint.language
    lines = [script.text("status_changed", language, tracking_number=complaint.tracking_number,
                         status=status_text(script, status, language))]
    if note:
        lines.append(script.text("status_note", language, note=note))
    for part in render_parts(complaint.channel, "\n".join(lines)):
        message = repo.add_message(session, contact=contact, conversation=None, direction="out",
                                   channel=complaint.channel, text=part, status="queued")
        repo.add_outbox(session, kind="notification", channel=complaint.channel, contact_id=contact.id,
                        message=message, payload={"tracking_number": complaint.tracking_number}, now=now)
    repo.notify_outbox(session)
    return True

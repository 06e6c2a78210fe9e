"""Status changes reach the citizen once, in their language, on their channel."""
from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select
from tests_support import chat_env

from bot.notify import change_status_of
from bot.services import Services
from channels.base import InboundMessage
from storage import repository as repo
from storage.models import Complaint, Outbox

ROOT = Path(__file__).resolve().parents[2]
LINES = ["hi", "bahasa en", "1", "Broken bridge", "The bridge near the market is broken since May.", "1",
         "Pasar Baru", "yesterday", "skip", "anonymous", "yes"]


def file_complaint(services: Services, sender: str = "+628123") -> str:
    for line in LINES:
        result = services.intake.handle(InboundMessage("terminal", sender, line, uuid.uuid4().hex, repo.utcnow()))
    services.delivery.drain()
    return result.tracking_number


def set_status(services: Services, number: str, status: str, note: str | None = None) -> bool:
    with services.db.transaction() as session:
        done = change_status_of(session, services.catalog, "complaint", number, status, note, repo.utcnow())
    assert done.found and done.accepted
    return done.changed


def test_a_change_is_told_in_the_citizens_language(services: Services, outbox_terminal) -> None:
    number = file_complaint(services)
    assert set_status(services, number, "in_progress", "A team visits on Monday.")
    services.delivery.drain()
    printed = outbox_terminal.getvalue()
    assert f"Update on report {number} (Broken bridge): in progress.\n       Note: A team visits on Monday." in printed
    assert not set_status(services, number, "in_progress", "A team visits on Monday.")  # no change, no message
    with services.db.transaction() as s:
        assert s.scalars(select(Complaint.status_note)).one() == "A team visits on Monday."
        assert len(s.scalars(select(Outbox).where(Outbox.kind == "notification")).all()) == 1


def test_an_opted_out_citizen_gets_no_notification_but_the_status_changes(services: Services) -> None:
    number = file_complaint(services)
    services.intake.handle(InboundMessage("terminal", "+628123", "stop", uuid.uuid4().hex, repo.utcnow()))
    assert set_status(services, number, "resolved")
    with services.db.transaction() as s:
        assert s.scalars(select(Complaint.status)).one() == "resolved"
        assert s.scalars(select(Outbox).where(Outbox.kind == "notification")).all() == []


def test_unknown_status_is_refused(services: Services) -> None:
    number = file_complaint(services)
    with pytest.raises(ValueError):
        set_status(services, number, "lost")


def test_set_status_from_the_command_line(db, db_url: str) -> None:
    env = chat_env(db_url)
    chat = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--sender", "+628777"], input="\n".join(LINES) + "\n",
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    number = next(word for word in chat.stdout.split() if word.startswith("LAP-")).rstrip(".")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "complaints", "set-status", number.lower(), "resolved",
                           "--note", "Fixed."], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"{number}: resolved"
    status = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--sender", "+628777"], input=f"STATUS {number}\n",
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert f"Report {number} (Broken bridge): resolved." in status.stdout and "Note: Fixed." in status.stdout
    missing = subprocess.run([sys.executable, "-m", "bot.cli", "complaints", "set-status", "LAP-000000", "resolved"],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert missing.returncode == 1


def test_a_number_is_found_in_any_case_and_an_unknown_one_changes_nothing(services: Services) -> None:
    number = file_complaint(services)
    assert set_status(services, number.lower().removeprefix("lap-"), "verified")
    with services.db.transaction() as session:
        done = change_status_of(session, services.catalog, "complaint", "LAP-000000", "resolved", None, repo.utcnow())
        refused = change_status_of(session, services.catalog, "complaint", number, "resolved", None, repo.utcnow(),
                                   guard=lambda complaint: False)
    assert (done.found, done.changed) == (False, False) and (refused.found, refused.accepted) == (True, False)
    with services.db.transaction() as session:
        assert repo.complaint_by_tracking(session, number).status == "verified"

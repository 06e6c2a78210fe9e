"""Delivery reports: recorded per message, never moving backwards when they arrive out of order."""
from __future__ import annotations

import uuid

from sqlalchemy import select

from bot.services import Services
from bot.statuses import record_status
from channels.base import InboundMessage, StatusUpdate
from storage import repository as repo
from storage.models import Message


def sent_message(services: Services) -> str:
    services.intake.handle(InboundMessage("terminal", "+628123", "halo", uuid.uuid4().hex, repo.utcnow()))
    services.delivery.drain()
    with services.db.transaction() as s:
        return s.scalars(select(Message.provider_message_id).where(Message.direction == "out").order_by(Message.id)).first()


def status_of(services: Services, sid: str) -> tuple[str, str | None]:
    with services.db.transaction() as s:
        message = s.scalars(select(Message).where(Message.provider_message_id == sid)).one()
        return message.status, message.error


def test_reports_move_forward_only(services: Services) -> None:
    sid = sent_message(services)
    assert record_status(services.db, ["terminal"], StatusUpdate("terminal", sid, "delivered"))
    assert status_of(services, sid) == ("delivered", None)
    record_status(services.db, ["terminal"], StatusUpdate("terminal", sid, "sent"))  # late and stale
    assert status_of(services, sid) == ("delivered", None)
    record_status(services.db, ["terminal"], StatusUpdate("terminal", sid, "failed", "30003 Unreachable"))
    assert status_of(services, sid) == ("delivered", None)  # a delivery is not undone
    record_status(services.db, ["terminal"], StatusUpdate("terminal", sid, "read"))
    assert status_of(services, sid) == ("read", None)


def test_failures_are_recorded_with_the_reason(services: Services) -> None:
    sid = sent_message(services)
    record_status(services.db, ["terminal"], StatusUpdate("terminal", sid, "undelivered", "30005 Unknown destination"))
    assert status_of(services, sid) == ("undelivered", "30005 Unknown destination")
    record_status(services.db, ["terminal"], StatusUpdate("terminal", sid, "sent"))
    assert status_of(services, sid) == ("undelivered", "30005 Unknown destination")


def test_unknown_messages_and_statuses_are_ignored(services: Services) -> None:
    sid = sent_message(services)
    assert not record_status(services.db, ["terminal"], StatusUpdate("terminal", "SMnope", "delivered"))
    assert not record_status(services.db, ["terminal"], StatusUpdate("terminal", sid, "exploded"))
    assert not record_status(services.db, ["sms"], StatusUpdate("sms", sid, "delivered"))  # other channel
    assert status_of(services, sid) == ("sent", None)

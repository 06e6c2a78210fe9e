"""Provider delivery reports applied to our outbound messages, never moving backwards."""
from __future__ import annotations

from collections.abc import Sequence

from channels.base import StatusUpdate
from storage import repository as repo
from storage.db import Database

# How far a message has got; reports can arrive out of order, so a lower rank never overwrites.
RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "undelivered": 4, "failed": 4}
FAILED = ("failed", "undelivered")


def record_status(db: Database, channels: Sequence[str], update: StatusUpdate) -> bool:
    """Apply one report, whose status the channel has put in StatusUpdate's words (the one
    mapping of a provider's statuses lives with its channel); False when the message or the
    status is unknown (it is then ignored)."""
    status = update.status
    if status not in RANK:
        return False
    with db.transaction() as session:
        message = repo.message_by_provider_id(session, channels, update.provider_message_id)
        if message is None:
            return False
        current = RANK.get(message.status, 0)
        if status in FAILED:
            forward = current < RANK["delivered"]  # a late failure never undoes a delivery
        else:
            forward = RANK[status] > current and message.status not in FAILED
        if forward:
            message.status = status
            if status in FAILED:
                message.error = update.error
            message.updated_at = repo.utcnow()
    return True

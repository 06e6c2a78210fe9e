"""The outbox: queueing work, claiming it with leases, and recording outcomes.

Every function takes an open Session and none commits (see ``storage.repository``)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import (
    Attachment,
    Complaint,
    Message,
    Outbox,
)
from storage.repository.common import is_postgres

__all__ = [
    "MAX_RECLAIMS",
    "ORDERED_KINDS",
    "OUTBOX_CHANNEL",
    "UNRECORDED",
    "add_outbox",
    "claim_outbox",
    "dead_outbox",
    "defer_pending",
    "fail_abandoned",
    "finish_outbox",
    "finish_send",
    "give_up_unrecorded",
    "insert_outbox",
    "next_outbox_due",
    "notify_outbox",
    "outbox_backlog",
    "outbox_messages",
    "outbox_row",
    "postpone_outbox",
    "renew_leases",
    "retry_outbox",
    "submission_complaints",
]


# Outbox kinds that reach the citizen: their rows are delivered one at a time per contact, in order.
ORDERED_KINDS = ("reply", "notification")
# A row whose lease ran out with no outcome recorded may already have reached its provider: it is
# claimed again at most this many times, then dead-lettered for an admin to check and retry.
MAX_RECLAIMS = 3
UNRECORDED = ("its worker stopped or could not record the outcome {n} times: it may have been delivered; "
              "check before retrying")
# The statements of the delivery loop are built once (statement construction was most of a
# claim's cost): each run binds its values.
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_OUTBOX = cast(Table, Outbox.__table__)
_MESSAGES = cast(Table, Message.__table__)
_SUBMISSION_COMPLAINTS = (select(Outbox.id, Complaint).join(Outbox, Outbox.complaint_id == Complaint.id)
                          .where(Outbox.id.in_(_IDS)).options(joinedload(Complaint.contact)))
_OUTBOX_MESSAGES = (select(Outbox.id, Message).join(Outbox, Outbox.message_id == Message.id)
                    .where(Outbox.id.in_(_IDS)).options(joinedload(Message.contact)))
_INSERT_OUTBOX = insert(_OUTBOX)
_MESSAGE_SENT = (update(_MESSAGES).where(_MESSAGES.c.id == bindparam("message_id"))
                 .values(provider_message_id=bindparam("provider_message_id"), status=bindparam("status"),
                         updated_at=bindparam("now")))
_ROW_DONE = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id"))
             .values(status="done", lease_until=None, done_at=bindparam("now"), updated_at=bindparam("now")))


def submission_complaints(session: Session, row_ids: Sequence[int]) -> dict[int, Complaint]:
    """The complaints that submission outbox rows carry, with their contacts, in one query."""
    if not row_ids:
        return {}
    found = session.execute(_SUBMISSION_COMPLAINTS, {"ids": list(row_ids)}).all()
    return {row_id: complaint for row_id, complaint in found}


def outbox_messages(session: Session, row_ids: Sequence[int]) -> dict[int, Message]:
    """The messages that reply and notification outbox rows carry, with their contacts, in one query."""
    if not row_ids:
        return {}
    found = session.execute(_OUTBOX_MESSAGES, {"ids": list(row_ids)}).all()
    return {row_id: message for row_id, message in found}


def finish_send(session: Session, row_id: int, message_id: int, *, provider_message_id: str | None, status: str,
                now: datetime) -> None:
    """A reply or notification was handed to its provider: the message gets the provider's id
    and status, the outbox row is done (two UPDATEs, built once, nothing loaded)."""
    connection = session.connection()
    connection.execute(_MESSAGE_SENT, {"message_id": message_id, "provider_message_id": provider_message_id,
                                       "status": status, "now": now})
    connection.execute(_ROW_DONE, {"row_id": row_id, "now": now})


def add_outbox(session: Session, *, kind: str, payload: dict[str, Any], channel: str | None = None,
               contact_id: int | None = None, message: Message | None = None, complaint_id: int | None = None,
               now: datetime) -> Outbox:
    """Queue work for delivery: status "pending", due at ``now``, written with the next flush.

    kind: "reply" or "notification" (set channel, contact_id and usually the message; delivered
    in order per contact) or "submission" (set complaint_id; channel stays None).
    """
    row = Outbox(kind=kind, channel=channel, contact_id=contact_id, message=message,
                 complaint_id=complaint_id, payload=payload, status="pending", attempts=0,
                 next_attempt_at=now, created_at=now, updated_at=now)
    session.add(row)
    return row


def insert_outbox(session: Session, *, kind: str, channel: str | None, contact_id: int | None,
                  message_id: int | None, payload: dict[str, Any], now: datetime) -> None:
    """``add_outbox`` for the intake path: one Core INSERT at once, no unit of work."""
    session.connection().execute(_INSERT_OUTBOX, {
        "kind": kind, "channel": channel, "contact_id": contact_id, "message_id": message_id, "payload": payload,
        "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now, "updated_at": now})


def claim_outbox(session: Session, *, now: datetime, limit: int, lease_seconds: float,
                 channels: Sequence[str] | None = None, max_reclaims: int = MAX_RECLAIMS,
                 give_up: bool = True, reclaim: bool = True) -> list[Outbox]:
    """Claim up to ``limit`` due rows for this worker: first (with ``reclaim``) rows "sending"
    whose ``lease_until < now`` (their worker died), oldest first, then rows "pending" with
    ``next_attempt_at <= now``, earliest due first (then oldest).

    A reply or notification waits while an older reply or notification of the
    same contact is pending or sending, so a citizen's messages leave in order (at most one per
    contact per claim). ``channels``, when given, limits claims to rows of those channels and
    rows without a channel (submissions). On PostgreSQL rows are locked with
    ``FOR UPDATE SKIP LOCKED``: concurrent workers never claim the same row.

    Claimed rows become "sending" with ``lease_until = now + lease_seconds`` and one more attempt.
    Commit the claim before doing the work, then record the outcome with ``finish_outbox``,
    ``retry_outbox`` or ``dead_outbox``; renew the lease while the work lasts (``renew_leases``).

    A row whose lease ran out is claimed again (one more ``reclaims``) at most ``max_reclaims``
    times: after that it is never claimed, and goes dead instead, since each of those sends may
    have arrived (``give_up_unrecorded``, first, unless ``give_up`` is False).

    Each kind of due row has a SELECT of its own, walking the (status, next_attempt_at) index in
    its order and stopping at ``limit``: one SELECT with both conditions ORed and ordered by id
    had PostgreSQL walk the primary key through every row ever queued (1.4 s per claim with
    5.5 million done rows, when nothing was due). Rows whose lease ran out are rare (a worker
    died), so a worker looks for them only every few seconds (``reclaim``), with the give-up
    sweep: a claim is then one SELECT and one UPDATE of the claimed rows, each built once; the
    rows returned show what the UPDATE wrote.
    """
    if give_up:
        give_up_unrecorded(session, now, max_reclaims)
    key = tuple(channels) if channels is not None else None
    rows: list[Outbox] = []
    for expired in ((True, False) if reclaim else (False,)):
        if len(rows) < limit:
            rows += session.scalars(_claim_statement(key, expired=expired),
                                    {"now": now, "limit": limit - len(rows), "max_reclaims": max_reclaims},
                                    execution_options={"populate_existing": True})
    if not rows:
        return rows
    lease_until = now + timedelta(seconds=lease_seconds)
    session.connection().execute(_CLAIM, {"ids": [row.id for row in rows], "lease_until": lease_until, "now": now})
    for row in rows:  # what the UPDATE wrote, without a flush of its own
        if row.status == "sending":  # its lease ran out: the last attempt's outcome is unknown
            set_committed_value(row, "reclaims", row.reclaims + 1)
        for name, value in (("status", "sending"), ("lease_until", lease_until), ("attempts", row.attempts + 1),
                            ("updated_at", now)):
            set_committed_value(row, name, value)
    return rows


def give_up_unrecorded(session: Session, now: datetime, max_reclaims: int = MAX_RECLAIMS) -> int:
    """Dead-letter the rows whose lease ran out once more after ``max_reclaims`` reclaims (each
    of those attempts may have arrived), and fail the downloads among them; returns how many.
    ``claim_outbox`` does it first unless told not to (a worker does it every few seconds)."""
    given_up = session.execute(_GIVE_UP, {"now": now, "max_reclaims": max_reclaims,
                                          "error": UNRECORDED.format(n=max_reclaims + 1)})
    count = cast(CursorResult[Any], given_up).rowcount or 0
    if count:  # a download among them: its file will not come
        fail_abandoned(session, UNRECORDED.format(n=max_reclaims + 1), now)
    return count


_GIVE_UP = (update(_OUTBOX)
            .where(_OUTBOX.c.status == "sending", _OUTBOX.c.lease_until < bindparam("now"),
                   _OUTBOX.c.reclaims >= bindparam("max_reclaims"))
            .values(status="dead", lease_until=None, updated_at=bindparam("now"), last_error=bindparam("error")))
_CLAIM = (update(_OUTBOX).where(_OUTBOX.c.id.in_(_IDS))
          .values(status="sending", lease_until=bindparam("lease_until"), attempts=_OUTBOX.c.attempts + 1,
                  reclaims=_OUTBOX.c.reclaims + case((_OUTBOX.c.status == "sending", 1), else_=0),
                  updated_at=bindparam("now")))


@cache
def _claim_statement(channels: tuple[str, ...] | None, *, expired: bool) -> Select[Outbox]:
    """A claim's SELECT of the rows whose lease ran out (``expired``) or of the pending rows due,
    built once per set of channels (``now``, ``limit`` and ``max_reclaims`` are bound)."""
    older = aliased(Outbox, name="older")
    earlier_in_line = exists().where(
        older.contact_id == Outbox.contact_id,
        older.id < Outbox.id,
        older.kind.in_(ORDERED_KINDS),
        older.status.in_(("pending", "sending")),
    )
    now = bindparam("now", type_=_OUTBOX.c.next_attempt_at.type)
    if expired:
        due = and_(Outbox.status == "sending", Outbox.lease_until < now,
                   Outbox.reclaims < bindparam("max_reclaims", type_=Integer))
        order: tuple[Any, ...] = (Outbox.id,)
    else:
        due = and_(Outbox.status == "pending", Outbox.next_attempt_at <= now)
        order = (Outbox.next_attempt_at, Outbox.id)
    query = (
        select(Outbox)
        .where(due, or_(Outbox.kind.not_in(ORDERED_KINDS), ~earlier_in_line))
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True, of=Outbox)
    )
    if channels is not None:
        query = query.where(or_(Outbox.channel.is_(None), Outbox.channel.in_(channels)))
    return query


def fail_abandoned(session: Session, reason: str, now: datetime) -> int:
    """Mark "failed" the pending attachments whose download row is dead (dead-lettered by a claim
    after its worker died again and again, or discarded by an admin); returns how many. Their
    complaints then go without them."""
    dead = select(Outbox.attachment_id).where(Outbox.kind == "download", Outbox.status == "dead",
                                              Outbox.attachment_id.is_not(None))
    result = session.execute(update(Attachment).where(Attachment.status == "pending", Attachment.id.in_(dead))
                             .values(status="failed", error=reason[:2000], updated_at=now)
                             .execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount or 0


def next_outbox_due(session: Session) -> datetime | None:
    """When the next row falls due: the earliest retry of a pending row or end of a lease (a
    worker that died); None with nothing queued. One statement, two index scans (status,
    next_attempt_at)."""
    pending, leased = session.execute(_NEXT_DUE).one()
    return min((t for t in (pending, leased) if t is not None), default=None)


_NEXT_DUE = select(
    select(func.min(Outbox.next_attempt_at)).where(Outbox.status == "pending").scalar_subquery(),
    select(func.min(Outbox.lease_until)).where(Outbox.status == "sending").scalar_subquery(),
)


def renew_leases(session: Session, row_ids: Sequence[int], *, until: datetime, now: datetime) -> int:
    """Extend the leases of rows this worker is still working on (still "sending"); returns how
    many. A worker renews while it works, so a short lease hands a dead worker's rows on fast."""
    if not row_ids:
        return 0
    result = session.execute(
        update(Outbox).where(Outbox.id.in_(tuple(row_ids)), Outbox.status == "sending")
        .values(lease_until=until, updated_at=now).execution_options(synchronize_session=False)
    )
    return cast(CursorResult[Any], result).rowcount or 0


def outbox_row(session: Session, row_id: int) -> Outbox:
    row = session.get(Outbox, row_id)
    if row is None:
        raise LookupError(f"outbox row {row_id} does not exist")
    return row


def finish_outbox(session: Session, row_id: int, now: datetime) -> None:
    """The row's work is done: status "done"."""
    row = outbox_row(session, row_id)
    row.status, row.lease_until, row.done_at, row.updated_at = "done", None, now, now


def retry_outbox(session: Session, row_id: int, *, error: str, next_attempt_at: datetime, now: datetime) -> None:
    """The attempt failed but may succeed later: back to "pending", due at ``next_attempt_at``."""
    row = outbox_row(session, row_id)
    row.status, row.lease_until, row.next_attempt_at = "pending", None, next_attempt_at
    row.last_error, row.updated_at = error, now


def dead_outbox(session: Session, row_id: int, *, error: str, now: datetime) -> None:
    """Give up on the row (dead letter, shown to admins): status "dead"."""
    row = outbox_row(session, row_id)
    row.status, row.lease_until, row.last_error, row.updated_at = "dead", None, error, now


def postpone_outbox(session: Session, row_id: int, *, until: datetime, now: datetime) -> None:
    """Give a claimed row back unattempted (a rate limit said "not yet"): pending, due ``until``,
    and the claim's attempt is not counted."""
    row = outbox_row(session, row_id)
    row.status, row.lease_until, row.next_attempt_at, row.updated_at = "pending", None, until, now
    row.attempts = max(0, row.attempts - 1)


def defer_pending(session: Session, *, kind: str, until: datetime, now: datetime) -> int:
    """Make pending rows of ``kind`` due no earlier than ``until`` (a failing destination);
    returns how many moved."""
    rows = session.scalars(select(Outbox).where(Outbox.kind == kind, Outbox.status == "pending",
                                                Outbox.next_attempt_at < until)).all()
    for row in rows:
        row.next_attempt_at, row.updated_at = until, now
    return len(rows)


OUTBOX_CHANNEL = "lapor_outbox"


def notify_outbox(session: Session) -> None:
    """Wake listening workers when this transaction commits (PostgreSQL NOTIFY; no-op on SQLite,
    where the embedded worker is woken in-process)."""
    if is_postgres(session):
        session.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")))


def outbox_backlog(session: Session) -> dict[str, tuple[int, datetime]]:
    """The rows still to do ("pending" or "sending") per kind: (how many, the oldest one's
    ``created_at``); a kind with none is absent. One grouped query on the (status,
    next_attempt_at) index, cheap enough for every metrics scrape."""
    rows = session.execute(
        select(Outbox.kind, func.count(), func.min(Outbox.created_at))
        .where(Outbox.status.in_(("pending", "sending"))).group_by(Outbox.kind)
    )
    return {kind: (count, oldest) for kind, count, oldest in rows}

"""The outbox: queueing work, claiming it with leases, and recording outcomes.

Every function takes an open Session and none commits (see ``storage.repository``)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.dml import ReturningUpdate

from storage.models import (
    Attachment,
    Complaint,
    Contact,
    Message,
    Outbox,
)
from storage.repository.common import is_postgres
from storage.repository.contacts import insert_message

__all__ = [
    "MAX_RECLAIMS",
    "ORDERED_KINDS",
    "OUTBOX_CHANNEL",
    "UNRECORDED",
    "Claimed",
    "Outgoing",
    "Sent",
    "add_outbox",
    "claim_outbox",
    "dead_outbox",
    "defer_pending",
    "fail_abandoned",
    "finish_outbox",
    "finish_sends",
    "give_up_unrecorded",
    "insert_outbox",
    "mark_message",
    "next_outbox_due",
    "outbox_backlog",
    "outbox_row",
    "postpone_outbox",
    "queue_reply",
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
_CONTACTS = cast(Table, Contact.__table__)
_SUBMISSION_COMPLAINTS = (select(Outbox.id, Complaint).join(Outbox, Outbox.complaint_id == Complaint.id)
                          .where(Outbox.id.in_(_IDS)).options(joinedload(Complaint.contact)))
# What an Outgoing holds.
_OUTGOING_COLUMNS = (_MESSAGES.c.id, _MESSAGES.c.channel, _MESSAGES.c.text, _MESSAGES.c.text_enc, _MESSAGES.c.payload,
                     _CONTACTS.c.id, _CONTACTS.c.sender_enc, _CONTACTS.c.last_inbound_at)
_OUTGOING = (select(_OUTBOX.c.id, *_OUTGOING_COLUMNS)
             .join_from(_OUTBOX, _MESSAGES, _OUTBOX.c.message_id == _MESSAGES.c.id)
             .join(_CONTACTS, _MESSAGES.c.contact_id == _CONTACTS.c.id)
             .where(_OUTBOX.c.id.in_(_IDS)))
_INSERT_OUTBOX = insert(_OUTBOX)
_MESSAGE_SENT = (update(_MESSAGES).where(_MESSAGES.c.id == bindparam("message_id"))
                 .values(provider_message_id=bindparam("provider_message_id"), status=bindparam("status"),
                         updated_at=bindparam("now")))
_MESSAGE_STATUS = (update(_MESSAGES).where(_MESSAGES.c.id == bindparam("message_id"))
                   .values(status=bindparam("status"), error=bindparam("error"), updated_at=bindparam("now")))
_ROW_DONE = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id"))
             .values(status="done", lease_until=None, done_at=bindparam("now"), updated_at=bindparam("now")))
_SENT_BOTH = _ROW_DONE.add_cte(
    update(_MESSAGES).where(_MESSAGES.c.id == bindparam("sent_message_id"))
    .values(provider_message_id=bindparam("provider_message_id"), status=bindparam("message_status"),
            updated_at=bindparam("now")).cte("sent_message"))
_ROW_RETRY = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id"))
              .values(status="pending", lease_until=None, next_attempt_at=bindparam("due"),
                      last_error=bindparam("error"), updated_at=bindparam("now")))
_ROW_DEAD = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id"))
             .values(status="dead", lease_until=None, last_error=bindparam("error"), updated_at=bindparam("now")))
_ROW_POSTPONED = (update(_OUTBOX).where(_OUTBOX.c.id == bindparam("row_id"))
                  .values(status="pending", lease_until=None, next_attempt_at=bindparam("due"),
                          attempts=case((_OUTBOX.c.attempts > 0, _OUTBOX.c.attempts - 1), else_=0),
                          updated_at=bindparam("now")))
_ROW_POSTPONED_NOTED = _ROW_POSTPONED.values(payload=bindparam("payload"))


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What a claimed reply or notification row carries: its message (the text redacted, the
    whole text encrypted where it holds personal data) and the citizen it goes to (encrypted)."""

    message_id: int
    channel: str
    text: str
    text_enc: bytes | None
    payload: dict[str, Any]
    contact_id: int
    sender_enc: bytes
    last_inbound_at: datetime | None


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed outbox row, as the claim left it: ``attempts`` counts this attempt; a reply or
    notification comes with what it carries (``outgoing``; None for other kinds). What a worker
    needs to do its work, read without the ORM."""

    id: int
    kind: str
    channel: str | None
    attempts: int
    payload: dict[str, Any]
    next_attempt_at: datetime
    outgoing: Outgoing | None


def submission_complaints(session: Session, row_ids: Sequence[int]) -> dict[int, Complaint]:
    """The complaints that submission outbox rows carry, with their contacts, in one query."""
    if not row_ids:
        return {}
    found = session.execute(_SUBMISSION_COMPLAINTS, {"ids": list(row_ids)}).all()
    return {row_id: complaint for row_id, complaint in found}


def _outgoing(session: Session, row_ids: Sequence[int]) -> dict[int, Outgoing]:
    """What reply and notification outbox rows carry, by row id: one Core query, no ORM instance."""
    if not row_ids:
        return {}
    found = _tuples(session.connection().execute(_OUTGOING, {"ids": list(row_ids)}))
    return {row[0]: Outgoing(*row[1:]) for row in found}


def _tuples(result: CursorResult[Any]) -> Iterable[tuple[Any, ...]]:
    """A Core result's rows, typed as the tuples they are (mypy sees a Row's items as objects)."""
    return cast(Iterable[tuple[Any, ...]], result)


@dataclass(frozen=True, slots=True)
class Sent:
    """A reply or notification its provider took: its outbox row, its message, and what the
    provider answered."""

    row_id: int
    message_id: int
    provider_message_id: str | None
    status: str
    at: datetime


def finish_sends(session: Session, sent: Sequence[Sent]) -> None:
    """Replies and notifications were handed to their providers: each message gets its
    provider's id and status, each outbox row is done. Built once and executed once for all of
    them (executemany, which psycopg pipelines): on PostgreSQL one statement that updates both
    (the message's UPDATE as a CTE), on SQLite two; nothing is loaded."""
    connection = session.connection()
    if is_postgres(session):
        connection.execute(_SENT_BOTH, [{"row_id": one.row_id, "sent_message_id": one.message_id, "now": one.at,
                                         "provider_message_id": one.provider_message_id, "message_status": one.status}
                                        for one in sent])
        return
    connection.execute(_MESSAGE_SENT, [{"message_id": one.message_id, "provider_message_id": one.provider_message_id,
                                        "status": one.status, "now": one.at} for one in sent])
    connection.execute(_ROW_DONE, [{"row_id": one.row_id, "now": one.at} for one in sent])


def mark_message(session: Session, message_id: int, *, status: str, error: str | None, now: datetime) -> None:
    """Set a message's delivery status and error (one Core UPDATE; a message loaded in this
    Session does not see it)."""
    session.connection().execute(_MESSAGE_STATUS, {"message_id": message_id, "status": status, "error": error,
                                                   "now": now})


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


def queue_reply(session: Session, *, contact_id: int, conversation_id: int | None, channel: str, text: str,
                text_enc: bytes | None, payload: dict[str, Any], now: datetime) -> None:
    """Write a reply (an outgoing message, "queued") and its outbox row (a "reply", due now),
    for intake: on PostgreSQL one statement (the message's INSERT as a CTE), on SQLite two Core
    INSERTs; no unit of work either way. ``text`` and ``text_enc`` as ``add_message`` has them."""
    if is_postgres(session):
        session.connection().execute(_QUEUE_REPLY, {
            "reply_contact_id": contact_id, "reply_conversation_id": conversation_id, "reply_channel": channel,
            "reply_text": text, "reply_text_enc": text_enc, "reply_payload": payload, "reply_now": now})
        return
    message_id = insert_message(session, contact_id=contact_id, conversation_id=conversation_id, direction="out",
                                channel=channel, text=text, text_enc=text_enc, payload=payload, status="queued",
                                now=now)
    insert_outbox(session, kind="reply", channel=channel, contact_id=contact_id, message_id=message_id, payload={},
                  now=now)


_REPLY_MESSAGE = insert(_MESSAGES).values(
    contact_id=bindparam("reply_contact_id"), conversation_id=bindparam("reply_conversation_id"), direction="out",
    channel=bindparam("reply_channel"), text=bindparam("reply_text"), text_enc=bindparam("reply_text_enc"),
    payload=bindparam("reply_payload"), status="queued", created_at=bindparam("reply_now"),
    updated_at=bindparam("reply_now")).returning(_MESSAGES.c.id, _MESSAGES.c.channel, _MESSAGES.c.contact_id,
                                                  _MESSAGES.c.created_at).cte("reply_message")
_QUEUE_REPLY = insert(_OUTBOX).from_select(
    ["kind", "channel", "contact_id", "message_id", "payload", "status", "attempts", "reclaims", "next_attempt_at",
     "created_at", "updated_at"],
    select(literal("reply", String), _REPLY_MESSAGE.c.channel, _REPLY_MESSAGE.c.contact_id, _REPLY_MESSAGE.c.id,
           literal({}, _OUTBOX.c.payload.type), literal("pending", String), literal(0, Integer), literal(0, Integer),
           *[_REPLY_MESSAGE.c.created_at] * 3),
).add_cte(_REPLY_MESSAGE)


def claim_outbox(session: Session, *, now: datetime, limit: int, lease_seconds: float,
                 channels: Sequence[str] | None = None, max_reclaims: int = MAX_RECLAIMS,
                 give_up: bool = True, reclaim: bool = True) -> list[Claimed]:
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

    Each kind of due row has a statement of its own, whose subquery walks the (status,
    next_attempt_at) index in its order and stops at ``limit``: one SELECT with both conditions
    ORed and ordered by id had PostgreSQL walk the primary key through every row ever queued
    (1.4 s per claim with 5.5 million done rows, when nothing was due). Rows whose lease ran out
    are rare (a worker died), so a worker looks for them only every few seconds (``reclaim``),
    with the give-up sweep: a claim is then one ``UPDATE ... WHERE id IN (SELECT ...) RETURNING``,
    built once, and no ORM instance is made. What the replies carry is read with it: on
    PostgreSQL in the same statement (the UPDATE as a CTE, joined to the messages and their
    contacts), on SQLite by a second query.
    """
    if give_up:
        give_up_unrecorded(session, now, max_reclaims)
    key = tuple(channels) if channels is not None else None
    connection = session.connection()
    joined = is_postgres(session)
    values = {"now": now, "max_reclaims": max_reclaims, "lease_until": now + timedelta(seconds=lease_seconds)}
    claimed: list[Claimed] = []
    for expired in ((True, False) if reclaim else (False,)):
        if len(claimed) < limit:
            rows = _tuples(connection.execute(_claim_statement(key, expired=expired, joined=joined),
                                              {**values, "limit": limit - len(claimed)}))
            if joined:
                found = [_claimed(row, Outgoing(*row[6:]) if row[6] is not None else None) for row in rows]
            else:
                found = [_claimed(row, None) for row in rows]
            claimed += sorted(found, key=_by_id if expired else _by_due)  # RETURNING keeps no order
    if not joined:
        outgoing = _outgoing(session, [row.id for row in claimed if row.kind in ORDERED_KINDS])
        claimed = [replace(row, outgoing=outgoing[row.id]) if row.id in outgoing else row for row in claimed]
    return claimed


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


def _claimed(row: tuple[Any, ...], outgoing: Outgoing | None) -> Claimed:
    """A claim's row: its first six columns are a Claimed's."""
    return Claimed(row[0], row[1], row[2], row[3], row[4], row[5], outgoing)


def _by_id(row: Claimed) -> int:
    return row.id


def _by_due(row: Claimed) -> tuple[datetime, int]:
    return row.next_attempt_at, row.id


@cache
def _claim_statement(channels: tuple[str, ...] | None, *, expired: bool, joined: bool) -> ReturningUpdate | Select:
    """A claim of the rows whose lease ran out (``expired``) or of the pending rows due, built
    once per set of channels (``now``, ``limit``, ``max_reclaims`` and ``lease_until`` are
    bound): an UPDATE of the rows its subquery picks (and locks, skipping the locked ones),
    returning what a ``Claimed`` holds; ``joined`` (PostgreSQL), that UPDATE as a CTE, and
    beside each row what an ``Outgoing`` holds (NULLs for a row that carries no message)."""
    due_row, older = _OUTBOX.alias("due"), _OUTBOX.alias("older")
    ordered = _constants(ORDERED_KINDS)
    earlier_in_line = exists().where(
        older.c.contact_id == due_row.c.contact_id,
        older.c.id < due_row.c.id,
        older.c.kind.in_(ordered),
        older.c.status.in_(_constants(("pending", "sending"))),
    )
    now = bindparam("now", type_=_OUTBOX.c.next_attempt_at.type)
    if expired:
        due = and_(due_row.c.status == "sending", due_row.c.lease_until < now,
                   due_row.c.reclaims < bindparam("max_reclaims", type_=Integer))
        order: tuple[Any, ...] = (due_row.c.id,)
    else:
        due = and_(due_row.c.status == "pending", due_row.c.next_attempt_at <= now)
        order = (due_row.c.next_attempt_at, due_row.c.id)
    picked = (
        select(due_row.c.id)
        .where(due, or_(due_row.c.kind.not_in(ordered), ~earlier_in_line))
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True, of=due_row)
    )
    if channels is not None:
        picked = picked.where(or_(due_row.c.channel.is_(None), due_row.c.channel.in_(_constants(channels))))
    claim = (update(_OUTBOX).where(_OUTBOX.c.id.in_(picked))
             .values(status="sending", lease_until=bindparam("lease_until", type_=_OUTBOX.c.lease_until.type),
                     attempts=_OUTBOX.c.attempts + 1,
                     reclaims=_OUTBOX.c.reclaims + case((_OUTBOX.c.status == "sending", 1), else_=0),
                     updated_at=now))
    row = _OUTBOX.c
    if not joined:
        return claim.returning(row.id, row.kind, row.channel, row.attempts, row.payload, row.next_attempt_at)
    done = claim.returning(row.id, row.kind, row.channel, row.attempts, row.payload, row.next_attempt_at,
                           row.message_id).cte("claimed")
    return (select(done.c.id, done.c.kind, done.c.channel, done.c.attempts, done.c.payload, done.c.next_attempt_at,
                   *_OUTGOING_COLUMNS)
            .select_from(done.outerjoin(_MESSAGES, done.c.message_id == _MESSAGES.c.id)
                         .outerjoin(_CONTACTS, _MESSAGES.c.contact_id == _CONTACTS.c.id)))


def _constants(values: Sequence[str]) -> list[ColumnElement[str]]:
    """Names of our own (kinds, statuses, channels) as SQL literals, written into a statement
    when it is built: an ``IN`` of bound values would be expanded again at every execution."""
    for value in values:
        if not value.replace("_", "").isalnum():
            raise ValueError(f"not a name: {value!r}")
    return [literal_column(f"'{value}'", String) for value in values]


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
    _outcome(session, _ROW_DONE, {"row_id": row_id, "now": now})


def retry_outbox(session: Session, row_id: int, *, error: str, next_attempt_at: datetime, now: datetime) -> None:
    """The attempt failed but may succeed later: back to "pending", due at ``next_attempt_at``."""
    _outcome(session, _ROW_RETRY, {"row_id": row_id, "due": next_attempt_at, "error": error, "now": now})


def dead_outbox(session: Session, row_id: int, *, error: str, now: datetime) -> None:
    """Give up on the row (dead letter, shown to admins): status "dead"."""
    _outcome(session, _ROW_DEAD, {"row_id": row_id, "error": error, "now": now})


def postpone_outbox(session: Session, row_id: int, *, until: datetime, now: datetime,
                    payload: dict[str, Any] | None = None) -> None:
    """Give a claimed row back unattempted (a rate limit said "not yet"): pending, due ``until``,
    and the claim's attempt is not counted; ``payload``, when given, replaces the row's."""
    values = {"row_id": row_id, "due": until, "now": now}
    if payload is None:
        _outcome(session, _ROW_POSTPONED, values)
    else:
        _outcome(session, _ROW_POSTPONED_NOTED, {**values, "payload": payload})


def _outcome(session: Session, statement: Any, values: dict[str, Any]) -> None:
    """One outcome's Core UPDATE of one row (an Outbox loaded in this Session does not see it);
    LookupError if the row does not exist."""
    if not cast(CursorResult[Any], session.connection().execute(statement, values)).rowcount:
        raise LookupError(f"outbox row {values['row_id']} does not exist")


def defer_pending(session: Session, *, kind: str, until: datetime, now: datetime) -> int:
    """Make pending rows of ``kind`` due no earlier than ``until`` (a failing destination);
    returns how many moved."""
    rows = session.scalars(select(Outbox).where(Outbox.kind == kind, Outbox.status == "pending",
                                                Outbox.next_attempt_at < until)).all()
    for row in rows:
        row.next_attempt_at, row.updated_at = until, now
    return len(rows)


# The channel PostgreSQL workers LISTEN on: every INSERT into the outbox NOTIFYs it, by a
# trigger (migration 0007), when its transaction commits.
OUTBOX_CHANNEL = "lapor_outbox"


def outbox_backlog(session: Session) -> dict[str, tuple[int, datetime]]:
    """The rows still to do ("pending" or "sending") per kind: (how many, the oldest one's
    ``created_at``); a kind with none is absent. One grouped query on the (status,
    next_attempt_at) index, cheap enough for every metrics scrape."""
    rows = session.execute(
        select(Outbox.kind, func.count(), func.min(Outbox.created_at))
        .where(Outbox.status.in_(("pending", "sending"))).group_by(Outbox.kind)
    )
    return {kind: (count, oldest) for kind, count, oldest in rows}

"""The queries and writes that intake, delivery and admin code use.

Every function takes an open Session from ``Database.transaction()`` and none commits: the
caller's transaction decides what becomes visible, and when. Functions that create rows flush,
so the new row's id is known on return. Datetimes are timezone-aware UTC (``utcnow``).
"""
from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased, joinedload

from storage import tracking
from storage.columns import utcnow
from storage.crypto import DataCipher
from storage.models import (
    AdminSession,
    AdminUser,
    AuditEntry,
    Complaint,
    Contact,
    Conversation,
    Message,
    Outbox,
    ScriptVersion,
    SignInThrottle,
)
from storage.tracking import normalize_tracking_number

__all__ = [
    "ComplaintFields", "active_conversation", "add_complaint", "add_message", "add_outbox", "add_script_version",
    "claim_outbox", "renew_leases", "next_outbox_due", "complaint_by_tracking", "complaints_to_poll", "lock_complaint", "contact_sender", "dead_outbox", "defer_pending", "find_message", "finish_outbox", "forget_personal_texts",
    "iter_complaints", "lock_contact", "lock_script", "message_by_provider_id", "new_tracking_number",
    "normalize_tracking_number", "notify_outbox", "postpone_outbox", "publish_version", "published_script", "retry_outbox", "script_version", "script_versions",
    "start_conversation", "utcnow", "submission_complaints", "outbox_messages", "finish_send",
    "add_admin_user", "admin_user", "add_audit", "add_admin_session", "admin_session_user", "end_admin_session",
    "end_admin_sessions", "throttles", "count_failure", "clear_throttle", "prune_sign_ins",
]

# Outbox kinds that reach the citizen: their rows are delivered one at a time per contact, in order.
ORDERED_KINDS = ("reply", "notification")
# A row whose lease ran out with no outcome recorded may already have reached its provider: it is
# claimed again at most this many times, then dead-lettered for an admin to check and retry.
MAX_RECLAIMS = 3
UNRECORDED = ("its worker stopped or could not record the outcome {n} times: it may have been delivered; "
              "check before retrying")
_SCRIPT_LOCK_CLASS = 0x4C50  # first key of pg_advisory_xact_lock(int, int) for script versions


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# ---------------------------------------------------------------------- contacts

def lock_contact(session: Session, cipher: DataCipher, channel: str, sender: str, now: datetime) -> Contact:
    """Get or create the contact for (channel, sender) and hold it locked until the transaction ends.

    Concurrent transactions for the same sender queue here, one after the other, and exactly
    one contact row is ever created. PostgreSQL: ``INSERT ... ON CONFLICT DO NOTHING`` then
    ``SELECT ... FOR UPDATE``. SQLite: the transaction holds the database write lock since its
    BEGIN IMMEDIATE (storage.db), so a plain get-or-create is already serialised.
    Sets ``last_inbound_at`` to ``now``.

    While a key rotation is under way (``cipher`` holds previous keys), a contact written with a
    previous key is found by its old hash and moved to the current one, so no citizen becomes a
    stranger.
    """
    sender_hash = cipher.lookup_hash(sender)
    if len(cipher.key_ids) > 1 and (moved := _rehashed_contact(session, cipher, channel, sender, now)) is not None:
        return moved
    if _is_postgres(session):
        # One round trip: the upsert's DO UPDATE locks the row (new or not) and returns it.
        upsert = (
            pg_insert(Contact)
            .values(channel=channel, sender_hash=sender_hash, sender_enc=cipher.encrypt(sender), language="id",
                    opted_out=False, created_at=now, updated_at=now, last_inbound_at=now)
            .on_conflict_do_update(index_elements=["channel", "sender_hash"],
                                   set_={"last_inbound_at": now, "updated_at": now})
            .returning(Contact)
        )
        return session.scalars(select(Contact).from_statement(upsert),
                               execution_options={"populate_existing": True}).one()
    contact = session.scalars(
        select(Contact).where(Contact.channel == channel, Contact.sender_hash == sender_hash)
    ).one_or_none()
    if contact is None:
        contact = Contact(channel=channel, sender_hash=sender_hash, sender_enc=cipher.encrypt(sender),
                          created_at=now, updated_at=now)
        session.add(contact)
    contact.last_inbound_at = now
    contact.updated_at = now
    session.flush()  # a new contact needs its id for the queries that follow
    return contact


def _rehashed_contact(session: Session, cipher: DataCipher, channel: str, sender: str, now: datetime) -> Contact | None:
    """The contact for (channel, sender) under any of our keys' hashes, locked and moved to the
    current key's hash and encryption; None when there is none yet."""
    hashes = cipher.lookup_hashes(sender)
    query = select(Contact).where(Contact.channel == channel, Contact.sender_hash.in_(hashes)).limit(1)
    if _is_postgres(session):
        query = query.with_for_update()
    contact = session.scalars(query.execution_options(populate_existing=True)).first()
    if contact is None:
        return None
    if contact.sender_hash != hashes[0]:
        contact.sender_hash, contact.sender_enc = hashes[0], cipher.encrypt(sender)
    contact.last_inbound_at = contact.updated_at = now
    session.flush()
    return contact


def contact_sender(cipher: DataCipher, contact: Contact) -> str:
    """The contact's phone number or chat id, decrypted (never log it)."""
    return cipher.decrypt(contact.sender_enc)


# ---------------------------------------------------------------------- messages and conversations

def find_message(session: Session, channel: str, provider_message_id: str) -> Message | None:
    """The inbound message a provider already delivered with this id on this channel, if any.

    Only inbound rows count: our own sends carry the provider's ids too (Telegram's are per
    chat, and may equal an ``update_id``), and they are never a duplicate of a citizen's message.
    """
    return session.scalars(
        select(Message).where(Message.channel == channel, Message.provider_message_id == provider_message_id,
                              Message.direction == "in")
    ).one_or_none()


def add_message(session: Session, *, contact: Contact, conversation: Conversation | None, direction: str,
                channel: str, text: str, provider_message_id: str | None = None,
                payload: dict[str, Any] | None = None, status: str, now: datetime | None = None) -> Message:
    """Record a message ("in" with status "received", "out" with status "queued"). It is
    written with the transaction's next flush (its id is known from then on).

    A second inbound message with the same (channel, provider_message_id) raises IntegrityError
    at that flush: check ``find_message`` first (under ``lock_contact``) to treat a retry as a
    no-op. Outbound ids need not be unique (Telegram numbers messages per chat).
    """
    at = now or utcnow()
    message = Message(
        contact=contact, conversation=conversation,
        direction=direction, channel=channel, provider_message_id=provider_message_id, text=text,
        payload=payload or {}, status=status, created_at=at, updated_at=at,
    )
    session.add(message)
    return message


def forget_personal_texts(session: Session, conversation_id: int) -> None:
    """Destroy the encrypted whole texts of a conversation's messages (an anonymous report was
    filed from it): only their redacted texts remain, which name nobody."""
    session.flush()
    session.execute(update(Message).where(Message.conversation_id == conversation_id, Message.text_enc.is_not(None))
                    .values(text_enc=None).execution_options(synchronize_session="fetch"))


def active_conversation(session: Session, contact_id: int) -> Conversation | None:
    """The contact's newest conversation with status "active", if any."""
    return session.scalars(
        select(Conversation)
        .where(Conversation.contact_id == contact_id, Conversation.status == "active")
        .order_by(Conversation.id.desc())
        .limit(1)
    ).first()


def start_conversation(session: Session, *, contact: Contact, script_id: str, script_version: int,
                       state: dict[str, Any], now: datetime) -> Conversation:
    """A new active conversation on a pinned script version (``step_id`` is the caller's to set)."""
    conversation = Conversation(contact=contact, script_id=script_id, script_version=script_version,
                                status="active", state=state, started_at=now, updated_at=now)
    session.add(conversation)
    return conversation


# ---------------------------------------------------------------------- complaints

class ComplaintFields(Protocol):
    """The typed complaint fields ``add_complaint`` reads (bot.complaints.ComplaintFields has them)."""

    @property
    def type(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def category_code(self) -> str | None: ...
    @property
    def agency(self) -> str | None: ...
    @property
    def location_text(self) -> str: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...
    @property
    def incident_date(self) -> date | None: ...
    @property
    def attachments(self) -> Sequence[Mapping[str, Any]]: ...
    @property
    def anonymous(self) -> bool: ...
    @property
    def confidential(self) -> bool: ...


def new_tracking_number(session: Session) -> str:
    """A random ``LAP-XXXXXX`` that no complaint has yet (drawn again on a clash).

    Two transactions could still draw the same fresh number at the same moment (odds about one
    in a billion); the unique constraint then fails the later commit, and the caller retries.
    """
    while True:
        number = tracking.random_tracking_number()
        if not session.scalar(select(exists().where(Complaint.tracking_number == number))):
            return number


def add_complaint(session: Session, *, contact: Contact, conversation: Conversation | None, channel: str,
                  language: str, fields: ComplaintFields, answers: dict[str, Any],
                  reporter_name_enc: bytes | None, now: datetime) -> Complaint:
    """File a complaint with a new tracking number and status "queued" (not yet submitted)."""
    complaint = Complaint(
        tracking_number=new_tracking_number(session), contact_id=contact.id,
        conversation_id=conversation.id if conversation is not None else None,
        channel=channel, language=language, type=fields.type, title=fields.title[:200],
        description=fields.description, category=fields.category, category_code=fields.category_code,
        agency=fields.agency, location_text=fields.location_text, latitude=fields.latitude,
        longitude=fields.longitude, incident_date=fields.incident_date, anonymous=fields.anonymous,
        confidential=fields.confidential, reporter_name_enc=reporter_name_enc,
        attachments=[dict(item) for item in fields.attachments], answers=answers, status="queued", created_at=now, updated_at=now,
    )
    session.add(complaint)
    session.flush()
    return complaint


def complaint_by_tracking(session: Session, number: str) -> Complaint | None:
    """The complaint with this canonical tracking number (see ``normalize_tracking_number``)."""
    return session.scalars(select(Complaint).where(Complaint.tracking_number == number)).one_or_none()


def submission_complaints(session: Session, row_ids: Sequence[int]) -> dict[int, Complaint]:
    """The complaints that submission outbox rows carry, with their contacts, in one query."""
    if not row_ids:
        return {}
    found = session.execute(
        select(Outbox.id, Complaint).join(Outbox, Outbox.complaint_id == Complaint.id).where(Outbox.id.in_(row_ids))
        .options(joinedload(Complaint.contact))
    ).all()
    return {row_id: complaint for row_id, complaint in found}


def outbox_messages(session: Session, row_ids: Sequence[int]) -> dict[int, Message]:
    """The messages that reply and notification outbox rows carry, with their contacts, in one query."""
    if not row_ids:
        return {}
    found = session.execute(
        select(Outbox.id, Message).join(Outbox, Outbox.message_id == Message.id).where(Outbox.id.in_(row_ids))
        .options(joinedload(Message.contact))
    ).all()
    return {row_id: message for row_id, message in found}


def finish_send(session: Session, row_id: int, message_id: int, *, provider_message_id: str, status: str,
                now: datetime) -> None:
    """A reply or notification was handed to its provider: the message gets the provider's id
    and status, the outbox row is done (two UPDATEs, nothing loaded)."""
    session.execute(update(Message).where(Message.id == message_id)
                    .values(provider_message_id=provider_message_id, status=status, updated_at=now))
    session.execute(update(Outbox).where(Outbox.id == row_id)
                    .values(status="done", lease_until=None, done_at=now, updated_at=now))


FINAL_STATUSES = ("resolved", "rejected")


def complaints_to_poll(session: Session, *, checked_before: datetime, limit: int) -> list[Complaint]:
    """Complaints at a polled registry (with an id or a token) that are not final and were not
    checked since ``checked_before``; never-checked first."""
    return list(session.scalars(
        select(Complaint)
        .where(or_(Complaint.registry_id.is_not(None), Complaint.registry_token.is_not(None)),
               Complaint.status.not_in(FINAL_STATUSES),
               or_(Complaint.registry_checked_at.is_(None), Complaint.registry_checked_at < checked_before))
        .order_by(Complaint.registry_checked_at.is_not(None), Complaint.registry_checked_at, Complaint.id)
        .limit(limit)
    ))


def lock_complaint(session: Session, complaint_id: int) -> Complaint:
    """The complaint, row-locked until the transaction ends (PostgreSQL), so two pollers never
    both announce the same change."""
    query = select(Complaint).where(Complaint.id == complaint_id).execution_options(populate_existing=True)
    if _is_postgres(session):
        query = query.with_for_update()
    return session.scalars(query).one()


def iter_complaints(session: Session) -> Iterator[Complaint]:
    """Every complaint, oldest first, fetched in batches."""
    return iter(session.scalars(select(Complaint).order_by(Complaint.id).execution_options(yield_per=500)))


# ---------------------------------------------------------------------- outbox

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


def claim_outbox(session: Session, *, now: datetime, limit: int, lease_seconds: float,
                 channels: Sequence[str] | None = None, max_reclaims: int = MAX_RECLAIMS) -> list[Outbox]:
    """Claim up to ``limit`` due rows, oldest first, for this worker.

    Due: "pending" with ``next_attempt_at <= now``, or "sending" with ``lease_until < now`` (its
    worker died). A reply or notification waits while an older reply or notification of the
    same contact is pending or sending, so a citizen's messages leave in order (at most one per
    contact per claim). ``channels``, when given, limits claims to rows of those channels and
    rows without a channel (submissions). On PostgreSQL rows are locked with
    ``FOR UPDATE SKIP LOCKED``: concurrent workers never claim the same row.

    Claimed rows become "sending" with ``lease_until = now + lease_seconds`` and one more attempt.
    Commit the claim before doing the work, then record the outcome with ``finish_outbox``,
    ``retry_outbox`` or ``dead_outbox``; renew the lease while the work lasts (``renew_leases``).

    A row whose lease ran out is claimed again (one more ``reclaims``) at most ``max_reclaims``
    times: after that it goes dead instead, since each of those sends may have arrived.
    """
    session.execute(
        update(Outbox)
        .where(Outbox.status == "sending", Outbox.lease_until < now, Outbox.reclaims >= max_reclaims)
        .values(status="dead", lease_until=None, updated_at=now, last_error=UNRECORDED.format(n=max_reclaims + 1))
        .execution_options(synchronize_session=False)
    )
    older = aliased(Outbox)
    earlier_in_line = exists().where(
        older.contact_id == Outbox.contact_id,
        older.id < Outbox.id,
        older.kind.in_(ORDERED_KINDS),
        older.status.in_(("pending", "sending")),
    )
    query = (
        select(Outbox)
        .where(
            or_(and_(Outbox.status == "pending", Outbox.next_attempt_at <= now),
                and_(Outbox.status == "sending", Outbox.lease_until < now)),
            or_(Outbox.kind.not_in(ORDERED_KINDS), ~earlier_in_line),
        )
        .order_by(Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Outbox)
        .execution_options(populate_existing=True)
    )
    if channels is not None:
        query = query.where(or_(Outbox.channel.is_(None), Outbox.channel.in_(tuple(channels))))
    rows = list(session.scalars(query))
    lease_until = now + timedelta(seconds=lease_seconds)
    for row in rows:
        if row.status == "sending":  # its lease ran out: the last attempt's outcome is unknown
            row.reclaims += 1
        row.status = "sending"
        row.lease_until = lease_until
        row.attempts += 1
        row.updated_at = now
    session.flush()
    return rows


def next_outbox_due(session: Session) -> datetime | None:
    """When the next row falls due: the earliest retry of a pending row or end of a lease (a
    worker that died); None with nothing queued. Two index scans (status, next_attempt_at)."""
    pending = session.scalar(select(func.min(Outbox.next_attempt_at)).where(Outbox.status == "pending"))
    leased = session.scalar(select(func.min(Outbox.lease_until)).where(Outbox.status == "sending"))
    return min((t for t in (pending, leased) if t is not None), default=None)


def renew_leases(session: Session, row_ids: Sequence[int], *, until: datetime, now: datetime) -> int:
    """Extend the leases of rows this worker is still working on (still "sending"); returns how
    many. A worker renews while it works, so a short lease hands a dead worker's rows on fast."""
    if not row_ids:
        return 0
    result = session.execute(
        update(Outbox).where(Outbox.id.in_(tuple(row_ids)), Outbox.status == "sending")
        .values(lease_until=until, updated_at=now).execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _outbox_row(session: Session, row_id: int) -> Outbox:
    row = session.get(Outbox, row_id)
    if row is None:
        raise LookupError(f"outbox row {row_id} does not exist")
    return row


def finish_outbox(session: Session, row_id: int, now: datetime) -> None:
    """The row's work is done: status "done"."""
    row = _outbox_row(session, row_id)
    row.status, row.lease_until, row.done_at, row.updated_at = "done", None, now, now


def retry_outbox(session: Session, row_id: int, *, error: str, next_attempt_at: datetime, now: datetime) -> None:
    """The attempt failed but may succeed later: back to "pending", due at ``next_attempt_at``."""
    row = _outbox_row(session, row_id)
    row.status, row.lease_until, row.next_attempt_at = "pending", None, next_attempt_at
    row.last_error, row.updated_at = error, now


def dead_outbox(session: Session, row_id: int, *, error: str, now: datetime) -> None:
    """Give up on the row (dead letter, shown to admins): status "dead"."""
    row = _outbox_row(session, row_id)
    row.status, row.lease_until, row.last_error, row.updated_at = "dead", None, error, now


def postpone_outbox(session: Session, row_id: int, *, until: datetime, now: datetime) -> None:
    """Give a claimed row back unattempted (a rate limit said "not yet"): pending, due ``until``,
    and the claim's attempt is not counted."""
    row = _outbox_row(session, row_id)
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
    if _is_postgres(session):
        session.execute(select(func.pg_notify(OUTBOX_CHANNEL, "")))


def message_by_provider_id(session: Session, channels: Sequence[str], provider_message_id: str) -> Message | None:
    """Our outbound message that a provider knows by ``provider_message_id`` on one of
    ``channels`` (for delivery reports: Twilio's message SIDs are unique across its account)."""
    return session.scalars(
        select(Message).where(Message.channel.in_(tuple(channels)), Message.provider_message_id == provider_message_id,
                              Message.direction == "out")
    ).first()


def outbox_backlog(session: Session) -> dict[str, tuple[int, datetime]]:
    """The rows still to do ("pending" or "sending") per kind: (how many, the oldest one's
    ``created_at``); a kind with none is absent. One grouped query on the (status,
    next_attempt_at) index, cheap enough for every metrics scrape."""
    rows = session.execute(
        select(Outbox.kind, func.count(), func.min(Outbox.created_at))
        .where(Outbox.status.in_(("pending", "sending"))).group_by(Outbox.kind)
    )
    return {kind: (count, oldest) for kind, count, oldest in rows}


# ---------------------------------------------------------------------- script versions

def lock_script(session: Session, script_id: str) -> None:
    """Serialise writers of one script's versions until the transaction ends.

    Call it before reading versions when what you write depends on what you read. PostgreSQL:
    a transaction-scoped advisory lock; SQLite: the transaction already holds the write lock.
    """
    if _is_postgres(session):
        key = zlib.crc32(script_id.encode("utf-8")) - 2**31  # into int4 range
        session.execute(select(func.pg_advisory_xact_lock(_SCRIPT_LOCK_CLASS, key)))


def published_script(session: Session, script_id: str) -> ScriptVersion | None:
    """The live version: the highest published one."""
    return session.scalars(
        select(ScriptVersion)
        .where(ScriptVersion.script_id == script_id, ScriptVersion.published.is_(True))
        .order_by(ScriptVersion.version.desc())
        .limit(1)
    ).first()


def script_version(session: Session, script_id: str, version: int) -> ScriptVersion | None:
    return session.scalars(
        select(ScriptVersion).where(ScriptVersion.script_id == script_id, ScriptVersion.version == version)
    ).one_or_none()


def script_versions(session: Session, script_id: str) -> list[ScriptVersion]:
    """All versions of a script, lowest first."""
    return list(session.scalars(
        select(ScriptVersion).where(ScriptVersion.script_id == script_id).order_by(ScriptVersion.version)
    ))


def add_script_version(session: Session, *, script_id: str, text: str, author: str, source: str, publish: bool,
                       now: datetime) -> ScriptVersion:
    """Store ``text`` as the next version (1 for a new script), published at once if ``publish``."""
    lock_script(session, script_id)
    highest = session.scalar(select(func.max(ScriptVersion.version)).where(ScriptVersion.script_id == script_id))
    row = ScriptVersion(
        script_id=script_id, version=(highest or 0) + 1, text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), author=author, source=source,
        published=publish, created_at=now, published_at=now if publish else None,
    )
    session.add(row)
    session.flush()
    return row


def publish_version(session: Session, script_id: str, version: int, now: datetime) -> ScriptVersion:
    """Mark a version published (LookupError if it does not exist). It becomes the live one if it
    is the highest published version; publishing again keeps the first ``published_at``."""
    row = script_version(session, script_id, version)
    if row is None:
        raise LookupError(f"script {script_id!r} has no version {version}")
    if not row.published:
        row.published, row.published_at = True, now
        session.flush()
    return row


# ---------------------------------------------------------------------- admin accounts and audit

def add_admin_user(session: Session, *, name: str, role: str, password_hash: str, now: datetime) -> AdminUser:
    """A new admin account; IntegrityError if the name is taken."""
    user = AdminUser(name=name, role=role, password_hash=password_hash, failed_logins=0, created_at=now, updated_at=now)
    session.add(user)
    session.flush()
    return user


def admin_user(session: Session, name: str) -> AdminUser | None:
    return session.scalars(select(AdminUser).where(AdminUser.name == name)).one_or_none()


def add_audit(session: Session, *, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None,
              now: datetime) -> AuditEntry:
    """Record who did what (never personal data or complaint text in ``detail``)."""
    entry = AuditEntry(at=now, actor=actor, action=action, target=target, detail=detail or {})
    session.add(entry)
    return entry


def all_script_versions(session: Session) -> list[ScriptVersion]:
    """Every version of every script, by script then version (the admin overview)."""
    return list(session.scalars(select(ScriptVersion).order_by(ScriptVersion.script_id, ScriptVersion.version)))


def complaint_counts(session: Session) -> dict[str, int]:
    """How many complaints have each status."""
    return dict(session.execute(select(Complaint.status, func.count()).group_by(Complaint.status)).all())


def find_complaints(session: Session, *, status: str | None = None, category: str | None = None,
                    channel: str | None = None, since: datetime | None = None, until: datetime | None = None,
                    text: str | None = None, offset: int = 0, limit: int = 50) -> tuple[list[Complaint], int]:
    """One page of complaints, newest first, and how many match in all. ``text`` is searched in
    the tracking number, title and description (case-insensitive; % and _ match themselves)."""
    query = select(Complaint)
    if status:
        query = query.where(Complaint.status == status)
    if category:
        query = query.where(Complaint.category == category)
    if channel:
        query = query.where(Complaint.channel == channel)
    if since:
        query = query.where(Complaint.created_at >= since)
    if until:
        query = query.where(Complaint.created_at < until)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Complaint.tracking_number.ilike(pattern, escape="\\"),
                                Complaint.title.ilike(pattern, escape="\\"),
                                Complaint.description.ilike(pattern, escape="\\")))
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(Complaint.id.desc()).offset(offset).limit(limit)).all()
    return list(rows), total or 0


def complaint_transcript(session: Session, complaint: Complaint) -> list[Message]:
    """The messages of the conversation that filed the complaint, in order."""
    if complaint.conversation_id is None:
        return []
    return list(session.scalars(select(Message).where(Message.conversation_id == complaint.conversation_id)
                                .order_by(Message.id)))


def complaint_deliveries(session: Session, complaint_id: int) -> list[Outbox]:
    """The complaint's registry submission rows (its delivery history)."""
    return list(session.scalars(select(Outbox).where(Outbox.complaint_id == complaint_id).order_by(Outbox.id)))


def outbox_page(session: Session, *, status: str, offset: int = 0, limit: int = 50) -> tuple[list[Outbox], int]:
    """One page of outbox rows of one status, newest first, with their messages and complaints
    (the admin delivery view), and how many there are. For "dead", rows an admin discarded are
    left out."""
    query = select(Outbox).where(Outbox.status == status)
    if status == "dead":
        query = query.where(Outbox.payload["discarded_by"].as_string().is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Outbox.id.desc()).offset(offset).limit(limit)
                           .options(joinedload(Outbox.message), joinedload(Outbox.complaint)))
    return list(rows), total


def requeue_outbox(session: Session, row_id: int, now: datetime) -> Outbox:
    """Send a dead or pending row again now (an admin's retry); its attempts start over."""
    row = _outbox_row(session, row_id)
    if row.status not in ("dead", "pending"):
        raise ValueError(f"a {row.status} row cannot be retried")
    row.status, row.next_attempt_at, row.lease_until, row.attempts, row.updated_at = "pending", now, None, 0, now
    if row.message is not None and row.message.status == "failed":
        row.message.status = "queued"
    return row


def discard_outbox(session: Session, row_id: int, actor: str, now: datetime) -> Outbox:
    """Give up on a pending or dead row for good (an admin's decision, kept for the record)."""
    row = _outbox_row(session, row_id)
    if row.status not in ("dead", "pending"):
        raise ValueError(f"a {row.status} row cannot be discarded")
    if row.status == "pending":
        row.last_error = f"discarded by {actor}"
    row.status, row.lease_until, row.updated_at = "dead", None, now
    row.payload = {**(row.payload or {}), "discarded_by": actor}
    return row


def conversation_states(session: Session, script_id: str) -> Iterator[Any]:
    """(status, step_id, state, updated_at) of every conversation of a script, in batches."""
    query = (select(Conversation.status, Conversation.step_id, Conversation.state, Conversation.updated_at)
             .where(Conversation.script_id == script_id).execution_options(yield_per=500))
    return iter(session.execute(query))


def recent_audit(session: Session, limit: int = 200) -> list[AuditEntry]:
    """The newest audit entries first."""
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


def admin_users(session: Session) -> list[AdminUser]:
    return list(session.scalars(select(AdminUser).order_by(AdminUser.name)))


def lock_admin_user(session: Session, user_id: int, *, until: datetime, now: datetime) -> AdminUser:
    """Lock an account until ``until`` and end its sessions (LookupError if there is none)."""
    user = session.get(AdminUser, user_id)
    if user is None:
        raise LookupError(f"no admin user {user_id}")
    user.locked_until, user.updated_at = until, now
    end_admin_sessions(session, user_id)
    return user


def unlock_admin_user(session: Session, user_id: int, now: datetime) -> AdminUser:
    """Lift a lockout (LookupError if there is no such account)."""
    user = session.get(AdminUser, user_id)
    if user is None:
        raise LookupError(f"no admin user {user_id}")
    user.locked_until, user.failed_logins, user.updated_at = None, 0, now
    return user


# ---------------------------------------------------------------------- admin sessions and sign-in throttling

def add_admin_session(session: Session, *, token_hash: str, user_id: int, expires_at: datetime,
                      now: datetime) -> AdminSession:
    """A signed-in browser, known by the SHA-256 of its cookie's token."""
    row = AdminSession(token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at)
    session.add(row)
    return row


def admin_session_user(session: Session, token_hash: str, now: datetime) -> AdminUser | None:
    """The account of a session that has not ended or expired (one query; the caller checks
    that the account is neither disabled nor locked)."""
    return session.scalars(
        select(AdminUser).join(AdminSession, AdminSession.user_id == AdminUser.id)
        .where(AdminSession.token_hash == token_hash, AdminSession.expires_at > now)
    ).one_or_none()


def end_admin_session(session: Session, token_hash: str) -> None:
    session.execute(delete(AdminSession).where(AdminSession.token_hash == token_hash))


def end_admin_sessions(session: Session, user_id: int, *, keep: str | None = None) -> int:
    """Sign an account out everywhere (but the session ``keep``); returns how many ended."""
    query = delete(AdminSession).where(AdminSession.user_id == user_id)
    if keep is not None:
        query = query.where(AdminSession.token_hash != keep)
    return session.execute(query).rowcount or 0


def throttles(session: Session, keys: Sequence[str]) -> dict[str, SignInThrottle]:
    """The failure counters of ``keys`` that exist."""
    return {row.key: row for row in session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(tuple(keys))))}


def count_failure(session: Session, key: str, *, limit: int, window: timedelta, block: timedelta,
                  now: datetime) -> SignInThrottle:
    """One more failure for ``key`` in its window (a new window once the last one ended); at
    ``limit`` failures it is blocked for ``block``. Safe under concurrent failures."""
    insert = pg_insert if _is_postgres(session) else sqlite_insert
    session.execute(insert(SignInThrottle).values(key=key, failures=0, window_until=now + window)
                    .on_conflict_do_nothing(index_elements=["key"]))
    query = select(SignInThrottle).where(SignInThrottle.key == key).execution_options(populate_existing=True)
    row = session.scalars(query.with_for_update() if _is_postgres(session) else query).one()
    if row.window_until <= now:
        row.failures, row.window_until, row.blocked_until = 0, now + window, None
    row.failures += 1
    if row.failures >= limit:
        row.blocked_until = max(row.blocked_until or now, now + block)
    return row


def clear_throttle(session: Session, key: str) -> None:
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == key))


def prune_sign_ins(session: Session, now: datetime) -> None:
    """Forget failure windows that ended and sessions that expired (both stay bounded)."""
    session.execute(delete(SignInThrottle).where(SignInThrottle.window_until <= now,
                                                 or_(SignInThrottle.blocked_until.is_(None),
                                                     SignInThrottle.blocked_until <= now)))
    session.execute(delete(AdminSession).where(AdminSession.expires_at <= now))
